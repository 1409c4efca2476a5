"""Checkpoints in a compacted Kafka topic, keyed ``<namespace>/<stream>``, read back ``read_committed``.

In the exactly-once mode the checkpoint records are written by the transactional
delivery, in the same transaction as the events; ``save`` here is for the
at-least-once mode (publish, then save) and for operator resets.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from connector.config import CheckpointSettings, SinkSettings
from connector.errors import CheckpointError, CheckpointUnavailable, ConnectorError
from connector.models import Checkpoint
from connector.sinks.kafka_common import TopicChecker, classify, connection_config, producer_config

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 30.0


def checkpoint_key(namespace: str, stream: str) -> bytes:
    return f"{namespace}/{stream}".encode()


class KafkaCheckpointStore:
    """Reads the latest committed checkpoint of a stream; writes new ones idempotently."""

    def __init__(self, sink: SinkSettings, settings: CheckpointSettings) -> None:
        self._sink = sink
        self.topic = settings.topic
        self._namespace = settings.namespace
        self._topics = TopicChecker(sink)
        self._producer: Any = None

    def key(self, stream: str) -> bytes:
        return checkpoint_key(self._namespace, stream)

    def load(self, stream: str) -> Checkpoint | None:
        value = self._read_latest(self.key(stream))
        if value is None:
            return None
        try:
            checkpoint = Checkpoint.from_json(value)
        except CheckpointError as exc:
            raise CheckpointError(
                f"{exc} (Kafka topic {self.topic}, key {self.key(stream).decode()}); write a new one with "
                "'connector state reset --to <time>'"
            ) from exc
        if checkpoint.stream != stream:
            raise CheckpointError(
                f"checkpoint key {self.key(stream).decode()} holds stream {checkpoint.stream}"
            )
        return checkpoint

    def save(self, checkpoint: Checkpoint) -> None:
        self._write(self.key(checkpoint.stream), checkpoint.to_json())

    def delete(self, stream: str) -> None:
        self._write(self.key(stream), None)  # a tombstone: compaction removes the key

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None

    def _write(self, key: bytes, value: bytes | None) -> None:
        try:
            self._topics.ensure([self.topic], compacted=True)
            if self._producer is None:
                from kafka import KafkaProducer

                self._producer = KafkaProducer(**producer_config(self._sink, compression_type=None))
            self._producer.send(self.topic, key=key, value=value).get(timeout=self._sink.delivery_timeout)
        except ConnectorError as exc:
            raise CheckpointUnavailable(
                f"cannot write the checkpoint to Kafka topic {self.topic}: {exc}"
            ) from exc
        except Exception as exc:
            if self._producer is not None:
                self._producer.close(timeout=1)
                self._producer = None
            raise CheckpointUnavailable(
                f"cannot write the checkpoint to Kafka topic {self.topic}: {classify(exc, 'writing')}"
            ) from exc

    def _read_latest(self, key: bytes) -> bytes | None:
        """Scan the topic to its last stable offset and keep the newest value for ``key``."""
        from kafka import KafkaConsumer, TopicPartition

        try:
            self._topics.ensure([self.topic], compacted=True)
            consumer = KafkaConsumer(
                **connection_config(self._sink),
                group_id=None,
                enable_auto_commit=False,
                isolation_level="read_committed",
                auto_offset_reset="earliest",
                consumer_timeout_ms=1000,
            )
        except ConnectorError:
            raise
        except Exception as exc:
            raise classify(exc, f"reading checkpoints from {self.topic}") from exc
        try:
            partitions = [
                TopicPartition(self.topic, p) for p in consumer.partitions_for_topic(self.topic) or ()
            ]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            end = consumer.end_offsets(partitions)  # with read_committed: the last stable offset
            latest: bytes | None = None
            deadline = time.monotonic() + READ_TIMEOUT_S
            while any(consumer.position(tp) < end[tp] for tp in partitions):
                if time.monotonic() > deadline:
                    raise CheckpointUnavailable(
                        f"timed out reading checkpoints from Kafka topic {self.topic}"
                    )
                for records in consumer.poll(timeout_ms=500).values():
                    for record in records:
                        if record.key == key:
                            latest = record.value
            return latest
        except ConnectorError:
            raise
        except Exception as exc:
            raise classify(exc, f"reading checkpoints from {self.topic}") from exc
        finally:
            consumer.close()
