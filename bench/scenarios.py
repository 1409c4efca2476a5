"""The benchmark scenarios (issue 8, a-g); each returns a ``Result`` with medians of several runs.

    a  normalizer only: events/s per output format, serialization included
    b  end-to-end ``connector run --once`` into the file sink versus the floor pipeline
    c  backfill with 100 ms latency per page: 1 worker versus several
    d  peak RSS of a 100,000-event and a 1,000,000-event backfill
    e  Kafka sink: acks=all, zstd, with and without transactions
    f  Splunk HEC sink: indexer acknowledgement on and off
    g  freshness: event visible in the API → line in the sink, in steady state

Where a scenario compares variants, their runs alternate (A, B, A, B, …), so a
noisy neighbour hurts both alike; compare ratios within one run of the harness.
"""

from __future__ import annotations

import contextlib
import gc
import os
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from bench.common import (
    DAY_S,
    KEY,
    ROOT,
    Bar,
    ConnectorRun,
    ProcessStats,
    Result,
    Simulator,
    Skip,
    connector_env,
    connector_once,
    count_lines,
    cpu_seconds,
    median,
    python,
    rate,
    run_process,
    runs_text,
    simulator,
)
from bench.floor import FloorStats
from connector.config import PollSettings
from connector.gc_tuning import tune_gc


@dataclass(frozen=True, slots=True)
class Config:
    """Sizes and repetitions; ``QUICK`` and ``SMOKE`` are smaller variants."""

    runs: int = 3
    normalizer_events: int = 20_000
    e2e_events: int = 100_000
    e2e_days: float = 30
    backfill_events: int = 20_000
    backfill_days: float = 30
    backfill_latency_s: float = 0.1
    backfill_workers: tuple[int, ...] = (1, 4, 8)
    memory_events: tuple[int, ...] = (100_000, 1_000_000)
    memory_days: float = 30
    memory_budget_s: float = 420
    kafka_events: int = 100_000
    kafka_batch: int = PollSettings.model_fields["slice_events"].default  # the pipeline publishes a slice
    hec_events: int = 20_000
    hec_batch: int = 5_000
    freshness_s: float = 45
    freshness_warmup_s: float = 10
    freshness_interval_s: float = 5
    freshness_rate: float = 5
    freshness_settle_s: float | None = None  # None: the connector's default


FULL = Config()
QUICK = replace(
    FULL, runs=1, memory_events=(100_000,), kafka_events=30_000, hec_events=10_000, freshness_s=30
)
SMOKE = replace(
    FULL,
    runs=1,
    normalizer_events=300,
    e2e_events=500,
    e2e_days=2,
    backfill_events=300,
    backfill_days=2,
    backfill_latency_s=0.01,
    backfill_workers=(1, 2),
    memory_events=(300,),
    memory_days=2,
    hec_events=300,
    hec_batch=100,
    freshness_s=4,
    freshness_warmup_s=0,
    freshness_interval_s=1,
    freshness_rate=5,
    freshness_settle_s=0,
)


def _events(count: int, days: float = 30) -> list[dict[str, Any]]:
    from connector.simulator import generate_events

    start = 1_700_000_000
    return generate_events(count, start=start, end=start + int(days * DAY_S), seed=1)


# -- (a) normalizer only --------------------------------------------------------------------------------


def normalizer(cfg: Config) -> Result:
    """Events/s of ``normalize`` + ``dumps`` per output format, in this process, on one core.

    The collector runs as it does in the connector's normalizer processes
    (``connector.gc_tuning``), with the input events frozen like start-up objects: a
    normalizer process holds one slice at a time, not 20,000 events for the collector
    to scan again and again. This process's own settings come back afterwards.
    """
    events = _events(cfg.normalizer_events)
    thresholds = gc.get_threshold()
    tune_gc()
    try:
        return _normalizer(cfg, events)
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


NORMALIZER_ROUNDS = 7
"""(a) times every format once per round, formats interleaved: a slow spell of this shared
machine (they last seconds) then lands on every row, not on one format's runs."""


