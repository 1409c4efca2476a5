"""The body of one audit-log page: decoding, envelope checks, and what makes an event usable.

Kept apart from the HTTP client (no httpx here) because a normalizer process decodes
the same page bodies again: the main process sends it the bytes it received rather
than re-encoding the events it decoded (connector.normalize.batch).

The main process reads only what it needs of each event, its id, type and time (an
``EventRef``), with msgspec: the rest of the body is scanned, not built into objects.
Building and freeing every event's dicts there had been a fifth of the main
process's time, while the normalizer process decodes the whole events anyway. A body
msgspec refuses goes through orjson (and the lenient reading) as before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson

from connector.models import Event

log = logging.getLogger(__name__)


class EventRef(msgspec.Struct, gc=False):
    """What the main process reads of an event: any value the API sent for these three keys.

    No reference cycles can form from decoded JSON, so the instances stay out of the
    garbage collector's lists.
    """

    id: Any = None
    type: Any = None
    effective_at: Any = None


class _Envelope(msgspec.Struct, gc=False):
    """The page's own keys, with each event read as an ``EventRef``."""

    data: list[EventRef] | None = None
    has_more: Any = None
    last_id: Any = None


# Shared by the fetch threads: a Decoder's methods are thread-safe since msgspec 0.16.
_ENVELOPE = msgspec.json.Decoder(_Envelope)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of ``GET /organization/audit_logs``: the events' refs and the body they came from."""

    refs: list[EventRef]
    has_more: bool
    last_id: str | None
    server_time: float | None = None
    request_id: str | None = None
    body: bytes = b""
    """The response body; ``events`` decodes it whole."""

    @property
    def events(self) -> list[Event]:
        """The page's events as plain JSON, decoded from ``body`` again (in order, like ``refs``)."""
        events: list[Event] = decode_body(self.body, lenient=[])["data"]
        return events

    @classmethod
    def of(cls, events: Sequence[Event], has_more: bool, last_id: str | None) -> Page:
        """A page holding ``events``, with the body an API would have sent (for tests and tools)."""
        envelope = {"object": "list", "data": list(events), "has_more": has_more, "last_id": last_id}
        try:
            body = orjson.dumps(envelope)
        except TypeError:  # lone surrogates, integers beyond 64 bits: JSON text carries them
            body = json.dumps(envelope).encode()
        return parse_page(body, None, None)


def parse_page(body: bytes, server_time: float | None, request_id: str | None) -> Page:
    """Validate the envelope; events lacking an id or time are left for the pipeline to dead-letter."""
    try:
        envelope = _ENVELOPE.decode(body)
    except (msgspec.DecodeError, ValueError):  # ValueError: invalid UTF-8
        # Not an object, an element of data that is not one, or JSON msgspec refuses:
        # orjson and the lenient reading decide, and give the error.
        envelope = _whole(body)
    else:
        if envelope.data is not None and not all(is_valid_ref(ref) for ref in envelope.data):
            # Where msgspec and orjson could disagree (an odd time or id), the events a
            # normalizer decodes decide which are usable, and are the ones dead-lettered.
            envelope = _whole(body)
    refs = envelope.data
    if refs is None:
        raise ValueError("'data' is missing or not a list")
    if not isinstance(envelope.has_more, bool):
        raise ValueError("'has_more' is missing or not a boolean")
    if envelope.last_id is not None and not isinstance(envelope.last_id, str):
        raise ValueError("'last_id' is not a string")
    return Page(
        refs=refs,
        has_more=envelope.has_more,
        last_id=envelope.last_id,
        server_time=server_time,
        request_id=request_id,
        body=body,
    )


def _whole(body: bytes) -> _Envelope:
    # Silent: whoever decodes the events to map them reports a lenient reading (first_copies).
    doc = decode_body(body, lenient=[])
    if not isinstance(doc, dict):
        raise ValueError("the body is not a JSON object")
    data = doc.get("data")
    if not isinstance(data, list):
        raise ValueError("'data' is missing or not a list")
    if not all(type(event) is dict for event in data):
        raise ValueError("an element of 'data' is not an object")
    refs = [EventRef(id=e.get("id"), type=e.get("type"), effective_at=e.get("effective_at")) for e in data]
    return _Envelope(data=refs, has_more=doc.get("has_more"), last_id=doc.get("last_id"))


def decode_body(body: bytes, *, lenient: list[str] | None = None) -> Any:
    """The JSON value of ``body``: strict, or else lenient (see ``_lenient_json``).

    A lenient reading is logged as a warning, or, given ``lenient``, noted there (why
    the strict reading failed) for the caller to report.

    Raises:
        ValueError: the body is not JSON even leniently (for example, it was truncated).
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        doc = _lenient_json(body, exc)
        if lenient is None:
            log.warning("the API sent JSON that is not strict UTF-8 (%s); read it leniently", exc)
        else:
            lenient.append(str(exc))
        return doc


def _lenient_json(body: bytes, strict_error: Exception) -> Any:
    """Second chance for a complete body that is not strict UTF-8 JSON.

    A lone surrogate escape (valid JSON text, invalid Unicode) or a stray invalid
    byte would otherwise make the page unreadable forever and stall the stream;
    such events are delivered with the odd characters kept or replaced (U+FFFD).
    A truncated body still fails here and is retried.
    """
    try:
        # NaN/Infinity are not JSON; kept as the strings they were, so no output carries them.
        doc = json.loads(body.decode("utf-8", errors="replace"), parse_constant=str)
    except (ValueError, RecursionError):
        raise ValueError(f"invalid JSON ({len(body)} bytes): {strict_error}") from strict_error
    return doc


def pick_events(
    bodies: Iterable[bytes], ids: Iterable[str], *, lenient: list[str] | None = None
) -> list[Event]:
    """The events ``ids`` names, in that order, decoded from ``bodies``: the first copy of each id.

    The pipeline keeps the first copy of an id it reads; the page bodies it read are
    all it hands on, to a normalizer process or to this function in its own process.
    ``lenient`` is as for ``decode_body``. Raises ``KeyError`` for an id no body holds.
    """
    first = first_copies(bodies, lenient=lenient)
    return [first[event_id] for event_id in ids]


def first_copies(bodies: Iterable[bytes], *, lenient: list[str] | None = None) -> dict[str, Event]:
    """Every usable event of ``bodies`` by id, the first copy of each (as the pipeline keeps it)."""
    first: dict[str, Event] = {}
    for body in bodies:
        for event in decode_body(body, lenient=lenient)["data"]:  # parse_page checked the envelope
            if is_valid_event(event):
                first.setdefault(event["id"], event)
    return first


def is_valid_event(event: dict[str, Any]) -> bool:
    """True when the event has what windowing and dedupe need: a string id, a 64-bit int time."""
    return _usable(event.get("id"), event.get("effective_at"))


def is_valid_ref(ref: EventRef) -> bool:
    """``is_valid_event`` for the event ``ref`` was read from."""
    return _usable(ref.id, ref.effective_at)


def _usable(event_id: Any, effective_at: Any) -> bool:
    # Exact types: decoded JSON has no subclasses, and bool (an int subclass) is no time.
    # Beyond 64 bits, orjson reads a float where msgspec and json read an int, and SQLite
    # stores none of them: such a time is as unusable as a missing one.
    return (
        type(event_id) is str
        and event_id != ""
        and type(effective_at) is int
        and -(1 << 63) <= effective_at < (1 << 63)
    )
