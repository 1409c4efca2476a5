"""The OpenAI audit event-type catalogue (``connector/data``): the 145 known types and the tenant split."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

# The spec's `tenant_only` description names these two non-`tenant.*` types as
# tenant-scoped: they are returned only with tenant_only=true, like every tenant.* type.
_TENANT_SCOPED_EXTRA = frozenset({"role.bound_to_resource", "role.unbound_from_resource"})


@cache
def catalogue() -> dict[str, Any]:
    """The whole catalogue document (types, payload fields, actor shapes)."""
    text = resources.files("connector").joinpath("data/audit_event_types.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def is_tenant_scoped(event_type: str) -> bool:
    """Tell whether events of this type are served only under ``tenant_only=true``.

    Args:
        event_type: an audit-log ``type`` value, known to the catalogue or not.

    Returns:
        True for every ``tenant.*`` type and for ``role.bound_to_resource`` /
        ``role.unbound_from_resource``, which the spec calls tenant-scoped.
    """
    return event_type.startswith("tenant.") or event_type in _TENANT_SCOPED_EXTRA


EVENT_TYPES: tuple[str, ...] = tuple(catalogue()["event_types"])
"""All 145 event types of the newest spec, in catalogue order."""

TENANT_SCOPED_TYPES: frozenset[str] = frozenset(t for t in EVENT_TYPES if is_tenant_scoped(t))
"""The types served only with ``tenant_only=true``."""

KNOWN_TYPES: frozenset[str] = frozenset(EVENT_TYPES)
