"""Exactly-once into Kafka: each batch and its checkpoint record in one transaction.

The KIP-618 pattern by hand (sinks.md §2.6). Each stream has a stable
``transactional.id`` (``<namespace>-<stream>``): ``prepare`` calls
``init_transactions`` before the checkpoint is read, which fences any older
instance and settles its open transaction, so what is read is final. A
``read_committed`` consumer then sees every event exactly once: a batch and the
checkpoint that covers it become visible together, or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from connector.checkpoint.kafka import checkpoint_key
from connector.config import CheckpointSettings, SinkSettings
from connector.delivery import RejectionHandler
from connector.errors import SinkError, SinkUnavailable
from connector.models import Checkpoint, OutputRecord
from connector.sinks.kafka import split_oversized
from connector.sinks.kafka_common import (
    HeaderBuilder,
    TopicChecker,
    TopicRouter,
    classify,
    producer_config,
)
from connector.sinks.kafka_send import RecordSender

log = logging.getLogger(__name__)


class KafkaTransactionalDelivery:
    """One transactional producer per stream; events and checkpoint commit atomically."""

    sink_name = "kafka"

    def __init__(
        self, sink: SinkSettings, checkpoint: CheckpointSettings, *, output_format: str, org_id: str | None
    ) -> None:
        self._settings = sink
        self._checkpoint_topic = checkpoint.topic
        self._namespace = checkpoint.namespace
        self._router = TopicRouter(sink)
        self._headers = HeaderBuilder(output_format=output_format, org_id=org_id)
        self._topics = TopicChecker(sink)
        self._producers: dict[str, Any] = {}
        self._senders: dict[str, RecordSender] = {}
        self._timeout = sink.delivery_timeout

    def transactional_id(self, stream: str) -> str:
        return f"{self._namespace}-{stream}"

    def prepare(self, stream: str) -> None:
        if stream in self._producers:
            return
        from kafka import KafkaProducer

        self._topics.ensure([self._checkpoint_topic], compacted=True)
        try:
            producer = KafkaProducer(
                **producer_config(self._settings, transactional_id=self.transactional_id(stream))
            )
        except Exception as exc:
            raise classify(exc, "connecting to Kafka") from exc
        stale_epoch_is_fatal(producer)
        try:
            producer.init_transactions()
        except Exception as exc:
            producer.close(timeout=1)
            raise classify(exc, f"initializing transactions for {self.transactional_id(stream)}") from exc
        self._producers[stream] = producer
        self._senders[stream] = RecordSender(producer)
        log.info("stream %s: transactional id %s initialized", stream, self.transactional_id(stream))

    def deliver(
        self, records: Sequence[OutputRecord], checkpoint: Checkpoint, *, rejected: RejectionHandler
    ) -> None:
        self.prepare(checkpoint.stream)
        producer = self._producers[checkpoint.stream]
        plan, refused = split_oversized(records, self._router, self._headers, self._settings.max_record_bytes)
        if refused:
            rejected(refused)
        self._topics.ensure({topic for topic, _, _ in plan})
        try:
            producer.begin_transaction()
            futures = self._senders[checkpoint.stream].send(plan)
            futures.append(
                producer.send(
                    self._checkpoint_topic,
                    key=checkpoint_key(self._namespace, checkpoint.stream),
                    value=checkpoint.to_json(),
                )
            )
            producer.flush(timeout=self._timeout)
            failed = [f.exception for f in futures if not f.is_done or f.failed()]
            if failed:
                first = next((e for e in failed if e is not None), None)
                # Fenced (or not authorized) shows in the futures when the broker's answer comes
                # after the records were handed over: as fatal as when send() raises it, or the
                # two instances would take the stream from each other over and over.
                doing = f"committing a transaction of stream {checkpoint.stream}"
                if first is not None and isinstance(fatal := classify(first, doing), SinkError):
                    raise fatal from first
                raise SinkUnavailable(
                    f"Kafka did not acknowledge {len(failed)} of {len(futures)} records "
                    f"({repr(first) if first else 'no answer before the timeout'})"
                )
            _finish(producer, commit=True, timeout=self._timeout)
        except Exception as exc:
            error = classify(exc, f"committing a transaction of stream {checkpoint.stream}")
            if isinstance(error, SinkError):
                self._drop(checkpoint.stream)
                if error is exc:
                    raise
                raise error from exc
            self._abort(checkpoint.stream)
            raise SinkUnavailable(f"{error}; the transaction was aborted and will be retried") from exc

    def _abort(self, stream: str) -> None:
        producer = self._producers.get(stream)
        if producer is None:
            return
        try:
            _finish(producer, commit=False, timeout=self._timeout)
        except Exception:
            # The producer's state is unknown: a fresh one re-runs init_transactions,
            # which aborts whatever this one left open.
            log.warning("aborting the Kafka transaction of stream %s failed; reinitializing", stream)
            self._drop(stream)

    def _drop(self, stream: str) -> None:
        producer = self._producers.pop(stream, None)
        self._senders.pop(stream, None)
        if producer is not None:
            try:
                producer.close(timeout=1)
            except Exception:
                log.debug("closing a failed transactional producer failed", exc_info=True)

    def close(self) -> None:
        for stream in list(self._producers):
            self._drop(stream)


def stale_epoch_is_fatal(producer: Any) -> None:
    """Make a produce ``InvalidProducerEpochError`` fatal, as Java's transactional producer does.

    kafka-python 3.0 answers it with a KIP-360 epoch bump. For a transactional producer it means
    a newer instance ran ``init_transactions``. The broker can take the bump for a retry of that
    init and hand this instance a live epoch; its batch then times out, is aborted, and the
    re-init that follows fences the newer instance: two instances would take the stream from each
    other over and over instead of the older one stopping.
    """
    manager = getattr(producer, "_transaction_manager", None)
    if manager is None:
        return
    from kafka.errors import InvalidProducerEpochError

    classify_batch_error = manager.classify_batch_error

    def classify_stale_epoch_as_fatal(error: Any, batch: Any, log_start_offset: int = -1) -> Any:
        error_type = error if isinstance(error, type) else type(error)
        if issubclass(error_type, InvalidProducerEpochError):
            return manager.ERROR_CLASS_FATAL
        return classify_batch_error(error, batch, log_start_offset=log_start_offset)

    manager.classify_batch_error = classify_stale_epoch_as_fatal


def _finish(producer: Any, *, commit: bool, timeout: float) -> None:
    """Commit or abort with a deadline: kafka-python's own calls wait forever on a dead broker."""
    manager = getattr(producer, "_transaction_manager", None)
    sender = getattr(producer, "_sender", None)
    if manager is None or sender is None:  # a kafka-python without these internals
        (producer.commit_transaction if commit else producer.abort_transaction)()
        return
    result = manager.begin_commit() if commit else manager.begin_abort()
    sender.wakeup()
    if not result.wait(timeout_ms=int(timeout * 1000)):  # raises the broker's error, if any
        raise SinkUnavailable(
            f"the Kafka transaction did not {'commit' if commit else 'abort'} in {timeout:.0f}s"
        )
