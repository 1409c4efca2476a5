"""Thread-safe, sorted, in-memory event store that answers audit-log list queries."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from connector.simulator.catalogue import is_tenant_scoped

_ALWAYS = float("-inf")
_BULK_THRESHOLD = 1000


class _Record(NamedTuple):
    """One stored event; tuples sort by ``(effective_at, id)`` since ids are unique."""

    effective_at: int
    id: str
    visible_at: float
    type: str
    tenant: bool
    project_id: str | None
    actor_ids: tuple[str, ...]
    actor_emails: tuple[str, ...]
    resource_ids: tuple[str, ...]
    raw: bytes


@dataclass(frozen=True, slots=True)
class Query:
    """A validated list request; ``None`` filters match everything."""

    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None
    project_ids: frozenset[str] | None = None
    event_types: frozenset[str] | None = None
    actor_ids: frozenset[str] | None = None
    actor_emails: frozenset[str] | None = None
    resource_ids: frozenset[str] | None = None
    tenant_only: bool = False
    limit: int = 20
    after: str | None = None
    before: str | None = None


@dataclass(frozen=True, slots=True)
class PageResult:
    """One page, newest first; ``data`` holds each event's JSON bytes."""

    data: list[bytes]
    first_id: str | None
    last_id: str | None
    has_more: bool

    def to_json(self) -> bytes:
        """Serialize the API envelope without re-encoding the stored events."""
        return b"".join(
            (
                b'{"object":"list","data":[',
                b",".join(self.data),
                b'],"first_id":',
                orjson.dumps(self.first_id),
                b',"last_id":',
                orjson.dumps(self.last_id),
                b',"has_more":',
                b"true" if self.has_more else b"false",
                b"}",
            )
        )


class UnknownCursor(KeyError):
    """``after`` / ``before`` named an id the store does not hold."""


def _sort_key(record: _Record) -> tuple[int, str]:
    return (record.effective_at, record.id)


def _obj(parent: dict[str, Any], name: str) -> dict[str, Any]:
    """The object under ``name``, or {} when absent, null or not an object."""
    value = parent.get(name)
    return value if isinstance(value, dict) else {}


def _strings(*values: Any) -> tuple[str, ...]:
    return tuple(v for v in values if isinstance(v, str) and v)


def _record(event: dict[str, Any], visible_at: float | None) -> _Record:
    try:
        event_id, etype, eff = event["id"], event["type"], event["effective_at"]
    except KeyError as exc:
        raise ValueError(f"event lacks required field {exc}") from exc
    if not isinstance(event_id, str) or not isinstance(etype, str) or not isinstance(eff, int):
        raise ValueError("event id/type must be strings and effective_at an integer")
    project = event.get("project")
    project_id = project.get("id") if isinstance(project, dict) else None
    actor = _obj(event, "actor")
    session, key = _obj(actor, "session"), _obj(actor, "api_key")
    s_user, k_user, k_sa = _obj(session, "user"), _obj(key, "user"), _obj(key, "service_account")
    payload = event.get(etype)
    resources: tuple[str, ...] = ()
    if isinstance(payload, dict):
        nested = [
            item.get("id")
            for name in ("certificates", "configs")
            for item in payload.get(name) or ()
            if isinstance(item, dict)
        ]
        resources = _strings(payload.get("id"), *nested)
    return _Record(
        effective_at=eff,
        id=event_id,
        visible_at=_ALWAYS if visible_at is None else visible_at,
        type=etype,
        tenant=is_tenant_scoped(etype),
        project_id=project_id if isinstance(project_id, str) else None,
        actor_ids=_strings(s_user.get("id"), key.get("id"), k_user.get("id"), k_sa.get("id")),
        actor_emails=_strings(s_user.get("email"), k_user.get("email")),
        resource_ids=resources,
        # orjson over-allocates its output buffer (~4 KiB per event); an exact copy
        # keeps a million stored events near their JSON size.
        raw=memoryview(orjson.dumps(event)).tobytes(),
    )


def _matches(r: _Record, q: Query, now: float) -> bool:
    if r.visible_at > now or r.tenant != q.tenant_only:
        return False
    if q.event_types is not None and r.type not in q.event_types:
        return False
    if q.project_ids is not None and r.project_id not in q.project_ids:
        return False
    if q.actor_ids is not None and q.actor_ids.isdisjoint(r.actor_ids):
        return False
    if q.actor_emails is not None and q.actor_emails.isdisjoint(r.actor_emails):
        return False
    return q.resource_ids is None or not q.resource_ids.isdisjoint(r.resource_ids)


