"""The delivered-id index: which event ids were delivered recently, for the reconcile sweep.

The checkpoint keeps ids only for the overlap window; the reconcile sweep re-reads
a much longer window (24 h by default) and must publish only ids that were never
delivered. This index covers that window. It is written after each commit, so a
crash between the two can make the sweep re-deliver that one batch: duplicates,
never loss.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivered (
    stream       TEXT NOT NULL,
    id           TEXT NOT NULL,
    effective_at INTEGER NOT NULL,
    PRIMARY KEY (stream, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS delivered_by_time ON delivered (stream, effective_at);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class DeliveredIndex:
    """Ids delivered per stream, with their ``effective_at``; pruned to the reconcile window."""

    def __init__(self, path: Path, *, keep_seconds: int) -> None:
        self.path = path
        self._keep = keep_seconds
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a lost tail only means a few re-deliveries
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('created_at', CAST(strftime('%s','now') AS TEXT))"
        )
        self._created_at = int(
            self._db.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()[0]
        )

    def complete_from(self, stream: str) -> int:
        """Every delivery of ``stream`` with ``effective_at`` from here on is in the index.

        For a stream that already had a checkpoint when the index was created (an
        upgrade), that is the creation time: the sweep must not re-read further
        back, or it would re-deliver everything delivered before.
        """
        row = self._db.execute(
            "SELECT value FROM meta WHERE key = ?", (f"complete_from:{stream}",)
        ).fetchone()
        return int(row[0]) if row else self._created_at

    def mark_complete(self, stream: str, since: int) -> None:
        """The stream starts now (a first run): the index will see all of its deliveries."""
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"complete_from:{stream}", str(since)))

    def add(self, stream: str, delivered: Iterable[tuple[str, int]], *, now: int) -> None:
        """Remember ``(id, effective_at)`` pairs; forget what fell out of the window. Never raises."""
        horizon = now - self._keep
        # A backfill delivers mostly events older than the window: they would be deleted at once.
        rows = [(stream, event_id, at) for event_id, at in delivered if at >= horizon]
        try:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO delivered VALUES (?, ?, ?)", rows)
            self._db.execute("DELETE FROM delivered WHERE stream = ? AND effective_at < ?", (stream, horizon))
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            log.warning(
                "cannot update the delivered-id index %s (%s); the reconcile sweep may repeat events",
                self.path,
                exc,
            )

    def ids(self, stream: str, start: int, end: int) -> set[str]:
        """Ids delivered with ``start <= effective_at < end``."""
        cursor = self._db.execute(
            "SELECT id FROM delivered WHERE stream = ? AND effective_at >= ? AND effective_at < ?",
            (stream, start, end),
        )
        return {row[0] for row in cursor}

    def close(self) -> None:
        self._db.close()
