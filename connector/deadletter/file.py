"""Dead-letter file: NDJSON, appended and fsynced before the checkpoint moves."""

from __future__ import annotations

import os
from pathlib import Path

from connector.deadletter import Entry, encode
from connector.errors import SinkUnavailable


class DeadLetterFile:
    """Appends one entry per line to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, entries: list[Entry]) -> None:
        if not entries:
            return
        lines = b"".join(line + b"\n" for line in encode(entries))
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

    def close(self) -> None:
        pass
