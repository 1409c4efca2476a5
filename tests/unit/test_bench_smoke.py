"""Smoke test of the benchmark harness (bench/): its scenarios run end to end with tiny sizes.

Benchmarks are not timed tests: nothing here looks at a figure, only at whether the
harness still drives the connector, the simulator and the sinks as they are today.
The Kafka scenario needs a broker and is left to ``bench/run.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench import report
from bench.common import Bar, Result, count_lines
from bench.floor import floor_pipeline
from bench.scenarios import SMOKE, _percentile, backfill, end_to_end, freshness, hec, memory, normalizer
from connector.simulator import EventStore, SimulatorServer, generate_events

KEY = "sk-admin-smoke-0123456789"


def test_normalizer_scenario_reports_every_format_and_the_json_reference() -> None:
    result = normalizer(SMOKE)
    labels = [row[0] for row in result.rows]
    assert "ocsf" in labels and "raw" in labels
    assert labels[-1].startswith("(reference)")
    assert all(bar.value > 0 for bar in result.bars)
    assert result.headline.startswith("OCSF")


def test_floor_pipeline_reads_both_streams_across_windows(tmp_path: Path) -> None:
    now = int(time.time())
    store = EventStore()
    store.add_many(generate_events(400, start=now - 3 * 86_400, end=now - 10, seed=3))
    out = tmp_path / "events.ndjson"
    with SimulatorServer(store, admin_key=KEY) as server:
        stats = floor_pipeline(server.url, KEY, start=now - 4 * 86_400, end=now + 1, out=out)
    assert stats.events == len(store) == count_lines(out)
    assert stats.pages >= 400 // 100 + 4  # several day-long windows, both streams


def test_percentile_picks_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert _percentile(values, 0.5) in (50.0, 51.0)
    assert _percentile(values, 0.95) == 95.0
    assert _percentile([3.0], 0.95) == 3.0


@pytest.mark.slow
def test_connector_scenarios_run_with_tiny_sizes() -> None:
    e2e = end_to_end(SMOKE)
    assert [row[0] for row in e2e.rows][-1] == "connector / floor"
    assert {bar.label for bar in e2e.bars} == {"connector", "floor"}

    back = backfill(SMOKE)
    assert [row[0] for row in back.rows] == ["1", "2"]
    assert back.bars[0].value == pytest.approx(1.0)

    mem = memory(SMOKE)
    assert mem.bars and mem.bars[0].value > 10  # MB: an interpreter at the very least


@pytest.mark.slow
def test_hec_and_freshness_scenarios_run_with_tiny_sizes() -> None:
    sent = hec(SMOKE)
    assert [row[0] for row in sent.rows] == ["ack on", "ack off", "ack on / ack off"]

    fresh = freshness(SMOKE)
    assert fresh.rows[0][5] == "0"  # every measured event reached the sink
    assert [bar.label for bar in fresh.bars][:2] == ["p50", "p95"]


def _results() -> list[Result]:
    done = Result(key="a", title="A table", columns=["x", "y"], rows=[["one", "1"]], notes=["a note"])
    done.headline, done.bars, done.unit = "fine", [Bar("one", 1.0), Bar("two", 2500.0)], "events/s"
    done.target, done.target_line = "≥ 2,000 events/s", 2000.0
    skipped = Result(key="e", title="kafka", columns=[], skipped="no broker")
    return [done, skipped]


def test_markdown_has_a_summary_every_table_and_the_machine_facts() -> None:
    text = report.markdown(
        _results(), [("CPU", "a | b")], command="bench/run.py --quick", total_s=90, chart="results.png"
    )
    assert "| (a) A table | fine | ≥ 2,000 events/s |" in text
    assert "| (e) kafka | no broker |  |" in text
    assert "| one | 1 |" in text and "- a note" in text
    assert "a \\| b" in text  # a pipe inside a cell does not break the table
    assert "![results](results.png)" in text


def test_results_survive_the_json_round_trip() -> None:
    for result in _results():
        assert Result.from_json(result.to_json()) == result


def test_chart_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "results.png"
    report.chart(_results(), path, title="smoke")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
