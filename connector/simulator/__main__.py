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
    p.add_argument("--rate-invalid-json", type=float, default=0.0, help="share of 200s that are not JSON")
    p.add_argument("--rate-invalid-utf8", type=float, default=0.0, help="share of 200s with non-UTF-8 bytes")
    p.add_argument("--rate-reset", type=float, default=0.0, help="share of connections reset mid-body")
    p.add_argument("--rate-slow", type=float, default=0.0, help="share of responses delayed by --slow")
    p.add_argument("--slow", type=float, default=0.0, help="seconds added to the --rate-slow responses")
    p.add_argument(
        "--rate-empty-has-more", type=float, default=0.0, help="share of pages with no data but has_more"
    )
    p.add_argument(
        "--rate-repeat-cursor", type=float, default=0.0, help="share of follow-up pages sent again"
    )
    p.add_argument(
        "--rate-expire-cursor", type=float, default=0.0, help="share of follow-up pages answered 400"
    )
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
            rate_invalid_json=args.rate_invalid_json,
            rate_invalid_utf8=args.rate_invalid_utf8,
            rate_reset=args.rate_reset,
            rate_slow=args.rate_slow,
            slow_s=args.slow,
            rate_empty_has_more=args.rate_empty_has_more,
            rate_repeat_cursor=args.rate_repeat_cursor,
            rate_expire_cursor=args.rate_expire_cursor,
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
