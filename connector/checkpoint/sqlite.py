"""The default checkpoint store: one SQLite file, one row per stream, one transaction per commit."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from connector.errors import CheckpointError, CheckpointUnavailable
from connector.models import Checkpoint

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    stream      TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,
    body        BLOB NOT NULL,
    updated_at  REAL NOT NULL
)
"""

_RECOVERY = (
    "stop the connector, move the file aside, and either restore a backup or run "
    "'connector state reset --to <time>' to resume from a known point"
)


class SqliteCheckpointStore:
    """Checkpoints in SQLite (WAL, ``synchronous=FULL``): a commit is durable when ``save`` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        existed = path.exists()
        if existed and path.stat().st_size == 0:
            # A checkpoint that was written and then lost its content: starting afresh
            # would silently re-deliver (or, past the lookback, skip) events.
            raise CheckpointError(f"checkpoint file {path} is empty; {_RECOVERY}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            has_table = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'"
            ).fetchone()
            if existed and not has_table:
                raise CheckpointError(f"checkpoint file {path} holds no checkpoints table; {_RECOVERY}")
            self._db.execute(_SCHEMA)
            self._db.execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError as exc:
            if not os.access(path.parent, os.W_OK) or "unable to open" in str(exc) or "readonly" in str(exc):
                raise CheckpointError(
                    f"cannot open the checkpoint in {path.parent} ({exc}): the directory is read-only or "
                    "not writable; the checkpoint itself is intact, make the directory writable"
                ) from exc
            raise CheckpointError(f"checkpoint file {path} is unusable ({exc}); {_RECOVERY}") from exc
        except OSError as exc:
            raise CheckpointError(f"cannot open checkpoint file {path}: {exc}") from exc

    def load(self, stream: str) -> Checkpoint | None:
        try:
            row = self._db.execute("SELECT body FROM checkpoints WHERE stream = ?", (stream,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise CheckpointError(f"cannot read checkpoint {self.path} ({exc}); {_RECOVERY}") from exc
        if row is None:
            return None
        try:
            checkpoint = Checkpoint.from_json(row[0])
        except CheckpointError as exc:
            raise CheckpointError(f"{exc} in {self.path} (stream {stream}); {_RECOVERY}") from exc
        if checkpoint.stream != stream:
            raise CheckpointError(f"checkpoint row {stream} holds stream {checkpoint.stream}; {_RECOVERY}")
        return checkpoint

    def save(self, checkpoint: Checkpoint) -> None:
        try:
            with self._transaction():
                self._db.execute(
                    "INSERT INTO checkpoints (stream, version, body, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(stream) DO UPDATE SET version = excluded.version, "
                    "body = excluded.body, updated_at = excluded.updated_at",
                    (
                        checkpoint.stream,
                        checkpoint.version,
                        checkpoint.to_json(),
                        checkpoint.updated_at,
                    ),
                )
        except sqlite3.Error as exc:
            # A full disk or a read-only directory lands here; the old row is intact.
            raise CheckpointUnavailable(f"cannot commit checkpoint to {self.path}: {exc}") from exc

    def delete(self, stream: str) -> None:
        try:
            with self._transaction():
                self._db.execute("DELETE FROM checkpoints WHERE stream = ?", (stream,))
        except sqlite3.Error as exc:
            raise CheckpointUnavailable(f"cannot delete checkpoint in {self.path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error:
                self._rollback()
                raise
        self._rollback()

    def _rollback(self) -> None:
        # A failed COMMIT (disk full) may leave the transaction open; close it so
        # the next save can start afresh once space is back.
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error as exc:
                log.warning("checkpoint rollback failed: %s", exc)
