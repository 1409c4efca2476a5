"""Operator paths as a user runs them: the demo, metrics and health, backfill, a skewed clock."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from connector.simulator import EventStore, generate_events
from tests.e2e.harness import Workspace, read_output, serve, terminate, wait_for

DAY = 86400


def test_demo_runs_on_embedded_defaults_and_prints_a_summary(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "connector.cli",
            "demo",
            "--duration",
            "8",
            "--events",
            "2000",
            "--metrics-port",
            "0",
        ],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        check=False,
    )
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert "delivered" in out and "Authentication (3002)" in out and "/metrics" in out
    docs = read_output(tmp_path / "demo-output" / "events.ndjson").docs
    assert len(docs) >= 2000
    assert (tmp_path / "demo-output" / "checkpoint.db").exists()
    final = re.search(r"\[final\] delivered (\d+) events", out)
    assert final and int(final.group(1)) == len(docs)


def test_metrics_healthz_and_readyz_on_one_port(tmp_path: Path) -> None:
    now = int(time.time())
    store = EventStore()
    store.add_many(generate_events(500, start=now - DAY, end=now, seed=8))
    with serve(store) as server:
        ws = Workspace(tmp_path, server.url, METRICS__PORT="0", LOG__FORMAT="text")
        proc = ws.start("run")
        port: list[int] = []

        def metrics_port_logged() -> bool:
            match = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", ws.logs())
            if match:
                port.append(int(match.group(1)))
            return bool(match)

        assert wait_for(metrics_port_logged, timeout=30)
        base = f"http://127.0.0.1:{port[0]}"
        assert wait_for(lambda: httpx.get(f"{base}/readyz").status_code == 200, timeout=30)
        assert httpx.get(f"{base}/healthz").status_code == 200
        metrics = httpx.get(f"{base}/metrics").text
        assert "connector_build_info" in metrics
        assert re.search(
            r'connector_events_published_total\{event_type="[a-z_.]+",stream="default"\} [1-9]', metrics
        )
        assert re.search(
            r'connector_checkpoint_watermark_timestamp_seconds\{stream="default"\} 1\.[789]\d*e\+09', metrics
        )
        ws.env["CONNECTOR_METRICS__PORT"] = str(port[0])
        healthcheck = ws.run("healthcheck", "--ready")
        assert healthcheck.returncode == 0, healthcheck.stdout
        assert terminate(proc) == 0
    ws.env["CONNECTOR_METRICS__PORT"] = str(port[0])
    assert ws.run("healthcheck").returncode == 1  # nothing listens any more


def test_backfill_redelivers_a_past_range_and_leaves_the_watermark(tmp_path: Path) -> None:
    now = int(time.time())
    events = generate_events(3000, start=now - 3 * DAY, end=now - 60, seed=9)
    store = EventStore()
    store.add_many(events)
    with serve(store) as server:
        ws = Workspace(tmp_path, server.url)
        assert ws.run("run", "--once").returncode == 0
        before = read_output(ws.output)
        watermark = ws.run("state", "show").stdout
        since, until = now - 2 * DAY, now - DAY
        result = ws.run("backfill", "--since", str(since), "--until", str(until))
        assert result.returncode == 0, result.stderr.decode()[-2000:]
    after = read_output(ws.output)
    expected = sorted(e["id"] for e in events if since <= e["effective_at"] < until)
    assert sorted(after.ids[len(before.ids) :]) == expected
    shown = orjson.loads(ws.run("state", "show").stdout)
    assert shown["default"]["watermark"] == orjson.loads(watermark)["default"]["watermark"]
    assert shown["default"]["backfill"] is None


@pytest.mark.parametrize("skew", [600, -600], ids=["server-ahead", "server-behind"])
def test_a_host_clock_ten_minutes_off_neither_skips_nor_delays_events(tmp_path: Path, skew: int) -> None:
    def server_now() -> float:
        return time.time() + skew

    start = int(server_now())
    store = EventStore()
    store.add_many(generate_events(400, start=start - DAY, end=start, seed=10))
    with serve(store, clock=server_now) as server:
        ws = Workspace(tmp_path, server.url, POLL__OVERLAP="30")
        proc = ws.start("run")
        assert wait_for(lambda: len(read_output(ws.output).ids) == 400, timeout=60)
        # Events stamped by the server's clock in the last seconds arrive promptly.
        now = int(server_now())
        store.add_many(generate_events(20, start=now - 2, end=now + 1, seed=11 + skew))
        assert wait_for(lambda: len(read_output(ws.output).ids) == 420, timeout=30)
        assert terminate(proc) == 0
    assert read_output(ws.output).duplicates() == 0


def test_new_event_types_are_delivered_generically_and_listed_by_connector_mapping(tmp_path: Path) -> None:
    now = int(time.time())
    events = generate_events(200, start=now - DAY, end=now - 60, seed=12)
    novel = [
        dict(
            events[0],
            id=f"audit_log-novel-{i}",
            type="sora.video.generated",
            **{"sora.video.generated": {"id": "v1"}},
        )
        for i in range(3)
    ]
    keyed = dict(events[1], id="audit_log-novel-key", type="api_key.created")
    keyed["api_key.created"] = {"id": "key_1", "data": {"scopes": []}, "expires_at": 1893456000}
    store = EventStore()
    store.add_many([*events, *novel, keyed])
    with serve(store) as server:
        ws = Workspace(tmp_path, server.url, DRIFT__PATH=str(tmp_path / "drift.json"))
        result = ws.run("run", "--once")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    out = {d["metadata"]["uid"]: d for d in read_output(ws.output).docs}
    assert {e["id"] for e in novel} <= set(out) and out["audit_log-novel-0"]["class_uid"] == 3004
    warnings = [line for line in result.stderr.decode().splitlines() if "sora.video.generated" in line]
    assert len(warnings) == 1  # logged once, not per event
    listing = ws.run("mapping").stdout.decode()
    assert "type sora.video.generated" in listing and "key  api_key.created:expires_at" in listing


def test_two_processes_on_one_checkpoint_cannot_both_run(tmp_path: Path) -> None:
    now = int(time.time())
    store = EventStore()
    store.add_many(generate_events(300, start=now - DAY, end=now - 60, seed=13))
    with serve(store) as server:
        ws = Workspace(tmp_path, server.url)
        first = ws.start("run")
        assert wait_for(lambda: len(read_output(ws.output).ids) == 300, timeout=60)
        second = ws.run("run", "--once")
        reset = ws.run("state", "reset")
        assert terminate(first) == 0
        after = ws.run("run", "--once")  # the lock is gone with the first process
    for result in (second, reset):
        assert result.returncode == 1
        assert b"another connector (pid " in result.stderr and b"only one may run" in result.stderr
    assert after.returncode == 0
    assert read_output(ws.output).duplicates() == 0


def test_an_event_six_hours_late_is_found_by_the_reconcile_sweep_and_delivered_once(tmp_path: Path) -> None:
    now = int(time.time())
    events = generate_events(500, start=now - DAY, end=now - 60, seed=14)
    store = EventStore()
    store.add_many(events)
    very_late = dict(
        events[0], id="audit_log-very-late", effective_at=now - 6 * 3600
    )  # far beyond the overlap
    store.add(very_late, visible_at=time.time() + 6)
    with serve(store) as server:
        ws = Workspace(
            tmp_path,
            server.url,
            POLL__OVERLAP="60",
            RECONCILE__INTERVAL="3",
            RECONCILE__WINDOW="24h",
            LOG__FORMAT="text",
        )
        proc = ws.start("run")
        assert wait_for(lambda: "audit_log-very-late" in read_output(ws.output).ids, timeout=60)
        time.sleep(4)  # another sweep: it must not deliver it again
        assert terminate(proc) == 0
        on_demand = ws.run("reconcile", "--since", "24h")
    out = read_output(ws.output)
    assert out.duplicates() == 0 and set(out.ids) == {e["id"] for e in events} | {"audit_log-very-late"}
    assert "found 1 undelivered event(s)" in ws.logs()
    assert on_demand.returncode == 0 and b"0 undelivered event(s) found" in on_demand.stdout
