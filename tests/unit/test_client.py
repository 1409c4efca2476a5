"""The audit-log client: exact wire encoding, retry policy and error classification."""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson
import pytest

from connector.config import OpenAISettings
from connector.errors import ApiRequestError, AuthError, PaginationError, SourceUnavailable
from connector.metrics import Metrics
from connector.models import Window
from connector.source.client import AuditLogClient, AuditQuery

KEY = "sk-admin-THISISASECRETKEY0123456789"


class RecordingStop(threading.Event):
    """A stop event that records the waits instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(float(timeout or 0))
        return self.is_set()


def page(events: list[dict[str, object]], *, has_more: bool = False, last_id: str | None = None) -> bytes:
    return orjson.dumps(
        {"object": "list", "data": events, "first_id": None, "last_id": last_id, "has_more": has_more}
    )


def make_client(
    handler: Callable[[httpx.Request], httpx.Response], **overrides: object
) -> tuple[AuditLogClient, RecordingStop]:
    settings = OpenAISettings(
        base_url="https://api.test/v1", admin_key=KEY, retry_base=0.1, retry_max=1.0, **overrides
    )
    stop = RecordingStop()
    client = AuditLogClient(settings, metrics=Metrics(), stop=stop, transport=httpx.MockTransport(handler))
    return client, stop


def event(i: int, t: int = 1_700_000_000) -> dict[str, object]:
    return {"id": f"audit_log-{i:04d}", "type": "login.succeeded", "effective_at": t, "object": "x"}


def test_query_uses_exact_bracketed_wire_names_and_repeats_list_keys() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=page([]))

    client, _ = make_client(handler)
    query = AuditQuery(
        tenant_only=True,
        event_types=("tenant.user.added", "tenant.user.removed"),
        project_ids=("proj_1",),
        actor_emails=("a@example.com",),
        resource_ids=("r1", "r2"),
    )
    client.fetch_page(query, Window(100, 200), after="audit_log-9")
    request = seen[0]
    assert request.url.path == "/v1/organization/audit_logs"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    pairs = parse_qsl(urlsplit(str(request.url)).query)
    assert pairs == [
        ("effective_at[gte]", "100"),
        ("effective_at[lt]", "200"),
        ("limit", "100"),
        ("event_types[]", "tenant.user.added"),
        ("event_types[]", "tenant.user.removed"),
        ("project_ids[]", "proj_1"),
        ("actor_emails[]", "a@example.com"),
        ("resource_ids[]", "r1"),
        ("resource_ids[]", "r2"),
        ("tenant_only", "true"),
        ("after", "audit_log-9"),
    ]


def test_paging_follows_last_id_and_repeats_every_filter() -> None:
    pages = {
        None: page([event(1), event(2)], has_more=True, last_id="audit_log-0002"),
        "audit_log-0002": page([event(3)], has_more=True, last_id="audit_log-0003"),
        "audit_log-0003": page([event(4)], has_more=False, last_id="audit_log-0004"),
    }
    queries: list[list[tuple[str, str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = parse_qsl(urlsplit(str(request.url)).query)
        queries.append(params)
        return httpx.Response(200, content=pages[dict(params).get("after")])

    client, _ = make_client(handler)
    got = [
        e["id"]
        for p in client.iter_window(AuditQuery(event_types=("login.succeeded",)), Window(1, 2))
        for e in p.events
    ]
    assert got == ["audit_log-0001", "audit_log-0002", "audit_log-0003", "audit_log-0004"]
    assert all(("event_types[]", "login.succeeded") in q and ("effective_at[gte]", "1") in q for q in queries)


def test_a_repeated_cursor_is_an_error_not_a_hang() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=page([event(1)], has_more=True, last_id="audit_log-0001"))

    client, _ = make_client(handler)
    with pytest.raises(PaginationError, match="repeated cursor"):
        list(client.iter_window(AuditQuery(), Window(1, 2)))


def test_has_more_without_a_cursor_is_an_error_so_the_window_is_not_committed_half_read() -> None:
    client, _ = make_client(lambda r: httpx.Response(200, content=page([], has_more=True, last_id=None)))
    with pytest.raises(PaginationError, match="no last_id"):
        list(client.iter_window(AuditQuery(), Window(1, 2)))


def test_429_waits_exactly_retry_after_then_succeeds() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"message": "slow down"}}),
            httpx.Response(200, content=page([event(1)])),
        ]
    )
    client, stop = make_client(lambda r: next(answers))
    result = client.fetch_page(AuditQuery(), Window(1, 2))
    assert [e["id"] for e in result.events] == ["audit_log-0001"]
    assert stop.waits == [pytest.approx(7.0, abs=0.05)]


def test_retry_after_beyond_the_cap_waits_the_cap() -> None:
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "9999"}), httpx.Response(200, content=page([]))]
    )
    client, stop = make_client(lambda r: next(answers), retry_after_max=60)
    client.fetch_page(AuditQuery(), Window(1, 2))
    assert stop.waits == [pytest.approx(60.0, abs=0.05)]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json={"error": {"message": "boom"}}),
        httpx.Response(503),
        httpx.Response(200, content=b'{"object": "list", "data": [{"id": "a'),
        httpx.Response(200, content=b'{"object": "list"}'),
        httpx.Response(200, content=b"\xff\xfe not json"),
    ],
    ids=["500", "503", "truncated", "no-data", "not-utf8"],
)
def test_transient_failures_are_retried_with_capped_growing_backoff(failure: httpx.Response) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return failure if calls["n"] <= 5 else httpx.Response(200, content=page([]))

    client, stop = make_client(handler)
    client.fetch_page(AuditQuery(), Window(1, 2))
    assert calls["n"] == 6
    assert len(stop.waits) == 5
    # equal jitter: each wait is within [step/2, step], step = min(1.0, 0.1 * 2**n)
    for n, wait in enumerate(stop.waits):
        step = min(1.0, 0.1 * 2**n)
        assert step / 2 <= wait <= step


def test_connection_errors_are_retried_and_give_up_after_max_retries() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client, stop = make_client(handler, max_retries=3)
    with pytest.raises(SourceUnavailable, match="connection error"):
        client.fetch_page(AuditQuery(), Window(1, 2))
    assert len(stop.waits) == 3


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_fatal_at_once_and_never_show_the_key(status: int) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        body = {"error": {"message": f"Incorrect API key provided: {KEY}", "type": "invalid_request_error"}}
        return httpx.Response(status, json=body, headers={"x-request-id": "req_1"})

    client, stop = make_client(handler)
    with pytest.raises(AuthError) as info:
        client.fetch_page(AuditQuery(), Window(1, 2))
    assert calls["n"] == 1 and stop.waits == []
    text = str(info.value)
    assert KEY not in text and KEY[:16] not in text
    assert f"HTTP {status}" in text and "req_1" in text and "\n" not in text


def test_400_is_fatal_with_the_apis_own_message() -> None:
    body = {
        "error": {"message": "Invalid value for 'limit'.", "type": "invalid_request_error", "param": "limit"}
    }
    client, _ = make_client(lambda r: httpx.Response(400, json=body))
    with pytest.raises(ApiRequestError, match="Invalid value for 'limit'"):
        client.fetch_page(AuditQuery(), Window(1, 2))


def test_server_clock_comes_from_the_date_header() -> None:
    date = "Tue, 01 Jan 2030 00:00:00 GMT"
    client, _ = make_client(lambda r: httpx.Response(200, content=page([]), headers={"Date": date}))
    client.fetch_page(AuditQuery(), Window(1, 2))
    assert abs(client.clock.now() - 1893456000) < 5


@pytest.mark.parametrize(
    "body",
    [
        b'{"object":"list","data":[{"id":"audit_log-1","type":"x","effective_at":1,"n":"\\ud800"}],"has_more":false}',
        b'{"object":"list","data":[{"id":"audit_log-1","type":"x","effective_at":1,"n":"a\xffb"}],"has_more":false}',
    ],
    ids=["lone-surrogate", "invalid-byte"],
)
def test_a_complete_body_that_is_not_strict_utf8_is_read_not_retried_forever(body: bytes) -> None:
    client, stop = make_client(lambda r: httpx.Response(200, content=body))
    page_ = client.fetch_page(AuditQuery(), Window(1, 2))
    assert [e["id"] for e in page_.events] == ["audit_log-1"] and stop.waits == []


def test_an_expired_cursor_restarts_the_window_from_its_start() -> None:
    calls: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        after = dict(parse_qsl(urlsplit(str(request.url)).query)).get("after")
        calls.append(after)
        if after is None:
            return httpx.Response(200, content=page([event(1)], has_more=True, last_id="audit_log-0001"))
        if calls.count("audit_log-0001") == 1:
            return httpx.Response(400, json={"error": {"message": "Invalid cursor", "param": "after"}})
        return httpx.Response(200, content=page([event(2)]))

    client, _ = make_client(handler)
    got = [e["id"] for p in client.iter_window(AuditQuery(), Window(1, 2)) for e in p.events]
    assert calls == [None, "audit_log-0001", None, "audit_log-0001"]
    assert got == ["audit_log-0001", "audit_log-0001", "audit_log-0002"]  # the pipeline dedupes by id


def test_a_cursor_that_keeps_failing_is_a_retriable_error_after_a_few_restarts() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "after=" in str(request.url):
            return httpx.Response(400, json={"error": {"message": "Invalid cursor"}})
        return httpx.Response(200, content=page([event(1)], has_more=True, last_id="audit_log-0001"))

    client, _ = make_client(handler)
    with pytest.raises(PaginationError, match="kept refusing cursors"):
        list(client.iter_window(AuditQuery(), Window(1, 2)))
