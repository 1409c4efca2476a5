"""JSON encoding for the hot path: orjson, with a safe fallback for what orjson refuses."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(document: Any) -> bytes:
    """Encode one document as compact UTF-8 JSON.

    orjson refuses integers beyond 64 bits, lone surrogates (``"\\ud800"``, which
    JSON text may carry) and a few exotic types; those rare documents go through
    the standard library instead of failing. Lone surrogates become U+FFFD there,
    so the output is strict UTF-8 JSON that every SIEM parser accepts.
    """
    try:
        return orjson.dumps(document)
    except TypeError:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=repr)
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()
