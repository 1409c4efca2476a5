"""``python -m connector.simulator``: serve a simulated audit log until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from connector.simulator.faults import Faults
from connector.simulator.runner import run_simulator
from connector.simulator.server import SimulatorServer


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m connector.simulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    p.add_argument("--port", type=int, default=0, help="TCP port (0: any free port)")
    p.add_argument("--admin-key", required=True, help="the bearer token to accept")
    p.add_argument("--events", type=int, default=10_000, help="historical events")
    p.add_argument("--days", type=float, default=7.0, help="history length in days")
    p.add_argument("--rate", type=float, default=2.0, help="live events per second (0: none)")
    p.add_argument("--late-fraction", type=float, default=0.0, help="share of late live events")
    p.add_argument("--rate-429", type=float, default=0.0, help="share of requests answered 429")
    p.add_argument("--rate-500", type=float, default=0.0, help="share of requests answered 500")
    p.add_argument("--rate-truncated", type=float, default=0.0, help="share of cut 200 bodies")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    p.add_argument("--seed", type=int, default=0, help="makes events and faults reproducible")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the simulator; prints one ``ready <url>`` line once it answers requests."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)

    def on_ready(server: SimulatorServer) -> None:
        print(f"ready {server.url}", flush=True)

    try:
        faults = Faults(
            rate_429=args.rate_429,
            rate_500=args.rate_500,
            rate_truncated=args.rate_truncated,
            latency_s=args.latency,
            seed=args.seed,
        )
        run_simulator(
            host=args.host,
            port=args.port,
            admin_key=args.admin_key,
            events=args.events,
            days=args.days,
            rate_per_s=args.rate,
            faults=faults,
            seed=args.seed,
            stop=stop,
            on_ready=on_ready,
            late_fraction=args.late_fraction,
        )
    except (ValueError, OSError) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
