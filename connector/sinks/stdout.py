"""Stdout sink: NDJSON on standard output, for piping into another collector."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import BinaryIO

from connector.errors import SinkUnavailable
from connector.models import OutputRecord, Rejection


class StdoutSink:
    """Writes one event per line to stdout and flushes after each batch."""

    name = "stdout"

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._out = stream if stream is not None else sys.stdout.buffer

    def publish(self, records: Sequence[OutputRecord]) -> list[Rejection]:
        try:
            self._out.write(b"".join(record.value + b"\n" for record in records))
            self._out.flush()
        except (OSError, ValueError) as exc:
            raise SinkUnavailable(f"cannot write to stdout: {exc}") from exc
        return []

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._out.flush()
