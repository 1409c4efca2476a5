"""The ``connector`` command: run, demo, backfill, state, check, simulator, mapping, healthcheck.

Exit codes: 0 done; 1 a fatal runtime error; 2 a bad setting or usage; 3 the API
refused the Admin key (401/403).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import orjson

from connector import __version__
from connector.errors import AuthError, ConfigError, FatalError, RetriableError
from connector.gc_tuning import tune_gc
from connector.malloc import tune_malloc

if TYPE_CHECKING:
    from connector.app import App
    from connector.config import Settings

# Settings (pydantic) and everything heavier are imported where a command needs them:
# a normalizer process imports this module again as its __main__ and needs none of it.

log = logging.getLogger("connector")

EXIT_OK, EXIT_FATAL, EXIT_CONFIG, EXIT_AUTH = 0, 1, 2, 3


def parse_time(value: str, *, now: float | None = None) -> int:
    """``2026-01-31``, ``2026-01-31T12:00:00Z``, Unix seconds, or a duration ago (``24h``)."""
    from connector.config_types import parse_duration

    now = time.time() if now is None else now
    text = value.strip()
    if text.isdigit() and len(text) >= 9:
        return int(text)
    try:
        return math.floor(now - float(parse_duration(text)))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"invalid time {value!r}: use ISO 8601, Unix seconds, or a duration like 24h"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return math.floor(parsed.timestamp())


def _parser() -> argparse.ArgumentParser:
    from connector.config_types import parse_duration

    parser = argparse.ArgumentParser(prog="connector", description="OpenAI audit log → SIEM connector.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", type=Path, help="YAML settings file (environment variables override it)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="poll and deliver until stopped")
    run.add_argument("--once", action="store_true", help="deliver everything visible now, then exit")

    demo = sub.add_parser("demo", help="the built-in simulator → NDJSON file, with live metrics")
    demo.add_argument("--duration", type=parse_duration, default=None, help="stop after this long (e.g. 60s)")
    demo.add_argument("--output", type=Path, default=Path("demo-output"), help="folder for output and state")
    demo.add_argument("--events", type=int, default=5000, help="historical events in the simulator")
    demo.add_argument("--rate", type=float, default=5.0, help="new events per second")
    demo.add_argument("--metrics-port", type=int, default=9464, help="metrics port (0 = any free port)")

    backfill = sub.add_parser("backfill", help="re-read a past range and deliver it (resumable)")
    backfill.add_argument("--since", required=True, help="start: ISO 8601, Unix seconds, or a duration ago")
    backfill.add_argument("--until", help="end (default: the stream's watermark)")

    reconcile = sub.add_parser("reconcile", help="re-read a window and deliver ids never delivered")
    reconcile.add_argument("--since", required=True, help="start: ISO 8601, Unix seconds, or a duration ago")
    reconcile.add_argument("--until", help="end (default: the stream's watermark)")

    state = sub.add_parser("state", help="show or reset the checkpoints")
    state_sub = state.add_subparsers(dest="state_command", required=True, metavar="ACTION")
    state_sub.add_parser("show", help="print every stream's checkpoint as JSON")
    reset = state_sub.add_parser("reset", help="forget a checkpoint, or move it to a time")
    reset.add_argument("--to", help="resume from this time instead of the first-run lookback")
    reset.add_argument("--stream", action="append", help="only this stream (default, tenant); repeatable")

    sub.add_parser("check", help="validate the settings and make one authenticated request")

    sim = sub.add_parser("simulator", help="serve the OpenAI audit-log API simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8089)
    sim.add_argument("--admin-key", default="sk-admin-simulator", help="the key the simulator accepts")
    sim.add_argument("--events", type=int, default=10000, help="historical events")
    sim.add_argument("--days", type=float, default=3.0, help="spread historical events over this many days")
    sim.add_argument("--rate", type=float, default=2.0, help="new events per second")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--rate-429", type=float, default=0.0, help="fraction of requests answered 429")
    sim.add_argument("--rate-500", type=float, default=0.0, help="fraction of requests answered 500")
    sim.add_argument("--rate-truncated", type=float, default=0.0, help="fraction of bodies cut short")
    sim.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")

    dlq = sub.add_parser("dlq", help="work with the dead-letter destination")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    dlq_sub.add_parser("replay", help="send dead-lettered events through normalization and the sink again")

    mapping = sub.add_parser("mapping", help="print the event type → OCSF mapping table and the drift seen")
    mapping.add_argument("--markdown", action="store_true", help="the docs/mapping.md text")

    health = sub.add_parser("healthcheck", help="call /healthz (or /readyz) and exit 0 when healthy")
    health.add_argument("--ready", action="store_true", help="check /readyz instead")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    tune_malloc()
    from connector.config import load_settings

    tune_gc()
    args = _parser().parse_args(argv)
    try:
        if args.command == "simulator":
            return int(_COMMANDS[args.command](args, None))
        settings = load_settings(args.config)
        _setup_logging(settings)
        return int(_COMMANDS[args.command](args, settings))
    except ConfigError as exc:
        print(f"connector: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except AuthError as exc:
        log.error("%s", exc)
        return EXIT_AUTH
    except (FatalError, RetriableError) as exc:
        log.error("%s", exc)
        return EXIT_FATAL
    except KeyboardInterrupt:
        return 130


def _setup_logging(settings: Settings) -> None:
    from connector.logs import setup_logging

    secrets = [settings.openai.admin_key.get_secret_value()] if settings.openai.admin_key else []
    setup_logging(settings.log.level, settings.log.format, secrets=secrets)


def _install_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: finishing the batch in flight, then stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from connector.app import build_app

    stop = threading.Event()
    _install_signals(stop)
    app = build_app(settings, stop=stop)
    try:
        if app.server is not None:
            log.info("metrics on http://%s:%d/metrics", settings.metrics.host, app.server.port)
        app.runner.run(once=args.once)
    finally:
        app.close()
    log.info("stopped cleanly")
    return EXIT_OK


@contextlib.contextmanager
def _one_off_app(settings: Settings) -> Iterator[App]:
    """The connector wired for a one-off command (no metrics port), stopped by SIGTERM/SIGINT."""
    from connector.app import build_app

    stop = threading.Event()
    _install_signals(stop)
    app = build_app(settings, stop=stop, serve_metrics=False)
    try:
        yield app
    finally:
        app.close()


def _range(args: argparse.Namespace, app: App, default_end: int) -> tuple[int, int]:
    since = parse_time(args.since, now=app.client.clock.now())
    until = parse_time(args.until) if args.until else default_end
    if until <= since:
        raise ConfigError(f"--until ({until}) must be after --since ({since})")
    return since, until


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    with _one_off_app(settings) as app:
        for state in app.runner.states:
            checkpoint = app.pipeline.start_checkpoint(state.stream, parse_time(args.since))
            since, until = _range(args, app, checkpoint.watermark)
            if checkpoint.backfill is None:
                checkpoint = app.pipeline.plan_backfill(state.stream, checkpoint, since, until)
            else:
                log.info("stream %s: resuming the unfinished backfill first", state.stream.name)
            app.pipeline.backfill(state.stream, checkpoint)
    return EXIT_OK


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    with _one_off_app(settings) as app:
        for state in app.runner.states:
            checkpoint = app.pipeline.start_checkpoint(state.stream, parse_time(args.since))
            since, until = _range(args, app, checkpoint.watermark)
            _, found = app.pipeline.reconcile(state.stream, checkpoint, since, until)
            print(f"stream {state.stream.name}: {found} undelivered event(s) found and delivered")
    return EXIT_OK


def cmd_state(args: argparse.Namespace, settings: Settings) -> int:
    from connector.app import acquire_writer_lock, make_store
    from connector.models import Checkpoint

    # A reset under a running connector would be overwritten by its next commit.
    lock = acquire_writer_lock(settings) if args.state_command == "reset" else None
    store = make_store(settings)
    try:
        if args.state_command == "show":
            out = {}
            for name in ("default", "tenant"):
                checkpoint = store.load(name)
                if checkpoint is not None:
                    body = orjson.loads(checkpoint.to_json())
                    body["watermark_iso"] = _iso(checkpoint.watermark)
                    body["recent_ids"] = len(checkpoint.recent_ids)
                    out[name] = body
            print(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
            return EXIT_OK
        streams = args.stream or ["default", "tenant"]
        for name in streams:
            if args.to:
                to = parse_time(args.to)
                store.save(Checkpoint(stream=name, watermark=to, updated_at=time.time()))
                print(f"stream {name}: will resume from {_iso(to)}")
            else:
                store.delete(name)
                print(f"stream {name}: checkpoint removed; the next run starts from the lookback")
        return EXIT_OK
    finally:
        store.close()
        if lock is not None:
            lock.release()


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from connector.app import require_admin_key
    from connector.metrics import Metrics
    from connector.models import Window
    from connector.runner import build_streams
    from connector.source.client import AuditLogClient

    require_admin_key(settings)
    client = AuditLogClient(settings.openai, metrics=Metrics())
    try:
        now = int(time.time())
        for stream in build_streams(settings):
            try:
                page = client.fetch_page(stream.query, Window(now - 86400, now + 1))
            except AuthError as exc:
                if stream.name != "tenant" or exc.status != 403:
                    raise
                print(f"stream tenant: not readable with this key ({exc})")
                continue
            print(f"stream {stream.name}: ok ({len(page.events)} event(s) in the last 24h page)")
        skew = client.clock.now() - time.time()
        print(f"settings valid; API reachable at {settings.openai.base_url}; clock skew {skew:+.0f}s")
    finally:
        client.close()
    return EXIT_OK


def cmd_simulator(args: argparse.Namespace, settings: Settings | None) -> int:
    from connector.simulator import Faults, run_simulator

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    faults = Faults(
        rate_429=args.rate_429,
        rate_500=args.rate_500,
        rate_truncated=args.rate_truncated,
        latency_s=args.latency,
        seed=args.seed,
    )
    stop = threading.Event()
    _install_signals(stop)

    def ready(server: Any) -> None:
        print(
            f"simulator serving {server.url}/organization/audit_logs (Admin key: {args.admin_key})",
            flush=True,
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
        on_ready=ready,
    )
    return EXIT_OK


def cmd_mapping(args: argparse.Namespace, settings: Settings | None) -> int:
    from connector.normalize import ocsf_enums as enums
    from connector.normalize.docs import render_mapping_markdown
    from connector.normalize.table import MAPPING

    if args.markdown:
        print(render_mapping_markdown(), end="")
        return EXIT_OK
    for row in MAPPING.values():
        activity = enums.activity_name(row.class_uid, row.activity_id)
        print(f"{row.type:55} {row.class_uid} {enums.class_name(row.class_uid):24} {activity}")
    print(f"{len(MAPPING)} event types; any other type maps to Entity Management (3004) by its verb.")
    _print_drift(settings)
    return EXIT_OK


def _print_drift(settings: Settings | None) -> None:
    from connector.drift import load_drift

    if settings is None:
        return
    seen = load_drift(settings.drift.path)
    if not seen["types"] and not seen["keys"]:
        print(f"no unmapped event types or payload keys seen ({settings.drift.path})")
        return
    print(f"\nseen without a specific mapping ({settings.drift.path}):")
    for name, first in sorted(seen["types"].items()):
        print(f"  type {name:50} first seen {first}")
    for name, first in sorted(seen["keys"].items()):
        print(f"  key  {name:50} first seen {first}")


def cmd_dlq(args: argparse.Namespace, settings: Settings) -> int:
    from connector.metrics import Metrics
    from connector.normalize import make_normalizer
    from connector.replay import replay_file, replay_topic
    from connector.sinks import make_sink

    org = settings.openai.organization_id
    normalizer = make_normalizer(settings.output.format, org_id=org)
    sink = make_sink(
        settings.sink,
        output_format=settings.output.format,
        org_id=org,
        metrics=Metrics(),
        stop=threading.Event(),
    )
    try:
        replay = replay_topic if settings.dead_letter.type == "kafka" else replay_file
        result = replay(settings, normalizer, sink)
    finally:
        sink.close()
    where = settings.dead_letter.topic if settings.dead_letter.type == "kafka" else settings.dead_letter.path
    print(f"replayed {result.replayed} event(s); {result.still_failing} still failing, kept in {where}")
    return EXIT_OK if result.still_failing == 0 else EXIT_FATAL


def cmd_healthcheck(args: argparse.Namespace, settings: Settings) -> int:
    import httpx

    host = settings.metrics.host if settings.metrics.host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
    url = f"http://{host}:{settings.metrics.port}/{'readyz' if args.ready else 'healthz'}"
    try:
        response = httpx.get(url, timeout=5.0)
    except httpx.HTTPError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return EXIT_FATAL
    print(f"{response.status_code} {response.text.strip()}")
    return EXIT_OK if response.status_code == 200 else EXIT_FATAL


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from connector.demo import run_demo

    return run_demo(args, settings)


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


_COMMANDS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "run": cmd_run,
    "demo": cmd_demo,
    "backfill": cmd_backfill,
    "state": cmd_state,
    "reconcile": cmd_reconcile,
    "check": cmd_check,
    "simulator": cmd_simulator,
    "mapping": cmd_mapping,
    "dlq": cmd_dlq,
    "healthcheck": cmd_healthcheck,
}


if __name__ == "__main__":
    raise SystemExit(main())
