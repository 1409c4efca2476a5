"""Events/s of ``connector run --once`` over N simulator events into the file sink.

Usage: .venv/bin/python bench/run_once.py [--events 100000] [--format ocsf]
The simulator runs in this process on 127.0.0.1 with no injected latency; the
connector runs as a separate process, as a user would run it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from connector.simulator import EventStore, SimulatorServer, generate_events

KEY = "sk-admin-bench-0123456789abcdef"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--format", default="ocsf")
    args = parser.parse_args()
    now = int(time.time())
    store = EventStore()
    store.add_many(generate_events(args.events, start=now - int(args.days * 86400), end=now - 60, seed=1))
    with SimulatorServer(store, admin_key=KEY) as server, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "events.ndjson"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
        env.update(
            CONNECTOR_OPENAI__BASE_URL=server.url,
            CONNECTOR_OPENAI__ADMIN_KEY=KEY,
            CONNECTOR_OPENAI__LOOKBACK=f"{int(args.days) + 1}d",
            CONNECTOR_OUTPUT__FORMAT=args.format,
            CONNECTOR_SINK__PATH=str(out),
            CONNECTOR_CHECKPOINT__PATH=str(Path(tmp) / "cp.db"),
            CONNECTOR_METRICS__ENABLED="false",
            CONNECTOR_LOG__LEVEL="WARNING",
        )
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "connector.cli", "run", "--once"], env=env, check=True)
        elapsed = time.perf_counter() - started
        lines = sum(1 for _ in out.open("rb"))
    print(
        f"run --once: {lines} events ({args.format}) in {elapsed:.1f}s = {lines / elapsed:,.0f} events/s "
        f"(includes process start; {os.cpu_count()} CPUs, Python {sys.version.split()[0]})"
    )
    if lines != len(store):
        raise SystemExit(f"expected {len(store)} events, got {lines}")


if __name__ == "__main__":
    main()
