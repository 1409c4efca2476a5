"""The test broker behaves like production Kafka where the sink depends on it.

Idempotent zstd produce, transactions hidden from read_committed readers until committed (aborted ones never),
consumer groups with short session timeouts, and data surviving a broker restart.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from tests.kafka_broker import KafkaBroker

pytestmark = pytest.mark.slow


def _producer(bootstrap: str, **extra: object) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        compression_type="zstd",
        max_block_ms=30000,
        **extra,
    )


def _read_all(
    bootstrap: str, topic: str, isolation_level: str = "read_uncommitted", timeout_s: float = 20
) -> list[Any]:
    """Every record of the topic up to its end offset (the LSO for read_committed), without a group."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level=isolation_level,
        request_timeout_ms=15000,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        assert partitions, f"topic {topic} has no partitions"
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            assert time.monotonic() < deadline, f"timed out reading {topic} up to {end}"
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def test_idempotent_zstd_round_trip(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.unique_topic("roundtrip", partitions=3)
    producer = _producer(kafka_broker.bootstrap, linger_ms=5)
    try:
        futures = [
            producer.send(
                topic,
                key=f"evt-{i}".encode(),
                value=f'{{"n": {i}}}'.encode(),
                headers=[("schema", b"openai.audit.v1")],
            )
            for i in range(50)
        ]
        producer.flush(timeout=30)
        metadata = [f.get(timeout=0) for f in futures]
    finally:
        producer.close(timeout=10)
    assert {m.topic for m in metadata} == {topic}

    records = _read_all(kafka_broker.bootstrap, topic)
    assert sorted(r.key for r in records) == sorted(f"evt-{i}".encode() for i in range(50))
    by_key = {r.key: r for r in records}
    assert by_key[b"evt-7"].value == b'{"n": 7}'
    assert by_key[b"evt-7"].headers == [("schema", b"openai.audit.v1")]
    # The same key always lands in the same partition; order within a partition is the send order.
    for partition in {r.partition for r in records}:
        numbers = [int(r.key.split(b"-")[1]) for r in records if r.partition == partition]
        assert numbers == sorted(numbers)


def test_read_committed_hides_open_and_aborted_transactions(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.unique_topic("txn")
    producer = _producer(kafka_broker.bootstrap, transactional_id=f"{topic}-producer")
    try:
        producer.init_transactions()

        producer.begin_transaction()
        for i in range(3):
            producer.send(topic, key=b"k", value=f"aborted-{i}".encode())
        producer.flush(timeout=30)
        producer.abort_transaction()

        producer.begin_transaction()
        for i in range(3):
            producer.send(topic, key=b"k", value=f"committed-{i}".encode())
        producer.commit_transaction()

        # An open transaction is invisible to read_committed until its commit.
        producer.begin_transaction()
        producer.send(topic, key=b"k", value=b"late")
        producer.flush(timeout=30)
        assert [r.value for r in _read_all(kafka_broker.bootstrap, topic, "read_committed")] == [
            b"committed-0",
            b"committed-1",
            b"committed-2",
        ]
        producer.commit_transaction()
    finally:
        producer.close(timeout=10)

    committed = [r.value for r in _read_all(kafka_broker.bootstrap, topic, "read_committed")]
    assert committed == [b"committed-0", b"committed-1", b"committed-2", b"late"]
    # The aborted records were written (read_uncommitted sees them): the broker hides them, not the producer.
    uncommitted = [r.value for r in _read_all(kafka_broker.bootstrap, topic, "read_uncommitted")]
    assert uncommitted[:3] == [b"aborted-0", b"aborted-1", b"aborted-2"]
    assert uncommitted[3:] == committed


def test_consumer_group_with_short_session_timeout(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.unique_topic("group")
    producer = _producer(kafka_broker.bootstrap)
    try:
        for i in range(5):
            producer.send(topic, value=f"m{i}".encode())
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)

    group = f"{topic}-group"
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka_broker.bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        isolation_level="read_committed",
    )
    try:
        values: list[bytes] = []
        deadline = time.monotonic() + 20
        while len(values) < 5:
            assert time.monotonic() < deadline, f"group consumer got only {values}"
            for batch in consumer.poll(timeout_ms=500).values():
                values.extend(r.value for r in batch)
        consumer.commit()
        assert values == [b"m0", b"m1", b"m2", b"m3", b"m4"]
        assert consumer.committed(TopicPartition(topic, 0)) == 5
    finally:
        consumer.close()


def test_restart_keeps_topic_data(kafka_broker: KafkaBroker) -> None:
    if not kafka_broker.restartable:
        pytest.skip("broker restart needs the local broker")
    topic = kafka_broker.unique_topic("restart")
    checkpoints = kafka_broker.unique_topic("checkpoints", compacted=True)
    producer = _producer(kafka_broker.bootstrap)
    try:
        for i in range(10):
            producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
        producer.send(checkpoints, key=b"stream", value=b"cursor-1")
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)

    kafka_broker.stop()
    host, port = kafka_broker.bootstrap.rsplit(":", 1)
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=1):
        pass
    kafka_broker.start()

    assert [r.value for r in _read_all(kafka_broker.bootstrap, topic)] == [
        f"v{i}".encode() for i in range(10)
    ]
    assert [r.value for r in _read_all(kafka_broker.bootstrap, checkpoints)] == [b"cursor-1"]
    # Producing (and transactions) work after the restart too.
    producer = _producer(kafka_broker.bootstrap, transactional_id=f"{topic}-after-restart")
    try:
        producer.init_transactions()
        producer.begin_transaction()
        producer.send(topic, key=b"k10", value=b"v10")
        producer.commit_transaction()
    finally:
        producer.close(timeout=10)
    assert _read_all(kafka_broker.bootstrap, topic, "read_committed")[-1].value == b"v10"
