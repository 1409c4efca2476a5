"""End to end: the CLI as a process, the simulator over loopback, faults on, late events."""

from __future__ import annotations

import random
import time
from pathlib import Path

import orjson
import pytest

from connector.simulator import EventStore, Faults, generate_events
from tests.e2e.harness import ADMIN_KEY, Workspace, read_output, serve, terminate, wait_for
from tests.unit.ocsf_validation import ocsf_errors

DAY = 86400


def test_20k_events_over_3_days_with_faults_and_late_arrivals_are_all_delivered_and_valid(
    tmp_path: Path,
) -> None:
    rng = random.Random(20)
    now = int(time.time())
    events = generate_events(20_000, start=now - 3 * DAY, end=now - 600, seed=20)
    late = set(rng.sample(range(len(events)), len(events) // 50))  # 2 % arrive late
    store = EventStore()
    for i, event in enumerate(events):
        if i in late:
            # Happens around "now" but only becomes visible 3-40 s later: within the 60 s overlap.
            event["effective_at"] = now + rng.randint(-30, 20)
            store.add(event, visible_at=event["effective_at"] + rng.uniform(3, 40))
        else:
            store.add(event)
    faults = Faults(rate_429=0.05, rate_500=0.02, rate_truncated=0.01, seed=20)
    with serve(store, faults) as server:
        ws = Workspace(tmp_path, server.url, POLL__OVERLAP="60")
        proc = ws.start("run")
        all_ids = {e["id"] for e in events}
        delivered = wait_for(lambda: set(read_output(ws.output).ids) >= all_ids, timeout=300, every=2)
        code = terminate(proc)
        statuses = server.requests.by_status()
        truncated = server.requests.truncated
    out = read_output(ws.output)
    missing = all_ids - set(out.ids)
    assert delivered and not missing, f"{len(missing)} ids never delivered; log tail: {ws.logs()[-2000:]}"
    assert code == 0, ws.logs()[-2000:]
    assert out.fragments == 0 and out.duplicates() == 0
    invalid = [(d["metadata"]["uid"], errs) for d in out.docs if (errs := ocsf_errors(d))]
    assert invalid == [], invalid[:3]
    # The faults really happened, and the connector retried through them.
    assert statuses.get(429, 0) > 0 and statuses.get(500, 0) > 0 and truncated > 0, statuses
    print(f"\ndelivered {len(out.docs)} events; simulator statuses {statuses}, truncated {truncated}")


def test_a_wrong_admin_key_exits_nonzero_fast_with_one_line_and_never_logs_the_key(tmp_path: Path) -> None:
    store = EventStore()
    store.add_many(generate_events(200, start=int(time.time()) - DAY, end=int(time.time()), seed=3))
    wrong = "sk-admin-WRONGKEY-9d8c7b6a5f4e3d2c1b0a99887766"
    with serve(store) as server:
        ws = Workspace(tmp_path, server.url, key=wrong, LOG__LEVEL="DEBUG")
        started = time.monotonic()
        result = ws.run("run")
        elapsed = time.monotonic() - started
    assert result.returncode == 3
    assert elapsed < 10
    lines = [line for line in result.stderr.decode().splitlines() if line.strip()]
    errors = [doc for doc in map(orjson.loads, lines) if doc["level"] == "ERROR"]
    assert len(errors) == 1, lines
    assert "401" in errors[0]["message"] and "Admin key is wrong" in errors[0]["message"]
    everything = result.stdout.decode() + result.stderr.decode()
    assert wrong not in everything and wrong[:20] not in everything


def test_a_key_refused_the_tenant_stream_keeps_the_main_stream_running(tmp_path: Path) -> None:
    now = int(time.time())
    events = generate_events(600, start=now - DAY, end=now, seed=4)
    store = EventStore()
    store.add_many(events)
    with serve(store, tenant_allowed=False) as server:
        ws = Workspace(tmp_path, server.url)
        result = ws.run("run", "--once")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    out = read_output(ws.output)
    default_ids = {e["id"] for e in events if not _tenant_scoped(e["type"])}
    assert set(out.ids) == default_ids
    warnings = [line for line in result.stderr.decode().splitlines() if "tenant-scoped" in line]
    assert len(warnings) == 1


def test_sigterm_drains_and_exits_zero_and_a_restart_resumes_without_duplicates(tmp_path: Path) -> None:
    now = int(time.time())
    events = generate_events(8000, start=now - 3 * DAY, end=now - 60, seed=5)
    store = EventStore()
    store.add_many(events)
    with serve(store, Faults(latency_s=0.02)) as server:
        ws = Workspace(tmp_path, server.url, POLL__SLICE_EVENTS="500")
        proc = ws.start("run")
        assert wait_for(lambda: len(read_output(ws.output).docs) > 1000, timeout=60)
        started = time.monotonic()
        assert terminate(proc) == 0
        assert time.monotonic() - started < 10
        first = read_output(ws.output)
        assert first.fragments == 0 and first.duplicates() == 0
        result = ws.run("run", "--once")
        assert result.returncode == 0
    out = read_output(ws.output)
    assert set(out.ids) == {e["id"] for e in events}
    assert out.duplicates() == 0


def test_state_show_and_reset(tmp_path: Path) -> None:
    now = int(time.time())
    store = EventStore()
    store.add_many(generate_events(300, start=now - DAY, end=now, seed=6))
    with serve(store) as server:
        ws = Workspace(tmp_path, server.url)
        assert ws.run("run", "--once").returncode == 0
        shown = orjson.loads(ws.run("state", "show").stdout)
        assert set(shown) == {"default", "tenant"}
        assert shown["default"]["watermark"] >= now and shown["default"]["version"] == 1
        reset = ws.run("state", "reset", "--to", "2h", "--stream", "default")
        assert reset.returncode == 0
        shown = orjson.loads(ws.run("state", "show").stdout)
        assert abs(shown["default"]["watermark"] - (now - 7200)) < 60
        assert ws.run("state", "reset").returncode == 0
        assert orjson.loads(ws.run("state", "show").stdout) == {}


def test_check_validates_settings_and_makes_an_authenticated_request(tmp_path: Path) -> None:
    store = EventStore()
    with serve(store) as server:
        ok = Workspace(tmp_path, server.url).run("check")
        bad = Workspace(tmp_path, server.url, POLL__INTERVAL="often").run("check")
        assert server.requests.total >= 1
    assert ok.returncode == 0 and b"settings valid" in ok.stdout
    assert bad.returncode == 2
    assert bad.stderr.decode().strip().splitlines() == [
        "connector: configuration error: CONNECTOR_POLL__INTERVAL: invalid duration 'often': "
        "use seconds or a number with s/m/h/d/w"
    ]


@pytest.mark.parametrize("missing", ["CONNECTOR_OPENAI__ADMIN_KEY"])
def test_a_missing_admin_key_is_a_config_error(tmp_path: Path, missing: str) -> None:
    ws = Workspace(tmp_path, "http://127.0.0.1:9/v1")
    ws.env.pop(missing)
    result = ws.run("run", "--once")
    assert result.returncode == 2 and missing.encode() in result.stderr


def _tenant_scoped(event_type: str) -> bool:
    from connector.simulator import is_tenant_scoped

    return is_tenant_scoped(event_type)


assert ADMIN_KEY  # the harness key is what the simulator accepts
