"""Soak run: the connector against the simulator for a set time, with live and late events, faults, SIGKILLs.

Usage: .venv/bin/python scripts/soak.py [--minutes 10] [--kills 20] [--out bench/soak-results.md]

Everything runs on 127.0.0.1 and is bounded in time and count. It reports events in,
delivered, lost (must be 0) and duplicates, and the connector's RSS and open file
descriptors minute by minute; it exits non-zero when anything was lost or RSS grew
more than 10 % between the second and the last minute.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.simulator import EventStore, Faults, LiveFeed, SimulatorServer, generate_events

KEY = "sk-admin-soak-00112233445566778899aabb"
MAX_LATE = 30


@dataclass
class SoakReport:
    events_in: int = 0
    delivered: int = 0
    lost: int = 0
    duplicates: int = 0
    kills: int = 0
    minutes: list[tuple[int, float, float]] = field(default_factory=list)  # (minute, rss MiB, fds)

    @property
    def rss_growth(self) -> float:
        """Last minute's RSS over the second minute's, minus one (0.05 = +5 %)."""
        if len(self.minutes) < 3:
            return 0.0
        return self.minutes[-1][1] / self.minutes[1][1] - 1

    def markdown(self) -> str:
        lines = [
            "| events in | delivered | lost | duplicates | SIGKILLs | RSS growth (2nd → last minute) |",
            "|---|---|---|---|---|---|",
            f"| {self.events_in} | {self.delivered} | {self.lost} | {self.duplicates} | {self.kills} "
            f"| {self.rss_growth:+.1%} |",
            "",
            "| minute | median RSS (MiB) | median open fds |",
            "|---|---|---|",
            *(f"| {m} | {rss:.1f} | {fds:.0f} |" for m, rss, fds in self.minutes),
        ]
        return "\n".join(lines) + "\n"


def _proc_stats(pid: int) -> tuple[float, int] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rss_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return rss_kib / 1024, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration, ValueError):
        return None


def _delivered(path: Path) -> Counter[str]:
    ids: Counter[str] = Counter()
    if path.exists():
        for line in path.read_bytes().splitlines():
            # A line torn by SIGKILL is skipped; its event is delivered again whole.
            with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
                ids[orjson.loads(line)["metadata"]["uid"]] += 1
    return ids


def soak(minutes: float, kills: int, *, seed: int = 1) -> SoakReport:
    rng = random.Random(seed)
    now = int(time.time())
    store = EventStore()
    store.add_many(generate_events(20_000, start=now - 3 * 86400, end=now, seed=seed))
    feed = LiveFeed(store, rate_per_s=20, late_fraction=0.05, max_late_s=MAX_LATE, seed=seed)
    faults = Faults(rate_429=0.03, rate_500=0.02, rate_truncated=0.01, latency_s=0.005, seed=seed)
    report = SoakReport()
    samples: dict[int, list[tuple[float, int]]] = {}
    with SimulatorServer(store, admin_key=KEY, faults=faults) as server, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")} | {
            "CONNECTOR_OPENAI__BASE_URL": server.url,
            "CONNECTOR_OPENAI__ADMIN_KEY": KEY,
            "CONNECTOR_OPENAI__LOOKBACK": "4d",
            "CONNECTOR_OPENAI__RETRY_BASE": "0.05",
            "CONNECTOR_SINK__PATH": str(root / "events.ndjson"),
            "CONNECTOR_CHECKPOINT__PATH": str(root / "checkpoint.db"),
            "CONNECTOR_DEAD_LETTER__PATH": str(root / "dead-letter.ndjson"),
            "CONNECTOR_RECONCILE__INDEX_PATH": str(root / "delivered.db"),
            "CONNECTOR_DRIFT__PATH": str(root / "drift.json"),
            "CONNECTOR_METRICS__ENABLED": "false",
            "CONNECTOR_POLL__INTERVAL": "1",
            "CONNECTOR_POLL__SETTLE": "0",
            "CONNECTOR_POLL__OVERLAP": "60",
            "CONNECTOR_LOG__LEVEL": "WARNING",
        }

        def start() -> subprocess.Popen[bytes]:
            log = (root / "connector.log").open("ab")
            return subprocess.Popen(
                [sys.executable, "-m", "connector.cli", "run"], env=env, stdout=log, stderr=log
            )

        started = time.monotonic()
        deadline = started + minutes * 60
        life = minutes * 60 / (kills + 1)
        feed.start()
        proc = start()
        next_kill = time.monotonic() + rng.uniform(0.5 * life, 1.5 * life)
        try:
            while time.monotonic() < deadline:
                time.sleep(1)
                stats = _proc_stats(proc.pid)
                if stats is not None:
                    samples.setdefault(int((time.monotonic() - started) // 60) + 1, []).append(stats)
                if time.monotonic() >= next_kill and report.kills < kills:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(timeout=10)
                    report.kills += 1
                    proc = start()
                    next_kill = time.monotonic() + rng.uniform(0.5 * life, 1.5 * life)
        finally:
            feed.stop()
        # Let every late event become visible, then let the last process drain and stop it cleanly.
        time.sleep(MAX_LATE + 5)
        expected = store.ids()
        drain_deadline = time.monotonic() + 300
        while time.monotonic() < drain_deadline and not set(_delivered(root / "events.ndjson")) >= expected:
            time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        delivered = _delivered(root / "events.ndjson")
    report.events_in = len(expected)
    report.delivered = len(set(delivered) & expected)
    report.lost = len(expected - set(delivered))
    report.duplicates = sum(n - 1 for n in delivered.values())
    report.minutes = [
        (m, statistics.median(r for r, _ in s), statistics.median(f for _, f in s))
        for m, s in sorted(samples.items())
    ]
    return report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None, help="also write the report (Markdown) here")
    args = parser.parse_args()
    report = soak(args.minutes, args.kills)
    text = f"Soak run: {args.minutes:g} min, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n\n"
    text += report.markdown()
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0 if report.lost == 0 and report.rss_growth <= 0.10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