def _normalizer(cfg: Config, events: list[dict[str, Any]]) -> Result:
    from connector.normalize import make_normalizer
    from connector.serialize import dumps

    result = Result(
        key="a",
        title="Normalizer only (one core, in process)",
        columns=[
            "format",
            "events/s",
            "µs/event",
            "of which dumps µs",
            "× the JSON reference",
            "runs (events/s)",
        ],
        unit="events/s",
        target="OCSF ≥ 60,000 events/s on one core",
        target_line=60_000,
    )
    normalizers = {}
    for fmt in ("ocsf", "ecs", "raw"):
        try:
            normalizers[fmt] = make_normalizer(fmt, org_id="org-bench").normalize
        except Exception as exc:
            result.notes.append(f"{fmt}: skipped, make_normalizer raised {type(exc).__name__}: {exc}")
    for normalize in normalizers.values():
        for event in events[:200]:  # warm-up: imports, caches
            dumps(normalize(event))
    raws = [orjson.dumps(event) for event in events]
    rates: dict[str, list[float]] = {fmt: [] for fmt in [*normalizers, "reference"]}
    dump_us: dict[str, list[float]] = {fmt: [] for fmt in normalizers}
    rounds = NORMALIZER_ROUNDS if cfg.runs > 1 else 1
    for _ in range(rounds):
        for fmt, normalize in normalizers.items():
            started = time.perf_counter()
            for event in events:
                dumps(normalize(event))
            rates[fmt].append(len(events) / (time.perf_counter() - started))
            docs = [normalize(event) for event in events]
            started = time.perf_counter()
            for doc in docs:
                dumps(doc)
            dump_us[fmt].append((time.perf_counter() - started) / len(docs) * 1e6)
            del docs
        started = time.perf_counter()
        for raw in raws:
            orjson.dumps(orjson.loads(raw))
        rates["reference"].append(len(raws) / (time.perf_counter() - started))
    reference = median(rates["reference"])
    for fmt in normalizers:
        best = median(rates[fmt])
        result.rows.append(
            [
                fmt,
                rate(best),
                f"{1e6 / best:.1f}",
                f"{median(dump_us[fmt]):.1f}",
                f"{best / reference:.2f}×",
                runs_text(rates[fmt]),
            ]
        )
        result.bars.append(Bar(fmt, best))
    result.rows.append(
        [
            "(reference) orjson loads + dumps",
            rate(reference),
            f"{1e6 / reference:.1f}",
            "",
            "1.00×",
            runs_text(rates["reference"]),
        ]
    )
    result.bars.append(Bar("orjson\nround trip", reference))
    ocsf = next((b.value for b in result.bars if b.label == "ocsf"), None)
    result.headline = f"OCSF: {rate(ocsf)} events/s" if ocsf else "OCSF normalizer unavailable"
    result.notes.append(
        f"{len(events):,} simulator events of all 145 types, normalized and serialized "
        "(connector.serialize.dumps) one after another; the reference row is the JSON cost alone."
    )
    result.notes.append(
        f"{rounds} rounds; each round times every format once, in turn, and the reference, so a slow "
        "spell of the machine lands on every row. The figure is the median of a format's rounds."
    )
    return result


# -- (b) end to end versus the floor -------------------------------------------------------------------------


def floor_once(sim: Simulator) -> tuple[ProcessStats, FloorStats]:
    """Run bench/floor.py as a child against ``sim``; the same window as a first ``run --once``."""
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        now = int(time.time())
        start = now - int(sim.days * DAY_S) - 3600
        out = Path(tmp) / "events.ndjson"
        argv = python(
            str(ROOT / "bench" / "floor.py"),
            "--url",
            sim.url,
            "--key",
            KEY,
            "--start",
            str(start),
            "--end",
            str(now + 1),
            "--out",
            str(out),
        )
        stats = run_process(argv, cwd=Path(tmp))
        if stats.returncode != 0:
            raise RuntimeError(f"floor pipeline failed: {stats.stderr[-2000:]}")
        floor = FloorStats(**orjson.loads(stats.stdout.strip().splitlines()[-1]))
        lines = count_lines(out) if out.exists() else 0
    if lines != sim.events or floor.events != sim.events:
        raise RuntimeError(f"the floor wrote {lines} events, the simulator holds {sim.events}")
    return stats, floor


