"""A real Splunk HTTP Event Collector (HEC) receiver on loopback, for testing the HEC sink without mocks.

It speaks the HEC wire protocol as the team's sink reference (sinks.md §1) describes it:
endpoints §1.1, authentication §1.2, the ``/event`` body and its envelope fields §1.3, the response code
table §1.4 (codes 0–22, Splunk's texts) and indexer acknowledgement §1.5.  Knobs inject the failure modes a
sink must survive: busy 503s, slow acks, requests lost after a 200 ("HEC 200 ≠ indexed") and per-event
refusals.

Usage::

    with HecReceiver([HecToken("tok-ack"), HecToken("tok-noack", use_ack=False)]) as hec:
        ...  # point the sink at hec.url
        hec.wait_for_events(10)
        assert hec.requests.count(path="/services/collector/event", status=200) >= 1

Endpoints
    ``POST /services/collector``, ``/services/collector/event``, ``/services/collector/event/1.0``: events.
    ``POST /services/collector/ack``: ``{"acks":[ids]}`` → ``{"acks":{"<id>":bool}}``.
    ``GET /services/collector/health`` and ``/health/1.0``: code 17, or 503 code 18 when ``busy_rate >= 1``;
    with a token (``Authorization`` header or ``?token=``) an unknown one gives 400 code 21, a disabled one
    400 code 22.
    Anything else: 404 (``/raw`` is not emulated); a known path with another method: 405.

Order of checks for an event POST (the first that fails answers):
    auth (401 code 2/3, 403 code 4/1) → busy (503 code 9) → ``Content-Length`` over ``max_content_length``
    (413; decided from the header, the body is drained unbuffered) → channel when the token uses acks
    (400 code 10/11) → ``Content-Encoding`` (415 unless absent/identity/gzip; bad gzip 400 code 6) → empty
    body (400 code 5) → each JSON object in order (400 code 6/7/12/13/15 with ``invalid-event-number``, or
    the code ``poison`` returns for it: ``poison`` sees each envelope as sent, after its built-in checks).

Inspection
    ``events`` (live list; :meth:`indexed_events` is the thread-safe snapshot, :meth:`wait_for_events` waits):
    each indexed envelope as sent, plus ``event``, ``time`` (float; receipt time when absent), ``host``,
    ``source``, ``sourcetype`` (None when absent), ``index`` (token default when absent), ``fields`` (None
    when absent), ``_token``, ``_channel``, ``_ack_id`` (None without acks) and ``_path``.
    ``requests.count(path=, status=, code=)``: answered requests (``code`` None when the body has none).
    ``ack_queries`` (every request to the ack path), ``lost_requests``, :meth:`pending_acks`, ``errors``
    (receiver bugs, answered 500 code 8: tests should find it empty).

Choices where Splunk is silent or only secondary sources speak (sinks.md §1.4 "open question"):
    * **All or nothing**: on any error the whole request is refused and nothing from it is indexed.  Real
      Splunk leaves partial ingestion undefined; a sink must not rely on either outcome.
    * ``time`` must be a JSON number or a numeric string in plain decimal (``-?digits[.digits]``); scientific
      notation, ISO strings, booleans and the rest get **code 15** (what client projects report, §1.3).
    * ``fields`` must be an object whose values are strings or lists of strings, else code 15.
    * ``host``/``source``/``sourcetype``/``index`` must be strings when present, else code 6; a JSON value
      that is not an object, and ``NaN``/``Infinity`` literals, are code 6.
    * ``"event": null`` counts as blank (code 13) like ``""`` and whitespace-only strings; ``{}`` is accepted.
    * An envelope whose serialized size exceeds ``max_event_size`` (default 5 MiB, Splunk's ``maxEventSize``)
      gets code 6.
    * ``invalid-event-number`` (zero-based) comes with codes 6, 7, 12, 13 and 15 when they concern one object.
    * 413, 415 and 405 answer ``{"text": ...}`` without a ``code`` (Splunk has no HEC code for them); 404
      answers ``{"text":"The requested URL was not found on this server.","code":404}`` as splunkd does.
    * ``max_content_length`` limits the bytes on the wire (compressed size for gzip bodies).
    * A channel must be a canonical GUID ``8-4-4-4-12`` hex (any case).  Tokens without acks ignore channels.
    * ``Authorization: Basic`` with the token as the password is accepted too (Splunk documents it, §1.2);
      any other scheme, or an empty token, is code 3.  Query-string auth (code 16) is not emulated.
    * Ack ids count from 0 per (token, channel).  An id read as ``true`` is deleted, so later queries (and
      unknown or lost ids) read ``false``.  ``busy_rate`` does not affect ack queries.  Ack state survives
      ``stop()``/``start()`` (the port is kept, so a sink can reconnect).
    * A request is indexed at the instant its ack turns true; ack queries and :meth:`indexed_events` index
      whatever is due first, so "ack true" always implies "events visible".  A background thread also indexes
      on time, so ``.events`` fills up even when nobody polls.  Tokens without acks index before answering.

Never logs anything (tokens may sit in headers or query strings); binds to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import json
import random
import re
import socket
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

EVENT_PATHS = frozenset({"/services/collector", "/services/collector/event", "/services/collector/event/1.0"})
ACK_PATH = "/services/collector/ack"
HEALTH_PATHS = frozenset({"/services/collector/health", "/services/collector/health/1.0"})
DEFAULT_MAX_CONTENT_LENGTH = 800 * 1024 * 1024  # limits.conf [http_input] max_content_length since 6.5.0
DEFAULT_MAX_EVENT_SIZE = 5 * 1024 * 1024  # inputs.conf [http] maxEventSize

# sinks.md §1.4: code -> (HTTP status, Splunk's text)
HEC_CODES: dict[int, tuple[int, str]] = {
    0: (200, "Success"),
    1: (403, "Token disabled"),
    2: (401, "Token is required"),
    3: (401, "Invalid authorization"),
    4: (403, "Invalid token"),
    5: (400, "No data"),
    6: (400, "Invalid data format"),
    7: (400, "Incorrect index"),
    8: (500, "Internal server error"),
    9: (503, "Server is busy"),
    10: (400, "Data channel is missing"),
    11: (400, "Invalid data channel"),
    12: (400, "Event field is required"),
    13: (400, "Event field cannot be blank"),
    14: (400, "ACK is disabled"),
    15: (400, "Error in handling indexed fields"),
    16: (400, "Query string authorization is not enabled"),
    17: (200, "HEC is healthy"),
    18: (503, "HEC is unhealthy, queues are full"),
    19: (503, "HEC is unhealthy, ack service unavailable"),
    20: (503, "HEC is unhealthy, queues are full, ack service unavailable"),
    21: (400, "Invalid token"),
    22: (400, "Token disabled"),
}
PER_EVENT_CODES = frozenset({6, 7, 12, 13, 15})
NOT_FOUND: dict[str, Any] = {"text": "The requested URL was not found on this server.", "code": 404}
METHOD_NOT_ALLOWED: dict[str, Any] = {"text": "Method not allowed"}

Query = dict[str, list[str]]

_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PLAIN_DECIMAL_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_JSON_WS = " \t\n\r"
_DRAIN_CHUNK = 1024 * 1024


@dataclass
class HecToken:
    """One HEC token as Splunk configures it (inputs.conf ``[http://name]``)."""

    value: str
    use_ack: bool = True
    indexes: tuple[str, ...] | None = None  # allowed indexes; None = any
    default_index: str = "main"
    disabled: bool = False


class HecError(Exception):
    """A refusal: HTTP status plus the JSON body to send."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("text", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}

    @classmethod
    def of(cls, code: int, event_number: int | None = None) -> HecError:
        status, text = HEC_CODES.get(code, (400, f"Error code {code}"))
        body: dict[str, Any] = {"text": text, "code": code}
        if event_number is not None and code in PER_EVENT_CODES:
            body["invalid-event-number"] = event_number
        return cls(status, body)

    @property
    def hec_code(self) -> int | None:
        code = self.body.get("code")
        return code if isinstance(code, int) else None


class RequestCounter:
    """Thread-safe tally of answered requests by (path, HTTP status, HEC code or None)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, int, int | None]] = Counter()

    def add(self, path: str, status: int, code: int | None) -> None:
        with self._lock:
            self._counts[(path, status, code)] += 1

    def count(self, path: str | None = None, status: int | None = None, code: int | None = None) -> int:
        """Requests matching every filter given (None = any)."""
        with self._lock:
            return sum(
                n
                for (p, s, c), n in self._counts.items()
                if path in (None, p) and status in (None, s) and code in (None, c)
            )

    def snapshot(self) -> dict[tuple[str, int, int | None], int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class _JsonFloat(float):
    """A JSON float that remembers its text, so ``time`` in scientific notation can be told apart."""

    raw: str

    def __new__(cls, text: str) -> _JsonFloat:
        obj = super().__new__(cls, text)
        obj.raw = text
        return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"JSON constant {name} is not allowed")


