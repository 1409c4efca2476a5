"""A live run: the connector process, the API simulator, a Splunk HEC receiver and a real Prometheus.

The connector (``connector run``, poll interval 1 s) reads the simulator and writes to
the HEC receiver with indexer acknowledgement; Prometheus scrapes it every second with
monitoring/alerts.yml loaded. Three faults are then injected in turn. Each time the
test checks that /metrics moves as the catalogue says, and that the matching alert
expressions are true on the scraped data:

1. 30% of API requests answered 429, a poison event, an unknown event type, and an
   event that became visible too late for the polls (the reconcile sweep finds it).
2. HEC busy on every request.
3. The API answering 500 to everything; /readyz must turn unready within
   3 x interval + a few seconds of slack (connector/server.py).

Rules with windows of minutes are also loaded in a shortened copy (seconds, ``for: 0s``)
so that their alerts can fire within the test.
"""

from __future__ import annotations

import copy
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from connector.server import READY_SLACK_SECONDS
from connector.simulator import EventStore, Faults, generate_events, is_tenant_scoped
from tests.e2e.harness import ADMIN_KEY, Workspace, serve, terminate, wait_for
from tests.hec_receiver import HecReceiver, HecToken
from tests.monitoring.catalogue import OPERATIONS_MD, documented_metric_names
from tests.monitoring.prom import PrometheusServer, Scrape
from tests.monitoring.rules import ALERTS, alerts, dashboard_queries, load_rules

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = 86400
JOB = "openai-audit-connector"
HEC_TOKEN = "7d0c2b4e-9a1f-4c3b-8e2d-5f6a7b8c9d0e"
POLL_INTERVAL = 1.0
READY_INTERVALS = 3  # connector/server.py Health.ready_intervals
READY_SLACK = READY_SLACK_SECONDS  # connector/server.py Health.ready: ready_intervals * interval + slack

# Rules whose windows are minutes long, shortened to seconds for the live run: (old, new) per rule.
SHORTENED = {
    "OpenAIAuditPollStale": [("> 600", "> 5"), ("[10m]", "[5s]")],
    "OpenAIAuditCheckpointStuck": [("[15m]", "[10s]")],
}


def shortened_rules(path: Path) -> Path:
    """A rules file with the ``SHORTENED`` alerts, fast and labelled ``live_test="shortened"``."""
    rules = []
    for name, replacements in SHORTENED.items():
        rule = copy.deepcopy(alerts()[name])
        rule.pop("group")
        for old, new in replacements:
            assert old in rule["expr"], f"{name}: {old!r} is no longer in the rule; update SHORTENED"
            rule["expr"] = rule["expr"].replace(old, new)
        rule["for"] = "0s"
        rule["labels"] = {**rule["labels"], "live_test": "shortened"}
        rules.append(rule)
    path.write_text(yaml.safe_dump({"groups": [{"name": "live-test-shortened", "rules": rules}]}))
    return path


def expr_of(name: str, *, shortened: bool = False) -> str:
    expr: str = alerts()[name]["expr"]
    for old, new in SHORTENED.get(name, []) if shortened else []:
        expr = expr.replace(old, new)
    return expr


def unknown_type_event(template: dict[str, Any], effective_at: int) -> dict[str, Any]:
    """An event of a type no catalogue knows (yet), with a real actor."""
    return {
        "id": "audit_log-livetest-unknown-type-0001",
        "type": "widget.exploded",
        "effective_at": effective_at,
        "actor": template["actor"],
        "widget.exploded": {"id": "widget_123", "reason": "live test"},
    }


def metrics_port(ws: Workspace) -> int:
    """The port the connector logged ("metrics on http://127.0.0.1:PORT/metrics")."""
    pattern = re.compile(r"metrics on http://127\.0\.0\.1:(\d+)/metrics")
    assert wait_for(lambda: pattern.search(ws.logs()) is not None, timeout=30), ws.logs()[-3000:]
    match = pattern.search(ws.logs())
    assert match is not None
    return int(match.group(1))


