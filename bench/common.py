"""Shared pieces of the benchmark harness: results, processes, the simulator and machine facts.

Every process the harness starts is a child of the runner (one process tree): the
simulator (``python -m connector.simulator``, so its memory and CPU are its own),
the connector (``python -m connector.cli``) and the floor pipeline. The peak RSS of
a child is the sum of the ``VmHWM`` of it and its descendants (the kernel's high-water
mark of each exec'd program's memory; the connector's normalizer process counts),
read every 20 ms until it exits; ``wait4``'s ``ru_maxrss`` would not do: on Linux it
also counts the parent's RSS at the moment of the fork.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-admin-bench-0123456789abcdef"
DAY_S = 86_400


# -- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a scenario's chart panel."""

    label: str
    value: float


@dataclass(slots=True)
class Result:
    """What one scenario reports: a table, notes, a headline, the bars of its chart panel.

    ``target`` is issue 8's acceptance figure in words and ``target_line`` the same
    figure in the panel's unit, drawn as a dashed line (None: no line).
    """

    key: str
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    headline: str = ""
    bars: list[Bar] = field(default_factory=list)
    unit: str = ""
    target: str = ""
    target_line: float | None = None
    elapsed_s: float = 0.0
    skipped: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for results.json."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        """The inverse of ``to_json``."""
        fields = dict(data)
        fields["bars"] = [Bar(**bar) for bar in fields.get("bars", [])]
        return cls(**fields)


class Skip(Exception):
    """A scenario (or a part of it) cannot run here; the message says why."""


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (the figure every table reports)."""
    return float(statistics.median(values))


def rate(value: float) -> str:
    """``12,345`` for a rate or a count."""
    return f"{value:,.0f}"


def runs_text(values: Sequence[float], fmt: str = "{:,.0f}") -> str:
    """The individual runs behind a median, for the table's last column."""
    return ", ".join(fmt.format(v) for v in values)


# -- child processes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProcessStats:
    """How one child process ran."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


class _PeakRss:
    """Follows ``VmHWM`` of a running process and its descendants in a thread.

    Each process's high-water mark only grows, so the sum of the per-process maxima
    (``kib``) bounds the tree's peak from above; processes that already ended still count.
    """

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self._pid = pid
        self._peaks: dict[int, int] = {}
        self._interval = interval
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)
        self._thread.start()

    @property
    def kib(self) -> int:
        return sum(self._peaks.values())

    def _run(self) -> None:
        while True:
            for pid in _tree(self._pid):
                with contextlib.suppress(OSError, ValueError):  # not started yet, or gone
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self._peaks[pid] = max(self._peaks.get(pid, 0), int(line.split()[1]))
                            break
            if self._done.wait(self._interval):
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from each thread's ``children`` list (children of any thread)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError, ValueError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return found


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 1800.0,
) -> ProcessStats:
    """Run ``argv`` to completion; wall time, CPU time (``wait4``) and peak RSS (``VmHWM``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), env=dict(env) if env is not None else None, cwd=cwd, stdout=out, stderr=err
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        peak = _PeakRss(proc.pid)
        try:
            # Wait for the exit without reaping, so the sampler never reads a recycled pid.
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        finally:
            timer.cancel()
            peak.stop()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return ProcessStats(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=peak.kib * 1024 / 1e6,  # VmHWM is in KiB
        returncode=proc.returncode,
        stdout=stdout,
        stderr=stderr,
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def python(*args: str) -> list[str]:
    """A command line that runs this interpreter (the project's venv)."""
    return [sys.executable, *args]


# -- the simulator ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Simulator:
    """A running ``python -m connector.simulator`` child."""

    url: str
    events: int
    days: float
    pid: int


@contextlib.contextmanager
def simulator(
    *, events: int, days: float, latency_s: float = 0.0, seed: int = 1, ready_timeout: float = 900.0
) -> Iterator[Simulator]:
    """Serve ``events`` historical events over the last ``days`` days from a separate process.

    The store is built lazily (``build_store``), so even a million events never
    exist as a million dicts; no live feed. Stops the process with SIGTERM.
    """
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        log_path = Path(tmp) / "simulator.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                python(
                    "-m",
                    "connector.simulator",
                    "--admin-key",
                    KEY,
                    "--events",
                    str(events),
                    "--days",
                    str(days),
                    "--rate",
                    "0",
                    "--latency",
                    str(latency_s),
                    "--seed",
                    str(seed),
                ),
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=tmp,
                text=True,
            )
        try:
            assert proc.stdout is not None
            timer = threading.Timer(ready_timeout, proc.kill)
            timer.start()
            try:
                line = proc.stdout.readline()
            finally:
                timer.cancel()
            if not line.startswith("ready "):
                proc.kill()
                proc.wait()
                raise RuntimeError(f"the simulator did not start: {log_path.read_text()[-2000:]}")
            yield Simulator(url=line.split()[1], events=events, days=days, pid=proc.pid)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


