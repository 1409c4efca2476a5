"""The pass-through normalizer: the audit event exactly as the API returned it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class RawNormalizer:
    """Emits the raw event unchanged (a shallow copy), so ``id`` stays ``id``."""

    format = "raw"

    def normalize(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Return a shallow copy of ``event``."""
        return dict(event)