class Live:
    """The running pieces and small helpers on them."""

    def __init__(
        self, ws: Workspace, port: int, hec: HecReceiver, prom: PrometheusServer, promtool: str
    ) -> None:
        self.ws = ws
        self.promtool = promtool
        self.base = f"http://127.0.0.1:{port}"
        self.hec = hec
        self.prom = prom
        self.scrapes: list[Scrape] = []

    def scrape(self) -> Scrape:
        scrape = Scrape(httpx.get(f"{self.base}/metrics", timeout=10).text)
        self.scrapes.append(scrape)
        return scrape

    def ready(self) -> httpx.Response:
        return httpx.get(f"{self.base}/readyz", timeout=10)

    def moved(self, name: str, before: Scrape, *, timeout: float = 30, by: float = 1, **labels: str) -> float:
        """Wait until ``name{labels}`` grew by at least ``by`` since ``before``; return the growth."""
        start = before.value(name, **labels)
        grown: list[float] = []

        def check() -> bool:
            grown[:] = [self.scrape().value(name, **labels) - start]
            return grown[0] >= by

        assert wait_for(check, timeout=timeout, every=0.5), f"{name}{labels} grew by {grown} < {by}"
        return grown[0]

    def true_in_prometheus(self, expr: str, *, timeout: float = 40) -> list[dict[str, Any]]:
        result: list[list[dict[str, Any]]] = [[]]

        def check() -> bool:
            result[0] = self.prom.query(expr)
            return bool(result[0])

        assert wait_for(check, timeout=timeout, every=1), f"never true in Prometheus: {expr}"
        return result[0]

    def alert_in_state(self, name: str, state: str, *, timeout: float = 40, **labels: str) -> None:
        def check() -> bool:
            return any(set(labels.items()) <= set(a.items()) for a in self.prom.alerts(name, state))

        assert wait_for(check, timeout=timeout, every=1), f"ALERTS{{alertname={name}, {state}, {labels}}}"

    def indexed(self) -> set[str]:
        return {e["event"]["metadata"]["uid"] for e in self.hec.indexed_events()}

    def check_metrics(self, text: str) -> None:
        """``promtool check metrics`` accepts the exposition text."""
        result = subprocess.run(
            [self.promtool, "check", "metrics"],
            input=text,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_live_run_moves_every_metric_and_fires_the_matching_alerts(
    tmp_path: Path, prometheus_tools: dict[str, str]
) -> None:
    timings: dict[str, float] = {}
    now = int(time.time())
    store = EventStore()
    backlog = generate_events(600, start=now - DAY, end=now - 120, seed=61)
    store.add_many(backlog)
    expected = {e["id"] for e in backlog}
    poison_id: list[str] = []

    def poison(envelope: dict[str, Any]) -> int | None:
        return 6 if envelope["event"]["metadata"]["uid"] in poison_id else None

    faults = Faults(rate_429=0.3, retry_after=1, seed=7)
    with (
        serve(store, faults=faults) as server,
        HecReceiver([HecToken(HEC_TOKEN)], poison=poison, ack_delay_s=0.1) as hec,
    ):
        ws = Workspace(
            tmp_path / "connector",
            server.url,
            LOG__FORMAT="text",
            METRICS__PORT="0",
            POLL__INTERVAL=str(POLL_INTERVAL),
            SINK__TYPE="splunk_hec",
            SINK__URL=hec.url,
            SINK__TOKEN=HEC_TOKEN,
            SINK__INDEX="openai",
            SINK__ACK_POLL_INTERVAL="0.2",
            SINK__RETRY_BASE="0.05",
            SINK__RETRY_MAX="0.5",
            RECONCILE__INTERVAL="5",
            RECONCILE__WINDOW="2h",
        )
        started = time.monotonic()
        proc = ws.start("run")
        try:
            port = metrics_port(ws)
            rules = [ALERTS, shortened_rules(tmp_path / "shortened-rules.yml")]
            with PrometheusServer(
                prometheus_tools["prometheus"],
                tmp_path / "prometheus",
                targets=[f"127.0.0.1:{port}"],
                rule_files=rules,
                job=JOB,
            ) as prom:
                config_check = subprocess.run(
                    [prometheus_tools["promtool"], "check", "config", str(prom.config)],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                assert config_check.returncode == 0, config_check.stdout + config_check.stderr
                live = Live(ws, port, hec, prom, prometheus_tools["promtool"])
                assert wait_for(lambda: live.ready().status_code == 200, timeout=60), live.ready().text
                assert wait_for(lambda: live.indexed() == expected, timeout=60)
                timings["backlog delivered"] = time.monotonic() - started
                live.true_in_prometheus(f'up{{job="{JOB}"}} == 1', timeout=30)
                _rate_limits_poison_and_a_new_type(live, store, expected, poison_id, timings)
                _a_busy_sink(live, store, expected, timings)
                _the_api_fails_for_good(live, server, timings)
                _every_rule_and_dashboard_query_evaluates(live)
        finally:
            try:
                code = terminate(proc)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
        assert code == 0, ws.logs()[-3000:]
    logs = ws.logs()
    for secret in (ADMIN_KEY, HEC_TOKEN):
        assert secret not in logs
        assert all(secret not in s.text for s in live.scrapes)
    print("\nlive metrics timings:", {k: round(v, 1) for k, v in timings.items()})


def _rate_limits_poison_and_a_new_type(
    live: Live, store: EventStore, expected: set[str], poison_id: list[str], timings: dict[str, float]
) -> None:
    """Phase 1: 429s keep coming; fresh events include a poison one, an unknown type and a late one."""
    before = live.scrape()
    now = int(time.time())
    fresh = generate_events(40, start=now - 20, end=now - 1, seed=62)
    fresh.append(unknown_type_event(fresh[0], now - 2))
    poison_id.append(fresh[1]["id"])
    # Visible from now on but 30 minutes old: behind the poll overlap (300 s), inside the reconcile window.
    late = next(
        e
        for e in generate_events(20, start=now - 1800, end=now - 1700, seed=64)
        if not is_tenant_scoped(e["type"])
    )
    store.add_many([*fresh, late])
    expected.update(e["id"] for e in [*fresh, late] if e["id"] not in poison_id)
    t0 = time.monotonic()
    assert wait_for(lambda: live.indexed() == expected, timeout=60)
    timings["fresh events delivered"] = time.monotonic() - t0

    # The API side: 429s, their retries and waits, requests by class.
    live.moved("connector_api_rate_limited_total", before)
    live.moved("connector_api_retries_total", before, reason="rate_limited")
    live.moved("connector_api_rate_limited_wait_seconds_total", before)
    live.moved("connector_api_requests_total", before, status_class="2xx")
    live.moved("connector_api_requests_total", before, status_class="4xx")
    live.moved("connector_api_request_duration_seconds_count", before)
    # The event flow.
    assert live.moved("connector_events_published_total", before, by=len(fresh) - 1) >= len(fresh) - 1
    live.moved("connector_events_fetched_total", before, by=len(fresh))
    live.moved("connector_events_fetched_total", before, event_type="unknown")
    live.moved("connector_unmapped_events_total", before, kind="type", event_type="widget.exploded")
    live.moved("connector_events_dead_lettered_total", before, reason="rejected_by_sink")
    live.moved("connector_hec_rejected_events_total", before)
    live.moved("connector_events_deduplicated_total", before)  # the overlap re-reads
    live.moved("connector_event_delivery_lag_seconds_count", before, by=len(fresh))
    # The sink.
    live.moved("connector_sink_events_total", before, by=len(fresh) - 1, sink="splunk_hec")
    live.moved("connector_sink_batches_total", before, sink="splunk_hec")
    live.moved("connector_sink_publish_duration_seconds_count", before, sink="splunk_hec")
    live.moved("connector_hec_responses_total", before, status="200", code="0")
    live.moved("connector_hec_ack_wait_seconds_count", before)
    live.moved("connector_hec_request_duration_seconds_count", before)
    # Progress.
    live.moved("connector_checkpoint_commits_total", before, stream="default")
    live.moved("connector_poll_duration_seconds_count", before, stream="default")
    live.moved("connector_reconcile_found_events_total", before, stream="default")
    after = live.scrape()
    for stream in ("default", "tenant"):
        watermark = after.value("connector_checkpoint_watermark_timestamp_seconds", stream=stream)
        assert watermark > before.value("connector_checkpoint_watermark_timestamp_seconds", stream=stream)
        assert time.time() - watermark < 15
        assert (
            time.time() - after.value("connector_last_successful_poll_timestamp_seconds", stream=stream) < 15
        )
    newest = max(
        e["effective_at"] for e in fresh if not is_tenant_scoped(e["type"]) and e["id"] not in poison_id
    )
    assert after.value("connector_newest_delivered_event_timestamp_seconds", stream="default") >= newest
    assert after.value("connector_lag_seconds", stream="default") < 30  # caught up
    assert after.get("connector_hec_acks_pending") == 0
    assert after.get("connector_hec_ack_mode", mode="ack") == 1
    assert after.value("connector_backfill_remaining_seconds") < 15
    assert [v for (n, _), v in after.samples.items() if n == "connector_build_info"] == [1]
    # Every metric of the docs catalogue is in the scrape, and promtool accepts the text.
    missing = set(documented_metric_names(OPERATIONS_MD.read_text())) - after.names
    assert not missing, sorted(missing)
    live.check_metrics(after.text)

    # The alerts: the 429 share is over 20% (pending: it needs 15 minutes), dead letters and a new type fire.
    shares = live.true_in_prometheus(expr_of("OpenAIAuditRateLimited"))
    # 30 % injected; the share is over a few dozen requests only, so it varies around that.
    assert 0.2 < float(shares[0]["value"][1]) < 0.8
    live.alert_in_state("OpenAIAuditRateLimited", "pending", job=JOB)
    live.true_in_prometheus(expr_of("OpenAIAuditDeadLetters"))
    live.alert_in_state("OpenAIAuditDeadLetters", "firing", reason="rejected_by_sink")
    live.true_in_prometheus(expr_of("OpenAIAuditNewEventType"))
    live.alert_in_state("OpenAIAuditNewEventType", "firing", stream="default", event_type="unknown")
    timings["phase 1 (429s, poison, new type)"] = time.monotonic() - t0


def _a_busy_sink(live: Live, store: EventStore, expected: set[str], timings: dict[str, float]) -> None:
    """Phase 2: HEC answers 503 busy to everything; the sink fails, readiness drops, the checkpoint stalls."""
    before = live.scrape()
    live.hec.busy_rate = 1.0
    now = int(time.time())
    # Default-stream events only: the runner polls that stream first, so no commit clears the sink failure.
    fresh = [
        e
        for e in generate_events(40, start=now - 10, end=now - 1, seed=63)
        if not is_tenant_scoped(e["type"])
    ]
    store.add_many(fresh)
    t0 = time.monotonic()
    assert wait_for(lambda: live.ready().status_code == 503, timeout=30, every=0.2)
    timings["busy sink -> /readyz 503"] = time.monotonic() - t0
    assert "sink" in live.ready().text
    live.moved("connector_sink_failures_total", before, sink="splunk_hec")
    live.moved("connector_sink_retries_total", before, sink="splunk_hec")
    live.moved("connector_hec_responses_total", before, status="503", code="9")
    live.true_in_prometheus(expr_of("OpenAIAuditSinkFailing"))
    live.alert_in_state("OpenAIAuditSinkFailing", "pending", sink="splunk_hec")
    live.true_in_prometheus(expr_of("OpenAIAuditCheckpointStuck", shortened=True))
    live.alert_in_state("OpenAIAuditCheckpointStuck", "firing", live_test="shortened", stream="default")
    timings["busy sink -> CheckpointStuck (shortened) firing"] = time.monotonic() - t0

    stalled = live.scrape().value("connector_checkpoint_watermark_timestamp_seconds", stream="default")
    live.hec.busy_rate = 0.0
    expected.update(e["id"] for e in fresh)
    assert wait_for(lambda: live.indexed() == expected, timeout=60)
    assert wait_for(lambda: live.ready().status_code == 200, timeout=30)
    assert live.scrape().value("connector_checkpoint_watermark_timestamp_seconds", stream="default") > stalled
    timings["phase 2 (busy sink)"] = time.monotonic() - t0


def _the_api_fails_for_good(live: Live, server: Any, timings: dict[str, float]) -> None:
    """Phase 3: every API request answers 500; /readyz turns 503 and the poll alert's expression is true."""
    assert wait_for(lambda: live.ready().status_code == 200, timeout=30)
    before = live.scrape()
    server.faults = Faults(rate_500=1.0)
    t0 = time.monotonic()
    live.moved("connector_api_requests_total", before, status_class="5xx")
    live.moved("connector_api_retries_total", before, reason="server_error")
    live.moved("connector_poll_errors_total", before)
    live.true_in_prometheus(expr_of("OpenAIAuditPollStale", shortened=True))
    live.alert_in_state("OpenAIAuditPollStale", "firing", live_test="shortened", stream="default")
    timings["API down -> PollStale (shortened) firing"] = time.monotonic() - t0
    # A poll already past its requests when the fault was set may still succeed once: the
    # reference for "no later success" is taken once polls are known to fail.
    failing = live.scrape()

    limit = READY_INTERVALS * POLL_INTERVAL + READY_SLACK
    assert wait_for(lambda: live.ready().status_code == 503, timeout=limit + 20, every=0.5)
    elapsed = time.monotonic() - t0
    timings["API down -> /readyz 503"] = elapsed
    assert elapsed <= limit + 5, f"/readyz turned unready after {elapsed:.0f}s, limit {limit:.0f}s"
    assert "no successful poll or commit" in live.ready().text
    assert httpx.get(f"{live.base}/healthz", timeout=10).status_code == 200  # alive, just not ready
    live.ws.env["CONNECTOR_METRICS__PORT"] = live.base.rsplit(":", 1)[1]
    assert live.ws.run("healthcheck").returncode == 0
    assert live.ws.run("healthcheck", "--ready").returncode == 1
    during = live.scrape()
    for stream in ("default", "tenant"):
        last = during.value("connector_last_successful_poll_timestamp_seconds", stream=stream)
        assert last == failing.value("connector_last_successful_poll_timestamp_seconds", stream=stream)
    live.check_metrics(during.text)


def _every_rule_and_dashboard_query_evaluates(live: Live) -> None:
    """On real data, every rule evaluates without error and every dashboard query runs."""
    loaded = live.prom.rules()
    assert len(loaded) == len(load_rules()) + len(SHORTENED)
    # "unknown" until a group's first evaluation (the volume group runs every 5 minutes).
    broken = [(r["name"], r.get("lastError")) for r in loaded if r["health"] == "err"]
    assert not broken, broken
    for rule in load_rules():
        live.prom.query(rule["expr"])  # asserts the API answered success
    for _, expr in dashboard_queries():
        live.prom.query(expr)  # asserts the API answered success
    assert live.prom.query('sum(connector_events_published_total{job="openai-audit-connector"})')
