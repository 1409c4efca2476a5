"""HTTP server that answers ``GET /v1/organization/audit_logs`` like the OpenAI Admin API."""

from __future__ import annotations

import collections
import contextlib
import hmac
import logging
import os
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

import orjson

from connector.simulator.faults import CURSOR_FAULTS, Fault, FaultInjector, Faults
from connector.simulator.protocol import ApiError, invalid_cursor, mask_key, parse_query
from connector.simulator.stats import RequestCounter, SeenQuery
from connector.simulator.store import EventStore, PageResult, Query, UnknownCursor

log = logging.getLogger(__name__)

AUDIT_LOGS_PATH = "/v1/organization/audit_logs"
# Bytes that are not UTF-8 (a broken two-byte sequence, then two bytes that never occur in UTF-8).
INVALID_UTF8 = b"caf\xc3\x28 \xff\xfe"
_PAGE_MEMORY = 256  # pages remembered per server for the repeat-cursor fault
_PADDING = b"0123456789abcdef"


@dataclass(slots=True)
class _Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    truncated: bool = False
    fault: Fault | None = None
    delay: float = 0.0
    reset: bool = False


class _InjectedError(ApiError):
    """An error answer chosen by the fault injector (not by the request itself)."""

    def __init__(self, fault: Fault, error: ApiError) -> None:
        super().__init__(error.status, error.message, type=error.type, param=error.param, code=error.code)
        self.fault = fault


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: SimulatorServer) -> None:
        self.simulator = simulator
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-response (or a stop() cutting a connection) are normal.
        log.debug("simulator: connection from %s ended badly", client_address, exc_info=True)

    def close_connections(self) -> None:
        """Cut idle keep-alive connections so a stopped server really stops answering."""
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections end on their own

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle plus the
        # client's delayed ACK would add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _sim(self) -> SimulatorServer:
        return cast(_HTTPServer, self.server).simulator

    def _serve(self) -> None:
        sim = self._sim()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length, self.close_connection = 0, True
        if length > 0:
            self.rfile.read(length)
        if sim.faults.latency_s:
            time.sleep(sim.faults.latency_s)
        try:
            response = sim.respond(self.command, self.path, self.headers.get("Authorization"))
        except Exception:
            # A bug in the simulator must look like a server error, not a dropped socket.
            log.exception("simulator failed to answer %s %s", self.command, self.path)
            body = ApiError(500, "Simulator internal error.", type="server_error").body()
            response = _Response(500, body)
        if response.delay:
            time.sleep(response.delay)
        # Count before sending: a client that got its answer must find it counted.
        fault = response.fault.value if response.fault is not None else None
        sim.requests.record(response.status, truncated=response.truncated, fault=fault)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.reset:
            self.wfile.write(response.body[: len(response.body) // 2])
            self._reset()
            return
        self.wfile.write(response.body)

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), as a crashing proxy would."""
        self.close_connection = True
        conn = self.connection
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # detach() leaves the socket object closed (later shutdown/close calls are harmless)
        # and hands over the descriptor, which is closed now rather than after finish().
        os.close(conn.detach())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header follows the server's (injectable) clock, so tests can skew it.
        return formatdate(self._sim().clock() if timestamp is None else timestamp, usegmt=True)

    def version_string(self) -> str:
        return "openai-audit-simulator"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("simulator: " + format, *args)


class SimulatorServer:
    """A faithful stand-in for the audit-log endpoint, served over real HTTP.

    Serves ``GET /v1/organization/audit_logs`` from an ``EventStore``: bearer
    auth (401 with a masked key), every documented filter, cursors, limits,
    the tenant split (403 when ``tenant_allowed`` is False), late visibility by
    the injected ``clock``, and injected faults (see ``Faults``). Faults apply to
    authenticated requests on the audit-log path: 429 and 5xx before the query
    is validated, the others to the answer of a valid query; latency applies to
    every request. Other paths get 404, other methods 405, each with an OpenAI
    error body.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        admin_key: str,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        tenant_allowed: bool = True,
        max_seen_queries: int = 1000,
    ) -> None:
        """Configure the server; nothing is bound until ``start()``.

        Args:
            store: the events to serve.
            admin_key: the only accepted bearer token.
            faults: injected failures (default: none).
            host: interface to listen on (default loopback only).
            port: TCP port; 0 picks a free one (kept across stop/start).
            clock: the server's clock, for visibility and the ``Date`` header.
            tenant_allowed: whether the key may read ``tenant_only=true``.
            max_seen_queries: how many recent requests ``seen_queries`` keeps.
        """
        self.store = store
        self._admin_key = admin_key
        self.host = host
        self._port = port
        self.clock = clock
        self.tenant_allowed = tenant_allowed
        self.requests = RequestCounter()
        self.seen_queries: collections.deque[SeenQuery] = collections.deque(maxlen=max_seen_queries)
        self._injector = FaultInjector(faults or Faults())
        self._pages: collections.OrderedDict[tuple[tuple[str, str], ...], tuple[bytes, str]] = (
            collections.OrderedDict()
        )
        self._pages_lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> Faults:
        """The active fault settings."""
        return self._injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        # Tests switch faults on and off while a client runs.
        self._injector = FaultInjector(faults)

    @property
    def port(self) -> int:
        """The bound port (the requested one before the first ``start()``)."""
        return self._port

    @property
    def url(self) -> str:
        """Base URL of the API, ending in ``/v1``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}/v1"

    def start(self) -> SimulatorServer:
        """Bind and serve in a daemon thread. Returns self."""
        if self._httpd is not None:
            raise RuntimeError("simulator already running")
        cls = _HTTPServer6 if ":" in self.host else _HTTPServer
        self._httpd = cls((self.host, self._port), self)
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"simulator-{self._port}",
            daemon=True,
        )
        self._thread.start()
        log.info("simulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections and release the port. Idempotent."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def respond(self, method: str, target: str, authorization: str | None) -> _Response:
        """Compute the response to one request (no I/O; the handler writes it)."""
        arrived = time.monotonic()
        split = urlsplit(target)
        request_id = "req_" + uuid.uuid4().hex
        injector = self._injector  # one request sees one fault setting, even if a test swaps it
        try:
            response = self._respond(method, split.path, split.query, authorization, injector)
        except ApiError as err:
            fault = err.fault if isinstance(err, _InjectedError) else None
            response = _Response(err.status, err.body(), fault=fault)
            if err.status == 429 and injector.faults.retry_after:
                response.headers.append(("Retry-After", str(injector.faults.retry_after)))
        response.headers.append(("x-request-id", request_id))
        if split.path == AUDIT_LOGS_PATH:
            params = tuple(parse_qsl(split.query, keep_blank_values=True))
            fault_name = response.fault.value if response.fault is not None else None
            self.seen_queries.append(SeenQuery(split.query, params, response.status, arrived, fault_name))
        return response

    def _respond(
        self, method: str, path: str, query: str, authorization: str | None, injector: FaultInjector
    ) -> _Response:
        if path != AUDIT_LOGS_PATH:
            raise ApiError(404, f"Invalid URL ({method} {path})")
        if method != "GET":
            raise ApiError(405, f"Invalid method for URL ({method} {path})")
        self._authenticate(authorization)
        fault = injector.draw()
        if fault is Fault.RATE_LIMITED:
            raise _InjectedError(
                fault,
                ApiError(
                    429,
                    "Rate limit reached for requests to /v1/organization/audit_logs. Please try again later.",
                    type="requests",
                    code="rate_limit_exceeded",
                ),
            )
        if fault is Fault.SERVER_ERROR:
            raise _InjectedError(
                fault,
                ApiError(
                    injector.server_error_status(),
                    "The server had an error while processing your request. Sorry about that!",
                    type="server_error",
                ),
            )
        response = self._answer(query, fault, injector.faults)
        if fault is Fault.SLOW:
            response.fault, response.delay = fault, injector.faults.slow_s
        elif fault is Fault.RESET:
            response.fault, response.reset = fault, True
        return response

    def _answer(self, query: str, fault: Fault | None, faults: Faults) -> _Response:
        """The answer to a valid, authenticated list request, shaped by ``fault``."""
        parsed = parse_query(query)
        if parsed.tenant_only and not self.tenant_allowed:
            raise ApiError(
                403,
                "You have insufficient permissions for this operation: this key may not "
                "read tenant-scoped audit logs (tenant_only=true).",
                param="tenant_only",
                code="insufficient_permissions",
            )
        if fault in CURSOR_FAULTS and parsed.after is None:
            fault = None  # only a follow-up page has a cursor to repeat or expire
        if fault is Fault.EXPIRE_CURSOR:
            raise _InjectedError(fault, invalid_cursor("after", parsed.after or ""))
        try:
            page = self.store.page(parsed, now=self.clock())
            if fault is Fault.EMPTY_HAS_MORE:
                empty = self._empty_page(parsed, faults)
                if empty is None:
                    fault = None
                else:
                    page = empty
        except UnknownCursor:
            name = "after" if parsed.after is not None else "before"
            raise invalid_cursor(name, parsed.after or parsed.before or "") from None
        if faults.big_field_bytes and page.data:
            page = _padded(page, faults.big_field_bytes)
        body = page.to_json()
        key = _page_key(query)
        if fault is Fault.REPEAT_CURSOR:
            body = self._repeated_page(key, parsed, page)
        elif faults.rate_repeat_cursor and page.last_id is not None and fault is None:
            self._remember_page(key, body, page.last_id)
        if fault is Fault.TRUNCATED:
            return _Response(200, body[: len(body) // 2], truncated=True, fault=fault)
        if fault is Fault.INVALID_JSON:
            return _Response(200, body.replace(b'"has_more":', b'"has_more" ', 1), fault=fault)
        if fault is Fault.INVALID_UTF8:
            if not page.data:
                return _Response(200, body)
            marker = b'"data":[{'
            broken = body.replace(marker, marker + b'"sim_note":"' + INVALID_UTF8 + b'",', 1)
            return _Response(200, broken, fault=fault)
        return _Response(200, body, fault=fault if fault in _BODY_FAULTS else None)

    def _empty_page(self, parsed: Query, faults: Faults) -> PageResult | None:
        """``data: []`` with ``has_more: true``; None when no ``last_id`` can skip nothing."""
        if faults.empty_last_id == "null":
            return PageResult(data=[], first_id=None, last_id=None, has_more=True)
        cursor = self.store.scan_start_id(parsed)
        if cursor is None:
            return None
        return PageResult(data=[], first_id=None, last_id=cursor, has_more=True)

    def _remember_page(self, key: tuple[tuple[str, str], ...], body: bytes, last_id: str) -> None:
        with self._pages_lock:
            self._pages[(*key, ("after", last_id))] = (body, last_id)
            while len(self._pages) > _PAGE_MEMORY:
                self._pages.popitem(last=False)

    def _repeated_page(self, key: tuple[tuple[str, str], ...], parsed: Query, page: PageResult) -> bytes:
        """The page that ended at the request's cursor, again; else this page with that cursor as last_id."""
        assert parsed.after is not None
        with self._pages_lock:
            remembered = self._pages.get((*key, ("after", parsed.after)))
        if remembered is not None:
            return remembered[0]
        return PageResult(page.data, page.first_id, parsed.after, has_more=True).to_json()

    def forget_pages(self) -> None:
        """Drop the pages remembered for the repeat-cursor fault."""
        with self._pages_lock:
            self._pages.clear()

    def _authenticate(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if not hmac.compare_digest(token.encode(), self._admin_key.encode()):
            raise ApiError(
                401,
                f"Incorrect API key provided: {mask_key(token)}. You can find your API key "
                "at https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )


# Faults decided after the page is built whose 200 answer reaches the client unchanged in shape.
_BODY_FAULTS = frozenset({Fault.EMPTY_HAS_MORE, Fault.REPEAT_CURSOR})


def _page_key(query: str) -> tuple[tuple[str, str], ...]:
    """The request's parameters without its cursor: the pages of one read share it."""
    return tuple((k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in ("after", "before"))


def _padded(page: PageResult, size: int) -> PageResult:
    """The page with a ``sim_padding`` string of ``size`` bytes in every event's payload."""
    padding = (_PADDING * (size // len(_PADDING) + 1))[:size].decode()
    data: list[bytes] = []
    for raw in page.data:
        event = orjson.loads(raw)
        payload = event.get(event.get("type"))
        target = payload if isinstance(payload, dict) else event
        target["sim_padding"] = padding
        data.append(orjson.dumps(event))
    return PageResult(data, page.first_id, page.last_id, page.has_more)
