"""The simulator's injected faults over real HTTP: broken bodies, resets, slow answers, cursor faults."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from connector.simulator import EventStore, Faults, Query, SimulatorServer, generate_events
from connector.simulator.faults import Fault, FaultInjector

KEY = "sk-admin-Zq3uT9vK2mXw8pL4rN6yB1cD5fG7hJ0s"
NOW = 1_760_000_000
PATH = "/organization/audit_logs"
WINDOW = {"effective_at[gte]": NOW - 3000, "effective_at[lt]": NOW - 600, "limit": 50}


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return generate_events(600, start=NOW - 3600, end=NOW, seed=17)


@pytest.fixture
def store(events: list[dict[str, Any]]) -> EventStore:
    store = EventStore()
    store.add_many(events)
    return store


@pytest.fixture
def server(store: EventStore) -> Iterator[SimulatorServer]:
    with SimulatorServer(store, admin_key=KEY, clock=lambda: NOW) as srv:
        yield srv


@pytest.fixture
def client(server: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as c:
        yield c


def in_window(events: list[dict[str, Any]]) -> list[str]:
    """Ids of the default-stream events of WINDOW, newest first."""
    from connector.simulator import is_tenant_scoped

    chosen = [
        e for e in events if NOW - 3000 <= e["effective_at"] < NOW - 600 and not is_tenant_scoped(e["type"])
    ]
    return [e["id"] for e in sorted(chosen, key=lambda e: (e["effective_at"], e["id"]), reverse=True)]


# -- settings and draws -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate_reset": 1.5},
        {"rate_reset": 0.6, "rate_slow": 0.6},
        {"rate_expire_cursor": -0.1},
        {"slow_s": -1},
        {"server_error_statuses": ()},
        {"server_error_statuses": (404,)},
        {"empty_last_id": "random"},
        {"big_field_bytes": -1},
    ],
)
def test_invalid_fault_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Faults(**kwargs)


def test_the_first_three_rates_draw_exactly_as_before_new_faults_existed() -> None:
    faults = Faults(rate_429=0.2, rate_500=0.1, rate_truncated=0.05, seed=5)
    injector = FaultInjector(faults)
    rng = random.Random(5)
    for _ in range(2000):
        x = rng.random()
        old = (
            Fault.RATE_LIMITED
            if x < 0.2
            else Fault.SERVER_ERROR
            if x < 0.2 + 0.1
            else Fault.TRUNCATED
            if x < 0.2 + 0.1 + 0.05
            else None
        )
        assert injector.draw() is old


def test_draws_follow_the_rates_in_order() -> None:
    injector = FaultInjector(Faults(rate_reset=0.25, rate_slow=0.25, rate_expire_cursor=0.25, seed=1))
    drawn = [injector.draw() for _ in range(4000)]
    for fault in (Fault.RESET, Fault.SLOW, Fault.EXPIRE_CURSOR, None):
        assert 850 < drawn.count(fault) < 1150, (fault, drawn.count(fault))
    assert FaultInjector(Faults()).draw() is None


# -- 5xx, broken bodies, resets, slow answers ------------------------------------------------


def test_server_errors_use_the_configured_5xx_statuses(client: httpx.Client, server: SimulatorServer) -> None:
    server.faults = Faults(rate_500=1.0, server_error_statuses=(502, 503, 504), seed=3)
    statuses = {client.get(PATH).status_code for _ in range(40)}
    assert statuses == {502, 503, 504}
    assert server.requests.by_fault() == {"500": 40}


def test_invalid_json_is_a_complete_body_no_parser_accepts(
    client: httpx.Client, server: SimulatorServer
) -> None:
    server.faults = Faults(rate_invalid_json=1.0)
    response = client.get(PATH, params=WINDOW)
    assert response.status_code == 200
    assert response.content.endswith(b"}") and int(response.headers["Content-Length"]) == len(
        response.content
    )
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content.decode())
    assert server.requests.by_fault() == {"invalid_json": 1}


def test_invalid_utf8_breaks_decoding_but_keeps_every_event_and_id(
    client: httpx.Client, server: SimulatorServer, events: list[dict[str, Any]]
) -> None:
    server.faults = Faults(rate_invalid_utf8=1.0)
    response = client.get(PATH, params=WINDOW)
    assert response.status_code == 200
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)
    body = json.loads(response.content.decode("utf-8", errors="replace"))
    assert [e["id"] for e in body["data"]] == in_window(events)[:50]
    assert body["data"][0]["sim_note"].startswith("caf\ufffd(")
    assert "sim_note" not in body["data"][1]


def test_a_reset_cuts_the_connection_mid_body_and_the_server_keeps_serving(
    client: httpx.Client, server: SimulatorServer
) -> None:
    server.faults = Faults(rate_reset=1.0)
    with pytest.raises(httpx.TransportError):
        client.get(PATH, params=WINDOW)
    assert server.requests.by_fault() == {"reset": 1}
    server.faults = Faults()
    assert client.get(PATH, params=WINDOW).status_code == 200


def test_a_slow_answer_outlasts_a_short_client_timeout(client: httpx.Client, server: SimulatorServer) -> None:
    server.faults = Faults(rate_slow=1.0, slow_s=0.6)
    with pytest.raises(httpx.ReadTimeout):
        client.get(PATH, params=WINDOW, timeout=0.2)
    response = client.get(PATH, params=WINDOW, timeout=5)
    assert response.status_code == 200 and response.elapsed.total_seconds() >= 0.6


# -- has_more with no data, repeated and expired cursors ---------------------------------------


def test_empty_has_more_on_a_first_page_names_a_cursor_that_skips_nothing(
    client: httpx.Client, server: SimulatorServer, store: EventStore, events: list[dict[str, Any]]
) -> None:
    server.faults = Faults(rate_empty_has_more=1.0)
    body = client.get(PATH, params=WINDOW).json()
    assert body["data"] == [] and body["has_more"] is True and body["first_id"] is None
    above = min(
        (e for e in events if e["effective_at"] >= NOW - 600), key=lambda e: (e["effective_at"], e["id"])
    )
    assert body["last_id"] == above["id"]
    server.faults = Faults()
    followed = client.get(PATH, params={**WINDOW, "after": body["last_id"]}).json()
    assert [e["id"] for e in followed["data"]] == in_window(events)[:50]


def test_empty_has_more_on_a_follow_up_page_repeats_the_cursor(
    client: httpx.Client, server: SimulatorServer
) -> None:
    first = client.get(PATH, params=WINDOW).json()
    server.faults = Faults(rate_empty_has_more=1.0)
    body = client.get(PATH, params={**WINDOW, "after": first["last_id"]}).json()
    assert (body["data"], body["has_more"], body["last_id"]) == ([], True, first["last_id"])
    assert server.requests.by_fault() == {"empty_has_more": 1}


def test_empty_has_more_with_a_null_last_id(client: httpx.Client, server: SimulatorServer) -> None:
    server.faults = Faults(rate_empty_has_more=1.0, empty_last_id="null")
    body = client.get(PATH, params=WINDOW).json()
    assert body == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": True}


def test_empty_has_more_is_not_injected_when_no_event_lies_above_the_page(
    client: httpx.Client, server: SimulatorServer
) -> None:
    server.faults = Faults(rate_empty_has_more=1.0)
    body = client.get(PATH, params={"limit": 10}).json()  # the newest events: nothing above them
    assert len(body["data"]) == 10
    assert server.requests.by_fault() == {}


def test_a_repeated_cursor_sends_the_same_page_again(client: httpx.Client, server: SimulatorServer) -> None:
    server.faults = Faults(rate_repeat_cursor=1.0)
    first = client.get(PATH, params=WINDOW)  # a first page has no cursor to repeat: answered normally
    cursor = first.json()["last_id"]
    again = client.get(PATH, params={**WINDOW, "after": cursor})
    assert again.content == first.content and again.json()["last_id"] == cursor
    assert server.requests.by_fault() == {"repeat_cursor": 1}


def test_a_repeated_cursor_without_the_remembered_page_keeps_the_events_and_repeats_last_id(
    client: httpx.Client, server: SimulatorServer, events: list[dict[str, Any]]
) -> None:
    cursor = client.get(PATH, params=WINDOW).json()["last_id"]
    server.faults = Faults(rate_repeat_cursor=1.0)
    server.forget_pages()
    body = client.get(PATH, params={**WINDOW, "after": cursor}).json()
    assert [e["id"] for e in body["data"]] == in_window(events)[50:100]
    assert body["last_id"] == cursor and body["has_more"] is True


def test_an_expired_cursor_is_a_400_invalid_cursor_and_first_pages_are_spared(
    client: httpx.Client, server: SimulatorServer
) -> None:
    server.faults = Faults(rate_expire_cursor=1.0)
    first = client.get(PATH, params=WINDOW)
    assert first.status_code == 200
    response = client.get(PATH, params={**WINDOW, "after": first.json()["last_id"]})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"
    assert response.json()["error"]["param"] == "after"
    assert [(q.status, q.fault) for q in server.seen_queries] == [(200, None), (400, "expire_cursor")]
    assert server.seen_queries[0].at <= server.seen_queries[1].at


# -- huge fields ------------------------------------------------------------------------------


def test_big_field_bytes_pads_every_event_of_a_page(
    client: httpx.Client, server: SimulatorServer, events: list[dict[str, Any]]
) -> None:
    server.faults = Faults(big_field_bytes=100_000)
    body = client.get(PATH, params=WINDOW).json()
    assert [e["id"] for e in body["data"]] == in_window(events)[:50]
    for event in body["data"]:
        payload = event.get(event["type"])
        holder = payload if isinstance(payload, dict) else event
        assert len(holder["sim_padding"].encode()) == 100_000
    assert len(client.get(PATH, params=WINDOW).content) > 50 * 100_000


# -- the store helper -------------------------------------------------------------------------


def test_scan_start_id_is_the_cursor_or_the_nearest_event_above_the_range() -> None:
    store = EventStore()
    store.add_many({"id": f"audit_log-{t}", "type": "logout.succeeded", "effective_at": t} for t in range(10))
    assert store.scan_start_id(Query(gte=2, lt=5)) == "audit_log-5"
    assert store.scan_start_id(Query(gte=2, lt=5, after="audit_log-3")) == "audit_log-3"
    assert store.scan_start_id(Query(gte=2, lt=5, after="audit_log-8")) == "audit_log-5"
    assert store.scan_start_id(Query(gte=2)) is None
