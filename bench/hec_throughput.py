"""Throughput of the Splunk HEC sink into the test HEC receiver over loopback, acks on versus off, one run.

Usage: .venv/bin/python bench/hec_throughput.py [--events 50000]
The receiver acknowledges after 50 ms (a quick indexer); the sink polls acks every 50 ms here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.config import SinkSettings
from connector.metrics import Metrics
from connector.models import OutputRecord
from connector.normalize.ocsf import OcsfNormalizer
from connector.serialize import dumps
from connector.simulator import generate_events
from connector.sinks.splunk_hec import SplunkHecSink
from tests.hec_receiver import HecReceiver, HecToken

TOKEN = "5f1b7c3e-0d2a-4b6e-9f8a-1c2d3e4f5a6b"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=5000, help="events handed to publish() at once")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    normalizer = OcsfNormalizer(org_id="org-bench")
    events = generate_events(args.events, start=1_700_000_000, end=1_700_000_000 + 30 * 86400, seed=1)
    records = [
        OutputRecord(e["id"], dumps(normalizer.normalize(e)), e["type"], e["effective_at"]) for e in events
    ]
    chunks = [records[i : i + args.batch] for i in range(0, len(records), args.batch)]
    rates: dict[str, list[float]] = {"ack on": [], "ack off": []}
    for _ in range(args.runs):
        for mode, ack in (("ack on", True), ("ack off", False)):
            with HecReceiver([HecToken(TOKEN, use_ack=ack)], ack_delay_s=0.05) as hec:
                settings = SinkSettings(
                    type="splunk_hec", url=hec.url, token=TOKEN, ack=ack, ack_poll_interval=0.05
                )
                sink = SplunkHecSink(
                    settings,
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
                assert len(hec.indexed_events()) == len(records)
    print(
        f"{len(records)} OCSF events to the HEC receiver on loopback, publish() batches of {args.batch}, "
        f"HEC requests of 500 events, gzip, {args.runs} runs, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}"
    )
    for mode, values in rates.items():
        print(
            f"  {mode:8} median {statistics.median(values):>9,.0f} events/s  (runs: "
            + ", ".join(f"{v:,.0f}" for v in values)
            + ")"
        )
    print(
        f"  ack on / ack off = {statistics.median(rates['ack on']) / statistics.median(rates['ack off']):.2f}"
    )


if __name__ == "__main__":
    main()