def end_to_end(cfg: Config) -> Result:
    """``connector run --once`` (OCSF, file sink) versus the floor, alternating, same simulator."""
    result = Result(
        key="b",
        title=f"End to end into the file sink, {cfg.e2e_events:,} events, no API latency",
        columns=[
            "pipeline",
            "wall s",
            "events/s",
            "start-up s",
            "events/s after start-up",
            "CPU s",
            "simulator CPU s",
            "peak RSS MB",
            "runs (events/s)",
        ],
        unit="events/s",
        target="OCSF ≥ 0.5× the floor and ≥ 25,000 events/s",
        target_line=25_000,
    )
    connector: list[ConnectorRun] = []
    floors: list[ProcessStats] = []
    sim_cpu: dict[str, list[float]] = {"connector": [], "floor": []}
    with (
        simulator(events=0, days=cfg.e2e_days) as empty,
        simulator(events=cfg.e2e_events, days=cfg.e2e_days) as sim,
    ):
        connector_once(sim)  # warm-up: page cache, bytecode
        for _ in range(cfg.runs):
            before = cpu_seconds(sim.pid)
            connector.append(connector_once(sim))
            middle = cpu_seconds(sim.pid)
            floors.append(floor_once(sim)[0])
            sim_cpu["connector"].append(middle - before)
            sim_cpu["floor"].append(cpu_seconds(sim.pid) - middle)
        # Fixed cost: interpreter, imports, settings, and one empty request per window and stream.
        connector_fixed = median([connector_once(empty).stats.wall_s for _ in range(cfg.runs)])
        floor_fixed = median([floor_once(empty)[0].wall_s for _ in range(cfg.runs)])
    n = cfg.e2e_events
    c_rates = [n / r.stats.wall_s for r in connector]
    f_rates = [n / s.wall_s for s in floors]
    c_wall, f_wall = median([r.stats.wall_s for r in connector]), median([s.wall_s for s in floors])
    c_net, f_net = n / max(c_wall - connector_fixed, 1e-9), n / max(f_wall - floor_fixed, 1e-9)
    result.rows += [
        [
            "connector run --once (OCSF)",
            f"{c_wall:.2f}",
            rate(n / c_wall),
            f"{connector_fixed:.2f}",
            rate(c_net),
            f"{median([r.stats.cpu_s for r in connector]):.1f}",
            f"{median(sim_cpu['connector']):.1f}",
            f"{median([r.stats.peak_rss_mb for r in connector]):.0f}",
            runs_text(c_rates),
        ],
        [
            "floor (httpx + orjson + write)",
            f"{f_wall:.2f}",
            rate(n / f_wall),
            f"{floor_fixed:.2f}",
            rate(f_net),
            f"{median([s.cpu_s for s in floors]):.1f}",
            f"{median(sim_cpu['floor']):.1f}",
            f"{median([s.peak_rss_mb for s in floors]):.0f}",
            runs_text(f_rates),
        ],
    ]
    ratio, net_ratio = f_wall / c_wall, c_net / f_net
    result.rows.append(["connector / floor", "", f"{ratio:.2f}×", "", f"{net_ratio:.2f}×", "", "", "", ""])
    result.bars += [Bar("connector", n / c_wall), Bar("floor", n / f_wall)]
    result.headline = (
        f"connector {rate(n / c_wall)} events/s = {ratio:.2f}× the floor ({rate(n / f_wall)} events/s); "
        f"after start-up {net_ratio:.2f}×"
    )
    result.notes += [
        "Both run as child processes against the same simulator process and read the same pages: "
        "both streams (default, tenant_only), day-long windows, limit=100, after=last_id. Wall time "
        "includes interpreter start.",
        "Start-up is the median wall time of the same command against an empty simulator (imports, "
        "settings, one empty page per window and stream); 'after start-up' divides by wall minus that.",
        "The connector uses its defaults (workers, slice size, fsync per slice); the floor reads one page "
        "at a time and fsyncs once per window. CPU s is user + system time of the child; simulator CPU s "
        "is what the simulator process used meanwhile (well under the wall time: it is not the bottleneck).",
    ]
    return result


