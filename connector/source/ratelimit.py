"""One request budget shared by every thread that calls the API, and one pause for a 429's Retry-After."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """Spaces requests at most ``rate`` per second (0 = unlimited) and holds everyone during a pause.

    When one worker gets a 429 with ``Retry-After``, ``pause`` makes all workers
    wait it out together, instead of each finding the limit on its own.
    """

    def __init__(self, rate: float, *, stop: threading.Event | None = None) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._lock = threading.Lock()
        self._next = 0.0
        self._paused_until = 0.0
        self._stop = stop or threading.Event()

    def acquire(self) -> None:
        """Wait for this caller's turn; returns at once when the budget allows."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next, self._paused_until)
            self._next = slot + self._interval
        delay = slot - now
        if delay > 0:
            self._stop.wait(delay)

    def pause(self, seconds: float) -> None:
        """No request from anyone for ``seconds``."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