class EventStore:
    """All events of one simulated organization, kept sorted by ``(effective_at, id)``.

    Events are serialized once when added, so a page is a join of stored bytes.
    A query bisects to its ``effective_at`` range and its cursor, then walks only
    as far as it needs to fill one page. Safe to use from many threads: a live
    feed may add events while the server answers queries.
    """

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._records: list[_Record] = []
        self._by_id: dict[str, _Record] = {}

    def __len__(self) -> int:
        """Number of events ever added (visible or not)."""
        return len(self._records)

    def add(self, event: dict[str, Any], *, visible_at: float | None = None) -> None:
        """Add one event.

        Args:
            event: an audit-log object with at least ``id``, ``type``, ``effective_at``.
                It is serialized now; later changes to the dict are not seen.
            visible_at: server-clock time from which queries return the event
                (None: immediately).

        Raises:
            ValueError: a required field is missing or the id is already stored.
        """
        record = _record(event, visible_at)
        with self._lock:
            self._insert(record)

    def add_many(self, events: Iterable[dict[str, Any]], *, visible_at: float | None = None) -> None:
        """Add many events (an iterator is consumed lazily); same rules as ``add``."""
        records = [_record(event, visible_at) for event in events]
        batch: dict[str, _Record] = {}
        with self._lock:
            for record in records:
                if record.id in batch or record.id in self._by_id:
                    raise ValueError(f"duplicate event id {record.id!r}")
                batch[record.id] = record
            if len(records) < _BULK_THRESHOLD:
                for record in records:
                    self._insert(record)
                return
            self._by_id.update(batch)
            self._records.extend(records)
            self._records.sort()

    def _insert(self, record: _Record) -> None:
        if record.id in self._by_id:
            raise ValueError(f"duplicate event id {record.id!r}")
        self._by_id[record.id] = record
        records = self._records
        if not records or records[-1] < record:
            records.append(record)  # the live feed's common case: newest so far
        else:
            bisect.insort(records, record)

    def ids(self) -> set[str]:
        """Ids of every event ever added."""
        with self._lock:
            return set(self._by_id)

    def visible_ids(self, now: float) -> set[str]:
        """Ids of the events visible at server-clock time ``now``."""
        with self._lock:
            return {r.id for r in self._records if r.visible_at <= now}

    def get(self, event_id: str) -> dict[str, Any] | None:
        """Return a copy of one stored event, or None."""
        with self._lock:
            record = self._by_id.get(event_id)
        return None if record is None else dict(orjson.loads(record.raw))

    def page(self, query: Query, *, now: float) -> PageResult:
        """Answer one list request, newest first.

        Order is descending ``(effective_at, id)``. ``after`` returns the page
        that follows the cursor event in that order (older events); ``before``
        the page that precedes it (the newer events nearest to the cursor).
        ``has_more`` says whether more matching events lie further in the
        direction the page was read.

        Args:
            query: validated parameters.
            now: server-clock time; events with a later ``visible_at`` are hidden.

        Raises:
            UnknownCursor: ``after`` or ``before`` is not a stored id.
        """
        low = max(
            query.gte if query.gte is not None else -(2**63),
            query.gt + 1 if query.gt is not None else -(2**63),
        )
        high = min(
            query.lte if query.lte is not None else 2**63,
            query.lt - 1 if query.lt is not None else 2**63,
        )
        with self._lock:
            records = self._records
            lo = bisect.bisect_left(records, (low, ""), key=_sort_key)
            hi = bisect.bisect_left(records, (high + 1, ""), key=_sort_key)
            if query.before is not None:
                upward = self._scan(range(max(lo, self._position(query.before) + 1), hi), query, now)
                picked = upward[: query.limit]
                picked.reverse()
                has_more = len(upward) > query.limit
            else:
                top = hi if query.after is None else min(hi, self._position(query.after))
                downward = self._scan(range(top - 1, lo - 1, -1), query, now)
                picked = downward[: query.limit]
                has_more = len(downward) > query.limit
        return PageResult(
            data=[r.raw for r in picked],
            first_id=picked[0].id if picked else None,
            last_id=picked[-1].id if picked else None,
            has_more=has_more,
        )

    def scan_start_id(self, query: Query) -> str | None:
        """The id of the stored event just above where ``page(query)`` starts reading.

        That is the ``after`` cursor itself when it lies inside the query's range,
        else the nearest stored event (of any stream) newer than the range; None when
        no event lies above. Following ``after=<this id>`` reads the same page again,
        so a server may hand it out as a ``last_id`` that skips nothing. Only for
        newest-first reads (no ``before``).

        Raises:
            UnknownCursor: ``after`` is not a stored id.
        """
        high = min(
            query.lte if query.lte is not None else 2**63,
            query.lt - 1 if query.lt is not None else 2**63,
        )
        with self._lock:
            records = self._records
            top = bisect.bisect_left(records, (high + 1, ""), key=_sort_key)
            if query.after is not None:
                top = min(top, self._position(query.after))
            return records[top].id if top < len(records) else None

    def _position(self, event_id: str) -> int:
        record = self._by_id.get(event_id)
        if record is None:
            raise UnknownCursor(event_id)
        return bisect.bisect_left(self._records, (record.effective_at, record.id), key=_sort_key)

    def _scan(self, positions: range, query: Query, now: float) -> list[_Record]:
        """Collect up to ``limit + 1`` matching records, walking ``positions`` in order."""
        found: list[_Record] = []
        records = self._records
        for i in positions:
            record = records[i]
            if _matches(record, query, now):
                found.append(record)
                if len(found) > query.limit:
                    break
        return found

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Iterate over copies of all events, oldest first (a snapshot)."""
        with self._lock:
            raws = [r.raw for r in self._records]
        return (orjson.loads(raw) for raw in raws)
