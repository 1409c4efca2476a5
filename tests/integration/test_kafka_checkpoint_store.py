"""The Kafka checkpoint store against a real broker: newest committed value per key wins."""

from __future__ import annotations

from typing import Any

from connector.checkpoint.kafka import KafkaCheckpointStore
from connector.config import CheckpointSettings, SinkSettings
from connector.models import Checkpoint


def store_for(broker: Any, topic: str, namespace: str = "ns") -> KafkaCheckpointStore:
    sink = SinkSettings(type="kafka", bootstrap_servers=[broker.bootstrap], topic_replication=1)
    return KafkaCheckpointStore(sink, CheckpointSettings(backend="kafka", topic=topic, namespace=namespace))


def test_save_load_and_delete_per_stream_and_namespace(kafka_broker: Any) -> None:
    topic = kafka_broker.unique_topic("cp", compacted=True)
    store = store_for(kafka_broker, topic)
    other = store_for(kafka_broker, topic, namespace="other")
    try:
        assert store.load("default") is None
        for watermark in (100, 200, 300):
            store.save(Checkpoint(stream="default", watermark=watermark, recent_ids={"a": watermark}))
        store.save(Checkpoint(stream="tenant", watermark=7))
        other.save(Checkpoint(stream="default", watermark=999))
        assert store.load("default") == Checkpoint(stream="default", watermark=300, recent_ids={"a": 300})
        assert store.load("tenant") == Checkpoint(stream="tenant", watermark=7)
        assert other.load("default") == Checkpoint(stream="default", watermark=999)
        store.delete("tenant")
        assert store.load("tenant") is None
    finally:
        store.close()
        other.close()


def test_a_checkpoint_in_an_aborted_transaction_is_never_read(kafka_broker: Any) -> None:
    from kafka import KafkaProducer

    topic = kafka_broker.unique_topic("cp", compacted=True)
    store = store_for(kafka_broker, topic)
    store.save(Checkpoint(stream="default", watermark=100))
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap, transactional_id="cp-test-abort")
    producer.init_transactions()
    producer.begin_transaction()
    producer.send(topic, key=b"ns/default", value=Checkpoint(stream="default", watermark=500).to_json())
    producer.flush()
    producer.abort_transaction()
    producer.close()
    try:
        assert store.load("default") == Checkpoint(stream="default", watermark=100)
    finally:
        store.close()


def test_a_missing_checkpoint_topic_is_a_clear_error(kafka_broker: Any) -> None:
    import pytest

    from connector.errors import SinkError

    store = store_for(kafka_broker, "no-such-checkpoint-topic")
    with pytest.raises(SinkError, match="no-such-checkpoint-topic do not exist"):
        store.load("default")
