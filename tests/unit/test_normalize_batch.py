"""Slices normalized in a child process: the same records as in-process, and no loss when a child dies."""

from __future__ import annotations

import os
import signal
from typing import Any

import orjson
import pytest

from connector.normalize import make_normalizer
from connector.normalize.batch import MIN_CHILD_BATCH, Batches, normalize_all
from connector.simulator import generate_events


def _events(count: int) -> list[dict[str, Any]]:
    return [
        orjson.loads(orjson.dumps(e))
        for e in generate_events(count, start=1_700_000_000, end=1_700_100_000, seed=5)
    ]


@pytest.mark.parametrize("fmt", ["ocsf", "ecs"])
def test_a_child_process_returns_exactly_what_the_main_process_would(fmt: str) -> None:
    normalizer = make_normalizer(fmt, org_id="org-batch")
    events = _events(MIN_CHILD_BATCH + 50)
    batches = Batches(normalizer, processes=1)
    try:
        pending = batches.submit(events)
        assert pending is not None, "a slice this large goes to the child"
        assert batches.outcomes(events, pending) == normalize_all(normalizer, events)
    finally:
        batches.close()


def test_small_slices_and_unencodable_events_stay_in_the_main_process() -> None:
    normalizer = make_normalizer("ocsf")
    batches = Batches(normalizer, processes=1)
    try:
        assert batches.submit(_events(MIN_CHILD_BATCH - 1)) is None
        huge = _events(MIN_CHILD_BATCH)
        huge[3]["effective_at"] = 2**70  # orjson cannot encode it for the child
        assert batches.submit(huge) is None
        assert len(batches.outcomes(huge, None)) == len(huge)
    finally:
        batches.close()


def test_a_killed_child_means_the_slice_is_normalized_here_not_lost() -> None:
    normalizer = make_normalizer("ocsf")
    events = _events(MIN_CHILD_BATCH)
    batches = Batches(normalizer, processes=1)
    try:
        first = batches.submit(events)
        assert first is not None
        batches.outcomes(events, first)  # the child is up
        assert batches._pool is not None
        for pid in list(batches._pool._processes):  # type: ignore[union-attr]
            os.kill(pid, signal.SIGKILL)
        pending = batches.submit(events)
        outcomes = batches.outcomes(events, pending)
        assert outcomes == normalize_all(normalizer, events)
        assert batches.submit(events) is None, "a broken pool is not used again"
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
