"""Assembles the parts named by the settings into a runnable connector, and takes them apart."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from connector import __version__
from connector.checkpoint import CheckpointStore
from connector.checkpoint.delivered import DeliveredIndex
from connector.checkpoint.lock import WriterLock
from connector.checkpoint.sqlite import SqliteCheckpointStore
from connector.config import Settings
from connector.deadletter import DeadLetter
from connector.deadletter.file import DeadLetterFile
from connector.delivery import Delivery, PublishThenCommit
from connector.drift import SchemaDrift
from connector.errors import ConfigError
from connector.metrics import Metrics
from connector.normalize import make_normalizer, native
from connector.pipeline import Pipeline
from connector.runner import Runner, build_streams
from connector.server import Health, MetricsServer
from connector.sinks import make_sink
from connector.source.client import AuditLogClient

log = logging.getLogger(__name__)


@dataclass
class App:
    """Every long-lived part of one connector process."""

    settings: Settings
    metrics: Metrics
    stop: threading.Event
    client: AuditLogClient
    store: CheckpointStore
    delivery: Delivery
    dead_letter: DeadLetter
    index: DeliveredIndex
    pipeline: Pipeline
    runner: Runner
    health: Health
    lock: WriterLock | None = None
    server: MetricsServer | None = None

    def close(self) -> None:
        """Stop the metrics server, flush the sink, close the store and the HTTP client."""
        if self.server is not None:
            self.server.stop()
        closers = (
            self.pipeline.close,
            self.delivery.close,
            self.dead_letter.close,
            self.store.close,
            self.client.close,
        )
        for close in closers:
            try:
                close()
            except Exception:  # closing must try every part
                log.exception("error while closing")


def require_admin_key(settings: Settings) -> None:
    if settings.openai.admin_key is None or not settings.openai.admin_key.get_secret_value():
        raise ConfigError("CONNECTOR_OPENAI__ADMIN_KEY: required (an OpenAI Admin API key, sk-admin-…)")


def acquire_writer_lock(settings: Settings) -> WriterLock | None:
    """The single-writer lock of a SQLite checkpoint (Kafka checkpoints are fenced by transactions)."""
    if settings.checkpoint.backend != "sqlite":
        return None
    return WriterLock(settings.checkpoint.path).acquire()


def make_store(settings: Settings) -> CheckpointStore:
    """The checkpoint store named by ``CONNECTOR_CHECKPOINT__BACKEND``."""
    if settings.checkpoint.backend == "kafka":
        from connector.checkpoint.kafka import KafkaCheckpointStore

        return KafkaCheckpointStore(settings.sink, settings.checkpoint)
    return SqliteCheckpointStore(settings.checkpoint.path)


def make_dead_letter(settings: Settings) -> DeadLetter:
    """The dead-letter destination named by ``CONNECTOR_DEAD_LETTER__TYPE``."""
    if settings.dead_letter.type == "kafka":
        from connector.deadletter.kafka import DeadLetterTopic

        return DeadLetterTopic(settings.sink, settings.dead_letter.topic)
    return DeadLetterFile(settings.dead_letter.path)


def make_delivery(
    settings: Settings, store: CheckpointStore, *, metrics: Metrics, stop: threading.Event
) -> Delivery:
    """Kafka transactions when both sink and checkpoints live in Kafka; publish-then-commit otherwise."""
    if settings.checkpoint.backend == "kafka" and settings.sink.transactions:
        from connector.sinks.kafka_txn import KafkaTransactionalDelivery

        return KafkaTransactionalDelivery(
            settings.sink,
            settings.checkpoint,
            output_format=settings.output.format,
            org_id=settings.openai.organization_id,
        )
    sink = make_sink(
        settings.sink,
        output_format=settings.output.format,
        org_id=settings.openai.organization_id,
        metrics=metrics,
        stop=stop,
    )
    return PublishThenCommit(sink, store)


def build_app(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    metrics: Metrics | None = None,
    serve_metrics: bool = True,
) -> App:
    """Wire the source, normalizer, sink, checkpoint store, pipeline and runner."""
    require_admin_key(settings)
    lock = acquire_writer_lock(settings)
    stop = stop or threading.Event()
    metrics = metrics or Metrics.default()
    health = Health(poll_interval=settings.poll.interval, ready_intervals=settings.metrics.ready_intervals)
    normalizer = make_normalizer(settings.output.format, org_id=settings.openai.organization_id)
    log.info("connector %s, %s normalizer %s", __version__, normalizer.format, native.summary())
    store = make_store(settings)
    client = AuditLogClient(settings.openai, metrics=metrics, stop=stop)
    delivery = make_delivery(settings, store, metrics=metrics, stop=stop)
    dead_letter = make_dead_letter(settings)
    index = DeliveredIndex(
        settings.reconcile.index_path,
        keep_seconds=int(settings.reconcile.window + settings.poll.overlap + 3600),
    )
    pipeline = Pipeline(
        client=client,
        normalizer=normalizer,
        delivery=delivery,
        store=store,
        dead_letter=dead_letter,
        poll=settings.poll,
        metrics=metrics,
        stop=stop,
        health=health,
        drift=SchemaDrift(settings.drift.path, metrics),
        workers=settings.backfill.workers,
        index=index,
        normalize_processes=settings.output.processes if settings.output.format != "raw" else 0,
        json_logs=settings.log.format == "json",
    )
    runner = Runner(
        settings,
        client=client,
        pipeline=pipeline,
        metrics=metrics,
        stop=stop,
        streams=build_streams(settings),
        health=health,
    )
    app = App(
        settings, metrics, stop, client, store, delivery, dead_letter, index, pipeline, runner, health, lock
    )
    if serve_metrics and settings.metrics.enabled:
        app.server = MetricsServer(
            host=settings.metrics.host, port=settings.metrics.port, metrics=metrics, health=health
        )
        app.server.start()
    return app