# -- (c) backfill with latency ----------------------------------------------------------------------------


def backfill(cfg: Config) -> Result:
    """Backfill rate with per-page latency, by ``CONNECTOR_BACKFILL__WORKERS``, start-up excluded."""
    result = Result(
        key="c",
        title=(
            f"Backfill with {cfg.backfill_latency_s * 1000:.0f} ms per page, {cfg.backfill_events:,} events "
            f"over {cfg.backfill_days:g} days"
        ),
        columns=[
            "workers",
            "wall s",
            "backfill s",
            "events/s",
            "speed-up vs 1 worker",
            "wall speed-up",
            "CPU s",
            "runs (s)",
        ],
        unit="speed-up vs 1 worker",
        target="8 workers ≥ 6× one worker",
        target_line=6,
    )
    done: dict[int, list[ProcessStats]] = {w: [] for w in cfg.backfill_workers}
    startup: list[float] = []
    rejected: dict[int, str] = {}
    with (
        simulator(events=0, days=cfg.backfill_days) as empty,
        simulator(
            events=cfg.backfill_events, days=cfg.backfill_days, latency_s=cfg.backfill_latency_s
        ) as sim,
    ):
        for _ in range(cfg.runs):
            startup.append(connector_once(empty).stats.wall_s)
            for workers in cfg.backfill_workers:
                if workers in rejected:
                    continue
                try:
                    run = connector_once(sim, extra={"CONNECTOR_BACKFILL__WORKERS": str(workers)})
                except Skip as exc:
                    rejected[workers] = str(exc)
                    continue
                done[workers].append(run.stats)
    start_s = median(startup)

    def busy_s(wall: float) -> float:
        """Wall time minus start-up; tiny runs (the smoke test's) can end within start-up's noise."""
        return max(wall - start_s, 1e-3)

    base = median([s.wall_s for s in done[1]]) if done.get(1) else None
    for workers, stats in done.items():
        if not stats:
            result.rows.append([str(workers), "rejected", "", "", "", "", "", rejected.get(workers, "")])
            continue
        walls = [s.wall_s for s in stats]
        wall = median(walls)
        busy = busy_s(wall)
        speedup = busy_s(base) / busy if base else float("nan")
        result.rows.append(
            [
                str(workers),
                f"{wall:.2f}",
                f"{busy:.2f}",
                rate(cfg.backfill_events / busy),
                f"{speedup:.2f}×",
                f"{base / wall:.2f}×" if base else "",
                f"{median([s.cpu_s for s in stats]):.1f}",
                runs_text(walls, "{:.2f}"),
            ]
        )
        result.bars.append(Bar(f"{workers} worker{'s' if workers > 1 else ''}", speedup))
    if base and len(result.bars) > 1:
        best = max(result.bars[1:], key=lambda b: b.value)
        result.headline = f"{best.label}: {best.value:.2f}× the single-worker backfill rate"
    result.notes.append(
        "First run (`connector run --once`, lookback over the whole history) in OCSF into the file sink; "
        "the simulator sleeps before every response, concurrent requests sleep concurrently."
    )
    result.notes.append(
        f"Backfill s is wall time minus start-up ({start_s:.2f} s: the same command against an empty "
        "simulator without latency, i.e. interpreter start, imports, settings and one empty page per "
        "window); the speed-up compares backfill rates. Wall speed-up includes start-up."
    )
    return result


# -- (d) memory ---------------------------------------------------------------------------------------------


