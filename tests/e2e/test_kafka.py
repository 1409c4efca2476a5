"""The connector into a real Apache Kafka broker: round trip, outages, crashes, fencing, limits."""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from connector.normalize.ocsf import OcsfNormalizer
from connector.simulator import EventStore, Faults, LiveFeed, generate_events
from tests.e2e.harness import (
    Workspace,
    consume_all,
    kafka_settings,
    serve,
    terminate,
    wait_for,
)

DAY = 86400
SLICE_EVENTS = 500
BATCH_CAP = 2 * SLICE_EVENTS


def keys(records: list[Any]) -> list[str]:
    return [r.key.decode() for r in records]


def test_50k_events_round_trip_with_ids_as_keys_and_the_normalizers_payloads(
    tmp_path: Path, kafka_broker: Any
) -> None:
    now = int(time.time())
    events = generate_events(50_000, start=now - 3 * DAY, end=now - 60, seed=31)
    store = EventStore()
    store.add_many(events)
    topic = kafka_broker.unique_topic("events", partitions=3)
    with serve(store) as server:
        ws = Workspace(tmp_path, server.url, **kafka_settings(kafka_broker.bootstrap, topic))
        result = ws.run("run", "--once", timeout=600)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    records = consume_all(kafka_broker.bootstrap, topic)
    assert sorted(keys(records)) == sorted(e["id"] for e in events)
    normalizer = OcsfNormalizer(org_id="org-e2e")
    expected = {e["id"]: normalizer.normalize(e) for e in events}
    mismatched = [r.key for r in records if orjson.loads(r.value) != expected[r.key.decode()]]
    assert mismatched == []
    headers = dict(records[0].headers)
    assert headers["schema"] == b"ocsf" and headers["schema_version"] == b"1.8.0"
    assert headers["org_id"] == b"org-e2e"
    assert headers["event_type"].decode() == orjson.loads(records[0].value)["metadata"]["event_code"]


def test_a_broker_down_for_20s_mid_run_loses_nothing_and_the_checkpoint_waits(
    tmp_path: Path, kafka_broker: Any
) -> None:
    now = int(time.time())
    events = generate_events(30_000, start=now - 3 * DAY, end=now - 60, seed=32)
    store = EventStore()
    store.add_many(events)
    topic = kafka_broker.unique_topic("outage")
    # 300 pages at 10 requests/s: the run takes ~30 s however fast the pipeline is, so the outage
    # lands mid-run rather than after the last batch.
    with serve(store) as server:
        ws = Workspace(
            tmp_path,
            server.url,
            **kafka_settings(kafka_broker.bootstrap, topic, SINK__DELIVERY_TIMEOUT="5"),
            POLL__SLICE_EVENTS=str(SLICE_EVENTS),
            OPENAI__MAX_REQUESTS_PER_SECOND="10",
        )
        proc = ws.start("run")
        # A first run's oldest window can be empty: wait for events, so the outage lands mid-backfill.
        assert wait_for(lambda: ws.published() > 0, timeout=120)
        kafka_broker.stop()
        try:
            time.sleep(5)
            frozen = _watermark(ws)
            time.sleep(15)
            assert _watermark(ws) == frozen, "the checkpoint moved while the broker was down"
        finally:
            kafka_broker.start()
        all_ids = {e["id"] for e in events}
        assert wait_for(
            lambda: set(keys(consume_all(kafka_broker.bootstrap, topic))) >= all_ids, timeout=300, every=5
        )
        assert terminate(proc) == 0
    # Reported in whichever words the producer's failure took: batches that expired, a flush
    # that timed out, or a connection refused.
    assert any("Kafka" in message for message in ws.problems()), ws.problems()
    records = consume_all(kafka_broker.bootstrap, topic)
    assert set(keys(records)) == all_ids
    assert len(records) - len(all_ids) <= BATCH_CAP  # at most the batch in flight when it went down


