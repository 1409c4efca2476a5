"""Dead-letter file: events that cannot be normalized are kept here whole, never dropped."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from connector.errors import SinkUnavailable
from connector.serialize import dumps


class DeadLetterFile:
    """Appends ``{"reason", "error", "time", "stream", "event"}`` lines and fsyncs them."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, entries: list[tuple[str, str, str, Any]]) -> None:
        """Store ``(stream, reason, error, event)`` entries durably before the checkpoint moves."""
        if not entries:
            return
        now = time.time()
        lines = b"".join(
            dumps({"time": now, "stream": stream, "reason": reason, "error": error, "event": event}) + b"\n"
            for stream, reason, error, event in entries
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, lines)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise SinkUnavailable(f"cannot write dead-letter file {self.path}: {exc}") from exc