def memory(cfg: Config) -> Result:
    """Peak RSS of the connector child for backfills of different sizes (the simulator is another process)."""
    result = Result(
        key="d",
        title=f"Peak RSS of a first-run backfill over {cfg.memory_days:g} days (OCSF, file sink)",
        columns=["events", "peak RSS MB", "wall s", "events/s", "runs", "runs (MB)"],
        unit="peak RSS MB",
        target="1,000,000 events ≤ 1.25× the peak for 100,000, and < 250 MB",
        target_line=250,
    )
    peaks: dict[int, float] = {}
    for events in cfg.memory_events:
        stats: list[ProcessStats] = []
        with simulator(events=events, days=cfg.memory_days) as sim:
            began = time.monotonic()
            for _ in range(cfg.runs):
                stats.append(connector_once(sim).stats)
                # Another run only if it should end within the budget.
                if time.monotonic() - began + stats[-1].wall_s > cfg.memory_budget_s:
                    break
        peak = median([s.peak_rss_mb for s in stats])
        wall = median([s.wall_s for s in stats])
        peaks[events] = peak
        result.rows.append(
            [
                f"{events:,}",
                f"{peak:.0f}",
                f"{wall:.1f}",
                rate(events / wall),
                str(len(stats)),
                runs_text([s.peak_rss_mb for s in stats]),
            ]
        )
        result.bars.append(Bar(f"{events:,}", peak))
        if len(stats) < cfg.runs:
            result.notes.append(
                f"{events:,} events: {len(stats)} run(s), "
                f"the time budget of {cfg.memory_budget_s:.0f}s ran out"
            )
    sizes = sorted(peaks)
    if len(sizes) > 1:
        ratio = peaks[sizes[-1]] / peaks[sizes[0]]
        result.headline = f"peak RSS {sizes[-1]:,} / {sizes[0]:,} events = {ratio:.2f}×"
        result.rows.append([f"{sizes[-1]:,} / {sizes[0]:,}", f"{ratio:.2f}×", "", "", "", ""])
    else:
        result.headline = f"peak RSS for {sizes[0]:,} events: {peaks[sizes[0]]:.0f} MB"
        result.notes.append("only one size measured (--quick skips 1,000,000 events)")
    result.notes.append(
        "Peak RSS is the sum of the VmHWM of the connector and every process under it (its normalizer "
        "process and multiprocessing's resource tracker; each process's high-water mark, read every 20 ms; "
        "the sum bounds the tree's peak from above); the simulator runs in its own process and builds its "
        "store lazily (build_store)."
    )
    return result


