"""The simulator over real HTTP on loopback: order, cursors, filters, errors and headers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from connector.simulator import (
    EventStore,
    Faults,
    SimulatorServer,
    generate_events,
    is_tenant_scoped,
)

KEY = "sk-admin-Zq3uT9vK2mXw8pL4rN6yB1cD5fG7hJ0s"
NOW = 1_760_000_000
PATH = "/organization/audit_logs"


class Clock:
    """A server clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return generate_events(700, start=NOW - 3600, end=NOW, seed=7)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def store(events: list[dict[str, Any]]) -> EventStore:
    store = EventStore()
    store.add_many(events)
    return store


@pytest.fixture
def server(store: EventStore, clock: Clock) -> Iterator[SimulatorServer]:
    with SimulatorServer(store, admin_key=KEY, clock=clock) as srv:
        yield srv


@pytest.fixture
def client(server: SimulatorServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as c:
        yield c


def newest_first(events: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(events, key=lambda e: (e["effective_at"], e["id"]), reverse=True)
    return [e["id"] for e in ordered]


def expected(events: list[dict[str, Any]], keep: Callable[[dict[str, Any]], bool]) -> list[str]:
    return newest_first([e for e in events if keep(e) and not is_tenant_scoped(e["type"])])


def walk(client: httpx.Client, params: list[tuple[str, Any]]) -> list[str]:
    """Follow ``after=last_id`` like the SDK does, repeating every filter."""
    ids: list[str] = []
    after: list[tuple[str, Any]] = []
    while True:
        response = client.get(PATH, params=params + after)
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [e["id"] for e in body["data"]]
        if not body["has_more"]:
            return ids
        after = [("after", body["last_id"])]


def error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    err: dict[str, Any] = body["error"]
    return err


def test_server_listens_on_loopback_and_url_ends_in_v1(server: SimulatorServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}/v1"
    assert server.port > 0


def test_first_page_is_newest_first_with_same_second_ties_by_id_descending(
    client: httpx.Client, store: EventStore
) -> None:
    tied = [{"id": f"audit_log-tie{i}", "type": "logout.succeeded", "effective_at": NOW - 1} for i in "40213"]
    store.add_many(tied)
    body = client.get(PATH, params={"limit": 5}).json()
    assert [e["id"] for e in body["data"]] == [f"audit_log-tie{i}" for i in "43210"]
    assert set(body) == {"object", "data", "first_id", "last_id", "has_more"}
    assert body["object"] == "list" and body["has_more"] is True
    assert (body["first_id"], body["last_id"]) == ("audit_log-tie4", "audit_log-tie0")


def test_after_walks_every_visible_event_exactly_once(
    client: httpx.Client, events: list[dict[str, Any]]
) -> None:
    ids = walk(client, [("limit", 37)])
    assert ids == expected(events, lambda e: True)
    assert len(ids) == len(set(ids))


def test_tenant_only_walk_returns_exactly_the_tenant_scoped_events(
    client: httpx.Client, events: list[dict[str, Any]]
) -> None:
    ids = walk(client, [("limit", 100), ("tenant_only", "true")])
    assert ids == newest_first([e for e in events if is_tenant_scoped(e["type"])])
    assert walk(client, [("limit", 100), ("tenant_only", "false")]) == expected(events, lambda e: True)


def test_before_returns_the_newer_neighbours_of_the_cursor(client: httpx.Client) -> None:
    page1 = client.get(PATH, params={"limit": 10}).json()
    page2 = client.get(PATH, params={"limit": 10, "after": page1["last_id"]}).json()
    back = client.get(PATH, params={"limit": 10, "before": page2["first_id"]}).json()
    assert back["data"] == page1["data"]
    assert back["has_more"] is False
    top = client.get(PATH, params={"before": page1["first_id"]}).json()
    assert top == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


def test_walking_back_with_before_reaches_the_newest_event(
    client: httpx.Client, events: list[dict[str, Any]]
) -> None:
    order = expected(events, lambda e: True)
    collected: list[str] = []
    cursor = order[-1]
    while True:
        body = client.get(PATH, params={"limit": 50, "before": cursor}).json()
        collected = [e["id"] for e in body["data"]] + collected
        if not body["has_more"]:
            break
        cursor = body["first_id"]
    assert collected == order[:-1]


def some_session(events: list[dict[str, Any]], api_key_type: str | None = None) -> dict[str, Any]:
    for e in events:
        actor = e.get("actor") or {}
        if api_key_type is None and actor.get("type") == "session":
            return e
        if actor.get("type") == "api_key" and actor["api_key"]["type"] == api_key_type:
            return e
    raise AssertionError("no such actor in the sample")


def actor_ids(e: dict[str, Any]) -> set[str | None]:
    actor = e.get("actor") or {}
    s, k = actor.get("session") or {}, actor.get("api_key") or {}
    found = {s.get("user", {}).get("id"), k.get("id"), (k.get("user") or {}).get("id")}
    return found | {(k.get("service_account") or {}).get("id")}


def actor_emails(e: dict[str, Any]) -> set[str | None]:
    actor = e.get("actor") or {}
    s, k = actor.get("session") or {}, actor.get("api_key") or {}
    return {s.get("user", {}).get("email"), (k.get("user") or {}).get("email")}


def test_each_filter_selects_exactly_the_matching_events(
    client: httpx.Client, events: list[dict[str, Any]]
) -> None:
    project = next(e["project"]["id"] for e in events if "project" in e)
    user = some_session(events)["actor"]["session"]["user"]
    user_key = some_session(events, "user")["actor"]["api_key"]["id"]
    service_account = some_session(events, "service_account")["actor"]["api_key"]
    resource = next(e["user.added"]["id"] for e in events if e["type"] == "user.added")
    cases: list[tuple[str, str, Callable[[dict[str, Any]], bool]]] = [
        ("project_ids[]", project, lambda e: e.get("project", {}).get("id") == project),
        ("event_types[]", "login.failed", lambda e: e["type"] == "login.failed"),
        ("actor_ids[]", user["id"], lambda e: user["id"] in actor_ids(e)),
        ("actor_ids[]", user_key, lambda e: user_key in actor_ids(e)),
        (
            "actor_ids[]",
            service_account["service_account"]["id"],
            lambda e: service_account["service_account"]["id"] in actor_ids(e),
        ),
        ("actor_emails[]", user["email"], lambda e: user["email"] in actor_emails(e)),
        ("resource_ids[]", resource, lambda e: e[e["type"]].get("id") == resource),
    ]
    for name, value, keep in cases:
        want = expected(events, keep)
        assert want, name
        assert walk(client, [(name, value), ("limit", 7)]) == want, name


def test_non_ascii_email_filter_is_percent_decoded(
    client: httpx.Client, events: list[dict[str, Any]]
) -> None:
    email = next(
        e["actor"]["session"]["user"]["email"]
        for e in events
        if (e.get("actor") or {}).get("type") == "session"
        and not e["actor"]["session"]["user"]["email"].isascii()
    )
    assert walk(client, [("actor_emails[]", email)]) == expected(events, lambda e: email in actor_emails(e))


def test_repeated_keys_select_the_union(client: httpx.Client, events: list[dict[str, Any]]) -> None:
    types = {"login.failed", "api_key.created", "project.created"}
    params: list[tuple[str, Any]] = [("event_types[]", t) for t in sorted(types)]
    assert walk(client, [*params, ("limit", 100)]) == expected(events, lambda e: e["type"] in types)


def test_literal_and_percent_encoded_brackets_are_equivalent(
    client: httpx.Client, server: SimulatorServer
) -> None:
    literal = client.get(
        f"{PATH}?effective_at[gte]={NOW - 1800}&event_types[]=login.succeeded"
        "&event_types[]=login.failed&limit=100"
    ).json()
    encoded = client.get(
        f"{PATH}?effective_at%5Bgte%5D={NOW - 1800}&event_types%5B%5D=login.succeeded"
        "&event_types%5b%5d=login.failed&limit=100"
    ).json()
    assert literal == encoded and literal["data"]
    assert server.seen_queries[-1].values("event_types[]") == ["login.succeeded", "login.failed"]


def test_filters_combine_with_cursors_and_time_bounds(
    client: httpx.Client, events: list[dict[str, Any]]
) -> None:
    lo, hi = NOW - 3000, NOW - 600
    types = ("login.succeeded", "logout.succeeded", "api_key.deleted")
    params: list[tuple[str, Any]] = [("event_types[]", t) for t in types]
    params += [("effective_at[gte]", lo), ("effective_at[lt]", hi), ("limit", 3)]
    assert walk(client, params) == expected(
        events, lambda e: e["type"] in types and lo <= e["effective_at"] < hi
    )


@pytest.mark.parametrize(
    ("op", "keep"),
    [
        ("gt", lambda at, b: at > b),
        ("gte", lambda at, b: at >= b),
        ("lt", lambda at, b: at < b),
        ("lte", lambda at, b: at <= b),
    ],
)
def test_effective_at_bounds_are_exact_at_the_boundary_second(
    client: httpx.Client,
    events: list[dict[str, Any]],
    op: str,
    keep: Callable[[int, int], bool],
) -> None:
    boundary = events[len(events) // 2]["effective_at"]
    ids = walk(client, [(f"effective_at[{op}]", boundary), ("limit", 100)])
    assert ids == expected(events, lambda e: keep(e["effective_at"], boundary))


def test_limit_defaults_to_20_and_accepts_1_to_100(client: httpx.Client) -> None:
    assert len(client.get(PATH).json()["data"]) == 20
    assert len(client.get(PATH, params={"limit": 1}).json()["data"]) == 1
    assert len(client.get(PATH, params={"limit": 100}).json()["data"]) == 100


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"effective_at[gte]": "1.5"}, "effective_at[gte]"),
        ({"effective_at[lt]": "yesterday"}, "effective_at[lt]"),
        ({"event_types[]": "api_key.exploded"}, "event_types[]"),
        ({"tenant_only": "true", "event_types[]": "api_key.created"}, "event_types[]"),
        ({"tenant_only": "maybe"}, "tenant_only"),
        ({"after": "audit_log-unknown"}, "after"),
        ({"before": "audit_log-unknown"}, "before"),
    ],
)
def test_invalid_parameters_get_a_400_naming_the_parameter(
    client: httpx.Client, params: dict[str, Any], param: str
) -> None:
    response = client.get(PATH, params=params)
    assert response.status_code == 400
    err = error(response)
    assert err["param"] == param and err["type"] == "invalid_request_error"


