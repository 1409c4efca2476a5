"""Assembles the parts named by the settings into a runnable connector, and takes them apart."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from connector.checkpoint.sqlite import SqliteCheckpointStore
from connector.config import Settings
from connector.deadletter import DeadLetterFile
from connector.errors import ConfigError
from connector.metrics import Metrics
from connector.normalize import make_normalizer
from connector.pipeline import Pipeline
from connector.runner import Runner, build_streams
from connector.server import Health, MetricsServer
from connector.sinks import Sink, make_sink
from connector.source.client import AuditLogClient

log = logging.getLogger(__name__)


@dataclass
class App:
    """Every long-lived part of one connector process."""

    settings: Settings
    metrics: Metrics
    stop: threading.Event
    client: AuditLogClient
    store: SqliteCheckpointStore
    sink: Sink
    pipeline: Pipeline
    runner: Runner
    health: Health
    server: MetricsServer | None = None

    def close(self) -> None:
        """Stop the metrics server, flush the sink, close the store and the HTTP client."""
        if self.server is not None:
            self.server.stop()
        for close in (self.sink.close, self.store.close, self.client.close):
            try:
                close()
            except Exception:  # closing must try every part
                log.exception("error while closing")


def require_admin_key(settings: Settings) -> None:
    if settings.openai.admin_key is None or not settings.openai.admin_key.get_secret_value():
        raise ConfigError("CONNECTOR_OPENAI__ADMIN_KEY: required (an OpenAI Admin API key, sk-admin-…)")


def build_app(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    metrics: Metrics | None = None,
    serve_metrics: bool = True,
) -> App:
    """Wire the source, normalizer, sink, checkpoint store, pipeline and runner."""
    require_admin_key(settings)
    stop = stop or threading.Event()
    metrics = metrics or Metrics.default()
    health = Health(poll_interval=settings.poll.interval)
    normalizer = make_normalizer(settings.output.format, org_id=settings.openai.organization_id)
    store = SqliteCheckpointStore(settings.checkpoint.path)
    client = AuditLogClient(settings.openai, metrics=metrics, stop=stop)
    sink = make_sink(settings.sink)
    pipeline = Pipeline(
        client=client,
        normalizer=normalizer,
        sink=sink,
        store=store,
        dead_letter=DeadLetterFile(settings.dead_letter.path),
        poll=settings.poll,
        metrics=metrics,
        stop=stop,
        health=health,
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
    app = App(settings, metrics, stop, client, store, sink, pipeline, runner, health)
    if serve_metrics and settings.metrics.enabled:
        app.server = MetricsServer(
            host=settings.metrics.host, port=settings.metrics.port, metrics=metrics, health=health
        )
        app.server.start()
    return app
