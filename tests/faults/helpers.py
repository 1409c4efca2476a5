"""What every fault case checks: nothing lost, and a checkpoint that is sane at every moment.

"Sane" means: ``connector state show`` parses; the SQLite file passes ``PRAGMA integrity_check``;
and, sampled while the connector runs, no stream's watermark ever passes an event that the sink
does not hold (the checkpoint is read first, the sink second, so a sample can only err towards
passing).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from connector.models import Checkpoint
from connector.simulator import EventStore, generate_events, is_tenant_scoped
from tests.e2e.harness import Workspace, read_output

DAY = 86400


def stream_of(event: dict[str, Any]) -> str:
    return "tenant" if is_tenant_scoped(event["type"]) else "default"


def history(
    count: int, seed: int, *, days: float = 3, end_ago: int = 60
) -> tuple[list[dict[str, Any]], EventStore]:
    """``count`` events over the last ``days`` days (up to ``end_ago`` s ago), in a fresh store."""
    now = int(time.time())
    events = generate_events(count, start=now - int(days * DAY), end=now - end_ago, seed=seed)
    store = EventStore()
    store.add_many(events)
    return events, store


def watermarks_in(path: Path) -> dict[str, int] | None:
    """Each stream's watermark, read straight from the SQLite checkpoint (read-only); None if unreadable."""
    if not path.exists():
        return {}
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            rows = db.execute("SELECT stream, body FROM checkpoints").fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return {stream: Checkpoint.from_json(body).watermark for stream, body in rows}


def passed_but_missing(
    events: Iterable[dict[str, Any]], watermarks: dict[str, int], delivered: set[str]
) -> list[str]:
    """Ids below their stream's watermark that were not delivered (must always be empty)."""
    return [
        e["id"]
        for e in events
        if e["effective_at"] < watermarks.get(stream_of(e), -1) and e["id"] not in delivered
    ]


@dataclass
class Watch:
    """The outcome of watching a connector until it delivered everything (or the time ran out)."""

    delivered: bool
    seconds: float
    samples: int
    violations: list[str] = field(default_factory=list)
    watermarks: list[dict[str, int]] = field(default_factory=list)


def watch_delivery(
    proc: subprocess.Popen[bytes],
    expected: set[str],
    events: list[dict[str, Any]],
    *,
    checkpoint: Path,
    delivered: Callable[[], set[str]],
    timeout: float,
    every: float = 0.5,
    tick: Callable[[float], None] | None = None,
    give_up_after_violation: float = 10.0,
) -> Watch:
    """Sample checkpoint then sink until ``expected`` is delivered; the process must stay up throughout.

    A watermark that passed an undelivered event is a lasting loss (that range is not read
    again), so watching ends ``give_up_after_violation`` seconds after the first one.
    """
    started = time.monotonic()
    watch = Watch(delivered=False, seconds=0.0, samples=0)
    first_violation: float | None = None
    while True:
        elapsed = time.monotonic() - started
        if tick is not None:
            tick(elapsed)
        marks = watermarks_in(checkpoint)
        got = delivered()
        if marks is not None:
            watch.samples += 1
            watch.watermarks.append(marks)
            watch.violations += [
                f"{stream_of_id(events, i)} watermark {marks} passes undelivered {i}"
                for i in passed_but_missing(events, marks, got)
            ][:5]
        if got >= expected:
            watch.delivered = True
            break
        if watch.violations and first_violation is None:
            first_violation = elapsed
        if first_violation is not None and elapsed - first_violation > give_up_after_violation:
            break
        if proc.poll() is not None:
            raise AssertionError(f"the connector exited with {proc.returncode} before delivering everything")
        if elapsed > timeout:
            break
        time.sleep(every)
    watch.seconds = time.monotonic() - started
    return watch


def stream_of_id(events: list[dict[str, Any]], event_id: str) -> str:
    return next((stream_of(e) for e in events if e["id"] == event_id), "?")


def file_ids(ws: Workspace) -> Callable[[], set[str]]:
    return lambda: set(read_output(ws.output).ids)


