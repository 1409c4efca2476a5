"""Dead-letter Kafka topic: entries keyed by event id, every send checked before the checkpoint moves."""

from __future__ import annotations

from typing import Any

from connector.config import SinkSettings
from connector.deadletter import Entry, encode
from connector.errors import SinkUnavailable
from connector.sinks.kafka_common import TopicChecker, classify, producer_config


class DeadLetterTopic:
    """Produces entries to a topic on the sink's Kafka cluster."""

    def __init__(self, sink: SinkSettings, topic: str) -> None:
        self._settings = sink
        self.topic = topic
        self._topics = TopicChecker(sink)
        self._producer: Any = None

    def write(self, entries: list[Entry]) -> None:
        if not entries:
            return
        self._topics.ensure([self.topic])
        try:
            if self._producer is None:
                from kafka import KafkaProducer

                self._producer = KafkaProducer(**producer_config(self._settings))
            futures = [
                self._producer.send(self.topic, key=_key(entry), value=value)
                for entry, value in zip(entries, encode(entries), strict=True)
            ]
            self._producer.flush(timeout=self._settings.delivery_timeout)
        except Exception as exc:
            self.close()
            raise classify(exc, f"writing dead letters to {self.topic}") from exc
        if any(not f.is_done or f.failed() for f in futures):
            self.close()
            raise SinkUnavailable(
                f"Kafka did not acknowledge dead letters on {self.topic}; nothing was committed"
            )

    def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=5)


def _key(entry: Entry) -> bytes | None:
    event = entry[3]
    event_id = event.get("id") if isinstance(event, dict) else None
    return event_id.encode() if isinstance(event_id, str) else None