# -- (e) Kafka ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def kafka_broker() -> Iterator[str]:
    """``KAFKA_BOOTSTRAP_SERVERS``, or scripts/kafka-local on a free port with a temporary data dir."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = ROOT / "scripts" / "kafka-local"
    with tempfile.TemporaryDirectory(prefix="bench-kafka-") as data:
        env = dict(os.environ, KAFKA_LOCAL_DATA=data, KAFKA_LOCAL_PORT=str(port))
        out = subprocess.run([script, "start"], env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            subprocess.run([script, "stop", "--wipe"], env=env, capture_output=True, check=False)
            raise Skip(f"scripts/kafka-local start failed: {out.stderr.strip()[-300:]}")
        try:
            yield out.stdout.strip().splitlines()[-1]
        finally:
            subprocess.run([script, "stop", "--wipe"], env=env, capture_output=True, check=False)


def _records(count: int) -> list[Any]:
    from connector.models import OutputRecord
    from connector.normalize import make_normalizer
    from connector.serialize import dumps

    norm = make_normalizer("ocsf", org_id="org-bench")
    records = []
    for event in _events(count):
        doc = norm.normalize(event)
        records.append(
            OutputRecord(event["id"], dumps(doc), event["type"], event["effective_at"], doc.get("class_uid"))
        )
    return records


def _create_topic(bootstrap: str, name: str, *, compacted: bool = False) -> str:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        configs = {"cleanup.policy": "compact"} if compacted else {}
        admin.create_topics([NewTopic(name, 1 if compacted else 3, 1, topic_configs=configs)])
    finally:
        admin.close()
    return name


def _at_least_once(bootstrap: str, batches: list[list[Any]], warm_up: list[Any]) -> tuple[float, str]:
    """Events/s of one pass of ``batches`` through a new KafkaSink, after an unmeasured ``warm_up``."""
    from connector.config import SinkSettings
    from connector.sinks.kafka import KafkaSink

    topic = _create_topic(bootstrap, f"bench-{uuid.uuid4().hex[:8]}")
    sink = KafkaSink(
        SinkSettings(type="kafka", bootstrap_servers=[bootstrap], topic=topic),
        output_format="ocsf",
        org_id="org-bench",
    )
    try:
        sink.publish(warm_up)
        started = time.perf_counter()
        for batch in batches:
            sink.publish(batch)
        events_per_s = sum(len(b) for b in batches) / (time.perf_counter() - started)
        return events_per_s, "direct" if sink._sender is not None and sink._sender.direct else "send()"
    finally:
        sink.close()


def kafka(cfg: Config) -> Result:
    """Events/s into a real broker through the Kafka sink, at-least-once versus transactional."""
    from connector.config import CheckpointSettings, SinkSettings
    from connector.models import Checkpoint
    from connector.sinks.kafka_txn import KafkaTransactionalDelivery

    records = _records(cfg.kafka_events)
    batches = [records[i : i + cfg.kafka_batch] for i in range(0, len(records), cfg.kafka_batch)]
    size = sum(len(r.value) for r in records) / len(records)
    result = Result(
        key="e",
        title=f"Kafka sink, {len(records):,} OCSF records, acks=all, idempotent, zstd",
        columns=["mode", "events/s", "runs (events/s)"],
        unit="events/s",
        target="≥ 25,000 events/s with acks=all",
        target_line=25_000,
    )
    rates: dict[str, list[float]] = {"at-least-once": [], "transactional": []}
    paths: set[str] = set()
    warm_up = records[: min(100, len(records))]
    with kafka_broker() as bootstrap:
        # A fresh broker's first records meet a cold JVM and new log segments: warm it once, unmeasured.
        _at_least_once(bootstrap, batches, warm_up)
        for _ in range(cfg.runs):
            events_per_s, path = _at_least_once(bootstrap, batches, warm_up)
            rates["at-least-once"].append(events_per_s)
            paths.add(path)

            topic = _create_topic(bootstrap, f"bench-{uuid.uuid4().hex[:8]}")
            checkpoints = _create_topic(bootstrap, f"bench-cp-{uuid.uuid4().hex[:8]}", compacted=True)
            delivery = KafkaTransactionalDelivery(
                SinkSettings(type="kafka", bootstrap_servers=[bootstrap], topic=topic),
                CheckpointSettings(
                    backend="kafka", topic=checkpoints, namespace=f"bench-{uuid.uuid4().hex[:6]}"
                ),
                output_format="ocsf",
                org_id="org-bench",
            )
            delivery.prepare("default")
            delivery.deliver(warm_up, Checkpoint(stream="default", watermark=-1), rejected=lambda r: None)
            started = time.perf_counter()
            for n, batch in enumerate(batches):
                delivery.deliver(batch, Checkpoint(stream="default", watermark=n), rejected=lambda r: None)
            rates["transactional"].append(len(records) / (time.perf_counter() - started))
            delivery.close()
    for mode, values in rates.items():
        result.rows.append([mode, rate(median(values)), runs_text(values)])
        result.bars.append(Bar(mode, median(values)))
    ratio = median(rates["transactional"]) / median(rates["at-least-once"])
    result.rows.append(["transactional / at-least-once", f"{ratio:.2f}×", ""])
    result.headline = (
        f"{rate(median(rates['at-least-once']))} events/s at-least-once, "
        f"{rate(median(rates['transactional']))} transactional ({ratio:.2f}×)"
    )
    result.notes.append(
        f"Pre-normalized records of {size:.0f} B on average, publish() batches of {cfg.kafka_batch:,}; "
        "the transactional mode commits a checkpoint to a compacted topic in each transaction. "
        "Each mode first connects and sends 100 records unmeasured, and the broker is warmed by one "
        "unmeasured at-least-once pass before the runs. "
        "Single-node local broker (scripts/kafka-local), 3 partitions, replication 1."
    )
    import kafka

    result.notes.append(
        f"kafka-python {kafka.__version__}; records handed over "
        + (
            "straight into producer batches (the direct path)"
            if paths == {"direct"}
            else "through KafkaProducer.send() (the direct path was not used)"
        )
        + "."
    )
    return result


# -- (f) Splunk HEC -----------------------------------------------------------------------------------------


def hec(cfg: Config) -> Result:
    """Events/s through the HEC sink into the test receiver on loopback, acks on versus off."""
    from connector.config import SinkSettings
    from connector.metrics import Metrics
    from connector.sinks.splunk_hec import SplunkHecSink
    from tests.hec_receiver import HecReceiver, HecToken

    token = "5f1b7c3e-0d2a-4b6e-9f8a-1c2d3e4f5a6b"
    records = _records(cfg.hec_events)
    chunks = [records[i : i + cfg.hec_batch] for i in range(0, len(records), cfg.hec_batch)]
    result = Result(
        key="f",
        title=f"Splunk HEC sink, {len(records):,} OCSF events into the test receiver on loopback",
        columns=["mode", "events/s", "runs (events/s)"],
        unit="events/s",
    )
    rates: dict[str, list[float]] = {"ack on": [], "ack off": []}
    for _ in range(cfg.runs):
        for mode, ack in (("ack on", True), ("ack off", False)):
            with HecReceiver([HecToken(token, use_ack=ack)], ack_delay_s=0.05) as receiver:
                sink = SplunkHecSink(
                    SinkSettings(
                        type="splunk_hec", url=receiver.url, token=token, ack=ack, ack_poll_interval=0.05
                    ),
                    output_format="ocsf",
                    org_id="org-bench",
                    metrics=Metrics(),
                    stop=threading.Event(),
                )
                started = time.perf_counter()
                for chunk in chunks:
                    sink.publish(chunk)
                rates[mode].append(len(records) / (time.perf_counter() - started))
                sink.close()
                indexed = len(receiver.indexed_events())
                if indexed != len(records):
                    raise RuntimeError(f"HEC receiver indexed {indexed} of {len(records)} events")
    for mode, values in rates.items():
        result.rows.append([mode, rate(median(values)), runs_text(values)])
        result.bars.append(Bar(mode, median(values)))
    ratio = median(rates["ack on"]) / median(rates["ack off"])
    result.rows.append(["ack on / ack off", f"{ratio:.2f}×", ""])
    result.headline = f"{rate(median(rates['ack on']))} events/s with acks ({ratio:.2f}× without)"
    result.notes.append(
        f"publish() batches of {cfg.hec_batch:,}; the receiver (tests/hec_receiver.py) runs in the harness "
        "process and acknowledges after 50 ms; the sink polls acks every 50 ms here."
    )
    return result


# -- (g) freshness ------------------------------------------------------------------------------------------


class _Tail:
    """Follows an NDJSON file of OCSF documents; records when each event id first appears."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.seen: dict[str, float] = {}
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-tail", daemon=True)

    def __enter__(self) -> _Tail:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        buffer = b""
        handle = None
        try:
            while not self._stop.wait(0.01):
                if handle is None:
                    if not self.path.exists():
                        continue
                    handle = self.path.open("rb")
                chunk = handle.read()
                if not chunk:
                    continue
                now = self._clock()
                *lines, buffer = (buffer + chunk).split(b"\n")
                for line in lines:
                    if line:
                        uid = orjson.loads(line)["metadata"]["uid"]
                        self.seen.setdefault(uid, now)
        finally:
            if handle is not None:
                handle.close()


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _freshness_run(cfg: Config) -> tuple[list[float], int]:
    """One steady-state run; returns the freshness of every measured event and how many never arrived."""
    from connector.config import PollSettings
    from connector.simulator import EventFactory, EventStore, SimulatorServer

    settle = PollSettings().settle if cfg.freshness_settle_s is None else cfg.freshness_settle_s
    store = EventStore()
    factory = EventFactory(seed=7, stream="live")
    visible: dict[str, float] = {}
    stop_feed = threading.Event()

    def feed() -> None:
        began, done = time.monotonic(), 0
        while not stop_feed.wait(0.02):
            due = int((time.monotonic() - began) * cfg.freshness_rate) - done
            for _ in range(due):
                event = factory.make(int(time.time()))
                store.add(event)
                visible[event["id"]] = time.time()
                done += 1

    with (
        tempfile.TemporaryDirectory(prefix="bench-fresh-") as tmp,
        SimulatorServer(store, admin_key=KEY) as server,
    ):
        work = Path(tmp)
        env = connector_env(
            server.url,
            work,
            days=1 / 24,
            extra={
                "CONNECTOR_POLL__INTERVAL": f"{cfg.freshness_interval_s}s",
                "CONNECTOR_POLL__SETTLE": f"{settle}s",
            },
        )
        feeder = threading.Thread(target=feed, name="bench-feed", daemon=True)
        with _Tail(work / "events.ndjson") as tail, (work / "connector.log").open("wb") as log:
            proc = subprocess.Popen(
                python("-m", "connector.cli", "run"), env=env, cwd=work, stdout=log, stderr=log
            )
            started = time.time()
            feeder.start()
            try:
                time.sleep(cfg.freshness_s)
            finally:
                stop_feed.set()
                feeder.join(timeout=5)
                ended = time.time()
                # Let the last events through: one interval plus the settle time plus slack.
                time.sleep(cfg.freshness_interval_s + settle + 2)
                proc.terminate()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            time.sleep(0.1)
        measured = {i: t for i, t in visible.items() if started + cfg.freshness_warmup_s <= t <= ended}
        latencies = [tail.seen[i] - t for i, t in measured.items() if i in tail.seen]
        return latencies, len(measured) - len(latencies)


