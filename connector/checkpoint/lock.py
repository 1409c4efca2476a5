"""One writer per checkpoint: an exclusive ``flock`` on ``<checkpoint>.lock``, held while the process runs.

Two connectors pointed at the same SQLite checkpoint would deliver every event
twice and overwrite each other's progress. The kernel releases the lock when the
holder exits, even on SIGKILL, so a crash never leaves a stale lock behind.
(With the Kafka checkpoint backend the transactional id fences a second writer.)
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from connector.errors import CheckpointError


class WriterLock:
    """Held from ``acquire`` until ``release`` or process exit."""

    def __init__(self, checkpoint_path: Path) -> None:
        self.path = checkpoint_path.with_name(checkpoint_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> WriterLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        except OSError as exc:
            raise CheckpointError(
                f"cannot create the checkpoint lock {self.path} ({exc.strerror}): is the directory "
                f"{self.path.parent} read-only? The checkpoint itself is untouched"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            checkpoint = self.path.with_suffix("")
            raise CheckpointError(
                f"another connector (pid {holder}) is already using the checkpoint {checkpoint}; "
                "only one may run per checkpoint: stop it first, or give this one its own "
                "CONNECTOR_CHECKPOINT__PATH"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None
