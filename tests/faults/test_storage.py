"""Checkpoint storage faults: a full disk, a corrupt file, a read-only directory.

The checkpoint directory (checkpoint, delivered-id index, drift file: what lives in
``connector-state/`` in production) sits on a small tmpfs or a read-only bind mount; the sink's
output file stays on the normal disk. Every mount is undone by the ``mounts`` fixture.

A directory cannot be made read-only while the connector runs: the kernel refuses to remount a
mount read-only while a file on it is open for writing (EBUSY), so the read-only case starts the
connector on a directory that is already read-only; a disk that stops taking writes mid-run is
the full-disk case.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from connector.simulator import EventStore, Faults, generate_events
from tests.e2e.harness import Workspace, read_output, serve, terminate, wait_for
from tests.faults.conftest import Mounts
from tests.faults.helpers import (
    Sampler,
    assert_checkpoint_sane,
    error_lines,
    file_ids,
    history,
    running,
    watch_delivery,
    watermarks_in,
)

pytestmark = pytest.mark.faults


def state_settings(state: Path) -> dict[str, str]:
    return {
        "CHECKPOINT__PATH": str(state / "checkpoint.db"),
        "RECONCILE__INDEX_PATH": str(state / "delivered.db"),
        "DRIFT__PATH": str(state / "schema-drift.json"),
    }


def fill(directory: Path) -> int:
    """Write zeros into ``directory/filler`` until the file system refuses; the bytes written."""
    written = 0
    chunk = b"\0" * 65536
    with (directory / "filler").open("wb", buffering=0) as f:
        while True:
            try:
                written += f.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
        while True:  # the last partial block
            try:
                written += f.write(b"\0" * 512)
            except OSError:
                return written


def test_a_full_checkpoint_disk_is_a_clear_error_with_no_commit_and_delivery_resumes_when_space_frees(
    tmp_path: Path, mounts: Mounts
) -> None:
    state = mounts.tmpfs(tmp_path / "state", size="4m")
    events, store = history(8000, seed=21)
    expected = {e["id"] for e in events}
    checkpoint = state / "checkpoint.db"
    with serve(store, Faults(latency_s=0.03)) as server:
        ws = Workspace(tmp_path / "ws", server.url, **state_settings(state), POLL__SLICE_EVENTS="500")
        with running(ws, "run") as proc, Sampler(checkpoint, events, file_ids(ws)) as sampler:
            assert wait_for(lambda: len(read_output(ws.output).docs) >= 1000, timeout=60), ws.logs()[-2000:]
            filled = fill(state)
            full_at = time.monotonic()
            assert wait_for(lambda: "cannot commit checkpoint" in ws.logs(), timeout=60), ws.logs()[-3000:]
            refused_at = time.monotonic()
            frozen = sampler.sample()
            delivered_when_full = len(read_output(ws.output).ids)
            time.sleep(6)
            assert proc.poll() is None, "the connector exited on a full disk: " + ws.logs()[-2000:]
            still = sampler.sample()
            shown_while_full = ws.run("state", "show")
            errors_while_full = error_lines(ws.logs())
            (state / "filler").unlink()
            freed_at = time.monotonic()
            watch = watch_delivery(
                proc, expected, events, checkpoint=checkpoint, delivered=file_ids(ws), timeout=180
            )
            code = terminate(proc)
    out = read_output(ws.output)
    full_errors = [line for line in errors_while_full if "cannot commit checkpoint" in line]
    print(
        f"\nfull disk: filler {filled / 1e6:.1f} MB; first refused commit "
        f"{refused_at - full_at:.1f}s after the disk filled; watermark held {frozen} while full; "
        f"{len(full_errors)} ERROR line(s) about it, e.g. "
        f"{full_errors[0][:300] if full_errors else None}; delivered again {watch.seconds:.1f}s after space "
        f"freed; {delivered_when_full} events out when it filled; duplicates {out.duplicates()} "
        f"(batches published again while their commit failed)"
    )
    assert set(out.ids) == expected, f"{len(expected - set(out.ids))} events lost"
    assert watch.delivered and watch.violations == [] and sampler.violations == [], sampler.violations[:5]
    assert code == 0, ws.logs()[-3000:]
    assert out.fragments == 0
    # No commit while the disk was full: the watermark stood still from the first refusal to the freeing.
    assert frozen and still == frozen
    assert all(marks == frozen for marks in sampler.between(refused_at + 0.5, freed_at))
    # A clear error: says what failed, where, and why; logged once, not once per retry.
    assert full_errors and all("full" in line and str(checkpoint) in line for line in full_errors)
    assert len(full_errors) <= 2, full_errors
    assert shown_while_full.returncode == 0, shown_while_full.stderr.decode()[-1000:]
    assert orjson.loads(shown_while_full.stdout)["default"]["watermark"] == frozen["default"]
    assert_checkpoint_sane(ws, events, set(out.ids), db=checkpoint)


def _zero(path: Path) -> None:
    path.write_bytes(b"")


def _garbage_header(path: Path) -> None:
    with path.open("r+b") as f:
        f.write(b"this is not an SQLite file\0" * 4)


def _torn(path: Path) -> None:
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


def _set_body(body: bytes) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        db = sqlite3.connect(path)
        try:
            db.execute("UPDATE checkpoints SET body = ? WHERE stream = 'default'", (body,))
            db.commit()
        finally:
            db.close()

    return corrupt


def _future_version(path: Path) -> None:
    db = sqlite3.connect(path)
    try:
        (raw,) = db.execute("SELECT body FROM checkpoints WHERE stream = 'default'").fetchone()
    finally:
        db.close()
    _set_body(orjson.dumps(orjson.loads(raw) | {"version": 99}))(path)


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "garbage-header": _garbage_header,
    "torn-in-half": _torn,
    "zero-bytes": _zero,
    "body-not-json": _set_body(b'{"version": 1, "stream": "default", "waterm'),
    "future-version": _future_version,
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupt_checkpoint_stops_run_with_a_recovery_hint_and_never_restarts_from_the_lookback(
    tmp_path: Path, corruption: str
) -> None:
    now = int(time.time())
    old = generate_events(600, start=now - 86400, end=now - 7200, seed=22)
    new = generate_events(60, start=now - 1800, end=now - 60, seed=23)
    store = EventStore()
    store.add_many(old)
    checkpoint = tmp_path / "checkpoint.db"
    with serve(store) as server:
        ws = Workspace(tmp_path, server.url, OPENAI__LOOKBACK="2d")
        first = ws.run("run", "--once")
        assert first.returncode == 0, first.stderr.decode()[-2000:]
        assert not Path(f"{checkpoint}-wal").exists() or Path(f"{checkpoint}-wal").stat().st_size == 0
        before = ws.output.read_bytes()
        store.add_many(new)
        CORRUPTIONS[corruption](checkpoint)
        corrupt_bytes = checkpoint.read_bytes()
        started = time.monotonic()
        with running(ws, "run") as proc:
            exited = wait_for(lambda: proc.poll() is not None, timeout=15, every=0.2)
            if not exited:
                terminate(proc)
        took = time.monotonic() - started
        log = ws.logs()
        after_run = ws.output.read_bytes()
        # Recover the way the message says: move the file aside, then resume from a known point.
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{checkpoint}{suffix}").exists():
                Path(f"{checkpoint}{suffix}").rename(tmp_path / f"checkpoint.db{suffix}.corrupt")
        reset = ws.run("state", "reset", "--to", "1h")
        recovered = ws.run("run", "--once")
    errors = error_lines(log)
    print(
        f"\n{corruption}: exit {proc.returncode} after {took:.1f}s; "
        f"error: {errors[0][:400] if errors else None}"
    )
    assert exited, f"connector run kept running on a {corruption} checkpoint: {log[-2000:]}"
    assert proc.returncode != 0
    assert after_run == before, (
        "the connector delivered events from a corrupt checkpoint (restarted from the lookback?)"
    )
    assert (tmp_path / "checkpoint.db.corrupt").read_bytes() == corrupt_bytes, "the corrupt file was modified"
    assert len(errors) == 1 and "Traceback" not in log, log[-3000:]
    assert "state reset" in errors[0] and str(checkpoint) in errors[0], errors[0]
    assert reset.returncode == 0 and recovered.returncode == 0, recovered.stderr.decode()[-2000:]
    out = read_output(ws.output)
    assert {e["id"] for e in new} <= set(out.ids) and {e["id"] for e in old} <= set(out.ids)
    assert_checkpoint_sane(ws, old + new, set(out.ids), db=checkpoint)


@pytest.mark.parametrize("history_before", [True, False], ids=["existing-checkpoint", "first-run"])
def test_a_read_only_checkpoint_directory_is_one_clear_error_no_crash_loop_no_loss(
    tmp_path: Path, mounts: Mounts, history_before: bool
) -> None:
    now = int(time.time())
    old = generate_events(500, start=now - 86400, end=now - 7200, seed=24)
    # Within the overlap of the first run's watermark, so the polls (not only the reconcile sweep) see them.
    new = generate_events(50, start=now - 120, end=now - 1, seed=25)
    store = EventStore()
    store.add_many(old)
    state = tmp_path / "state"
    state.mkdir()
    with serve(store) as server:
        ws = Workspace(tmp_path / "ws", server.url, **state_settings(state), OPENAI__LOOKBACK="2d")
        if history_before:
            assert ws.run("run", "--once").returncode == 0
        store.add_many(new)
        marks_before = watermarks_in(state / "checkpoint.db")
        listing = sorted(p.name for p in state.iterdir())
        mounts.read_only(state)
        try:
            started = time.monotonic()
            with running(ws, "run") as proc:
                exited = wait_for(lambda: proc.poll() is not None, timeout=15, every=0.2)
                if not exited:
                    terminate(proc)
            took = time.monotonic() - started
            log = ws.logs()
            assert sorted(p.name for p in state.iterdir()) == listing
        finally:
            mounts.unmount(state)
        assert watermarks_in(state / "checkpoint.db") == marks_before
        recovered = ws.run("run", "--once")
    errors = error_lines(log)
    print(
        f"\nread-only ({'existing' if history_before else 'first run'}): exit {proc.returncode} after "
        f"{took:.1f}s; {len(errors)} ERROR line(s): {errors[0][:400] if errors else None}"
    )
    assert "Traceback" not in log, log[-3000:]
    if exited:
        assert proc.returncode != 0 and len(errors) == 1, log[-3000:]
    else:
        assert len(errors) <= 2, errors  # still up: reported once, retried quietly
    message = errors[0] if errors else ""
    assert str(state) in message and ("read-only" in message or "readonly" in message), message
    assert recovered.returncode == 0, recovered.stderr.decode()[-2000:]
    out = read_output(ws.output)
    assert {e["id"] for e in old + new} <= set(out.ids)
    assert_checkpoint_sane(ws, old + new, set(out.ids), db=state / "checkpoint.db")
    shutil.rmtree(state, ignore_errors=True)
