"""Page bodies: the refs the main process reads agree with the events a normalizer decodes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector.source.page import Page, is_valid_event, is_valid_ref, parse_page, pick_events


def _body(*events: str) -> bytes:
    return ('{"object":"list","data":[' + ",".join(events) + '],"has_more":false,"last_id":null}').encode()


def _agree(page: Page) -> None:
    """Every ref matches its event, and the usable ones are exactly what pick_events finds."""
    events = page.events
    assert len(page.refs) == len(events)
    for ref, event in zip(page.refs, events, strict=True):
        assert is_valid_ref(ref) == is_valid_event(event)
        if is_valid_ref(ref):
            assert ref.id == event["id"]
            assert (ref.type, ref.effective_at) == (event.get("type"), event["effective_at"])
    usable = [ref.id for ref in page.refs if is_valid_ref(ref)]
    assert [e["id"] for e in pick_events([page.body], usable)] == usable


def test_refs_are_the_id_type_and_time_of_each_event() -> None:
    events: list[dict[str, Any]] = [
        {"id": "a", "type": "login.succeeded", "effective_at": 10, "actor": {"type": "session"}},
        {"id": "b", "type": "project.created", "effective_at": 11, "project.created": {"id": "p"}},
    ]
    page = Page.of(events, True, "b")
    assert [(r.id, r.type, r.effective_at) for r in page.refs] == [
        ("a", "login.succeeded", 10),
        ("b", "project.created", 11),
    ]
    assert (page.has_more, page.last_id, page.events) == (True, "b", events)


@pytest.mark.parametrize(
    "odd",
    [
        '{"id":"x","effective_at":18446744073709551616}',  # beyond 64 bits: orjson reads a float
        '{"id":"x","effective_at":9223372036854775808}',  # beyond int64: SQLite cannot store it
        '{"id":"x","effective_at":true}',
        '{"id":"x","effective_at":1.5}',
        '{"id":"","effective_at":1}',
        '{"id":7,"effective_at":1}',
        '{"effective_at":1}',
        '{"id":"x"}',
    ],
)
def test_an_unusable_event_is_unusable_to_both_readers(odd: str) -> None:
    page = parse_page(_body('{"id":"ok","effective_at":1}', odd), None, None)
    _agree(page)
    assert [is_valid_ref(r) for r in page.refs] == [True, False]


def test_a_lone_surrogate_id_is_the_same_id_to_both_readers() -> None:
    page = parse_page(_body('{"id":"a\\ud800","effective_at":1}', '{"id":"b","effective_at":2}'), None, None)
    _agree(page)
    assert page.refs[0].id == "a\ud800"


def test_a_body_that_is_not_utf8_is_read_leniently_by_both() -> None:
    body = _body('{"id":"a","effective_at":1,"note":"cafMARK"}').replace(b"MARK", bytes([0xFF]))
    page = parse_page(body, None, None)
    _agree(page)
    assert page.events[0]["note"] == "caf\ufffd"


def test_a_page_of_odd_json_text_round_trips() -> None:
    events = [{"id": "a\ud800", "effective_at": 1, "big": 2**70}]
    page = Page.of(events, False, None)
    assert page.events == json.loads(json.dumps(events))
    _agree(page)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"[]", "not a JSON object"),
        (b'{"has_more":false}', "'data' is missing"),
        (b'{"data":3,"has_more":false}', "'data' is missing"),
        (b'{"data":[1],"has_more":false}', "not an object"),
        (b'{"data":[],"has_more":1}', "'has_more'"),
        (b'{"data":[],"has_more":false,"last_id":3}', "'last_id'"),
        (b'{"data":[', "invalid JSON"),
    ],
)
def test_a_bad_envelope_gets_the_same_clear_error(body: bytes, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_page(body, None, None)