def test_wrong_key_gets_401_with_a_masked_key_and_no_secret(server: SimulatorServer) -> None:
    wrong = "sk-admin-WRONGwrongWRONGwrong1234"
    response = httpx.get(f"{server.url}{PATH}", headers={"Authorization": f"Bearer {wrong}"})
    assert response.status_code == 401
    err = error(response)
    assert err["code"] == "invalid_api_key" and err["param"] is None
    assert "sk-adm" in err["message"] and "1234" in err["message"]
    assert wrong not in response.text and KEY not in response.text
    missing = httpx.get(f"{server.url}{PATH}")
    assert missing.status_code == 401 and KEY not in missing.text
    short = httpx.get(f"{server.url}{PATH}", headers={"Authorization": "Bearer abc"})
    assert short.status_code == 401 and "abc" not in short.text


def test_tenant_only_is_forbidden_when_the_key_may_not_read_tenants(store: EventStore) -> None:
    with SimulatorServer(store, admin_key=KEY, tenant_allowed=False) as srv:
        headers = {"Authorization": f"Bearer {KEY}"}
        denied = httpx.get(f"{srv.url}{PATH}", params={"tenant_only": "true"}, headers=headers)
        assert denied.status_code == 403
        assert error(denied)["param"] == "tenant_only"
        allowed = httpx.get(f"{srv.url}{PATH}", headers=headers)
        assert allowed.status_code == 200


