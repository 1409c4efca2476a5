"""The floor pipeline: the least work that moves the audit log into a file: HTTP, JSON and I/O alone.

It reads the same pages as ``connector run --once`` does on a first run: both
streams (default, then ``tenant_only=true``), day-long windows (the connector's
``max_slice``), ``limit=100``, following ``after=last_id``. It decodes each page
with orjson, re-encodes each event, appends the lines to a file and fsyncs it once
per window, as the file sink does per slice. One request at a time, no retries,
no normalization, no checkpoint.

Run as a child of the harness (``python bench/floor.py --url … --out …``) it prints
one JSON line: events, pages and its own elapsed time (without interpreter start).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import orjson

AUDIT_LOGS_PATH = "/organization/audit_logs"


@dataclass(frozen=True, slots=True)
class FloorStats:
    """What one floor run moved."""

    events: int
    pages: int
    elapsed_s: float


def floor_pipeline(
    url: str,
    key: str,
    *,
    start: int,
    end: int,
    out: Path,
    window_s: int = 86_400,
    limit: int = 100,
    tenant_stream: bool = True,
) -> FloorStats:
    """Fetch every event of ``[start, end)`` from ``url`` and append it to ``out`` as NDJSON."""
    began = time.perf_counter()
    events = pages = 0
    streams = [False, True] if tenant_stream else [False]
    with (
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client,
        out.open("ab") as sink,
    ):
        for tenant_only in streams:
            for low in range(start, end, window_s):
                base = [
                    ("effective_at[gte]", str(low)),
                    ("effective_at[lt]", str(min(low + window_s, end))),
                    ("limit", str(limit)),
                ]
                if tenant_only:
                    base.append(("tenant_only", "true"))
                after: str | None = None
                while True:
                    params = [*base, ("after", after)] if after else base
                    response = client.get(AUDIT_LOGS_PATH, params=params)
                    response.raise_for_status()
                    page = orjson.loads(response.content)
                    data = page["data"]
                    sink.write(b"".join([orjson.dumps(event) + b"\n" for event in data]))
                    events += len(data)
                    pages += 1
                    if not page["has_more"] or not page["last_id"]:
                        break
                    after = page["last_id"]
                sink.flush()
                os.fsync(sink.fileno())
    return FloorStats(events=events, pages=pages, elapsed_s=time.perf_counter() - began)


def main(argv: list[str] | None = None) -> int:
    """Run the floor pipeline once and print its ``FloorStats`` as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="API base URL, ending in /v1")
    parser.add_argument("--key", required=True, help="the Admin key the simulator accepts")
    parser.add_argument("--start", type=int, required=True, help="first Unix second (inclusive)")
    parser.add_argument("--end", type=int, required=True, help="last Unix second (exclusive)")
    parser.add_argument("--out", type=Path, required=True, help="NDJSON file to append to")
    args = parser.parse_args(argv)
    stats = floor_pipeline(args.url, args.key, start=args.start, end=args.end, out=args.out)
    sys.stdout.write(orjson.dumps(asdict(stats)).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
