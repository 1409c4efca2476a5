"""Slices normalized in a child process: the same records as in-process, and no loss when a child dies."""

from __future__ import annotations

import fcntl
import os
import signal
from typing import Any

import orjson
import pytest

from connector.drift import find_drift
from connector.normalize import make_normalizer
from connector.normalize.batch import MIN_CHILD_BATCH, PIPE_BYTES, Batches, Normalized, normalize_all
from connector.simulator import generate_events
from connector.source.page import parse_page


def _events(count: int) -> list[dict[str, Any]]:
    return [
        orjson.loads(orjson.dumps(e))
        for e in generate_events(count, start=1_700_000_000, end=1_700_100_000, seed=5)
    ]


def _ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in events]


def _expected(normalizer: Any, events: list[dict[str, Any]], lenient: int = 0) -> tuple[Any, ...]:
    """The outcomes and drift, and how many page bodies were read leniently."""
    return normalize_all(normalizer, events), find_drift(events), lenient


def _seen(result: Normalized) -> tuple[Any, ...]:
    return result.outcomes, result.drift, len(result.lenient)


def _bodies(events: list[dict[str, Any]], per_page: int = 100) -> list[bytes]:
    """The page bodies an API would have sent these events in."""
    chunks = [events[i : i + per_page] for i in range(0, len(events), per_page)]
    return [
        orjson.dumps(
            {"object": "list", "data": chunk, "has_more": i < len(chunks) - 1, "last_id": chunk[-1]["id"]}
        )
        for i, chunk in enumerate(chunks)
    ]


@pytest.mark.parametrize("fmt", ["ocsf", "ecs"])
def test_a_child_process_returns_exactly_what_the_main_process_would(fmt: str) -> None:
    normalizer = make_normalizer(fmt, org_id="org-batch")
    events = _events(MIN_CHILD_BATCH + 50)
    batches = Batches(normalizer, processes=1)
    try:
        bodies = _bodies(events)
        pending = batches.submit(_ids(events), bodies)
        assert pending is not None, "a slice this large goes to the child"
        assert _seen(batches.normalized(_ids(events), bodies, pending)) == _expected(normalizer, events)
    finally:
        batches.close()


def test_small_slices_stay_in_the_main_process() -> None:
    normalizer = make_normalizer("ocsf")
    batches = Batches(normalizer, processes=1)
    try:
        events = _events(MIN_CHILD_BATCH - 1)
        bodies = _bodies(events)
        assert batches.submit(_ids(events), bodies) is None
        assert _seen(batches.normalized(_ids(events), bodies, None)) == _expected(normalizer, events)
    finally:
        batches.close()


def test_the_child_picks_the_events_the_pipeline_kept_from_odd_pages() -> None:
    """First copy of a repeated id, invalid events skipped, a page that is not strict UTF-8."""
    normalizer = make_normalizer("ocsf")
    events = _events(MIN_CHILD_BATCH + 20)
    bodies = _bodies(events)
    later_copy = dict(events[5], type="api_key.deleted")  # same id, other content, on a later page
    bodies.append(orjson.dumps({"data": [later_copy, {"id": "", "effective_at": 1}], "has_more": False}))
    odd = dict(events[-1], id="audit_log-odd", note="cafMARK")
    bodies.append(orjson.dumps({"data": [odd], "has_more": False}).replace(b"MARK", bytes([0xFF])))
    kept: dict[str, dict[str, Any]] = {}
    for body in bodies:  # what the pipeline's collect keeps: the first valid copy of each id
        for event in parse_page(body, None, None).events:
            if event.get("id"):
                kept.setdefault(event["id"], event)
    wanted = list(kept.values())
    assert "\ufffd" in wanted[-1]["note"], "the last page was read leniently"
    batches = Batches(normalizer, processes=1)
    try:
        pending = batches.submit(_ids(wanted), bodies)
        assert pending is not None
        result = batches.normalized(_ids(wanted), bodies, pending)
        assert _seen(result) == _expected(normalizer, wanted, lenient=1), "and says one page was lenient"
        assert "utf-8" in result.lenient[0].lower()
    finally:
        batches.close()


def test_the_child_reports_the_schema_drift_of_its_events() -> None:
    normalizer = make_normalizer("ocsf")
    events = _events(MIN_CHILD_BATCH)
    events[7] = dict(events[7], type="brand.new_type")
    bodies = _bodies(events)
    batches = Batches(normalizer, processes=1)
    try:
        pending = batches.submit(_ids(events), bodies)
        assert pending is not None
        drift = batches.normalized(_ids(events), bodies, pending).drift
        assert ("type", "brand.new_type", "brand.new_type") in drift
    finally:
        batches.close()


def test_a_killed_child_means_the_slice_is_normalized_here_not_lost() -> None:
    normalizer = make_normalizer("ocsf")
    events = _events(MIN_CHILD_BATCH)
    batches = Batches(normalizer, processes=1)
    try:
        bodies = _bodies(events)
        ids = _ids(events)
        first = batches.submit(ids, bodies)
        assert first is not None
        batches.normalized(ids, bodies, first)  # the child is up
        assert batches._pool is not None
        for pid in list(batches._pool._processes):  # type: ignore[union-attr]
            os.kill(pid, signal.SIGKILL)
        pending = batches.submit(ids, bodies)
        assert _seen(batches.normalized(ids, bodies, pending)) == _expected(normalizer, events)
        assert batches.submit(ids, bodies) is None, "a broken pool is not used again"
    finally:
        batches.close()


def test_an_event_that_cannot_be_encoded_becomes_an_error_outcome() -> None:
    class Exploding:
        format = "ocsf"

        def normalize(self, event: Any) -> dict[str, Any]:
            if event["id"] == "bad":
                raise ValueError("boom")
            return {"id": event["id"], "class_uid": 3004}

    outcomes = normalize_all(Exploding(), [{"id": "ok"}, {"id": "bad"}])
    assert outcomes == [(b'{"id":"ok","class_uid":3004}', 3004), "ValueError: boom"]


def test_the_pipes_to_and_from_the_child_hold_a_whole_mebibyte() -> None:
    get_size = getattr(fcntl, "F_GETPIPE_SZ", None)
    if get_size is None:
        pytest.skip("pipe sizes are a Linux feature; elsewhere the default pipes are kept")
    batches = Batches(make_normalizer("ocsf"), processes=1)
    try:
        pool = batches._pool
        assert pool is not None
        for queue in (pool._call_queue, pool._result_queue):  # type: ignore[attr-defined]
            assert fcntl.fcntl(queue._reader.fileno(), get_size) >= PIPE_BYTES
    finally:
        batches.close()
