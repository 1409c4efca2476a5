"""The golden-file cases: deterministic sample events and the rendering of each format's output.

Shared by ``tests/unit/test_golden.py`` (compares) and ``tests/golden/regen.py`` (rewrites).
One file per output format and event type, ``tests/golden/<format>/<event_type>.json``,
holds the document for every actor shape, keyed by shape name.
"""

from __future__ import annotations

import json
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from connector.catalogue import EVENT_TYPES
from connector.normalize import Normalizer, make_normalizer
from connector.normalize.table import MAPPING
from tests.unit.normalize_samples import ACTOR_SHAPES, SESSION_IPV4, make_event, sample_payload

GOLDEN_DIR = Path(__file__).resolve().parent
FORMATS = ("ocsf", "ecs", "raw")
ORG_ID = "org-golden01"
REGENERATE = "python tests/golden/regen.py"

EXTRA_TYPES = ("widget.created", "tenant.widget.frobnicated", "widget.failed")
"""Types no catalogue has: their files pin the generic mapping of a future type."""

GROUP_PRINCIPAL = "session_ipv4_group_principal"
"""Extra case for role assignments: the principal is a group (Group Management in OCSF)."""


def golden_types() -> list[str]:
    """Every type with golden files: the catalogue's, then the invented unknown ones."""
    return [*EVENT_TYPES, *EXTRA_TYPES]


def golden_events(event_type: str) -> dict[str, dict[str, Any]]:
    """The sample event of each case of ``event_type``, keyed by case name.

    The ids are derived from the type and the case name only, so the files do not
    change from one run to the next.
    """
    events = {
        shape: make_event(event_type, actor, id=_audit_id(event_type, shape))
        for shape, actor in ACTOR_SHAPES.items()
    }
    row = MAPPING.get(event_type)
    if row is not None and row.target == "principal":
        payload = sample_payload(event_type)
        payload.update(principal_type="group", principal_id="group_01")
        events[GROUP_PRINCIPAL] = make_event(
            event_type, SESSION_IPV4, payload, id=_audit_id(event_type, GROUP_PRINCIPAL)
        )
    return events


def _audit_id(event_type: str, case: str) -> str:
    return f"audit_log-{zlib.crc32(f'{event_type}|{case}'.encode()):08x}_golden"


@cache
def normalizer(fmt: str) -> Normalizer:
    """The normalizer of ``fmt``, configured as in the golden files."""
    return make_normalizer(fmt, org_id=ORG_ID)


def outputs(fmt: str, event_type: str) -> dict[str, Any]:
    """The documents ``fmt`` produces today for the cases of ``event_type``."""
    normalize = normalizer(fmt).normalize
    return {case: normalize(event) for case, event in golden_events(event_type).items()}


def render(documents: dict[str, Any]) -> str:
    """Pretty-printed, sorted keys: a change reads as a small diff."""
    return json.dumps(documents, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def golden_path(fmt: str, event_type: str) -> Path:
    """``tests/golden/<format>/<event_type>.json``."""
    return GOLDEN_DIR / fmt / f"{event_type}.json"