@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
def test_sigkill_at_ten_random_points(tmp_path: Path, kafka_broker: Any, exactly_once: bool) -> None:
    rng = random.Random(33 + exactly_once)
    now = int(time.time())
    store = EventStore()
    store.add_many(generate_events(20_000, start=now - 3 * DAY, end=now, seed=33))
    feed = LiveFeed(store, rate_per_s=20, late_fraction=0.05, max_late_s=20, seed=33)
    topic = kafka_broker.unique_topic("kill")
    checkpoints = kafka_broker.unique_topic("checkpoints", compacted=True) if exactly_once else None
    with serve(store, Faults(latency_s=0.01)) as server:
        ws = Workspace(
            tmp_path,
            server.url,
            **kafka_settings(kafka_broker.bootstrap, topic, checkpoints),
            POLL__SLICE_EVENTS=str(SLICE_EVENTS),
            POLL__OVERLAP="60",
        )
        feed.start()
        try:
            for _ in range(10):
                proc = ws.start("run")
                time.sleep(rng.uniform(1.5, 6.0))
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
        finally:
            feed.stop()
        time.sleep(21)
        expected = store.ids()
        final = ws.start("run")
        assert wait_for(
            lambda: set(keys(consume_all(kafka_broker.bootstrap, topic))) >= expected, timeout=300, every=5
        )
        assert terminate(final) == 0
    seen = Counter(keys(consume_all(kafka_broker.bootstrap, topic)))
    assert set(seen) == expected
    duplicates = sum(n - 1 for n in seen.values())
    if exactly_once:
        assert duplicates == 0, [k for k, n in seen.items() if n > 1][:5]
    else:
        assert duplicates <= 10 * BATCH_CAP
    print(f"\n{len(expected)} events, 10 SIGKILLs, duplicates seen by read_committed: {duplicates}")


def test_a_second_instance_fences_the_first_which_stops_with_a_clear_error(
    tmp_path: Path, kafka_broker: Any
) -> None:
    now = int(time.time())
    store = EventStore()
    store.add_many(generate_events(15_000, start=now - 3 * DAY, end=now - 60, seed=34))
    topic = kafka_broker.unique_topic("fence")
    checkpoints = kafka_broker.unique_topic("checkpoints", compacted=True)
    # 150 pages at 10 requests/s: the first instance is mid-backfill, with a transaction open,
    # when the second one starts, however fast the machine.
    with serve(store, Faults(latency_s=0.02)) as server:
        settings = kafka_settings(kafka_broker.bootstrap, topic, checkpoints)
        paced = {"POLL__SLICE_EVENTS": str(SLICE_EVENTS), "OPENAI__MAX_REQUESTS_PER_SECOND": "10"}
        first_ws = Workspace(tmp_path / "a", server.url, **settings, **paced)
        second_ws = Workspace(tmp_path / "b", server.url, **settings, **paced)
        first = first_ws.start("run")
        assert wait_for(lambda: first_ws.published() > 0, timeout=60)
        second = second_ws.start("run")
        assert first.wait(timeout=120) == 1
        assert wait_for(lambda: len(consume_all(kafka_broker.bootstrap, topic)) >= len(store), timeout=240)
        assert terminate(second) == 0
    assert "another connector instance with the same transactional id took over" in first_ws.logs()
    seen = Counter(keys(consume_all(kafka_broker.bootstrap, topic)))
    assert set(seen) == store.ids() and max(seen.values()) == 1


def test_a_missing_topic_is_a_clear_fatal_error(tmp_path: Path, kafka_broker: Any) -> None:
    store = EventStore()
    store.add_many(generate_events(50, start=int(time.time()) - DAY, end=int(time.time()), seed=35))
    with serve(store) as server:
        ws = Workspace(tmp_path, server.url, **kafka_settings(kafka_broker.bootstrap, "no-such-topic-here"))
        result = ws.run("run", "--once")
    assert result.returncode == 1
    assert b"no-such-topic-here do not exist" in result.stderr
    assert b"CONNECTOR_SINK__CREATE_TOPICS" in result.stderr


def test_a_record_too_large_goes_to_the_dead_letter_file_and_the_rest_is_delivered(
    tmp_path: Path, kafka_broker: Any
) -> None:
    now = int(time.time())
    events = generate_events(100, start=now - DAY, end=now - 60, seed=36)
    huge = dict(events[0], id="audit_log-huge", type="certificate.created")
    huge["certificate.created"] = {"id": "cert_1", "name": "x" * 2_000_000}
    store = EventStore()
    store.add_many([*events, huge])
    topic = kafka_broker.unique_topic("big")
    with serve(store) as server:
        ws = Workspace(tmp_path, server.url, **kafka_settings(kafka_broker.bootstrap, topic))
        result = ws.run("run", "--once")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert sorted(keys(consume_all(kafka_broker.bootstrap, topic))) == sorted(e["id"] for e in events)
    dead = [orjson.loads(line) for line in (tmp_path / "dead-letter.ndjson").read_bytes().splitlines()]
    assert [(d["reason"], d["event"]["id"]) for d in dead] == [("too_large", "audit_log-huge")]


def _watermark(ws: Workspace) -> int:
    shown = ws.run("state", "show").stdout
    return int(orjson.loads(shown).get("default", {}).get("watermark", 0)) if shown.strip() else 0