def state_show(ws: Workspace) -> dict[str, Any]:
    """``connector state show``: must exit 0 and print one JSON object."""
    result = ws.run("state", "show")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    shown = orjson.loads(result.stdout)
    assert isinstance(shown, dict)
    return shown


def assert_checkpoint_sane(
    ws: Workspace,
    events: list[dict[str, Any]],
    delivered: set[str],
    *,
    db: Path | None = None,
    complete: bool = True,
) -> dict[str, Any]:
    """State show parses; versioned; watermark behind what was delivered; SQLite intact.

    With ``complete``, every stream that has events must have a watermark past its newest one.
    """
    shown = state_show(ws)
    marks: dict[str, int] = {}
    for name, body in shown.items():
        assert body["version"] == 1 and body["stream"] == name, body
        assert isinstance(body["watermark"], int), body
        marks[name] = body["watermark"]
    assert passed_but_missing(events, marks, delivered) == []
    if complete:
        for name in {stream_of(e) for e in events}:
            newest = max(e["effective_at"] for e in events if stream_of(e) == name)
            assert marks.get(name, 0) > newest, (name, marks, newest)
    if db is not None:
        assert integrity(db) == "ok"
    return shown


def integrity(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def metrics_port(ws: Workspace) -> int | None:
    match = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", ws.logs())
    return int(match.group(1)) if match else None


def metric_value(text: str, name: str, labels: str = "") -> float:
    """The sum of a metric's samples whose label set contains ``labels`` (0 if absent)."""
    total = 0.0
    pattern = re.compile(rf"^{re.escape(name)}(\{{[^}}]*\}})? ([0-9.e+-]+)$", re.M)
    for match in pattern.finditer(text):
        if labels in (match.group(1) or ""):
            total += float(match.group(2))
    return total


def scrape(ws: Workspace) -> str:
    port = metrics_port(ws)
    assert port is not None, "the connector did not log its metrics port"
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


class PeakRss:
    """Samples a process's peak resident set (VmHWM) until it exits; ``mib`` is the last value read."""

    def __init__(self, pid: int) -> None:
        self.mib = 0.0
        self._path = Path(f"/proc/{pid}/status")
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                text = self._path.read_text()
            except OSError:
                return
            match = re.search(r"VmHWM:\s+(\d+) kB", text)
            if match:
                self.mib = max(self.mib, int(match.group(1)) / 1024)
            time.sleep(0.1)

    def join(self) -> None:
        self._thread.join(timeout=5)


def error_lines(text: str) -> list[str]:
    """Log lines at ERROR level, in text or JSON log format."""
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                if orjson.loads(line).get("level") == "ERROR":
                    lines.append(line)
            except orjson.JSONDecodeError:
                continue
        elif " ERROR " in line:
            lines.append(line)
    return lines


@contextlib.contextmanager
def running(ws: Workspace, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """``ws.start(*args)``; the process is killed on the way out if the test left it running."""
    proc = ws.start(*args)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


class Sampler:
    """Samples checkpoint then sink in the background, for scenarios with several phases.

    ``timeline`` holds ``(monotonic time, watermarks)``; ``violations`` every watermark that
    passed an event the sink did not hold at that moment.
    """

    def __init__(
        self,
        checkpoint: Path,
        events: list[dict[str, Any]],
        delivered: Callable[[], set[str]],
        *,
        every: float = 0.5,
    ) -> None:
        self.timeline: list[tuple[float, dict[str, int]]] = []
        self.violations: list[str] = []
        self._checkpoint = checkpoint
        self._events = events
        self._delivered = delivered
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._every)

    def sample(self) -> dict[str, int] | None:
        marks = watermarks_in(self._checkpoint)
        if marks is None:
            return None
        got = self._delivered()
        self.timeline.append((time.monotonic(), marks))
        for event_id in passed_but_missing(self._events, marks, got)[:5]:
            self.violations.append(f"watermarks {marks} pass undelivered {event_id}")
        return marks

    def between(self, start: float, end: float) -> list[dict[str, int]]:
        return [marks for at, marks in self.timeline if start <= at <= end]
