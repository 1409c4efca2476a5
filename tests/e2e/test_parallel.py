"""A parallel first-run backfill writes exactly what a sequential one writes, in the same order."""

from __future__ import annotations

import time
from pathlib import Path

from connector.simulator import EventStore, Faults, generate_events
from tests.e2e.harness import Workspace, serve

DAY = 86400


def test_eight_workers_and_a_normalizer_process_write_the_same_bytes_as_one_worker_in_process(
    tmp_path: Path,
) -> None:
    now = int(time.time())
    store = EventStore()
    # Dense days and quiet ones, so slices are split, re-planned and fetched out of order.
    store.add_many(generate_events(12_000, start=now - 10 * DAY, end=now - 8 * DAY, seed=61))
    store.add_many(generate_events(3_000, start=now - 8 * DAY, end=now - 60, seed=62))
    outputs: dict[str, bytes] = {}
    with serve(store, Faults(latency_s=0.005, seed=61)) as server:
        for name, workers, processes in (("sequential", "1", "0"), ("parallel", "8", "1")):
            ws = Workspace(
                tmp_path / name,
                server.url,
                BACKFILL__WORKERS=workers,
                OUTPUT__PROCESSES=processes,
                OPENAI__LOOKBACK="12d",
                POLL__SLICE_EVENTS="1000",
            )
            result = ws.run("run", "--once", timeout=600)
            assert result.returncode == 0, result.stderr.decode()[-3000:]
            outputs[name] = ws.output.read_bytes()
    sequential, parallel = outputs["sequential"].splitlines(), outputs["parallel"].splitlines()
    assert len(sequential) == 15_000
    assert parallel == sequential  # same documents, same bytes, same (stream, time, id) order