def test_other_paths_404_and_other_methods_405(client: httpx.Client) -> None:
    missing = client.get("/organization/audit_log")
    assert missing.status_code == 404
    assert "GET /v1/organization/audit_log" in error(missing)["message"]
    assert client.post(PATH, json={}).status_code == 405


def test_late_events_appear_when_the_server_clock_reaches_them(
    client: httpx.Client, store: EventStore, clock: Clock
) -> None:
    late = {"id": "audit_log-late", "type": "user.deleted", "effective_at": NOW - 500}
    store.add(late, visible_at=NOW + 30)
    params = {"effective_at[gte]": NOW - 501, "effective_at[lte]": NOW - 499, "limit": 100}
    assert "audit_log-late" not in [e["id"] for e in client.get(PATH, params=params).json()["data"]]
    clock.now = NOW + 30
    assert "audit_log-late" in [e["id"] for e in client.get(PATH, params=params).json()["data"]]


def test_date_header_follows_the_server_clock(client: httpx.Client, clock: Clock) -> None:
    response = client.get(PATH)
    assert parsedate_to_datetime(response.headers["Date"]).timestamp() == NOW
    clock.now = NOW + 600.7
    response = client.get(PATH)
    assert parsedate_to_datetime(response.headers["Date"]).timestamp() == NOW + 600
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["x-request-id"].startswith("req_")
    assert response.headers["x-request-id"] != client.get(PATH).headers["x-request-id"]


