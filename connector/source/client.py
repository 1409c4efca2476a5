"""HTTP client for ``GET /organization/audit_logs``: wire encoding, retries, error classification.

Every httpx exception and every non-2xx answer is translated here, once, into the
connector's error tree: ``SourceUnavailable`` (retried with capped, jittered
exponential backoff that honours ``Retry-After``), ``AuthError`` (401/403) and
``ApiRequestError`` (400 and other client errors). Nothing above this module
sees httpx.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import httpx
import orjson

from connector import __version__
from connector.config import OpenAISettings
from connector.errors import (
    ApiRequestError,
    AuthError,
    PaginationError,
    SourceUnavailable,
    TlsError,
)
from connector.metrics import Metrics
from connector.models import Window
from connector.source.page import EventRef, Page, is_valid_ref, parse_page
from connector.source.ratelimit import RateLimiter
from connector.tls import is_tls_verification_failure, verify_setting

log = logging.getLogger(__name__)

AUDIT_LOGS_PATH = "/organization/audit_logs"
_RETRY_STATUSES = {408, 409, 429} | set(range(500, 600))
MAX_CURSOR_RESTARTS = 3


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The server-side filters of one stream; repeated on every page."""

    tenant_only: bool = False
    event_types: tuple[str, ...] = ()
    project_ids: tuple[str, ...] = ()
    actor_ids: tuple[str, ...] = ()
    actor_emails: tuple[str, ...] = ()
    resource_ids: tuple[str, ...] = ()
    limit: int = 100

    def params(self, window: Window, after: str | None = None) -> list[tuple[str, str]]:
        """The exact wire parameters: bracketed names, one repeated key per list value."""
        params: list[tuple[str, str]] = [
            ("effective_at[gte]", str(window.start)),
            ("effective_at[lt]", str(window.end)),
            ("limit", str(self.limit)),
        ]
        for name, values in (
            ("event_types[]", self.event_types),
            ("project_ids[]", self.project_ids),
            ("actor_ids[]", self.actor_ids),
            ("actor_emails[]", self.actor_emails),
            ("resource_ids[]", self.resource_ids),
        ):
            params.extend((name, value) for value in values)
        if self.tenant_only:
            params.append(("tenant_only", "true"))
        if after is not None:
            params.append(("after", after))
        return params


@dataclass
class ServerClock:
    """Estimates the API server's current time from its ``Date`` headers.

    Window bounds come from here so a host whose own clock is off neither skips
    nor delays events (design.md §2, Clocks).
    """

    _server_time: float | None = None
    _received_at: float = 0.0
    _newest_event: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, server_time: float | None, newest_event: int = 0) -> None:
        with self._lock:
            if server_time is not None:
                self._server_time = server_time
                self._received_at = time.monotonic()
            self._newest_event = max(self._newest_event, newest_event)

    @property
    def known(self) -> bool:
        return self._server_time is not None

    def now(self) -> float:
        with self._lock:
            if self._server_time is None:
                estimate = time.time()
            else:
                estimate = self._server_time + (time.monotonic() - self._received_at)
            return max(estimate, float(self._newest_event))


