"""The event-type catalogue the simulator serves, loaded from ``connector/data``."""

from __future__ import annotations

from typing import Any

from connector.catalogue import (
    EVENT_TYPES,
    KNOWN_TYPES,
    TENANT_SCOPED_TYPES,
    catalogue,
    is_tenant_scoped,
)

__all__ = [
    "EVENT_TYPES",
    "KNOWN_TYPES",
    "TENANT_SCOPED_TYPES",
    "category",
    "is_tenant_scoped",
    "payload_fields",
]

_CATEGORY: dict[str, str] = {t: str(v["category"]) for t, v in catalogue()["event_types"].items()}


def payload_fields(event_type: str) -> Any:
    """Return the catalogue's ``payload_fields`` shape for a type (None when undocumented).

    Args:
        event_type: one of ``EVENT_TYPES``.

    Returns:
        The nested field/type description, e.g. ``{"id": "string", "data": {...}}``.
    """
    return catalogue()["event_types"][event_type]["payload_fields"]


def category(event_type: str) -> str:
    """Return the catalogue category of a type (``api_key``, ``tenant``, ...)."""
    return _CATEGORY[event_type]
