"""Sinks: where normalized events go. One small protocol, one backend per module."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from connector.config import SinkSettings
from connector.metrics import Metrics
from connector.models import OutputRecord, Rejection


class Sink(Protocol):
    """Durably accepts batches of serialized events."""

    name: str

    def publish(self, records: Sequence[OutputRecord]) -> list[Rejection]:
        """Deliver every record; on return they are durable, except the rejected ones returned.

        Raises ``SinkUnavailable`` when the batch may succeed later (nothing may be
        committed), ``SinkError`` when it never will.
        """
        ...

    def close(self) -> None:
        """Flush and release the sink."""
        ...


def make_sink(
    settings: SinkSettings,
    *,
    output_format: str,
    org_id: str | None,
    metrics: Metrics,
    stop: threading.Event,
) -> Sink:
    """Build the sink named by ``settings.type``."""
    if settings.type == "file":
        from connector.sinks.file import FileSink

        return FileSink(settings.path, fsync=settings.fsync)
    if settings.type == "stdout":
        from connector.sinks.stdout import StdoutSink

        return StdoutSink()
    if settings.type == "kafka":
        from connector.sinks.kafka import KafkaSink

        return KafkaSink(settings, output_format=output_format, org_id=org_id)
    if settings.type == "splunk_hec":
        from connector.sinks.splunk_hec import SplunkHecSink

        return SplunkHecSink(settings, output_format=output_format, org_id=org_id, metrics=metrics, stop=stop)
    raise ValueError(f"unknown sink type {settings.type!r}")