def redact(text: str, secret: str | None) -> str:
    """Remove every occurrence of ``secret`` (and its long prefixes) from ``text``."""
    if secret and len(secret) >= 8:
        text = text.replace(secret, "***").replace(secret[: len(secret) // 2], "***")
    return text


class AuditLogClient:
    """Reads pages of the audit log with retries; one instance per process."""

    def __init__(
        self,
        settings: OpenAISettings,
        *,
        metrics: Metrics,
        stop: threading.Event | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: ServerClock | None = None,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._stop = stop or threading.Event()
        self.clock = clock or ServerClock()
        self._secret = settings.admin_key.get_secret_value() if settings.admin_key else None
        verify = verify_setting(settings.ca_bundle, settings.verify_tls)
        self._http = httpx.Client(
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0)),
            verify=verify,
            transport=transport,
            # Set once on the client: merging per-request headers cost a fifth of each request's CPU.
            headers=_headers(self._secret),
            follow_redirects=False,
        )
        self._rng = random.Random()
        self._limiter = RateLimiter(settings.max_requests_per_second, stop=self._stop)

    def close(self) -> None:
        self._http.close()

    # -- paging -------------------------------------------------------------------

    def iter_window(self, query: AuditQuery, window: Window) -> Iterator[Page]:
        """Yield every page of ``window``; a cursor seen twice raises ``PaginationError``.

        A 400 on a follow-up page means the API no longer knows the cursor (it
        expired, or its event aged out): the window is read again from its start,
        a few times at most. Pages already yielded come again; the caller dedupes by id.
        """
        seen: set[str] = set()
        after: str | None = None
        restarts = 0
        while True:
            try:
                page = self.fetch_page(query, window, after)
            except ApiRequestError as exc:
                if after is None or exc.status != 400:
                    raise
                if restarts >= MAX_CURSOR_RESTARTS:
                    raise PaginationError(
                        f"the API kept refusing cursors in window [{window.start}, {window.end}) ({exc}); "
                        "the window will be read again later"
                    ) from exc
                restarts += 1
                log.warning(
                    "the API refused cursor %r (%s); reading window [%d, %d) again from its start",
                    after,
                    exc,
                    window.start,
                    window.end,
                )
                seen.clear()
                after = None
                continue
            yield page
            if not page.has_more:
                return
            if not page.last_id:
                # Ending here would commit a window whose rest was never read: events lost for good.
                raise PaginationError(
                    f"the API said has_more but gave no last_id to continue from in window "
                    f"[{window.start}, {window.end}); the window will be read again later"
                )
            if page.last_id in seen:
                raise PaginationError(
                    f"the API repeated cursor {page.last_id!r} in window "
                    f"[{window.start}, {window.end}); the window will be read again later"
                )
            seen.add(page.last_id)
            after = page.last_id

    def fetch_page(self, query: AuditQuery, window: Window, after: str | None = None) -> Page:
        """One page, retried on transient failures; raises a ``ConnectorError`` otherwise."""
        attempt = 0
        while True:
            try:
                return self._request(query.params(window, after))
            except SourceUnavailable as exc:
                if attempt >= self._settings.max_retries or self._stop.is_set():
                    raise
                delay = self._backoff(attempt, exc.retry_after)
                log.warning(
                    "audit-log request failed (%s); retry %d/%d in %.2fs",
                    exc,
                    attempt + 1,
                    self._settings.max_retries,
                    delay,
                )
                if exc.retry_after is not None:
                    # Every worker waits it out, this one included, in the limiter's next acquire.
                    self._metrics.rate_limited_wait.inc(delay)
                    self._limiter.pause(delay)
                elif self._stop.wait(delay):
                    raise
                if self._stop.is_set():
                    raise
                attempt += 1

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self._settings.retry_after_max)
        ceiling = min(self._settings.retry_max, self._settings.retry_base * (1 << min(attempt, 30)))
        # "Equal jitter": never less than half the step, so retries stay spaced out.
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    # -- one request ---------------------------------------------------------------

    def _request(self, params: list[tuple[str, str]]) -> Page:
        self._limiter.acquire()
        started = time.monotonic()
        try:
            response = self._http.get(f"{AUDIT_LOGS_PATH}?{urlencode(params)}")
        except httpx.TimeoutException as exc:
            self._count("error", "timeout")
            raise SourceUnavailable(f"timeout: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            if is_tls_verification_failure(exc):
                self._count("error")
                raise TlsError(
                    f"the API's TLS certificate does not verify ({exc}); if a proxy re-signs traffic, "
                    "set CONNECTOR_OPENAI__CA_BUNDLE to its CA"
                ) from exc
            self._count("error", "connection")
            raise SourceUnavailable(f"connection error: {type(exc).__name__}: {exc}") from exc
        finally:
            self._metrics.api_request_duration.observe(time.monotonic() - started)
        return self._classify(response)

    def _count(self, status_class: str, retry_reason: str | None = None) -> None:
        self._metrics.api_requests.labels(status_class=status_class).inc()
        if retry_reason is not None:
            self._metrics.api_retries.labels(reason=retry_reason).inc()

    def _classify(self, response: httpx.Response) -> Page:
        status = response.status_code
        request_id = response.headers.get("x-request-id")
        server_time = _parse_date(response.headers.get("date"))
        if status == 200:
            self._count("2xx")
            try:
                page = parse_page(response.content, server_time, request_id)
            except ValueError as exc:
                self._metrics.api_retries.labels(reason="malformed").inc()
                raise SourceUnavailable(f"malformed response (request {request_id}): {exc}") from exc
            self.clock.observe(server_time, _newest(page.refs))
            return page
        self.clock.observe(server_time)
        message = redact(_api_message(response), self._secret)
        where = f"HTTP {status} (request {request_id})"
        if status in _RETRY_STATUSES:
            is_429 = status == 429
            self._count("4xx" if status < 500 else "5xx", "rate_limited" if is_429 else "server_error")
            retry_after = _retry_after(response) if is_429 else None
            if is_429:
                self._metrics.rate_limited.inc()
            raise SourceUnavailable(f"{where}: {message}", retry_after=retry_after)
        self._count("4xx" if status < 500 else "error")
        if status in (401, 403):
            hint = (
                "the Admin key is wrong or revoked"
                if status == 401
                else "the key may not read audit logs (is it an Admin key, and is audit logging enabled?)"
            )
            raise AuthError(f"{where}: {hint}: {message}", status=status)
        raise ApiRequestError(f"{where}: the API rejected the request: {message}", status=status)


def _headers(secret: str | None) -> dict[str, str]:
    headers = {"User-Agent": f"openai-audit-connector/{__version__}"}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    return headers


def _newest(refs: list[EventRef]) -> int:
    """The newest ``effective_at`` among valid events, 0 if none (the clock's lower bound)."""
    newest = 0
    for ref in refs:
        at = ref.effective_at
        if type(at) is int and at > newest and is_valid_ref(ref):
            newest = at
    return newest


def _parse_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def _retry_after(response: httpx.Response) -> float | None:
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = response.headers.get(header)
        if raw is None:
            continue
        try:
            return max(float(raw) * scale, 0.0)
        except ValueError:
            when = _parse_date(raw)
            if when is not None:
                return max(when - time.time(), 0.0)
    return None


def _api_message(response: httpx.Response) -> str:
    """OpenAI's ``error.message`` if the body has one, else a short excerpt."""
    try:
        doc = orjson.loads(response.content)
        message = doc["error"]["message"]
        if isinstance(message, str):
            return message
    except (orjson.JSONDecodeError, KeyError, TypeError):
        pass
    return response.text[:200].strip() or response.reason_phrase
