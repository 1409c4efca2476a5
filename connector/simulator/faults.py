"""Injected failures: rate limits, server errors, broken bodies and connections, cursor faults, latency."""

from __future__ import annotations

import enum
import random
import threading
from dataclasses import dataclass, fields
from typing import Literal


class Fault(enum.Enum):
    """What goes wrong with one request."""

    RATE_LIMITED = "429"
    SERVER_ERROR = "500"
    TRUNCATED = "truncated"
    INVALID_JSON = "invalid_json"
    INVALID_UTF8 = "invalid_utf8"
    RESET = "reset"
    SLOW = "slow"
    EMPTY_HAS_MORE = "empty_has_more"
    REPEAT_CURSOR = "repeat_cursor"
    EXPIRE_CURSOR = "expire_cursor"


# The order of the rate fields is the order of the thresholds of the one uniform draw.
_RATE_FIELDS: tuple[tuple[str, Fault], ...] = (
    ("rate_429", Fault.RATE_LIMITED),
    ("rate_500", Fault.SERVER_ERROR),
    ("rate_truncated", Fault.TRUNCATED),
    ("rate_invalid_json", Fault.INVALID_JSON),
    ("rate_invalid_utf8", Fault.INVALID_UTF8),
    ("rate_reset", Fault.RESET),
    ("rate_slow", Fault.SLOW),
    ("rate_empty_has_more", Fault.EMPTY_HAS_MORE),
    ("rate_repeat_cursor", Fault.REPEAT_CURSOR),
    ("rate_expire_cursor", Fault.EXPIRE_CURSOR),
)

# Faults that only make sense for a follow-up page (a request with ``after``).
CURSOR_FAULTS = frozenset({Fault.REPEAT_CURSOR, Fault.EXPIRE_CURSOR})


@dataclass(frozen=True, slots=True)
class Faults:
    """Per-request fault rates for the audit-log endpoint.

    One uniform draw per authenticated request picks at most one fault, taking
    the rates in the order they are listed below (a 429 with probability
    ``rate_429``, else a 500 with ``rate_500``, and so on). ``latency_s`` delays
    every response. Draws come from a RNG seeded with ``seed``; with only the
    first three rates set, the draw sequence is what it always was.

    Attributes:
        rate_429: share of requests answered 429 with ``Retry-After``.
        rate_500: share of requests answered with a 5xx (``server_error_statuses``).
        rate_truncated: share of requests answered 200 with half a JSON body.
        rate_invalid_json: share answered 200 with a complete body that is not JSON
            (a colon is missing).
        rate_invalid_utf8: share answered 200 with a complete JSON body whose first
            event carries an extra key ``sim_note`` holding bytes that are not UTF-8
            (no change when the page is empty). The events' ids are intact.
        rate_reset: share whose connection is reset (TCP RST) after the status line,
            the headers and half of the body were sent.
        rate_slow: share delayed by ``slow_s`` more seconds (to outlast a client timeout).
        rate_empty_has_more: share answered 200 with ``data: []``, ``has_more: true``.
            With ``empty_last_id="cursor"`` the ``last_id`` skips nothing: it is the
            request's ``after`` cursor (so a client sees a repeated cursor), or on a
            first page the id of the nearest stored event above the window; a first
            page with no event above it is answered normally. With ``"null"`` the
            ``last_id`` is null.
        rate_repeat_cursor: share of follow-up requests (with ``after=X``) answered
            with the page that ended at ``X`` again (same events, ``last_id`` ``X``),
            or, if that page is not remembered, the right events with ``last_id`` ``X``.
            Drawn for other requests, it changes nothing.
        rate_expire_cursor: share of follow-up requests answered 400 ``invalid_cursor``,
            as if the cursor had expired. Drawn for other requests, it changes nothing.
        latency_s: seconds slept before every response.
        slow_s: extra seconds slept by the ``rate_slow`` requests.
        retry_after: the ``Retry-After`` header value (seconds) of injected 429s;
            0 sends no header (the spec allows 429s without one).
        server_error_statuses: the statuses of injected server errors, picked at random
            when there are several.
        empty_last_id: ``"cursor"`` or ``"null"``, see ``rate_empty_has_more``.
        big_field_bytes: when above 0, every event of a 200 page is served with a string
            field ``sim_padding`` of this many bytes inside its payload object (top
            level when the payload is not an object).
        seed: seeds the fault RNG.
    """

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_truncated: float = 0.0
    latency_s: float = 0.0
    retry_after: int = 1
    seed: int = 0
    rate_invalid_json: float = 0.0
    rate_invalid_utf8: float = 0.0
    rate_reset: float = 0.0
    rate_slow: float = 0.0
    rate_empty_has_more: float = 0.0
    rate_repeat_cursor: float = 0.0
    rate_expire_cursor: float = 0.0
    slow_s: float = 0.0
    server_error_statuses: tuple[int, ...] = (500,)
    empty_last_id: Literal["cursor", "null"] = "cursor"
    big_field_bytes: int = 0

    def __post_init__(self) -> None:
        """Reject rates outside [0, 1], a sum above 1, negative durations and bad statuses."""
        rates = self.rates()
        if any(not 0.0 <= r <= 1.0 for r in rates.values()) or sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError("fault rates must each lie in [0, 1] and sum to at most 1")
        if self.latency_s < 0 or self.retry_after < 0 or self.slow_s < 0:
            raise ValueError("latency_s, slow_s and retry_after must be >= 0")
        if not self.server_error_statuses or any(not 500 <= s <= 599 for s in self.server_error_statuses):
            raise ValueError("server_error_statuses must be a non-empty list of 5xx statuses")
        if self.empty_last_id not in ("cursor", "null"):
            raise ValueError("empty_last_id must be 'cursor' or 'null'")
        if self.big_field_bytes < 0:
            raise ValueError("big_field_bytes must be >= 0")

    def rates(self) -> dict[str, float]:
        """Every ``rate_*`` field by name, in draw order."""
        return {name: float(getattr(self, name)) for name, _ in _RATE_FIELDS}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """All settings, for command lines and reports."""
        return tuple(f.name for f in fields(cls))


class FaultInjector:
    """Draws faults from a seeded RNG; safe to call from many server threads."""

    def __init__(self, faults: Faults) -> None:
        """Start a draw sequence for ``faults``."""
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._thresholds: list[tuple[float, Fault]] = []
        total = 0.0
        for name, fault in _RATE_FIELDS:
            rate = float(getattr(faults, name))
            if rate > 0:
                total += rate
                self._thresholds.append((total, fault))

    def draw(self) -> Fault | None:
        """Pick the fault for one request, or None for a normal answer."""
        if not self._thresholds:
            return None
        with self._lock:
            x = self._rng.random()
        for threshold, fault in self._thresholds:
            if x < threshold:
                return fault
        return None

    def server_error_status(self) -> int:
        """The status of one injected server error."""
        statuses = self.faults.server_error_statuses
        if len(statuses) == 1:
            return statuses[0]
        with self._lock:
            return self._rng.choice(statuses)