def freshness(cfg: Config) -> Result:
    """p50/p95 from an event becoming visible in the API to its line in the file sink, in steady state."""
    from connector.config import PollSettings

    result = Result(
        key="g",
        title=(
            f"Freshness in steady state: {cfg.freshness_rate:g} new events/s, poll interval "
            f"{cfg.freshness_interval_s:g} s"
        ),
        columns=["run", "events", "p50 s", "p95 s", "max s", "never arrived"],
        unit="seconds",
        target="p95 ≤ poll interval + 1 s",
        target_line=cfg.freshness_interval_s + 1,
    )
    p50s, p95s, pooled = [], [], []
    for n in range(cfg.runs):
        latencies, missing = _freshness_run(cfg)
        if not latencies:
            raise RuntimeError("no event reached the sink during the freshness run")
        p50s.append(_percentile(latencies, 0.5))
        p95s.append(_percentile(latencies, 0.95))
        pooled += latencies
        result.rows.append(
            [
                str(n + 1),
                str(len(latencies)),
                f"{p50s[-1]:.2f}",
                f"{p95s[-1]:.2f}",
                f"{max(latencies):.2f}",
                str(missing),
            ]
        )
    result.rows.append(["median", "", f"{median(p50s):.2f}", f"{median(p95s):.2f}", f"{max(pooled):.2f}", ""])
    result.bars += [Bar("p50", median(p50s)), Bar("p95", median(p95s))]
    result.headline = (
        f"p50 {median(p50s):.2f} s, p95 {median(p95s):.2f} s "
        f"(poll interval {cfg.freshness_interval_s:g} s, target p95 ≤ {cfg.freshness_interval_s + 1:g} s)"
    )
    settle = PollSettings().settle if cfg.freshness_settle_s is None else cfg.freshness_settle_s
    result.notes += [
        f"`connector run` (OCSF, file sink) with CONNECTOR_POLL__INTERVAL={cfg.freshness_interval_s:g}s "
        f"and CONNECTOR_POLL__SETTLE={settle:g}s (default {PollSettings().settle:g} s: a poll reads up to "
        "server time minus the settle time); the other poll settings at their defaults.",
        "The simulator runs in the harness process and adds events at a steady rate; freshness is the time "
        "from the moment an event is in the store to the moment its line is in the file. The first "
        f"{cfg.freshness_warmup_s:g} s of each {cfg.freshness_s:g} s run are not measured.",
    ]
    return result


SCENARIOS: dict[str, Callable[[Config], Result]] = {
    "a": normalizer,
    "b": end_to_end,
    "c": backfill,
    "d": memory,
    "e": kafka,
    "f": hec,
    "g": freshness,
}
