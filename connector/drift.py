"""Schema drift: event types the catalogue does not know, and unknown payload keys on known types.

OpenAI adds audit event types every few weeks. Such events are still normalized
(generically) and delivered; this module only notices them: each new type or key
is logged once, counted in ``connector_unmapped_events_total``, and remembered in
a small JSON file that ``connector mapping`` lists, so the mapping table can be
extended.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from connector.catalogue import KNOWN_TYPES, catalogue
from connector.metrics import Metrics
from connector.models import Event

log = logging.getLogger(__name__)

MAX_LABELS = 100  # distinct unknown types kept as label values; later ones count as "other"


# Keys the spec's own examples use although its schema does not (openai-audit-api.md §12):
# api_key.updated's example carries data.scopes where the schema says changes_requested.
_KNOWN_EXAMPLE_KEYS = {"api_key.updated": frozenset({"data"})}


Finding = tuple[str, str, str]
"""``(kind, event_type, name)``: ``("type", t, t)`` for an unknown type, ``("key", t, "t:key")`` for a key."""


@functools.cache
def _documented_keys() -> dict[str, frozenset[str]]:
    """Payload keys per type, for the types whose payload the spec documents."""
    keys: dict[str, frozenset[str]] = {}
    for name, spec in catalogue()["event_types"].items():
        fields = spec.get("payload_fields")
        if spec.get("payload_documented") and isinstance(fields, dict):
            keys[name] = frozenset(fields) | _KNOWN_EXAMPLE_KEYS.get(name, frozenset())
    return keys


def find_drift(events: Iterable[Event]) -> list[Finding]:
    """The unknown types and undocumented payload keys in ``events``; cheap for the usual event.

    A pure function, so it runs where the decoded events are: in the normalizer
    process for a slice normalized there (connector.normalize.batch).
    """
    documented = _documented_keys()
    found: list[Finding] = []
    for event in events:
        event_type = event.get("type")
        if not isinstance(event_type, str):
            continue
        if event_type not in KNOWN_TYPES:
            found.append(("type", event_type, event_type))
            continue
        keys = documented.get(event_type)
        payload = event.get(event_type)
        if keys is None or not isinstance(payload, dict) or keys.issuperset(payload):
            continue
        found.extend(("key", event_type, f"{event_type}:{key}") for key in payload.keys() - keys)
    return found


class SchemaDrift:
    """Notices unknown types and keys; remembers them in ``path``."""

    def __init__(self, path: Path, metrics: Metrics) -> None:
        self.path = path
        self._metrics = metrics
        self._lock = threading.Lock()
        self.seen = load_drift(path)
        self._labels: set[str] = set(list(self.seen["types"])[:MAX_LABELS])

    def record(self, findings: Iterable[Finding]) -> None:
        """Count what ``find_drift`` found; log and remember what is new."""
        new: list[tuple[str, str]] = []
        for kind, event_type, name in findings:
            self._count(kind, event_type)
            bucket = "types" if kind == "type" else "keys"
            if name not in self.seen[bucket]:
                new.append((bucket, name))
        if new:
            self._remember(new)

    def _count(self, kind: str, event_type: str) -> None:
        label = event_type if event_type in KNOWN_TYPES or event_type in self._labels else "other"
        if label == "other" and len(self._labels) < MAX_LABELS:
            self._labels.add(event_type)
            label = event_type
        self._metrics.unmapped_events.labels(kind=kind, event_type=label).inc()

    def _remember(self, new: list[tuple[str, str]]) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self._lock:
            fresh = [(kind, name) for kind, name in dict.fromkeys(new) if name not in self.seen[kind]]
            for kind, name in fresh:
                self.seen[kind][name] = now
                what = "event type" if kind == "types" else "payload key"
                log.warning(
                    "new OpenAI audit %s %r: normalized with the generic mapping; extend the mapping table",
                    what,
                    name,
                    extra={"drift_kind": kind, "drift_name": name},
                )
            if fresh:
                self._save()

    def _save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".drift-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(orjson.dumps(self.seen, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            os.replace(tmp, self.path)
        except OSError as exc:
            # Drift bookkeeping must never stop delivery; the log line and the metric remain.
            log.warning("cannot save schema drift to %s: %s", self.path, exc)


def load_drift(path: Path) -> dict[str, dict[str, str]]:
    """The remembered drift: ``{"types": {type: first_seen}, "keys": {"type:key": first_seen}}``."""
    try:
        doc: Any = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        doc = {}
    return {
        kind: dict(_strings(doc.get(kind) if isinstance(doc, dict) else None)) for kind in ("types", "keys")
    }


def _strings(value: Any) -> Mapping[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
