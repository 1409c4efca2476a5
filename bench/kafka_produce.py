"""Produce throughput into a real broker: the Kafka sink (acks=all, idempotent, zstd), with and
without transactions, on the same pre-normalized records in one run.

Usage: .venv/bin/python bench/kafka_produce.py [--events 100000] [--batch 5000]
Uses KAFKA_BOOTSTRAP_SERVERS if set, else starts scripts/kafka-local on a free port with a
temporary data dir and stops it afterwards.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connector.config import CheckpointSettings, SinkSettings
from connector.models import Checkpoint, OutputRecord
from connector.normalize.ocsf import OcsfNormalizer
from connector.serialize import dumps
from connector.simulator import generate_events
from connector.sinks.kafka import KafkaSink
from connector.sinks.kafka_txn import KafkaTransactionalDelivery

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def broker() -> Iterator[str]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, KAFKA_LOCAL_DATA=data, KAFKA_LOCAL_PORT=str(port))
        out = subprocess.run(
            [ROOT / "scripts/kafka-local", "start"], env=env, check=True, capture_output=True
        )
        try:
            yield out.stdout.decode().strip().splitlines()[-1]
        finally:
            subprocess.run([ROOT / "scripts/kafka-local", "stop", "--wipe"], env=env, check=False)


def create(bootstrap: str, name: str, compacted: bool = False) -> str:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    configs = {"cleanup.policy": "compact"} if compacted else {}
    admin.create_topics([NewTopic(name, 1 if compacted else 3, 1, topic_configs=configs)])
    admin.close()
    return name


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    normalizer = OcsfNormalizer(org_id="org-bench")
    events = generate_events(args.events, start=1_700_000_000, end=1_700_000_000 + 30 * 86400, seed=1)
    records = [
        OutputRecord(e["id"], dumps(normalizer.normalize(e)), e["type"], e["effective_at"]) for e in events
    ]
    batches = [records[i : i + args.batch] for i in range(0, len(records), args.batch)]
    size = sum(len(r.value) for r in records) / len(records)
    results: dict[str, list[float]] = {"at-least-once": [], "transactional": []}
    with broker() as bootstrap:
        for _ in range(args.runs):
            topic = create(bootstrap, f"bench-{uuid.uuid4().hex[:8]}")
            settings = SinkSettings(type="kafka", bootstrap_servers=[bootstrap], topic=topic)
            sink = KafkaSink(settings, output_format="ocsf", org_id="org-bench")
            started = time.perf_counter()
            for batch in batches:
                sink.publish(batch)
            results["at-least-once"].append(len(records) / (time.perf_counter() - started))
            sink.close()

            topic = create(bootstrap, f"bench-{uuid.uuid4().hex[:8]}")
            checkpoints = create(bootstrap, f"bench-cp-{uuid.uuid4().hex[:8]}", compacted=True)
            settings = SinkSettings(type="kafka", bootstrap_servers=[bootstrap], topic=topic)
            delivery = KafkaTransactionalDelivery(
                settings,
                CheckpointSettings(
                    backend="kafka", topic=checkpoints, namespace=f"bench-{uuid.uuid4().hex[:6]}"
                ),
                output_format="ocsf",
                org_id="org-bench",
            )
            delivery.prepare("default")
            started = time.perf_counter()
            for n, batch in enumerate(batches):
                delivery.deliver(batch, Checkpoint(stream="default", watermark=n), rejected=lambda r: None)
            results["transactional"].append(len(records) / (time.perf_counter() - started))
            delivery.close()
    print(
        f"{len(records)} OCSF records, {size:.0f} B average, batches of {args.batch}, {args.runs} runs, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, acks=all, idempotent, zstd"
    )
    for mode, rates in results.items():
        print(
            f"  {mode:14} median {statistics.median(rates):>9,.0f} events/s  (runs: "
            + ", ".join(f"{r:,.0f}" for r in rates)
            + ")"
        )
    ratio = statistics.median(results["transactional"]) / statistics.median(results["at-least-once"])
    print(f"  transactional / at-least-once = {ratio:.2f}")


if __name__ == "__main__":
    main()
