"""SIGKILL at random points during backfill and live traffic: nothing lost, duplicates bounded."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

from connector.simulator import EventStore, Faults, LiveFeed, generate_events
from tests.e2e.harness import Workspace, read_output, serve, terminate, wait_for

DAY = 86400
KILLS = 10
SLICE_EVENTS = 500
BATCH_CAP = 2 * SLICE_EVENTS  # the pipeline never holds more new events than this in one batch
MAX_LATE = 30


def test_sigkill_at_ten_random_points_loses_nothing_and_duplicates_stay_within_a_batch_per_kill(
    tmp_path: Path,
) -> None:
    rng = random.Random(99)
    now = int(time.time())
    store = EventStore()
    store.add_many(generate_events(20_000, start=now - 3 * DAY, end=now, seed=99))
    feed = LiveFeed(store, rate_per_s=20, late_fraction=0.05, max_late_s=MAX_LATE, seed=99)
    kill_log: list[tuple[float, int]] = []
    with serve(store, Faults(latency_s=0.01, seed=99)) as server:
        ws = Workspace(
            tmp_path,
            server.url,
            POLL__OVERLAP="60",
            POLL__SLICE_EVENTS=str(SLICE_EVENTS),
            POLL__MAX_SLICE="6h",
            # 200 pages at 20 requests/s: kills land mid-backfill however fast the machine.
            OPENAI__MAX_REQUESTS_PER_SECOND="20",
        )
        feed.start()
        try:
            for _ in range(KILLS):
                proc = ws.start("run")
                alive = rng.uniform(1.0, 5.0)
                time.sleep(alive)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                kill_log.append((alive, len(read_output(ws.output).docs)))
        finally:
            feed.stop()
        # Let every late event become visible, then drain with one last, clean run.
        time.sleep(MAX_LATE + 1)
        expected = store.visible_ids(time.time())
        assert expected == store.ids()
        final = ws.start("run")
        drained = wait_for(lambda: set(read_output(ws.output).ids) >= expected, timeout=240, every=2)
        code = terminate(final)
    out = read_output(ws.output)
    missing = expected - set(out.ids)
    assert drained and not missing, f"{len(missing)} ids lost; kills {kill_log}"
    assert code == 0
    duplicates = out.duplicates()
    assert duplicates <= KILLS * BATCH_CAP, (duplicates, kill_log)
    # Kills must have landed mid-backfill for this test to mean anything.
    assert any(0 < delivered < 20_000 for _, delivered in kill_log), kill_log
    alive = [round(a, 1) for a, _ in kill_log]
    print(
        f"\n{len(expected)} events ({feed.added} live), {KILLS} kills after {alive} s; "
        f"delivered after each kill {[n for _, n in kill_log]}; duplicates {duplicates} "
        f"(bound {KILLS * BATCH_CAP}); torn lines {out.fragments}"
    )
