"""The body of one audit-log page: decoding, envelope checks, and what makes an event usable.

Kept apart from the HTTP client (no httpx here) because a normalizer process decodes
the same page bodies again: the main process sends it the bytes it received rather
than re-encoding the events it decoded (connector.normalize.batch).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson

from connector.models import Page

log = logging.getLogger(__name__)


def parse_page(body: bytes, server_time: float | None, request_id: str | None) -> Page:
    """Validate the envelope; events lacking an id or time are left for the pipeline to dead-letter."""
    doc = decode_body(body)
    if not isinstance(doc, dict):
        raise ValueError("the body is not a JSON object")
    data = doc.get("data")
    has_more = doc.get("has_more")
    last_id = doc.get("last_id")
    if not isinstance(data, list):
        raise ValueError("'data' is missing or not a list")
    if not isinstance(has_more, bool):
        raise ValueError("'has_more' is missing or not a boolean")
    if last_id is not None and not isinstance(last_id, str):
        raise ValueError("'last_id' is not a string")
    if not all(type(event) is dict for event in data):
        raise ValueError("an element of 'data' is not an object")
    return Page(
        events=data,
        has_more=has_more,
        last_id=last_id,
        server_time=server_time,
        request_id=request_id,
        body=body,
    )


def decode_body(body: bytes, *, warn: bool = True) -> Any:
    """The JSON value of ``body``: strict, or else lenient (see ``_lenient_json``).

    Raises:
        ValueError: the body is not JSON even leniently (for example, it was truncated).
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _lenient_json(body, exc, warn=warn)


def _lenient_json(body: bytes, strict_error: Exception, *, warn: bool) -> Any:
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
    if warn:
        log.warning("the API sent JSON that is not strict UTF-8 (%s); read it leniently", strict_error)
    return doc


def is_valid_event(event: dict[str, Any]) -> bool:
    """True when the event has what windowing and dedupe need: a string id, an int time."""
    # Exact types: decoded JSON has no subclasses, and bool (an int subclass) is no time.
    event_id = event.get("id")
    return type(event_id) is str and event_id != "" and type(event.get("effective_at")) is int
