"""The simulator's live feed and the all-in-one ``run_simulator``."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from connector.simulator import (
    EventStore,
    Faults,
    LiveFeed,
    SimulatorServer,
    is_tenant_scoped,
    run_simulator,
)

KEY = "sk-admin-feed-test-key-0123456789"
NOW = 1_760_000_000


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_live_feed_keeps_adding_events_stamped_by_the_clock() -> None:
    store = EventStore()
    feed = LiveFeed(store, rate_per_s=200, clock=lambda: NOW + 0.9, seed=1)
    feed.start()
    try:
        wait_until(lambda: feed.added >= 20)
    finally:
        feed.stop()
    added = feed.added
    assert len(store) == added and feed.late == 0
    assert store.visible_ids(NOW) == store.ids()
    assert {e["effective_at"] for e in store} == {NOW}
    time.sleep(0.1)
    assert feed.added == added  # stopped means stopped


def test_late_events_carry_an_old_effective_at_and_show_up_later() -> None:
    store = EventStore()
    feed = LiveFeed(store, rate_per_s=1, late_fraction=1.0, max_late_s=5, clock=lambda: NOW)
    for _ in range(30):
        feed.add_one()
    assert feed.late == 30
    assert store.visible_ids(NOW) == set()
    assert store.visible_ids(NOW + 5) == store.ids()
    assert {e["effective_at"] for e in store} == {NOW}


def test_live_feed_without_tenant_adds_no_tenant_scoped_events() -> None:
    store = EventStore()
    feed = LiveFeed(store, rate_per_s=1, tenant=False, clock=lambda: NOW)
    for _ in range(300):
        feed.add_one()
    assert not any(is_tenant_scoped(e["type"]) for e in store)


def test_live_events_are_served_while_a_client_pages() -> None:
    store = EventStore()
    feed = LiveFeed(store, rate_per_s=500, seed=3)
    with (
        SimulatorServer(store, admin_key=KEY) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as client,
    ):
        feed.start()
        try:
            wait_until(lambda: feed.added >= 50)
            cutoff = int(time.time()) + 1
            wait_until(lambda: time.time() > cutoff + 0.1)
            seen: list[str] = []
            params: dict[str, str | int] = {"effective_at[lt]": cutoff, "limit": 10}
            while True:
                body = client.get("/organization/audit_logs", params=params).json()
                seen += [e["id"] for e in body["data"]]
                if not body["has_more"]:
                    break
                params["after"] = body["last_id"]
        finally:
            feed.stop()
    expected = {e["id"] for e in store if e["effective_at"] < cutoff and not is_tenant_scoped(e["type"])}
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_run_simulator_serves_history_until_stopped() -> None:
    stop = threading.Event()
    ready: list[SimulatorServer] = []
    thread = threading.Thread(
        target=run_simulator,
        kwargs={
            "host": "127.0.0.1",
            "port": 0,
            "admin_key": KEY,
            "events": 500,
            "days": 2,
            "rate_per_s": 20,
            "faults": Faults(),
            "seed": 4,
            "stop": stop,
            "on_ready": ready.append,
        },
    )
    thread.start()
    try:
        wait_until(lambda: bool(ready))
        server = ready[0]
        headers = {"Authorization": f"Bearer {KEY}"}
        url = f"{server.url}/organization/audit_logs"
        body = httpx.get(url, params={"limit": 100}, headers=headers).json()
        assert len(body["data"]) == 100 and body["has_more"]
        assert server.url.startswith("http://127.0.0.1:")
        wait_until(lambda: len(server.store) > 500)  # the live feed is running
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, headers=headers)


def test_run_simulator_rejects_a_history_without_days() -> None:
    with pytest.raises(ValueError, match="days"):
        run_simulator(
            host="127.0.0.1",
            port=0,
            admin_key=KEY,
            events=10,
            days=0,
            rate_per_s=0,
            faults=Faults(),
            seed=0,
        )


def test_module_entry_point_serves_until_sigterm() -> None:
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector.simulator", "--admin-key", KEY, "--events", "300"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("ready http://127.0.0.1:"), line
        url = line.split(" ", 1)[1] + "/organization/audit_logs"
        response = httpx.get(url, headers={"Authorization": f"Bearer {KEY}"})
        assert response.status_code == 200 and len(response.json()["data"]) == 20
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
