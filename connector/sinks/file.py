"""NDJSON file sink: appends one event per line and fsyncs before the checkpoint may move."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from connector.errors import SinkUnavailable
from connector.models import OutputRecord, Rejection


class FileSink:
    """Appends to an NDJSON file; ``publish`` returns only after the data is on disk."""

    name = "file"

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = path
        self._fsync = fsync
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            self._repair_tail(self._fd)
        return self._fd

    def _repair_tail(self, fd: int) -> None:
        # A crash mid-write can leave a partial last line; end it so the next
        # record starts on its own line and readers can skip the fragment.
        size = os.fstat(fd).st_size
        if size == 0:
            return
        with open(self.path, "rb") as existing:
            existing.seek(size - 1)
            if existing.read(1) != b"\n":
                os.write(fd, b"\n")

    def publish(self, records: Sequence[OutputRecord]) -> list[Rejection]:
        if not records:
            return []
        lines = [record.value for record in records]
        lines.append(b"")  # so the last record ends with a newline too
        payload = b"\n".join(lines)
        try:
            fd = self._open()
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self._fsync:
                os.fsync(fd)
        except OSError as exc:
            # Disk full or a vanished mount: nothing is committed, the batch is retried.
            self._reset()
            raise SinkUnavailable(f"cannot write {self.path}: {exc}") from exc
        return []

    def _reset(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        self._reset()
