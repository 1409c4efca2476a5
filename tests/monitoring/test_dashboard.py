"""The Grafana dashboard: valid JSON, queries that parse, and only metrics the connector exposes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.monitoring.catalogue import exposed_names, promql_metric_names
from tests.monitoring.rules import dashboard, dashboard_queries

# What the issue asks the dashboard to show, by the metric that shows it.
REQUIRED = {
    "throughput": "connector_events_published_total",
    "fetched": "connector_events_fetched_total",
    "lag": "connector_lag_seconds",
    "checkpoint age": "connector_checkpoint_watermark_timestamp_seconds",
    "API errors": "connector_api_requests_total",
    "retries": "connector_api_retries_total",
    "429s": "connector_api_rate_limited_total",
    "sink failures": "connector_sink_failures_total",
    "sink throughput": "connector_sink_events_total",
    "HEC acks pending": "connector_hec_acks_pending",
    "dead letters": "connector_events_dead_lettered_total",
}


def test_the_dashboard_is_valid_json_with_unique_panel_ids_and_the_datasource_variable() -> None:
    board = dashboard()
    assert board["uid"] and board["title"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert {"job", "instance"} <= variables.keys()
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
            assert target["refId"] and target["expr"].strip()
            assert '$job"' in target["expr"] and '$instance"' in target["expr"], target["expr"]


def test_every_query_names_only_metrics_the_connector_exposes() -> None:
    exposed = exposed_names()
    for title, expr in dashboard_queries():
        names = promql_metric_names(expr)
        assert names, f"{title}: {expr} uses no connector metric"
        assert names <= exposed, f"{title}: no such metric {sorted(names - exposed)}"


def test_the_dashboard_shows_what_the_issue_asks_for() -> None:
    used = set().union(*(promql_metric_names(expr) for _, expr in dashboard_queries()))
    missing = {what: name for what, name in REQUIRED.items() if name not in used}
    assert not missing
    assert any(
        re.search(r"time\(\) - connector_checkpoint_watermark_timestamp_seconds", e)
        for _, e in dashboard_queries()
    )


def test_every_query_is_valid_promql(promtool: str, tmp_path: Path) -> None:
    """promtool parses each query as the expression of a recording rule."""
    rules = [
        {"record": f"dashboard:query_{i}", "expr": expr} for i, (_, expr) in enumerate(dashboard_queries())
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
