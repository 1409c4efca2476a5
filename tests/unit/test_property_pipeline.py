"""Property: whatever JSON the API sends, every event ends up normalized or dead-lettered, never lost.

Hypothesis generates audit-log-shaped events with missing, null and wrong-typed
fields, huge strings, lone surrogates, deep nesting, integers beyond 64 bits and
types not in the spec; they go through the real pipeline (with a fake API and an
in-memory sink) in every output format.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.catalogue import EVENT_TYPES
from connector.checkpoint.memory import MemoryCheckpointStore
from connector.collect import Stream
from connector.config import PollSettings
from connector.deadletter.file import DeadLetterFile
from connector.delivery import PublishThenCommit
from connector.metrics import Metrics
from connector.models import OutputRecord, Rejection, Window
from connector.normalize import make_normalizer
from connector.pipeline import Pipeline
from connector.source.client import AuditQuery
from connector.source.page import Page
from tests.unit.ocsf_validation import ocsf_errors

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.just("x" * 100_000),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
event_types = st.one_of(st.sampled_from(EVENT_TYPES), st.text(max_size=40), json_values)


@st.composite
def audit_events(draw: st.DrawFn) -> dict[str, Any]:
    event_type = draw(event_types)
    event: dict[str, Any] = {
        "id": draw(st.one_of(st.uuids().map(lambda u: f"audit_log-{u.hex}"), json_values)),
        "type": event_type,
        "effective_at": draw(st.one_of(st.integers(min_value=1_000, max_value=1_999), json_values)),
    }
    if draw(st.booleans()):
        event["actor"] = draw(
            st.one_of(
                st.none(),
                json_values,
                st.fixed_dictionaries(
                    {"type": st.sampled_from(["session", "api_key", "robot"]), "session": json_values},
                ),
            )
        )
    if isinstance(event_type, str) and draw(st.booleans()):
        event[event_type] = draw(json_values)
    for key in draw(st.lists(st.text(max_size=10), max_size=3)):
        event.setdefault(key, draw(json_values))
    return event


class OnePage:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events

    def iter_window(self, query: AuditQuery, window: Window) -> Iterator[Page]:
        yield Page.of(list(self.events), False, None)


class ListSink:
    name = "list"

    def __init__(self) -> None:
        self.records: list[OutputRecord] = []

    def publish(self, records: Sequence[OutputRecord]) -> list[Rejection]:
        self.records.extend(records)
        return []

    def close(self) -> None:
        pass


@pytest.mark.parametrize("fmt", ["ocsf", "raw"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(audit_events(), max_size=12))
def test_every_event_is_delivered_or_dead_lettered(
    fmt: str, events: list[dict[str, Any]], tmp_path: Path
) -> None:
    dlq = tmp_path / f"dlq-{uuid.uuid4().hex}.ndjson"  # tmp_path is shared by all examples
    sink = ListSink()
    store = MemoryCheckpointStore()
    pipeline = Pipeline(
        client=OnePage(events),  # type: ignore[arg-type]
        normalizer=make_normalizer(fmt, org_id="org-p"),
        delivery=PublishThenCommit(sink, store),
        store=store,
        dead_letter=DeadLetterFile(dlq),
        poll=PollSettings(overlap=0, max_slice=10_000),
        metrics=Metrics(),
        stop=threading.Event(),
    )
    stream = Stream("default", AuditQuery())
    pipeline.catch_up(stream, pipeline.start_checkpoint(stream, 1_000), 2_000)
    dead = [orjson.loads(line) for line in dlq.read_bytes().splitlines()] if dlq.exists() else []
    delivered_ids = [r.key for r in sink.records]
    unique_valid = {e["id"] for e in events if _valid(e)}
    assert set(delivered_ids) == unique_valid  # every usable event, once
    assert len(delivered_ids) == len(unique_valid)
    assert len(dead) == sum(not _valid(e) for e in events)  # the rest, whole, with a reason
    for record in sink.records:
        doc = orjson.loads(record.value)
        if fmt == "ocsf":
            assert ocsf_errors(doc) == [], doc


def _valid(event: dict[str, Any]) -> bool:
    t = event.get("effective_at")
    return (
        isinstance(event.get("id"), str)
        and bool(event["id"])
        and isinstance(t, int)
        and not isinstance(t, bool)
    )
