"""The test HEC receiver answers like Splunk HEC (sinks.md §1), over real loopback HTTP.

Every response code the sink must classify (sinks.md §1.4) is provoked here with httpx, and the ack
lifecycle, the "HEC 200 ≠ indexed" loss knob and all-or-nothing rejection are checked against ``.events``.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.hec_receiver import HecReceiver, HecToken

ACK = "11111111-aaaa-4bbb-8ccc-000000000001"
NOACK = "22222222-aaaa-4bbb-8ccc-000000000002"
DISABLED = "33333333-aaaa-4bbb-8ccc-000000000003"
LIMITED = "44444444-aaaa-4bbb-8ccc-000000000004"
EVENT = "/services/collector/event"
ACK_PATH = "/services/collector/ack"
HEALTH = "/services/collector/health"


def _tokens() -> list[HecToken]:
    return [
        HecToken(ACK),
        HecToken(NOACK, use_ack=False),
        HecToken(DISABLED, disabled=True),
        HecToken(LIMITED, use_ack=False, indexes=("main", "security"), default_index="security"),
    ]


@pytest.fixture
def hec() -> Iterator[HecReceiver]:
    receiver = HecReceiver(_tokens()).start()
    try:
        yield receiver
    finally:
        receiver.stop()
    assert receiver.errors == []


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _headers(token: str | None = ACK, channel: str | None = None, **extra: str) -> dict[str, str]:
    headers = dict(extra)
    if token is not None:
        headers["Authorization"] = f"Splunk {token}"
    if channel is not None:
        headers["X-Splunk-Request-Channel"] = channel
    return headers


def _body(*envelopes: dict[str, Any], sep: str = "\n") -> bytes:
    return sep.join(json.dumps(e) for e in envelopes).encode()


def _post(
    client: httpx.Client,
    hec: HecReceiver,
    content: bytes,
    token: str | None = ACK,
    channel: str | None = None,
    path: str = EVENT,
    **extra: str,
) -> httpx.Response:
    if channel is None and token == ACK:
        channel = str(uuid.uuid4())
    return client.post(hec.url + path, content=content, headers=_headers(token, channel, **extra))


def _ack_query(
    client: httpx.Client, hec: HecReceiver, channel: str, ids: list[int], token: str = ACK
) -> httpx.Response:
    return client.post(hec.url + ACK_PATH, json={"acks": ids}, headers=_headers(token, channel))


def _err(response: httpx.Response, status: int, code: int, event_number: int | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    if event_number is None:
        assert "invalid-event-number" not in body
    else:
        assert body["invalid-event-number"] == event_number, body


GOOD = {"event": {"action": "login"}, "time": 1700000000.123, "sourcetype": "openai:audit"}


# --------------------------------------------------------------------------- authentication (codes 1–4)


def test_auth_codes(hec: HecReceiver, client: httpx.Client) -> None:
    body = _body(GOOD)
    r = client.post(hec.url + EVENT, content=body)
    _err(r, 401, 2)
    assert r.json()["text"] == "Token is required"
    r = client.post(hec.url + EVENT, content=body, headers={"Authorization": f"Bearer {NOACK}"})
    _err(r, 401, 3)
    assert r.json()["text"] == "Invalid authorization"
    r = client.post(hec.url + EVENT, content=body, headers={"Authorization": NOACK})
    _err(r, 401, 3)
    r = client.post(hec.url + EVENT, content=body, headers={"Authorization": "Splunk"})
    _err(r, 401, 3)
    _err(_post(client, hec, body, token="not-a-token"), 403, 4)
    assert _post(client, hec, body, token="not-a-token").json()["text"] == "Invalid token"
    r = _post(client, hec, body, token=DISABLED)
    _err(r, 403, 1)
    assert r.json()["text"] == "Token disabled"
    assert hec.indexed_events() == []
    assert hec.requests.count(path=EVENT, status=401) == 4
    assert hec.requests.count(code=1) == 1


def test_basic_auth_with_token_as_password(hec: HecReceiver, client: httpx.Client) -> None:
    creds = base64.b64encode(f"anyone:{NOACK}".encode()).decode()
    r = client.post(hec.url + EVENT, content=_body(GOOD), headers={"Authorization": f"Basic {creds}"})
    assert r.status_code == 200, r.text
    assert len(hec.indexed_events()) == 1


def test_disabling_a_token_while_running(hec: HecReceiver, client: httpx.Client) -> None:
    assert _post(client, hec, _body(GOOD), token=NOACK).status_code == 200
    hec.token(NOACK).disabled = True
    _err(_post(client, hec, _body(GOOD), token=NOACK), 403, 1)


# ---------------------------------------------------------------- body format (5, 6, 12, 13, 15, 7)


def test_no_data(hec: HecReceiver, client: httpx.Client) -> None:
    r = _post(client, hec, b"", token=NOACK)
    _err(r, 400, 5)
    assert r.json()["text"] == "No data"
    _err(_post(client, hec, b" \n\t ", token=NOACK), 400, 5)


def test_invalid_json_reports_the_failing_object(hec: HecReceiver, client: httpx.Client) -> None:
    body = _body(GOOD, GOOD) + b'\n{"event": "x",'
    r = _post(client, hec, body, token=NOACK)
    _err(r, 400, 6, event_number=2)
    assert r.json()["text"] == "Invalid data format"
    _err(_post(client, hec, b'{"event": "a"}, {"event": "b"}', token=NOACK), 400, 6, event_number=1)
    _err(_post(client, hec, b'["not", "an", "object"]', token=NOACK), 400, 6, event_number=0)
    _err(_post(client, hec, b'{"event": NaN}', token=NOACK), 400, 6, event_number=0)
    _err(_post(client, hec, _body(GOOD) + b'\n{"event": "\xff"}', token=NOACK), 400, 6, event_number=1)
    _err(_post(client, hec, _body({"event": "x", "host": 5}), token=NOACK), 400, 6, event_number=0)
    assert hec.indexed_events() == []


def test_event_required_and_not_blank(hec: HecReceiver, client: httpx.Client) -> None:
    r = _post(client, hec, _body(GOOD, {"time": 1}), token=NOACK)
    _err(r, 400, 12, event_number=1)
    assert r.json()["text"] == "Event field is required"
    for blank in ("", "   ", None):
        r = _post(client, hec, _body({"event": blank}, GOOD), token=NOACK)
        _err(r, 400, 13, event_number=0)
        assert r.json()["text"] == "Event field cannot be blank"
    assert hec.indexed_events() == []


@pytest.mark.parametrize(
    "envelope",
    [
        {"event": "x", "fields": {"nested": {"a": "b"}}},
        {"event": "x", "fields": {"n": 1}},
        {"event": "x", "fields": {"l": ["a", 2]}},
        {"event": "x", "fields": ["a"]},
    ],
)
def test_indexed_fields_errors(hec: HecReceiver, client: httpx.Client, envelope: dict[str, Any]) -> None:
    r = _post(client, hec, _body({"event": "ok"}, envelope), token=NOACK)
    _err(r, 400, 15, event_number=1)
    assert r.json()["text"] == "Error in handling indexed fields"
    assert hec.indexed_events() == []


@pytest.mark.parametrize(
    "bad_time", ["1.7E9", "1e9", '"1.7E9"', '"2024-01-01T00:00:00Z"', "true", "null", '"abc"', "{}"]
)
def test_time_must_be_plain_decimal(hec: HecReceiver, client: httpx.Client, bad_time: str) -> None:
    content = f'{{"event": "x", "time": {bad_time}}}'.encode()
    _err(_post(client, hec, content, token=NOACK), 400, 15, event_number=0)


def test_plain_time_number_or_string_and_flat_fields_accepted(hec: HecReceiver, client: httpx.Client) -> None:
    content = (
        b'{"event": "a", "time": 1700000000}'
        b'{"event": "b", "time": "1700000000.500"}'
        b'{"event": "c", "time": 1700000000.25, "fields": {"k": "v", "l": ["x", "y"], "e": []}}'
        b'{"event": "d"}'
    )
    before = time.time()
    assert _post(client, hec, content, token=NOACK).status_code == 200
    events = hec.indexed_events()
    assert [e["time"] for e in events[:3]] == [1700000000.0, 1700000000.5, 1700000000.25]
    assert before <= events[3]["time"] <= time.time() + 1  # no time: receipt time
    assert events[2]["fields"] == {"k": "v", "l": ["x", "y"], "e": []}


def test_incorrect_index(hec: HecReceiver, client: httpx.Client) -> None:
    r = _post(
        client, hec, _body({"event": "a", "index": "main"}, {"event": "b", "index": "other"}), token=LIMITED
    )
    _err(r, 400, 7, event_number=1)
    assert r.json()["text"] == "Incorrect index"
    assert hec.indexed_events() == []
    assert (
        _post(client, hec, _body({"event": "a", "index": "main"}, {"event": "b"}), token=LIMITED).status_code
        == 200
    )
    assert [e["index"] for e in hec.indexed_events()] == ["main", "security"]  # default_index fills in


def test_rejected_request_indexes_nothing(hec: HecReceiver, client: httpx.Client) -> None:
    """All or nothing: the good objects before a bad one are not indexed (Splunk leaves this undefined)."""
    body = _body({"event": "good-1"}, {"event": "good-2"}, {"event": ""})
    _err(_post(client, hec, body, token=NOACK), 400, 13, event_number=2)
    channel = str(uuid.uuid4())
    r = _post(client, hec, body, token=ACK, channel=channel)
    _err(r, 400, 13, event_number=2)
    assert "ackId" not in r.json()
    time.sleep(0.1)
    assert hec.indexed_events() == []
    assert hec.pending_acks() == 0
    # the next ackId on the channel is still 0: the refused request consumed none
    assert _post(client, hec, _body(GOOD), channel=channel).json()["ackId"] == 0


def test_poison_refuses_the_whole_request(hec: HecReceiver, client: httpx.Client) -> None:
    seen: list[dict[str, Any]] = []

    def poison(envelope: dict[str, Any]) -> int | None:
        seen.append(envelope)
        return 6 if envelope["event"] == "bad" else None

    hec.poison = poison
    r = _post(client, hec, _body({"event": "ok"}, {"event": "bad"}, {"event": "ok2"}), token=NOACK)
    _err(r, 400, 6, event_number=1)
    assert hec.indexed_events() == []
    assert [e["event"] for e in seen] == ["ok", "bad"]
    assert _post(client, hec, _body({"event": "ok"}), token=NOACK).status_code == 200
    hec.poison = lambda envelope: 15
    _err(_post(client, hec, _body({"event": "x"}), token=NOACK), 400, 15, event_number=0)
    assert [e["event"] for e in hec.indexed_events()] == ["ok"]


# ---------------------------------------------------------------- transport: 413, 415, gzip, batching


def test_content_length_over_the_limit_is_413(client: httpx.Client) -> None:
    with HecReceiver(_tokens(), max_content_length=1000) as hec:
        big = _body(*({"event": "x" * 100, "n": i} for i in range(20)))
        assert len(big) > 1000
        r = _post(client, hec, big, token=NOACK)
        assert r.status_code == 413
        assert "too large" in r.json()["text"]
        # the same keep-alive connection still works: the oversized body was drained
        assert _post(client, hec, _body(GOOD), token=NOACK).status_code == 200
        assert len(hec.indexed_events()) == 1
        assert hec.requests.count(path=EVENT, status=413, code=None) == 1
        # a chunked body over the limit is refused too
        r = client.post(hec.url + EVENT, content=iter([big[:600], big[600:]]), headers=_headers(NOACK))
        assert r.status_code == 413
        assert hec.errors == []


def test_chunked_body_is_accepted(hec: HecReceiver, client: httpx.Client) -> None:
    body = _body(GOOD, GOOD)
    r = client.post(hec.url + EVENT, content=iter([body[:10], body[10:]]), headers=_headers(NOACK))
    assert r.status_code == 200, r.text
    assert len(hec.indexed_events()) == 2


def test_other_content_encodings_are_415(hec: HecReceiver, client: httpx.Client) -> None:
    r = _post(client, hec, _body(GOOD), token=NOACK, **{"Content-Encoding": "br"})
    assert r.status_code == 415
    assert hec.indexed_events() == []


def test_gzip_body(hec: HecReceiver, client: httpx.Client) -> None:
    body = gzip.compress(_body(GOOD, {"event": "second"}))
    r = _post(client, hec, body, token=NOACK, **{"Content-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert [e["event"] for e in hec.indexed_events()] == [GOOD["event"], "second"]
    r = _post(client, hec, b"\x1f\x8b not gzip", token=NOACK, **{"Content-Encoding": "gzip"})
    _err(r, 400, 6)


@pytest.mark.parametrize("sep", ["", "\n", "\r\n", "  \n\t"])
def test_concatenated_json_objects(hec: HecReceiver, client: httpx.Client, sep: str) -> None:
    envelopes = [
        {"event": {"i": i}, "time": 1700000000 + i, "host": "h", "source": "s", "sourcetype": "st"}
        for i in range(5)
    ]
    r = _post(client, hec, _body(*envelopes, sep=sep) + sep.encode(), token=NOACK, channel="not-a-guid")
    assert r.status_code == 200, r.text
    assert r.json() == {"text": "Success", "code": 0}
    events = hec.indexed_events()
    assert [e["event"] for e in events] == [{"i": i} for i in range(5)]
    first = events[0]
    assert first["host"] == "h" and first["source"] == "s" and first["sourcetype"] == "st"
    assert first["index"] == "main" and first["fields"] is None
    assert first["_token"] == NOACK and first["_channel"] == "not-a-guid" and first["_ack_id"] is None


def test_event_paths(hec: HecReceiver, client: httpx.Client) -> None:
    for path in ("/services/collector", "/services/collector/event", "/services/collector/event/1.0"):
        assert _post(client, hec, _body({"event": path}), token=NOACK, path=path).status_code == 200
    assert [e["event"] for e in hec.indexed_events()] == [
        "/services/collector",
        "/services/collector/event",
        "/services/collector/event/1.0",
    ]


def test_unknown_path_404_and_wrong_method_405(hec: HecReceiver, client: httpx.Client) -> None:
    assert _post(client, hec, _body(GOOD), token=NOACK, path="/services/collector/raw").status_code == 404
    assert client.get(hec.url + "/nope").status_code == 404
    assert client.get(hec.url + EVENT).status_code == 405
    assert client.put(hec.url + EVENT, content=b"{}").status_code == 405
    assert client.delete(hec.url + ACK_PATH).status_code == 405


# --------------------------------------------------------------------------- busy and health


def test_busy_rate_one_answers_503_code_9(hec: HecReceiver, client: httpx.Client) -> None:
    hec.busy_rate = 1.0
    r = _post(client, hec, _body(GOOD), token=NOACK)
    _err(r, 503, 9)
    assert r.json()["text"] == "Server is busy"
    assert "Retry-After" not in r.headers
    hec.busy_retry_after = 5
    assert _post(client, hec, _body(GOOD), token=NOACK).headers["Retry-After"] == "5"
    # auth is checked first
    _err(_post(client, hec, _body(GOOD), token="unknown"), 403, 4)
    assert hec.indexed_events() == []
    hec.busy_rate = 0.0
    assert _post(client, hec, _body(GOOD), token=NOACK).status_code == 200


def test_busy_rate_is_seeded(client: httpx.Client) -> None:
    def statuses(seed: int) -> list[int]:
        with HecReceiver(_tokens(), seed=seed, busy_rate=0.5) as hec:
            return [_post(client, hec, _body(GOOD), token=NOACK).status_code for _ in range(20)]

    first = statuses(7)
    assert first == statuses(7)
    assert set(first) == {200, 503}


def test_health(hec: HecReceiver, client: httpx.Client) -> None:
    r = client.get(hec.url + HEALTH)
    assert r.status_code == 200
    assert r.json() == {"text": "HEC is healthy", "code": 17}
    assert client.get(hec.url + HEALTH + "/1.0").json()["code"] == 17
    hec.busy_rate = 1.0
    r = client.get(hec.url + HEALTH)
    assert r.status_code == 503
    assert r.json()["code"] == 18
    hec.busy_rate = 0.0
    _err(client.get(hec.url + HEALTH, params={"token": "unknown"}), 400, 21)
    _err(client.get(hec.url + HEALTH, headers=_headers(DISABLED)), 400, 22)
    assert client.get(hec.url + HEALTH, headers=_headers(ACK)).json()["code"] == 17


# --------------------------------------------------------------------------- indexer acknowledgement


def test_channel_missing_and_invalid(hec: HecReceiver, client: httpx.Client) -> None:
    body = _body(GOOD)
    r = client.post(hec.url + EVENT, content=body, headers=_headers(ACK))
    _err(r, 400, 10)
    assert r.json()["text"] == "Data channel is missing"
    r = client.post(hec.url + EVENT, content=body, headers=_headers(ACK, channel="not-a-guid"))
    _err(r, 400, 11)
    assert r.json()["text"] == "Invalid data channel"
    _err(client.post(hec.url + ACK_PATH, json={"acks": [0]}, headers=_headers(ACK)), 400, 10)
    _err(_ack_query(client, hec, "nope", [0]), 400, 11)
    # ?channel= works as well as the header
    channel = str(uuid.uuid4())
    r = client.post(hec.url + EVENT, params={"channel": channel}, content=body, headers=_headers(ACK))
    assert r.json() == {"text": "Success", "code": 0, "ackId": 0}
    assert hec.indexed_events()[0]["_channel"] == channel


def test_ack_disabled_code_14(hec: HecReceiver, client: httpx.Client) -> None:
    r = _ack_query(client, hec, str(uuid.uuid4()), [0], token=NOACK)
    _err(r, 400, 14)
    assert r.json()["text"] == "ACK is disabled"


def test_ack_lifecycle(hec: HecReceiver, client: httpx.Client) -> None:
    hec.ack_delay_s = 0.4
    channel, other = str(uuid.uuid4()), str(uuid.uuid4())
    ids = [_post(client, hec, _body({"event": i}), channel=channel).json()["ackId"] for i in range(3)]
    assert ids == [0, 1, 2]
    assert _post(client, hec, _body({"event": "other"}), channel=other).json()["ackId"] == 0
    r = _ack_query(client, hec, channel, [0, 1, 2, 99])
    assert r.json() == {"acks": {"0": False, "1": False, "2": False, "99": False}}
    assert hec.indexed_events() == []
    assert hec.pending_acks() == 4
    time.sleep(0.5)
    assert _ack_query(client, hec, channel, [0, 2]).json() == {"acks": {"0": True, "2": True}}
    # read true once, then forgotten: later queries (and unknown ids) read false
    assert _ack_query(client, hec, channel, [0, 1, 2]).json() == {"acks": {"0": False, "1": True, "2": False}}
    assert _ack_query(client, hec, channel, [1]).json() == {"acks": {"1": False}}
    # ack state is per channel
    assert _ack_query(client, hec, str(uuid.uuid4()), [0]).json() == {"acks": {"0": False}}
    assert _ack_query(client, hec, other, [0]).json() == {"acks": {"0": True}}
    events = hec.indexed_events()
    assert sorted(str(e["event"]) for e in events) == ["0", "1", "2", "other"]
    assert {e["_ack_id"] for e in events if e["_channel"] == channel} == {0, 1, 2}
    assert hec.ack_queries == 6
    assert hec.requests.count(path=ACK_PATH, status=200) == 6


def test_events_appear_only_when_the_ack_turns_true(hec: HecReceiver, client: httpx.Client) -> None:
    hec.ack_delay_s = 0.3
    channel = str(uuid.uuid4())
    start = time.monotonic()
    assert _post(client, hec, _body(GOOD), channel=channel).status_code == 200
    assert hec.indexed_events() == []
    events = hec.wait_for_events(1, timeout_s=5)  # the indexer thread indexes on time, without an ack query
    assert time.monotonic() - start >= 0.29
    assert events[0]["event"] == GOOD["event"]
    assert events[0]["sourcetype"] == "openai:audit"
    assert _ack_query(client, hec, channel, [0]).json() == {"acks": {"0": True}}


def test_zero_delay_ack_is_true_at_once(hec: HecReceiver, client: httpx.Client) -> None:
    channel = str(uuid.uuid4())
    assert _post(client, hec, _body(GOOD), channel=channel).json()["ackId"] == 0
    assert len(hec.events) == 1
    assert _ack_query(client, hec, channel, [0]).json() == {"acks": {"0": True}}


def test_slow_acks(hec: HecReceiver, client: httpx.Client) -> None:
    hec.slow_ack_rate = 1.0
    hec.slow_ack_delay_s = 0.5
    channel = str(uuid.uuid4())
    _post(client, hec, _body(GOOD), channel=channel)
    time.sleep(0.2)
    assert _ack_query(client, hec, channel, [0]).json() == {"acks": {"0": False}}
    time.sleep(0.4)
    assert _ack_query(client, hec, channel, [0]).json() == {"acks": {"0": True}}


def test_lost_requests_never_ack_and_never_index(hec: HecReceiver, client: httpx.Client) -> None:
    hec.lose_rate = 1.0
    channel = str(uuid.uuid4())
    r = _post(client, hec, _body(GOOD, GOOD), channel=channel)
    assert r.json() == {"text": "Success", "code": 0, "ackId": 0}
    for _ in range(5):
        assert _ack_query(client, hec, channel, [0]).json() == {"acks": {"0": False}}
        time.sleep(0.05)
    # without acks the loss is silent: 200, nothing indexed
    assert _post(client, hec, _body(GOOD), token=NOACK).json() == {"text": "Success", "code": 0}
    time.sleep(0.1)
    assert hec.indexed_events() == []
    assert hec.lost_requests == 2
    assert hec.pending_acks() == 0


def test_no_ack_token_indexes_immediately(hec: HecReceiver, client: httpx.Client) -> None:
    hec.ack_delay_s = 60  # irrelevant without acks
    r = _post(client, hec, _body(GOOD, {"event": "two"}), token=NOACK)
    assert r.json() == {"text": "Success", "code": 0}
    assert [e["event"] for e in hec.events] == [GOOD["event"], "two"]


# --------------------------------------------------------------------------- lifecycle


def test_stop_cuts_keepalive_connections_and_restart_keeps_the_port(client: httpx.Client) -> None:
    hec = HecReceiver(_tokens()).start()
    try:
        url = hec.url
        assert _post(client, hec, _body(GOOD), token=NOACK).status_code == 200
        hec.stop()
        assert not hec.running
        with pytest.raises(httpx.TransportError):
            _post(client, hec, _body(GOOD), token=NOACK)
        hec.start()
        assert hec.url == url
        assert _post(client, hec, _body(GOOD), token=NOACK).status_code == 200
        assert len(hec.indexed_events()) == 2
    finally:
        hec.stop()


def test_binds_loopback_only() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        HecReceiver(_tokens(), host="0.0.0.0")