_DECODER = json.JSONDecoder(parse_float=_JsonFloat, parse_constant=_reject_constant)


@dataclass
class _Pending:
    """An accepted request waiting for its ack to turn true."""

    seq: int
    due: float
    records: list[dict[str, Any]]


@dataclass
class _Channel:
    next_ack_id: int = 0
    pending: dict[int, _Pending] = field(default_factory=dict)  # not yet indexed
    indexed: set[int] = field(default_factory=set)  # indexed, not yet read true
    lost: set[int] = field(default_factory=set)  # never indexed; reads false forever


class HecReceiver:
    """A Splunk HEC on 127.0.0.1 (see the module docstring for the behaviour).

    Knobs (plain attributes, settable at any time, also accepted as keyword arguments):
    ``busy_rate``, ``busy_retry_after`` (seconds for a ``Retry-After`` header on busy 503s; None = none, as
    Splunk), ``ack_delay_s``, ``slow_ack_rate``, ``slow_ack_delay_s``, ``lose_rate``, ``poison`` and
    ``response_delay_s`` (sleep before answering an event POST, after its fate is decided: models a reply
    slower than the client's timeout).  Random choices come from one ``random.Random(seed)``.
    """

    def __init__(
        self,
        tokens: Iterable[HecToken],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        seed: int = 0,
        busy_rate: float = 0.0,
        busy_retry_after: float | None = None,
        ack_delay_s: float = 0.0,
        slow_ack_rate: float = 0.0,
        slow_ack_delay_s: float = 30.0,
        lose_rate: float = 0.0,
        poison: Callable[[dict[str, Any]], int | None] | None = None,
        response_delay_s: float = 0.0,
    ) -> None:
        if host != "127.0.0.1":
            raise ValueError("the HEC receiver binds to 127.0.0.1 only")
        self._tokens: dict[str, HecToken] = {}
        for token in tokens:
            self._tokens[token.value] = token
        self.host = host
        self._port = port
        self.max_content_length = max_content_length
        self.max_event_size = max_event_size
        self.busy_rate = busy_rate
        self.busy_retry_after = busy_retry_after
        self.ack_delay_s = ack_delay_s
        self.slow_ack_rate = slow_ack_rate
        self.slow_ack_delay_s = slow_ack_delay_s
        self.lose_rate = lose_rate
        self.poison = poison
        self.response_delay_s = response_delay_s

        self.events: list[dict[str, Any]] = []
        self.requests = RequestCounter()
        self.ack_queries = 0
        self.lost_requests = 0
        self.errors: list[BaseException] = []  # receiver bugs (answered 500 code 8); tests may assert empty

        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._rng = random.Random(seed)
        self._channels: dict[tuple[str, str | None], _Channel] = {}
        self._seq = 0
        self._server: _Server | None = None
        self._serve_thread: threading.Thread | None = None
        self._indexer_thread: threading.Thread | None = None
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> HecReceiver:
        if self._server is not None:
            raise RuntimeError("HEC receiver already running")
        server = _Server((self.host, self._port), _Handler)
        server.receiver = self
        self._port = server.server_address[1]
        self._server = server
        with self._lock:
            self._stopping = False
        self._serve_thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="hec-receiver", daemon=True
        )
        self._serve_thread.start()
        self._indexer_thread = threading.Thread(target=self._indexer_loop, name="hec-indexer", daemon=True)
        self._indexer_thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut open (keep-alive) connections.  Idempotent; ``start()`` may follow."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_all_connections()
        server.server_close()
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        for thread in (self._serve_thread, self._indexer_thread):
            if thread is not None:
                thread.join(timeout=5)
        self._serve_thread = self._indexer_thread = None

    def __enter__(self) -> HecReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    # ------------------------------------------------------------------ inspection

    def indexed_events(self) -> list[dict[str, Any]]:
        """A snapshot of every indexed envelope, in index order (indexes whatever is due first)."""
        with self._lock:
            self._index_due(time.monotonic())
            return list(self.events)

    def wait_for_events(self, n: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        """Wait until at least ``n`` envelopes are indexed; return the snapshot (raises TimeoutError)."""
        deadline = time.monotonic() + timeout_s
        while True:
            snapshot = self.indexed_events()
            if len(snapshot) >= n:
                return snapshot
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{len(snapshot)} of {n} events indexed after {timeout_s}s")
            time.sleep(0.01)

    def pending_acks(self) -> int:
        """Accepted requests not yet indexed (lost ones excluded)."""
        with self._lock:
            return sum(len(ch.pending) for ch in self._channels.values())

    def token(self, value: str) -> HecToken:
        """The token object (mutable: e.g. ``hec.token("t").disabled = True``)."""
        return self._tokens[value]

    def add_token(self, token: HecToken) -> None:
        with self._lock:
            self._tokens[token.value] = token

    # ------------------------------------------------------------------ indexing

    def _index_due(self, now: float) -> float | None:
        """Index every pending request whose ack time has come (lock held); return the next due time."""
        due: list[tuple[float, int, _Channel, int, _Pending]] = []
        next_due: float | None = None
        for channel in self._channels.values():
            for ack_id, pending in channel.pending.items():
                if pending.due <= now:
                    due.append((pending.due, pending.seq, channel, ack_id, pending))
                elif next_due is None or pending.due < next_due:
                    next_due = pending.due
        due.sort(key=lambda item: (item[0], item[1]))
        for _, _, channel, ack_id, pending in due:
            del channel.pending[ack_id]
            channel.indexed.add(ack_id)
            self.events.extend(pending.records)
        return next_due

    def _indexer_loop(self) -> None:
        with self._wake:
            while not self._stopping:
                next_due = self._index_due(time.monotonic())
                timeout = None if next_due is None else max(0.0, next_due - time.monotonic())
                self._wake.wait(timeout)

    def _chance(self, rate: float) -> bool:
        """One draw from the seeded RNG (lock held)."""
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        return self._rng.random() < rate

    def _accept(self, token: HecToken, channel: str | None, records: list[dict[str, Any]]) -> int | None:
        """Record an accepted request; return its ack id (None for tokens without acks)."""
        with self._wake:
            now = time.monotonic()
            self._seq += 1
            lost = self._chance(self.lose_rate)
            if lost:
                self.lost_requests += 1
            if not token.use_ack:
                if not lost:
                    for record in records:
                        record["_ack_id"] = None
                    self.events.extend(records)
                return None
            state = self._channels.setdefault((token.value, channel), _Channel())
            ack_id = state.next_ack_id
            state.next_ack_id += 1
            for record in records:
                record["_ack_id"] = ack_id
            if lost:
                state.lost.add(ack_id)
                return ack_id
            delay = self.slow_ack_delay_s if self._chance(self.slow_ack_rate) else self.ack_delay_s
            state.pending[ack_id] = _Pending(seq=self._seq, due=now + max(0.0, delay), records=records)
            self._index_due(now)
            self._wake.notify_all()
            return ack_id

    def _query_acks(self, token: HecToken, channel: str, ids: list[int]) -> dict[str, bool]:
        with self._lock:
            self._index_due(time.monotonic())
            state = self._channels.get((token.value, channel))
            result: dict[str, bool] = {}
            for ack_id in ids:
                done = state is not None and ack_id in state.indexed
                if done and state is not None:
                    state.indexed.discard(ack_id)  # Splunk forgets an ack once it has been read true
                result[str(ack_id)] = done
            return result

    # ------------------------------------------------------------------ request handling

    def _authenticate(self, authorization: str | None) -> HecToken:
        if authorization is None:
            raise HecError.of(2)
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() == "splunk":
            value = credential
        elif scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise HecError.of(3) from None
            _, sep, value = decoded.partition(":")
            if not sep:
                raise HecError.of(3)
        else:
            raise HecError.of(3)
        if not value:
            raise HecError.of(3)
        token = self._tokens.get(value)
        if token is None:
            raise HecError.of(4)
        if token.disabled:
            raise HecError.of(1)
        return token

    @staticmethod
    def _channel(headers_channel: str | None, query: Query) -> str:
        channel = headers_channel if headers_channel is not None else _query_value(query, "channel")
        if channel is None or channel == "":
            raise HecError.of(10)
        if not _GUID_RE.match(channel):
            raise HecError.of(11)
        return channel

    def handle_event_post(
        self,
        path: str,
        headers: dict[str, str],
        query: Query,
        body: bytes | None,
        content_length: int,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        token = self._authenticate(headers.get("authorization"))
        with self._lock:
            busy = self._chance(self.busy_rate)
        if busy:
            error = HecError.of(9)
            if self.busy_retry_after is not None:
                error.headers["Retry-After"] = str(max(0, round(self.busy_retry_after)))
            raise error
        if body is None:
            limit = self.max_content_length
            raise HecError(
                413, {"text": f"Content-Length of {content_length} too large (maximum is {limit})"}
            )
        channel: str | None = None
        if token.use_ack:
            channel = self._channel(headers.get("x-splunk-request-channel"), query)
        else:
            raw_channel = headers.get("x-splunk-request-channel") or _query_value(query, "channel")
            channel = raw_channel or None
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error):
                raise HecError.of(6) from None
        elif encoding not in ("", "identity"):
            raise HecError(415, {"text": f"Unsupported Content-Encoding: {encoding}"})
        records: list[dict[str, Any]] = []
        poison = self.poison
        for i, (size, obj) in enumerate(self._parse(body)):
            record = self._validate(i, size, obj, token)
            if poison is not None:
                code = poison(_plain(obj))
                if code:  # None or 0 (Success): accept
                    raise HecError.of(code, i)
            records.append(record)
        received = time.time()
        for record in records:
            if record["time"] is None:
                record["time"] = received
            record["_token"] = token.value
            record["_channel"] = channel
            record["_path"] = path
        ack_id = self._accept(token, channel, records)
        if self.response_delay_s > 0:
            time.sleep(self.response_delay_s)
        answer: dict[str, Any] = {"text": "Success", "code": 0}
        if ack_id is not None:
            answer["ackId"] = ack_id
        return 200, answer, {}

    def _parse(self, body: bytes) -> list[tuple[int, dict[str, Any]]]:
        """The JSON objects of the body with their serialized sizes; raises code 5/6."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            complete = self._count_objects(body[: exc.start].decode("utf-8"))
            raise HecError.of(6, complete) from None
        if text.strip(_JSON_WS) == "":
            raise HecError.of(5)
        out: list[tuple[int, dict[str, Any]]] = []
        pos = 0
        while True:
            while pos < len(text) and text[pos] in _JSON_WS:
                pos += 1
            if pos >= len(text):
                return out
            try:
                obj, end = _DECODER.raw_decode(text, pos)
            except (ValueError, RecursionError):
                raise HecError.of(6, len(out)) from None
            if not isinstance(obj, dict):
                raise HecError.of(6, len(out))
            out.append((len(text[pos:end].encode("utf-8")), obj))
            pos = end

    @staticmethod
    def _count_objects(text: str) -> int:
        count, pos = 0, 0
        while True:
            while pos < len(text) and text[pos] in _JSON_WS:
                pos += 1
            try:
                _, pos = _DECODER.raw_decode(text, pos)
            except (ValueError, RecursionError):
                return count
            count += 1

    def _validate(self, i: int, size: int, obj: dict[str, Any], token: HecToken) -> dict[str, Any]:
        """Check one envelope (Splunk's rules, see the module docstring); return the record to index."""
        if self.max_event_size is not None and size > self.max_event_size:
            raise HecError.of(6, i)
        if "event" not in obj:
            raise HecError.of(12, i)
        event = obj["event"]
        if event is None or (isinstance(event, str) and event.strip() == ""):
            raise HecError.of(13, i)
        for key in ("host", "source", "sourcetype", "index"):
            if key in obj and not isinstance(obj[key], str):
                raise HecError.of(6, i)
        event_time = _parse_time(obj["time"], i) if "time" in obj else None
        fields = obj.get("fields")
        if "fields" in obj and not _flat_fields(fields):
            raise HecError.of(15, i)
        index = obj.get("index") or token.default_index
        if token.indexes is not None and index not in token.indexes:
            raise HecError.of(7, i)
        record: dict[str, Any] = _plain(obj)
        record.update(
            {
                "event": record["event"],
                "time": event_time,
                "host": obj.get("host"),
                "source": obj.get("source"),
                "sourcetype": obj.get("sourcetype"),
                "index": index,
                "fields": record.get("fields"),
            }
        )
        return record


def _query_value(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _parse_time(value: Any, i: int) -> float:
    """Epoch seconds from ``time`` (a plain-decimal number or numeric string), else code 15."""
    if isinstance(value, _JsonFloat) and _PLAIN_DECIMAL_RE.match(value.raw):
        return float(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _PLAIN_DECIMAL_RE.match(value):
        return float(value)
    raise HecError.of(15, i)


def _flat_fields(fields: Any) -> bool:
    if not isinstance(fields, dict):
        return False
    for value in fields.values():
        if isinstance(value, str):
            continue
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            continue
        return False
    return True


def _plain(value: Any) -> Any:
    """Turn _JsonFloat back into float throughout (so records compare and serialize as plain JSON)."""
    if isinstance(value, _JsonFloat):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    receiver: HecReceiver

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a test server must not print (or log request details such as tokens)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms delayed-ACK stall
    server: _Server
    server_version = "Splunkd"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Never log: request lines may carry tokens."""

    # ---- body reading

    def _read_body(self, limit: int) -> tuple[bytes | None, int]:
        """(body, length): body None when it exceeds ``limit`` (drained without buffering)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        raw_length = self.headers.get("Content-Length")
        try:
            length = int(raw_length) if raw_length is not None else 0
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return b"", 0
        if length > limit:
            self._drain(length)
            return None, length
        return self.rfile.read(length), length

    def _drain(self, length: int) -> None:
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(_DRAIN_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)

    def _read_chunked(self, limit: int) -> tuple[bytes | None, int]:
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(65537)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                return b"", 0
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            chunk = self.rfile.read(size)
            self.rfile.readline(3)  # CRLF after the chunk
            total += size
            if total <= limit:
                parts.append(chunk)
            else:
                parts.clear()
        return (b"".join(parts) if total <= limit else None), total

    # ---- responses

    def _send(
        self, path: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        code = body.get("code")
        self.server.receiver.requests.add(path, status, code if isinstance(code, int) else None)
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    # ---- methods

    def do_POST(self) -> None:
        receiver = self.server.receiver
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        body, length = self._read_body(receiver.max_content_length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            if path in EVENT_PATHS:
                status, answer, extra = receiver.handle_event_post(path, headers, query, body, length)
                self._send(path, status, answer, extra)
            elif path == ACK_PATH:
                with receiver._lock:
                    receiver.ack_queries += 1
                self._send(path, 200, self._ack(headers, query, body))
            elif path in HEALTH_PATHS:
                self._send(path, 405, METHOD_NOT_ALLOWED)
            else:
                self._send(path, 404, NOT_FOUND)
        except HecError as error:
            self._send(path, error.status, error.body, error.headers)
        except Exception as exc:  # a receiver bug: answer like Splunk's internal error, keep it for the test
            receiver.errors.append(exc)
            internal = HecError.of(8)
            self._send(path, internal.status, internal.body)

    def _ack(self, headers: dict[str, str], query: Query, body: bytes | None) -> dict[str, Any]:
        receiver = self.server.receiver
        token = receiver._authenticate(headers.get("authorization"))
        if not token.use_ack:
            raise HecError.of(14)
        channel = receiver._channel(headers.get("x-splunk-request-channel"), query)
        if body is None:
            raise HecError(413, {"text": "Content-Length too large"})
        if body.strip() == b"":
            raise HecError.of(5)
        try:
            request = json.loads(body)
        except (ValueError, RecursionError):
            raise HecError.of(6) from None
        acks = request.get("acks") if isinstance(request, dict) else None
        if not isinstance(acks, list) or not all(type(a) is int for a in acks):
            raise HecError.of(6)
        return {"acks": receiver._query_acks(token, channel, acks)}

    def do_GET(self) -> None:
        receiver = self.server.receiver
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        self._read_body(receiver.max_content_length)
        if path in HEALTH_PATHS:
            self._health(path, query)
        elif path in EVENT_PATHS or path == ACK_PATH:
            self._send(path, 405, METHOD_NOT_ALLOWED)
        else:
            self._send(path, 404, NOT_FOUND)

    def _health(self, path: str, query: Query) -> None:
        receiver = self.server.receiver
        token_value: str | None = _query_value(query, "token")
        authorization = self.headers.get("Authorization")
        if token_value is None and authorization is not None:
            scheme, _, credential = authorization.strip().partition(" ")
            if scheme.lower() == "splunk":
                token_value = credential.strip()
        if token_value is not None:
            token = receiver._tokens.get(token_value)
            if token is None:
                error = HecError.of(21)
                self._send(path, error.status, error.body)
                return
            if token.disabled:
                error = HecError.of(22)
                self._send(path, error.status, error.body)
                return
        code = 18 if receiver.busy_rate >= 1 else 17
        status, text = HEC_CODES[code]
        self._send(path, status, {"text": text, "code": code})

    def _not_allowed(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        self._read_body(self.server.receiver.max_content_length)
        known = path in EVENT_PATHS or path in HEALTH_PATHS or path == ACK_PATH
        if known:
            self._send(path, 405, METHOD_NOT_ALLOWED)
        else:
            self._send(path, 404, NOT_FOUND)

    def do_PUT(self) -> None:
        self._not_allowed()

    def do_DELETE(self) -> None:
        self._not_allowed()

    def do_PATCH(self) -> None:
        self._not_allowed()

    def do_HEAD(self) -> None:
        self._not_allowed()

    def do_OPTIONS(self) -> None:
        self._not_allowed()
