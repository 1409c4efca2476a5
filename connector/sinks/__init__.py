"""Sinks: where normalized events go. One small protocol, one backend per module."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from connector.config import SinkSettings
from connector.models import OutputRecord


class Sink(Protocol):
    """Durably accepts batches of serialized events."""

    name: str

    def publish(self, records: Sequence[OutputRecord]) -> None:
        """Deliver every record; on return they are durable. Raise ``SinkUnavailable`` otherwise."""
        ...

    def close(self) -> None:
        """Flush and release the sink."""
        ...


def make_sink(settings: SinkSettings) -> Sink:
    """Build the sink named by ``settings.type``."""
    if settings.type == "file":
        from connector.sinks.file import FileSink

        return FileSink(settings.path, fsync=settings.fsync)
    if settings.type == "stdout":
        from connector.sinks.stdout import StdoutSink

        return StdoutSink()
    raise ValueError(f"unknown sink type {settings.type!r}")
