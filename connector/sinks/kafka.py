"""Kafka sink (kafka-python), at-least-once: acks=all, idempotence, every send future checked.

``flush()`` does not raise for failed records (sinks.md §2.3), so ``publish``
inspects every future before it returns; only then may the checkpoint move. A
failed batch closes the producer (no resend inside a session whose outcome is
unknown) and raises ``SinkUnavailable``: nothing is committed and the batch is
read and sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from connector.config import SinkSettings
from connector.errors import SinkUnavailable
from connector.models import OutputRecord, Rejection
from connector.sinks.kafka_common import (
    HeaderBuilder,
    TopicChecker,
    TopicRouter,
    classify,
    producer_config,
    record_size,
)
from connector.sinks.kafka_send import Plan, RecordSender

log = logging.getLogger(__name__)


class KafkaSink:
    """Publishes each record to its topic, keyed by the audit-log id."""

    name = "kafka"

    def __init__(self, settings: SinkSettings, *, output_format: str, org_id: str | None) -> None:
        self._settings = settings
        self._router = TopicRouter(settings)
        self._headers = HeaderBuilder(output_format=output_format, org_id=org_id)
        self._topics = TopicChecker(settings)
        self._producer: Any = None
        self._sender: RecordSender | None = None

    def _ensure_producer(self) -> RecordSender:
        if self._producer is None or self._sender is None:
            from kafka import KafkaProducer

            try:
                self._producer = KafkaProducer(**producer_config(self._settings))
            except Exception as exc:
                raise classify(exc, "connecting to Kafka") from exc
            self._sender = RecordSender(self._producer)
        return self._sender

    def publish(self, records: Sequence[OutputRecord]) -> list[Rejection]:
        plan, rejected = split_oversized(
            records, self._router, self._headers, self._settings.max_record_bytes
        )
        if not plan:
            return rejected
        self._topics.ensure({topic for topic, _, _ in plan})
        sender = self._ensure_producer()
        try:
            futures = sender.send(plan)
            self._producer.flush(timeout=self._settings.delivery_timeout)
        except Exception as exc:
            self._reset()
            raise classify(exc, "sending to Kafka") from exc
        failures = [f.exception for f in futures if not f.is_done or f.failed()]
        if failures:
            self._reset()
            first = next((repr(e) for e in failures if e is not None), "no answer before the timeout")
            raise SinkUnavailable(
                f"Kafka did not acknowledge {len(failures)} of {len(futures)} records ({first}); "
                "nothing was committed, the batch will be resent"
            )
        return rejected

    def _reset(self) -> None:
        producer, self._producer, self._sender = self._producer, None, None
        if producer is not None:
            try:
                producer.close(timeout=5)
            except Exception:  # a broken producer may fail to close; it is dropped either way
                log.debug("closing the Kafka producer failed", exc_info=True)

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.flush(timeout=self._settings.delivery_timeout)
            finally:
                self._reset()


def split_oversized(
    records: Sequence[OutputRecord], router: TopicRouter, header_builder: HeaderBuilder, limit: int
) -> tuple[Plan, list[Rejection]]:
    """Route each record, setting aside those larger than ``limit`` bytes for the dead-letter file."""
    plan: Plan = []
    rejected: list[Rejection] = []
    for record in records:
        headers = header_builder.header_set(record)
        size = record_size(record, headers)
        if size > limit:
            rejected.append(
                Rejection(
                    record, "too_large", f"{size} bytes exceeds CONNECTOR_SINK__MAX_RECORD_BYTES={limit}"
                )
            )
        else:
            plan.append((router.topic(record), record, headers))
    return plan, rejected