def test_injected_429_carries_retry_after_and_an_error_body(
    client: httpx.Client, server: SimulatorServer
) -> None:
    server.faults = Faults(rate_429=1.0, retry_after=7)
    response = client.get(PATH)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert error(response)["code"] == "rate_limit_exceeded"


def test_injected_500_has_an_error_body(client: httpx.Client, server: SimulatorServer) -> None:
    server.faults = Faults(rate_500=1.0)
    response = client.get(PATH)
    assert response.status_code == 500
    assert error(response)["type"] == "server_error"


def test_injected_truncation_sends_200_with_half_a_json_body(
    client: httpx.Client, server: SimulatorServer
) -> None:
    server.faults = Faults(rate_truncated=1.0)
    response = client.get(PATH, params={"limit": 50})
    assert response.status_code == 200
    assert response.content.startswith(b'{"object":"list","data":[')
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert server.requests.truncated == 1


def test_injected_latency_delays_every_response(client: httpx.Client, server: SimulatorServer) -> None:
    server.faults = Faults(latency_s=0.2)
    assert client.get(PATH).elapsed.total_seconds() >= 0.2


def test_partial_fault_rates_are_seeded_and_spare_unauthenticated_requests(
    store: EventStore,
) -> None:
    def statuses() -> list[int]:
        faults = Faults(rate_429=0.3, rate_500=0.2, seed=42)
        with (
            SimulatorServer(store, admin_key=KEY, faults=faults) as srv,
            httpx.Client(base_url=srv.url) as anonymous,
        ):
            assert anonymous.get(PATH).status_code == 401
            headers = {"Authorization": f"Bearer {KEY}"}
            return [anonymous.get(PATH, headers=headers).status_code for _ in range(40)]

    first = statuses()
    assert first == statuses()
    assert {200, 429, 500} == set(first)


def test_requests_are_counted_by_status_and_queries_recorded(
    client: httpx.Client, server: SimulatorServer
) -> None:
    client.get(PATH, params={"limit": 5, "actor_emails[]": "zoë@example.com"})
    client.get(PATH, params={"limit": 500})
    client.get("/nowhere")
    assert server.requests.total == 3
    assert server.requests.by_status() == {200: 1, 400: 1, 404: 1}
    assert server.requests[400] == 1
    assert [q.status for q in server.seen_queries] == [200, 400]
    assert server.seen_queries[0].values("actor_emails[]") == ["zoë@example.com"]


def test_stop_cuts_keep_alive_connections_and_start_reuses_the_port(
    client: httpx.Client, server: SimulatorServer
) -> None:
    assert client.get(PATH).status_code == 200
    port = server.port
    server.stop()
    with pytest.raises(httpx.TransportError):
        client.get(PATH)
    server.start()
    assert server.port == port
    assert client.get(PATH).status_code == 200
