"""JSON encoding for the hot path: orjson, with a safe fallback for what orjson refuses."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(document: Any) -> bytes:
    """Encode one document as compact UTF-8 JSON.

    orjson refuses integers beyond 64 bits and a few exotic types; those rare
    documents go through the standard library instead of failing.
    """
    try:
        return orjson.dumps(document)
    except TypeError:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=repr).encode()
