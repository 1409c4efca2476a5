"""The Kafka sink and the transactional delivery against a real broker, on both send paths.

The direct path writes records straight into kafka-python's producer batches; what reaches the
broker must be exactly what ``KafkaProducer.send()`` would have put there: the same keys, values,
headers, partitions and order within a partition. Failures must still surface through the
record futures, and batches must fit a topic's ``max.message.bytes``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
from kafka.partitioner.default import murmur2 as kafka_murmur2

from connector.config import CheckpointSettings, SinkSettings
from connector.errors import SinkError, SinkUnavailable
from connector.models import Checkpoint, OutputRecord
from connector.sinks import kafka_send
from connector.sinks.kafka import KafkaSink
from connector.sinks.kafka_common import HeaderBuilder, classify
from connector.sinks.kafka_txn import KafkaTransactionalDelivery, stale_epoch_is_fatal
from tests.e2e.harness import consume_all
from tests.kafka_broker import KafkaBroker, unique_topic

pytestmark = pytest.mark.slow

EVENT_TYPES = ["api_key.created", "login.failed", "project.updated", "user.deleted", "ünïcode.type"]


def records(count: int, seed: int) -> list[OutputRecord]:
    """Audit-log-like records: mostly ~1.5 KB, some tiny, some larger than a small batch."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        size = rng.choice([0, 40, 1500, 1500, 1500, 3000, 40_000 if n % 97 == 0 else 900])
        key = f"audit_log-{rng.getrandbits(64):016x}" if n % 13 else f"id-{n}"  # keys of two lengths
        value = bytes(rng.getrandbits(8) for _ in range(min(size, 64))) * (size // 64 + 1)
        out.append(OutputRecord(key, value[:size], EVENT_TYPES[n % len(EVENT_TYPES)], n, 3004))
    return out


def sink_settings(bootstrap: str, topic: str, **extra: Any) -> SinkSettings:
    return SinkSettings(type="kafka", bootstrap_servers=[bootstrap], topic=topic, **extra)


@pytest.fixture
def send_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "send":
        monkeypatch.setattr(kafka_send._DirectAppender, "SUPPORTED", ("not-this-version",))
    yield request.param


def published(sink: KafkaSink, batch: list[OutputRecord]) -> None:
    assert sink.publish(batch) == []
    assert sink._sender is not None


def check_topic(bootstrap: str, topic: str, sent: list[OutputRecord], partitions: int) -> None:
    """Each record once, in its key's partition (kafka-python's partitioner), in order, headers intact."""
    got = consume_all(bootstrap, topic)
    assert sorted(r.key.decode() for r in got) == sorted(r.key for r in sent)
    headers = HeaderBuilder(output_format="ocsf", org_id="org-1")
    by_key = {r.key.decode(): r for r in got}
    for record in sent:
        found = by_key[record.key]
        assert found.value == record.value
        assert found.headers == headers.headers(record)
        assert found.partition == (kafka_murmur2(record.key.encode()) & 0x7FFFFFFF) % partitions
    for partition in range(partitions):
        expected = [r.key for r in sent if by_key[r.key].partition == partition]
        assert [r.key.decode() for r in got if r.partition == partition] == expected


@pytest.mark.parametrize("send_path", ["direct", "send"], indirect=True)
def test_the_sink_writes_what_kafka_python_would(kafka_broker: KafkaBroker, send_path: str) -> None:
    topic = kafka_broker.unique_topic("sink", partitions=3)
    # small batches: many per publish, and records larger than a batch travel alone
    sink = KafkaSink(
        sink_settings(kafka_broker.bootstrap, topic, producer_batch_bytes=16384),
        output_format="ocsf",
        org_id="org-1",
    )
    sent = records(3000, seed=1)
    try:
        for start in range(0, len(sent), 1000):
            published(sink, sent[start : start + 1000])
            assert sink._sender is not None and sink._sender.direct is (send_path == "direct")
    finally:
        sink.close()
    check_topic(kafka_broker.bootstrap, topic, sent, partitions=3)


def test_routing_to_several_topics(kafka_broker: KafkaBroker) -> None:
    prefix = unique_topic("route")
    for family in ("api_key", "login"):
        kafka_broker.create_topic(f"{prefix}.{family}", partitions=2)
    sink = KafkaSink(
        sink_settings(kafka_broker.bootstrap, "unused", topic_template=prefix + ".{family}"),
        output_format="ocsf",
        org_id="org-1",
    )
    sent = [r for r in records(600, seed=2) if r.event_type.split(".")[0] in ("api_key", "login")]
    try:
        published(sink, sent)
    finally:
        sink.close()
    for family in ("api_key", "login"):
        mine = [r for r in sent if r.event_type.startswith(family + ".")]
        check_topic(kafka_broker.bootstrap, f"{prefix}.{family}", mine, partitions=2)


def test_batches_fit_a_topic_that_takes_small_messages(kafka_broker: KafkaBroker) -> None:
    """max_record_bytes caps the batch size: no batch is refused and split, even uncompressed."""
    topic = kafka_broker.create_topic(unique_topic("small"), configs={"max.message.bytes": "65536"})
    sink = KafkaSink(
        sink_settings(kafka_broker.bootstrap, topic, compression="none", max_record_bytes=65536),
        output_format="ocsf",
        org_id="org-1",
    )
    sent = [OutputRecord(f"id-{n}", os.urandom(750).hex().encode(), "a.b", n) for n in range(500)]
    try:
        published(sink, sent)
    finally:
        sink.close()
    check_topic(kafka_broker.bootstrap, topic, sent, partitions=1)


@pytest.mark.parametrize("send_path", ["direct", "send"], indirect=True)
def test_records_the_broker_refuses_are_not_acknowledged(kafka_broker: KafkaBroker, send_path: str) -> None:
    """flush() returns normally; only the record futures say the broker refused the batch."""
    topic = kafka_broker.create_topic(unique_topic("refused"), configs={"max.message.bytes": "4096"})
    sink = KafkaSink(
        # misconfigured on purpose: records up to 64 KB allowed, the topic takes 4 KB; one record a
        # batch, so that kafka-python has nothing to split
        sink_settings(
            kafka_broker.bootstrap,
            topic,
            max_record_bytes=65536,
            producer_batch_bytes=1024,
            compression="none",
        ),
        output_format="ocsf",
        org_id="org-1",
    )
    sent = [OutputRecord(f"id-{n}", os.urandom(4000).hex().encode(), "a.b", n) for n in range(3)]
    try:
        with pytest.raises(SinkUnavailable, match="did not acknowledge 3 of 3 records"):
            sink.publish(sent)
        assert sink._producer is None  # closed: the next attempt starts a new session
    finally:
        sink.close()
    assert consume_all(kafka_broker.bootstrap, topic) == []


def test_a_record_too_large_is_rejected_and_the_rest_delivered(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.unique_topic("large", partitions=3)
    sink = KafkaSink(
        sink_settings(kafka_broker.bootstrap, topic, max_record_bytes=20_000),
        output_format="ocsf",
        org_id="org-1",
    )
    sent = records(400, seed=3)
    try:
        rejected = sink.publish(sent)
    finally:
        sink.close()
    too_large = {r.key for r in sent if len(r.value) > 19_000}
    assert too_large and {r.record.key for r in rejected} == too_large
    assert {r.reason for r in rejected} == {"too_large"}
    check_topic(kafka_broker.bootstrap, topic, [r for r in sent if r.key not in too_large], partitions=3)


@pytest.mark.parametrize("send_path", ["direct", "send"], indirect=True)
def test_transactions_carry_the_events_and_the_checkpoint(kafka_broker: KafkaBroker, send_path: str) -> None:
    topic = kafka_broker.unique_topic("txn", partitions=3)
    checkpoints = kafka_broker.unique_topic("txn-checkpoints", compacted=True)
    delivery = KafkaTransactionalDelivery(
        sink_settings(kafka_broker.bootstrap, topic, producer_batch_bytes=65536),
        CheckpointSettings(backend="kafka", topic=checkpoints, namespace=unique_topic("ns")),
        output_format="ocsf",
        org_id="org-1",
    )
    sent = records(2000, seed=4)
    try:
        for n, start in enumerate(range(0, len(sent), 500)):
            delivery.deliver(
                sent[start : start + 500],
                Checkpoint(stream="default", watermark=n),
                rejected=lambda refused: pytest.fail(f"refused {refused}"),
            )
        assert delivery._senders["default"].direct is (send_path == "direct")
    finally:
        delivery.close()
    check_topic(kafka_broker.bootstrap, topic, sent, partitions=3)
    assert len(consume_all(kafka_broker.bootstrap, checkpoints)) == 4


def test_a_fenced_delivery_stops_and_the_newer_one_goes_on(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.unique_topic("zombie")
    checkpoints = kafka_broker.unique_topic("zombie-checkpoints", compacted=True)
    namespace = unique_topic("ns")

    def delivery() -> KafkaTransactionalDelivery:
        return KafkaTransactionalDelivery(
            sink_settings(kafka_broker.bootstrap, topic, delivery_timeout=10),
            CheckpointSettings(backend="kafka", topic=checkpoints, namespace=namespace),
            output_format="ocsf",
            org_id="org-1",
        )

    def deliver(target: KafkaTransactionalDelivery, batch: list[OutputRecord], watermark: int) -> None:
        target.deliver(batch, Checkpoint(stream="default", watermark=watermark), rejected=pytest.fail)

    sent = records(300, seed=5)
    first, second = delivery(), delivery()
    try:
        deliver(first, sent[:100], 1)
        second.prepare("default")
        with pytest.raises(SinkError, match="another connector instance"):
            deliver(first, sent[100:200], 2)
        deliver(second, sent[200:], 3)
    finally:
        first.close()
        second.close()
    got = sorted(r.key.decode() for r in consume_all(kafka_broker.bootstrap, topic))
    assert got == sorted(r.key for r in sent[:100] + sent[200:])


def test_a_stale_epoch_mid_transaction_is_fatal_without_an_epoch_bump(kafka_broker: KafkaBroker) -> None:
    """Fenced while its transaction is open, the older producer fails at once and never bumps its epoch.

    kafka-python's own answer to the produce ``InvalidProducerEpochError`` is a KIP-360 bump,
    which the broker may grant; the older instance would then abort, re-initialize and fence the
    newer one in turn.
    """
    from kafka import KafkaProducer

    topic = kafka_broker.unique_topic("stale-epoch")
    settings = {"bootstrap_servers": kafka_broker.bootstrap, "transactional_id": unique_topic("tid")}
    older = KafkaProducer(**settings)
    stale_epoch_is_fatal(older)
    bumps: list[object] = []
    manager = older._transaction_manager
    bump = manager.bump_producer_id_and_epoch

    def recorded_bump() -> None:
        bumps.append(manager.producer_id_and_epoch)
        bump()

    manager.bump_producer_id_and_epoch = recorded_bump
    newer = KafkaProducer(**settings)
    try:
        older.init_transactions()
        older.begin_transaction()
        older.send(topic, b"aborted by the newer instance").get(timeout=10)
        newer.init_transactions()
        late = older.send(topic, b"from the fenced instance")
        with pytest.raises(Exception) as raised:
            late.get(timeout=10)
        assert isinstance(classify(raised.value, "sending"), SinkError)
        assert bumps == []
        with pytest.raises(Exception, match=r"[Ff]enced|InvalidProducerEpoch"):
            older.commit_transaction()
        newer.begin_transaction()
        newer.send(topic, b"from the newer instance").get(timeout=10)
        newer.commit_transaction()
    finally:
        older.close(timeout=1)
        newer.close(timeout=1)
    assert [r.value for r in consume_all(kafka_broker.bootstrap, topic)] == [b"from the newer instance"]
