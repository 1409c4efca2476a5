"""``connector demo``: the simulator on loopback, the real pipeline, an NDJSON file and a live summary."""

from __future__ import annotations

import argparse
import logging
import secrets
import signal
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import FrameType

import orjson

from connector.app import build_app
from connector.config import Settings, load_settings
from connector.normalize.ocsf_enums import CLASS_NAMES
from connector.simulator import EventStore, Faults, LiveFeed, SimulatorServer, generate_events

log = logging.getLogger(__name__)

SUMMARY_EVERY = 5.0


class OutputTally:
    """Reads the NDJSON output as it grows and counts events by type and class."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self.total = 0
        self.by_type: Counter[str] = Counter()
        self.by_class: Counter[str] = Counter()
        self.newest = 0.0

    def update(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            fh.seek(self._offset)
            chunk = fh.read()
        complete = chunk.rfind(b"\n") + 1
        self._offset += complete
        for line in chunk[:complete].splitlines():
            if not line.strip():
                continue
            doc = orjson.loads(line)
            self.total += 1
            event = doc.get("event") if isinstance(doc.get("event"), dict) else {}  # ECS
            metadata = doc.get("metadata") or {}
            self.by_type[metadata.get("event_code") or event.get("action") or doc.get("type", "?")] += 1
            class_uid = doc.get("class_uid")
            if class_uid:
                self.by_class[f"{CLASS_NAMES.get(class_uid, '?')} ({class_uid})"] += 1
            else:
                self.by_class["ECS " + "/".join(event.get("category", [])) if event else "raw"] += 1
            seconds = doc["time"] / 1000 if "time" in doc else doc.get("effective_at", 0)
            if "@timestamp" in doc:
                seconds = datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00")).timestamp()
            self.newest = max(self.newest, float(seconds))


def _demo_settings(args: argparse.Namespace, settings: Settings, base_url: str, key: str) -> Settings:
    out: Path = args.output
    return load_settings(
        args.config,
        openai={
            **settings.openai.model_dump(exclude={"admin_key", "base_url", "lookback"}),
            "base_url": base_url,
            "admin_key": key,
            "lookback": 3 * 86400,
            "organization_id": settings.openai.organization_id or "org-demo",
            "retry_base": 0.2,
        },
        poll={**settings.poll.model_dump(), "interval": 2.0, "settle": 1.0, "overlap": 60.0},
        sink={"type": "file", "path": out / "events.ndjson"},
        checkpoint={"backend": "sqlite", "path": out / "checkpoint.db"},
        dead_letter={"path": out / "dead-letter.ndjson"},
        metrics={"enabled": True, "host": "127.0.0.1", "port": args.metrics_port},
    )


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Run until Ctrl-C or ``--duration``; print a summary every few seconds."""
    key = "sk-admin-demo-" + secrets.token_hex(12)
    _fresh(args.output)
    now = int(time.time())
    store = EventStore()
    store.add_many(generate_events(args.events, start=now - 3 * 86400, end=now, seed=7))
    feed = LiveFeed(store, rate_per_s=args.rate, late_fraction=0.02, max_late_s=30, seed=7)
    server = SimulatorServer(store, admin_key=key, faults=Faults(rate_429=0.02, rate_500=0.01, seed=7))
    server.start()
    feed.start()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    demo = _demo_settings(args, settings, server.url, key)
    log_file = _log_to_file(args.output / "connector.log")
    app = build_app(demo, stop=stop)
    worker = threading.Thread(target=_run_quietly, args=(app,), name="pipeline", daemon=True)
    tally = OutputTally(demo.sink.path)
    metrics_url = f"http://127.0.0.1:{app.server.port}/metrics" if app.server else "(disabled)"
    print(f"simulator: {server.url}/organization/audit_logs ({len(store)} events, +{args.rate}/s, 2% late)")
    print(f"output:    {demo.sink.path}   checkpoint: {demo.checkpoint.path}")
    print(f"log:       {log_file}")
    print(f"metrics:   {metrics_url}   (Ctrl-C to stop)\n", flush=True)
    started = time.monotonic()
    worker.start()
    try:
        while worker.is_alive():
            left = (
                args.duration - (time.monotonic() - started) if args.duration is not None else SUMMARY_EVERY
            )
            if stop.wait(max(0.0, min(SUMMARY_EVERY, left))):
                break
            tally.update()
            _print_summary(tally, started)
            if args.duration is not None and time.monotonic() - started >= args.duration:
                stop.set()
    finally:
        stop.set()
        worker.join(timeout=30)
        feed.stop()
        server.stop()
        app.close()
        tally.update()
        _print_summary(tally, started, final=True)
    return 0


def _fresh(folder: Path) -> None:
    """Each demo has a new simulated organization, so it starts from an empty folder."""
    for name in (
        "events.ndjson",
        "checkpoint.db",
        "checkpoint.db-wal",
        "checkpoint.db-shm",
        "dead-letter.ndjson",
    ):
        (folder / name).unlink(missing_ok=True)


def _log_to_file(path: Path) -> Path:
    """Keep the terminal for the summary: INFO goes to a file, warnings still to stderr."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in root.handlers:
        existing.setLevel(logging.WARNING)
    root.addHandler(handler)
    return path


def _run_quietly(app: object) -> None:
    from connector.app import App

    assert isinstance(app, App)
    try:
        app.runner.run()
    except Exception:
        log.exception("the pipeline stopped with an error")
        app.stop.set()


def _print_summary(tally: OutputTally, started: float, *, final: bool = False) -> None:
    lag = time.time() - tally.newest if tally.newest else float("nan")
    head = "final" if final else f"{time.monotonic() - started:5.0f}s"
    print(f"[{head}] delivered {tally.total} events, lag {lag:.1f}s")
    classes = ", ".join(f"{name}: {n}" for name, n in tally.by_class.most_common())
    print(f"         by class: {classes}")
    top = ", ".join(f"{name}: {n}" for name, n in tally.by_type.most_common(6))
    print(f"         top types ({len(tally.by_type)} seen): {top}", flush=True)
