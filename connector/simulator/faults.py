"""Injected failures: rate limits, server errors, truncated bodies and latency."""

from __future__ import annotations

import enum
import random
import threading
from dataclasses import dataclass


class Fault(enum.Enum):
    """What goes wrong with one request."""

    RATE_LIMITED = "429"
    SERVER_ERROR = "500"
    TRUNCATED = "truncated"


@dataclass(frozen=True, slots=True)
class Faults:
    """Per-request fault rates for the audit-log endpoint.

    One uniform draw per authenticated request picks at most one fault: a 429
    with probability ``rate_429``, else a 500 with ``rate_500``, else a 200 whose
    body is cut in the middle with ``rate_truncated``. ``latency_s`` delays every
    response. Draws come from a RNG seeded with ``seed``.

    Attributes:
        rate_429: share of requests answered 429 with ``Retry-After``.
        rate_500: share of requests answered 500.
        rate_truncated: share of requests answered 200 with half a JSON body.
        latency_s: seconds slept before every response.
        retry_after: the ``Retry-After`` header value (seconds) of injected 429s;
            0 sends no header (the spec allows 429s without one).
        seed: seeds the fault RNG.
    """

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_truncated: float = 0.0
    latency_s: float = 0.0
    retry_after: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        """Reject rates outside [0, 1], a sum above 1 and negative latency."""
        rates = (self.rate_429, self.rate_500, self.rate_truncated)
        if any(not 0.0 <= r <= 1.0 for r in rates) or sum(rates) > 1.0 + 1e-9:
            raise ValueError("fault rates must each lie in [0, 1] and sum to at most 1")
        if self.latency_s < 0 or self.retry_after < 0:
            raise ValueError("latency_s and retry_after must be >= 0")


class FaultInjector:
    """Draws faults from a seeded RNG; safe to call from many server threads."""

    def __init__(self, faults: Faults) -> None:
        """Start a draw sequence for ``faults``."""
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()

    def draw(self) -> Fault | None:
        """Pick the fault for one request, or None for a normal answer."""
        f = self.faults
        if f.rate_429 == f.rate_500 == f.rate_truncated == 0.0:
            return None
        with self._lock:
            x = self._rng.random()
        if x < f.rate_429:
            return Fault.RATE_LIMITED
        if x < f.rate_429 + f.rate_500:
            return Fault.SERVER_ERROR
        if x < f.rate_429 + f.rate_500 + f.rate_truncated:
            return Fault.TRUNCATED
        return None
