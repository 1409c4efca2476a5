"""SIGTERM in the middle of a large batch: the connector drains, commits and exits 0 within the grace period.

SIGKILL at random points (ten kills during backfill and live traffic, file sink and both Kafka
modes) is covered by tests/e2e/test_crash.py and tests/e2e/test_kafka.py
(``test_sigkill_at_ten_random_points``); they assert nothing lost and duplicates within one batch
per kill.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from connector.simulator import Faults
from tests.e2e.harness import Workspace, read_output, serve, wait_for
from tests.e2e.test_splunk_hec import TOKEN, hec_settings, uids
from tests.faults.helpers import assert_checkpoint_sane, history, running
from tests.hec_receiver import HecReceiver, HecToken

pytestmark = pytest.mark.faults

GRACE_S = 30  # Kubernetes' default terminationGracePeriodSeconds
SLICE_EVENTS = 5000


def test_sigterm_while_splunk_is_slow_to_acknowledge_a_large_batch_drains_and_commits_it(
    tmp_path: Path,
) -> None:
    events, store = history(20_000, seed=41)
    expected = {e["id"] for e in events}
    with serve(store) as server, HecReceiver([HecToken(TOKEN)], ack_delay_s=4.0) as hec:
        ws = Workspace(
            tmp_path,
            server.url,
            **hec_settings(hec, SINK__BATCH_EVENTS="500"),
            POLL__SLICE_EVENTS=str(SLICE_EVENTS),
        )
        with running(ws, "run") as proc:
            # A batch is in flight: HEC took requests whose acks are still pending.
            assert wait_for(lambda: hec.pending_acks() > 0, timeout=120, every=0.05), ws.logs()[-2000:]
            pending = hec.pending_acks()
            indexed_before = len(uids(hec))
            proc.send_signal(signal.SIGTERM)
            started = time.monotonic()
            code = proc.wait(timeout=GRACE_S + 30)
            drain_s = time.monotonic() - started
        drained = len(uids(hec)) - indexed_before
        hec.ack_delay_s = 0.1
        restart = ws.run("run", "--once", timeout=300)
        seen = Counter(uids(hec))
    print(
        f"\nSIGTERM with {pending} HEC requests awaiting acks: exit {code} after {drain_s:.1f}s "
        f"(grace {GRACE_S}s); {drained} events indexed and committed during the drain; "
        f"restart re-delivered {sum(n - 1 for n in seen.values())}"
    )
    assert code == 0, ws.logs()[-3000:]
    assert drain_s < GRACE_S
    assert drained > 0, "the batch in flight was not finished"
    assert restart.returncode == 0, restart.stderr.decode()[-2000:]
    assert set(seen) == expected
    # The drained batch was committed: the restart sends nothing twice.
    assert max(seen.values()) == 1, [k for k, n in seen.items() if n > 1][:5]
    assert_checkpoint_sane(ws, events, set(seen), db=tmp_path / "checkpoint.db")


def test_sigterm_while_a_large_slice_is_still_being_fetched_stops_fast_and_loses_nothing(
    tmp_path: Path,
) -> None:
    events, store = history(20_000, seed=42)
    expected = {e["id"] for e in events}
    with serve(store, Faults(latency_s=0.5)) as server:
        ws = Workspace(tmp_path, server.url, POLL__SLICE_EVENTS=str(SLICE_EVENTS))
        with running(ws, "run") as proc:
            # Slow pages: a few seconds in, several slices are half read and none published.
            assert wait_for(lambda: len(server.seen_queries) >= 12, timeout=60, every=0.1)
            delivered_before = len(read_output(ws.output).ids)
            proc.send_signal(signal.SIGTERM)
            started = time.monotonic()
            code = proc.wait(timeout=GRACE_S + 30)
            stop_s = time.monotonic() - started
        server.faults = Faults()
        restart = ws.run("run", "--once", timeout=300)
    out = read_output(ws.output)
    print(
        f"\nSIGTERM during slow fetches ({delivered_before} events out): exit {code} after {stop_s:.1f}s; "
        f"after the restart {len(set(out.ids))} events, duplicates {out.duplicates()}"
    )
    assert code == 0, ws.logs()[-3000:]
    assert stop_s < 5  # a stop abandons unpublished fetches: at most one slow page to wait for
    assert restart.returncode == 0, restart.stderr.decode()[-2000:]
    assert set(out.ids) == expected and out.duplicates() == 0 and out.fragments == 0
    assert_checkpoint_sane(ws, events, set(out.ids), db=tmp_path / "checkpoint.db")
