"""Sink faults: Splunk HEC busy (503) for a full minute, and a Kafka broker restarted mid-run.

Busy storms at a rate and late acks are covered by tests/e2e/test_splunk_hec.py, a Kafka broker
down for 20 s (at-least-once) by tests/e2e/test_kafka.py; here the outage is total and long
(HEC), or a restart of the broker process in both Kafka delivery modes.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from connector.simulator import Faults
from tests.e2e.harness import Workspace, consume_all, kafka_settings, serve, terminate, wait_for
from tests.e2e.test_splunk_hec import TOKEN, hec_settings, uids
from tests.faults.helpers import (
    Sampler,
    assert_checkpoint_sane,
    error_lines,
    history,
    passed_but_missing,
    running,
    watch_delivery,
)
from tests.hec_receiver import HecReceiver, HecToken

pytestmark = pytest.mark.faults

OUTAGE_S = 60
SLICE_EVENTS = 500
BATCH_CAP = 2 * SLICE_EVENTS  # the pipeline never holds more new events than this in one batch


def test_hec_busy_for_a_full_minute_then_recovering_loses_nothing_and_the_checkpoint_waits(
    tmp_path: Path,
) -> None:
    events, store = history(6000, seed=31)
    expected = {e["id"] for e in events}
    with (
        serve(store, Faults(latency_s=0.01)) as server,
        HecReceiver([HecToken(TOKEN)], ack_delay_s=0.2) as hec,
    ):
        settings = hec_settings(hec, SINK__RETRIES="40", SINK__RETRY_MAX="3", SINK__BATCH_EVENTS="200")
        ws = Workspace(tmp_path, server.url, **settings, POLL__SLICE_EVENTS=str(SLICE_EVENTS))

        def indexed() -> set[str]:
            return set(uids(hec))

        with running(ws, "run") as proc, Sampler(tmp_path / "checkpoint.db", events, indexed) as sampler:
            assert wait_for(lambda: len(uids(hec)) >= 1000, timeout=90), ws.logs()[-2000:]
            hec.busy_rate = 1.0
            outage_start = time.monotonic()
            time.sleep(OUTAGE_S)
            hec.busy_rate = 0.0
            outage_end = time.monotonic()
            busy = hec.requests.count(code=9)
            assert proc.poll() is None, "the connector exited during the HEC outage: " + ws.logs()[-2000:]
            during = sampler.between(outage_start + 5, outage_end)
            watch = watch_delivery(
                proc, expected, events, checkpoint=tmp_path / "checkpoint.db", delivered=indexed, timeout=180
            )
            code = terminate(proc)
        seen = Counter(uids(hec))
    logs = ws.logs()
    duplicates = sum(n - 1 for n in seen.values())
    print(
        f"\nHEC busy {OUTAGE_S}s: {busy} busy (503) answers; {len(error_lines(logs))} ERROR lines; "
        f"everything indexed {watch.seconds:.1f}s after the outage ended; duplicates {duplicates}; "
        f"watermark during the outage {during[0] if during else None}"
    )
    assert set(seen) == expected, f"{len(expected - set(seen))} events lost"
    assert watch.violations == [] and sampler.violations == [], sampler.violations[:5]
    assert code == 0, logs[-3000:]
    assert busy >= 10, "the outage was not seen"
    # The checkpoint waits: no commit during the outage (after the batch in flight when it began).
    assert during and all(marks == during[0] for marks in during), during
    assert duplicates <= BATCH_CAP
    assert_checkpoint_sane(ws, events, set(seen), db=tmp_path / "checkpoint.db")


def _shown_watermarks(ws: Workspace) -> dict[str, int]:
    result = ws.run("state", "show")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return {name: int(cp["watermark"]) for name, cp in orjson.loads(result.stdout).items()}


@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
def test_a_kafka_broker_restart_mid_run_loses_nothing(
    tmp_path: Path, kafka_broker: Any, exactly_once: bool
) -> None:
    if not kafka_broker.restartable:
        kafka_broker.stop()  # skips with the reason: only the local broker can be restarted
    events, store = history(12_000, seed=33 + exactly_once)
    expected = {e["id"] for e in events}
    topic = kafka_broker.unique_topic("restart")
    checkpoints = kafka_broker.unique_topic("checkpoints", compacted=True) if exactly_once else None
    with serve(store, Faults(latency_s=0.02)) as server:
        ws = Workspace(
            tmp_path,
            server.url,
            **kafka_settings(kafka_broker.bootstrap, topic, checkpoints, SINK__DELIVERY_TIMEOUT="30"),
            POLL__SLICE_EVENTS=str(SLICE_EVENTS),
            # Paced, so the restart lands mid-run however fast the pipeline and the sink are.
            OPENAI__MAX_REQUESTS_PER_SECOND="10",
        )

        def keys() -> list[str]:
            return [r.key.decode() for r in consume_all(kafka_broker.bootstrap, topic)]

        with running(ws, "run") as proc:
            assert wait_for(lambda: len(keys()) >= 2000, timeout=120, every=2), ws.logs()[-2000:]
            before = len(set(keys()))
            assert before < len(expected), "everything was delivered before the restart"
            started = time.monotonic()
            kafka_broker.stop()
            kafka_broker.start()
            restart_s = time.monotonic() - started
            assert proc.poll() is None, (
                "the connector exited while the broker restarted: " + ws.logs()[-2000:]
            )
            marks = _shown_watermarks(ws)  # the checkpoint first, then what the topic holds
            violations = passed_but_missing(events, marks, set(keys()))
            assert wait_for(lambda: set(keys()) >= expected, timeout=300, every=3), ws.logs()[-3000:]
            code = terminate(proc)
        seen = Counter(keys())
    duplicates = sum(n - 1 for n in seen.values())
    mode = "exactly-once" if exactly_once else "at-least-once"
    print(
        f"\nKafka restart ({mode}) with {before} of {len(expected)} events in the topic: broker down and up "
        f"again in {restart_s:.1f}s; duplicates {duplicates}"
    )
    assert set(seen) == expected
    assert violations == [], violations[:5]
    assert code == 0, ws.logs()[-3000:]
    assert duplicates == 0 if exactly_once else duplicates <= BATCH_CAP
    assert_checkpoint_sane(ws, events, set(seen), db=None if exactly_once else tmp_path / "checkpoint.db")
