"""The SQLite checkpoint store: round trips, atomic commits, clear errors on damage."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from connector.checkpoint.sqlite import SqliteCheckpointStore
from connector.errors import CheckpointError, CheckpointUnavailable
from connector.models import BackfillPlan, Checkpoint


def sample(stream: str = "default", watermark: int = 1_700_000_000) -> Checkpoint:
    return Checkpoint(
        stream=stream,
        watermark=watermark,
        recent_ids={"audit_log-a": watermark - 5, "audit_log-b": watermark - 1},
        backfill=BackfillPlan(1, 100, 50),
        slice_seconds=3600,
        updated_at=12.5,
    )


def test_round_trip_per_stream(tmp_path: Path) -> None:
    store = SqliteCheckpointStore(tmp_path / "cp.db")
    store.save(sample("default"))
    store.save(sample("tenant", 42))
    store.close()
    reopened = SqliteCheckpointStore(tmp_path / "cp.db")
    assert reopened.load("default") == sample("default")
    assert reopened.load("tenant") == sample("tenant", 42)
    assert reopened.load("other") is None
    reopened.delete("tenant")
    assert reopened.load("tenant") is None


def test_a_corrupt_file_is_a_clear_error_with_a_recovery_hint(tmp_path: Path) -> None:
    path = tmp_path / "cp.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CheckpointError, match="state reset"):
        SqliteCheckpointStore(path).load("default")


def test_a_corrupt_row_is_a_clear_error_not_a_silent_restart(tmp_path: Path) -> None:
    path = tmp_path / "cp.db"
    SqliteCheckpointStore(path).save(sample())
    with sqlite3.connect(path) as db:
        db.execute("UPDATE checkpoints SET body = ?", (b'{"version": 1, "stream": "default"',))
    with pytest.raises(CheckpointError, match=r"corrupt.*state reset"):
        SqliteCheckpointStore(path).load("default")


def test_an_unknown_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cp.db"
    SqliteCheckpointStore(path).save(sample())
    with sqlite3.connect(path) as db:
        body = db.execute("SELECT body FROM checkpoints").fetchone()[0]
        db.execute("UPDATE checkpoints SET body = ?", (body.replace(b'"version":1', b'"version":99'),))
    with pytest.raises(CheckpointError, match="version 99"):
        SqliteCheckpointStore(path).load("default")


def test_a_failed_commit_leaves_the_previous_checkpoint_and_the_store_usable(tmp_path: Path) -> None:
    store = SqliteCheckpointStore(tmp_path / "cp.db")
    store.save(sample(watermark=1))
    # Simulate a full disk: SQLite refuses to grow the database past its current size.
    page_count = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {page_count}")
    huge = Checkpoint(stream="default", watermark=2, recent_ids={f"id-{i}": i for i in range(50_000)})
    with pytest.raises(CheckpointUnavailable, match="cannot commit"):
        store.save(huge)
    assert store.load("default") == sample(watermark=1)
    store._db.execute("PRAGMA max_page_count = 1073741823")
    store.save(huge)
    assert store.load("default") == huge
