"""Run every benchmark scenario in one process tree; write bench/results.md and bench/results.png.

Usage:
    .venv/bin/python bench/run.py [--quick] [--only a,b,…] [--runs N] [--output DIR]
    .venv/bin/python bench/run.py --render     # redo results.md/.png from results.json

Scenarios (see bench/scenarios.py): (a) normalizer only, (b) end to end versus the
floor pipeline, (c) backfill with 100 ms latency by worker count, (d) peak RSS for
100,000 and 1,000,000 events, (e) Kafka, (f) Splunk HEC, (g) freshness. Each
reports the median of several runs (3; 1 with --quick, which also skips the
1,000,000-event case). A scenario that cannot run here (no Java for the Kafka
broker, say) is reported as skipped; the others still run. The raw results also
go to results.json. Benchmarks are not tests: nothing here passes or fails on a
figure.
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import json
import shlex
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.common import Result, Skip, machine_facts  # noqa: E402
from bench.scenarios import FULL, QUICK, SCENARIOS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the chosen scenarios, write the results; 1 if a scenario crashed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run each, smaller sizes, no 1M-event case")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenario letters")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3, 1 with --quick)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench", help="folder for results.md/.png")
    parser.add_argument("--render", action="store_true", help="only render results.json again")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other scenarios' results from the existing results.json (redo only --only)",
    )
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads((args.output / "results.json").read_text())
        write(
            args.output,
            [Result.from_json(r) for r in saved["results"]],
            [(k, v) for k, v in saved["facts"]],
            command=saved["command"],
            total_s=saved["total_s"],
            runs=saved["runs"],
        )
        return 0
    chosen = [key.strip() for key in args.only.split(",") if key.strip()]
    unknown = [key for key in chosen if key not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    cfg = QUICK if args.quick else FULL
    if args.runs:
        cfg = dataclasses.replace(cfg, runs=args.runs)

    # An installed connector (pip, the container image) has its bytecode compiled; a
    # source checkout run with PYTHONDONTWRITEBYTECODE=1 would compile every module in
    # every connector and normalizer process it starts, and time that as start-up.
    compileall.compile_dir(ROOT / "connector", quiet=1)
    facts = machine_facts()
    began = time.monotonic()
    results: list[Result] = []
    crashed = False
    for key in chosen:
        scenario = SCENARIOS[key]
        print(f"[bench] ({key}) {scenario.__doc__.splitlines()[0] if scenario.__doc__ else key}", flush=True)
        started = time.monotonic()
        try:
            result = scenario(cfg)
        except Skip as exc:
            result = Result(key=key, title=scenario.__name__, columns=[], skipped=str(exc))
        except Exception as exc:
            traceback.print_exc()
            crashed = True
            result = Result(key=key, title=scenario.__name__, columns=[], skipped=f"failed: {exc!r}"[:500])
        result.elapsed_s = time.monotonic() - started
        results.append(result)
        print(f"[bench] ({key}) {result.skipped or result.headline}  [{result.elapsed_s:.0f}s]", flush=True)

    total = time.monotonic() - began
    command = "bench/run.py" + "".join(f" {shlex.quote(a)}" for a in (sys.argv[1:] if argv is None else argv))
    saved_path = args.output / "results.json"
    if args.merge and saved_path.exists():
        saved = json.loads(saved_path.read_text())
        redone = {r.key for r in results}
        kept = [Result.from_json(r) for r in saved["results"] if r["key"] not in redone]
        results = sorted(kept + results, key=lambda r: list(SCENARIOS).index(r.key))
        command = f"{saved['command']}; then {command}"
        total += saved["total_s"]
    write(args.output, results, facts, command=command, total_s=total, runs=cfg.runs)
    print(f"[bench] total {total / 60:.1f} min")
    return 1 if crashed else 0


def write(
    folder: Path,
    results: list[Result],
    facts: list[tuple[str, str]],
    *,
    command: str,
    total_s: float,
    runs: int,
) -> None:
    """Write results.json, results.png (when matplotlib is there) and results.md into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = {
        "command": command,
        "total_s": total_s,
        "runs": runs,
        "facts": facts,
        "results": [r.to_json() for r in results],
    }
    (folder / "results.json").write_text(json.dumps(saved, indent=1, ensure_ascii=False) + "\n")
    png = folder / "results.png"
    chart: str | None = None
    try:
        date = dict(facts).get("date", "")
        medians = f"medians of {runs} runs" if runs > 1 else "1 run each"
        report.chart(results, png, title=f"openai-audit-connector benchmarks, {date} ({medians})")
        chart = png.name
    except ImportError:
        print("[bench] matplotlib is not installed (scripts/bootstrap bench): no chart", file=sys.stderr)
    md = report.markdown(results, facts, command=command, total_s=total_s, chart=chart)
    (folder / "results.md").write_text(md)
    print(f"[bench] wrote {folder / 'results.md'}" + (f" and {png}" if chart else ""))
    # Only a complete run into the repository's bench/ replaces the published figures.
    complete = folder.resolve() == (ROOT / "bench").resolve() and len(results) == len(SCENARIOS)
    docs = ROOT / "docs" / "performance.md"
    if complete and report.update_docs(docs, report.summary(results, facts, runs=runs)):
        print("[bench] updated the results in docs/performance.md")


if __name__ == "__main__":
    sys.exit(main())