# -- the connector ---------------------------------------------------------------------------------------


def connector_env(
    url: str,
    workdir: Path,
    *,
    days: float,
    fmt: str = "ocsf",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a connector child: our settings only, every file inside ``workdir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env.update(
        CONNECTOR_OPENAI__BASE_URL=url,
        CONNECTOR_OPENAI__ADMIN_KEY=KEY,
        CONNECTOR_OPENAI__LOOKBACK=f"{int(days * DAY_S) + 3600}s",
        CONNECTOR_OUTPUT__FORMAT=fmt,
        CONNECTOR_SINK__TYPE="file",
        CONNECTOR_SINK__PATH=str(workdir / "events.ndjson"),
        CONNECTOR_CHECKPOINT__PATH=str(workdir / "checkpoint.db"),
        CONNECTOR_DEAD_LETTER__PATH=str(workdir / "dead-letter.ndjson"),
        CONNECTOR_DRIFT__PATH=str(workdir / "schema-drift.json"),
        CONNECTOR_METRICS__ENABLED="false",
        CONNECTOR_LOG__LEVEL="WARNING",
    )
    env.update(extra or {})
    return env


@dataclass(frozen=True, slots=True)
class ConnectorRun:
    """One ``connector run --once`` into the file sink."""

    stats: ProcessStats
    events: int


def connector_once(
    sim: Simulator,
    *,
    fmt: str = "ocsf",
    extra: Mapping[str, str] | None = None,
    timeout: float = 3600.0,
) -> ConnectorRun:
    """Run ``connector run --once`` against ``sim`` from a fresh state; count the lines it wrote.

    Raises:
        Skip: the connector rejected one of ``extra``'s settings as unknown.
        RuntimeError: the connector failed otherwise, or lost events.
    """
    with tempfile.TemporaryDirectory(prefix="bench-connector-") as tmp:
        work = Path(tmp)
        env = connector_env(sim.url, work, days=sim.days, fmt=fmt, extra=extra)
        stats = run_process(
            python("-m", "connector.cli", "run", "--once"), env=env, cwd=work, timeout=timeout
        )
        if stats.returncode == 2 and "unknown setting" in stats.stderr:
            raise Skip(stats.stderr.strip().splitlines()[-1])
        if stats.returncode != 0:
            raise RuntimeError(f"connector run --once exited {stats.returncode}: {stats.stderr[-2000:]}")
        out = work / "events.ndjson"
        lines = count_lines(out) if out.exists() else 0
    if lines != sim.events:
        raise RuntimeError(f"connector wrote {lines} events, the simulator holds {sim.events}")
    return ConnectorRun(stats=stats, events=lines)


def count_lines(path: Path) -> int:
    """Lines in ``path``, read in large blocks."""
    count = 0
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            count += block.count(b"\n")
    return count


# -- machine facts ------------------------------------------------------------------------------------------

PACKAGES = (
    "openai-audit-connector",
    "httpx",
    "orjson",
    "pydantic",
    "pydantic-settings",
    "kafka-python",
    "zstandard",
    "matplotlib",
)


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (with uncommitted changes)" if dirty else head


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        return "not installed"
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    return out.splitlines()[0].strip() if out else "unknown"


def _normalizer_build() -> str:
    from connector.normalize import native

    return native.summary()


def machine_facts() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    versions = []
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name} {metadata.version(name)}")
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} logical CPUs ({len(os.sched_getaffinity(0))} usable)"),
        ("memory", _memory_gib()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("packages", ", ".join(versions)),
        ("normalizer", _normalizer_build()),
        ("Java (Kafka broker)", _java()),
        ("commit", _git_commit()),
    ]
