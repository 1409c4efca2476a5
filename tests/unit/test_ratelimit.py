"""The shared request budget: spacing, and a 429 pause that holds every worker."""

from __future__ import annotations

import threading
import time

from connector.source.ratelimit import RateLimiter


def test_requests_are_spaced_to_the_rate_across_threads() -> None:
    limiter = RateLimiter(50.0)
    started = time.monotonic()

    def worker() -> None:
        for _ in range(5):
            limiter.acquire()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 20 requests at 50/s: the last slot is 19 x 20 ms after the first, whatever the scheduling.
    assert time.monotonic() - started >= 0.37


def test_a_pause_holds_every_caller() -> None:
    limiter = RateLimiter(0)
    limiter.pause(0.3)
    started = time.monotonic()
    done: list[float] = []
    threads = [
        threading.Thread(target=lambda: (limiter.acquire(), done.append(time.monotonic()))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(t - started >= 0.28 for t in done)


def test_unlimited_does_not_wait() -> None:
    limiter = RateLimiter(0)
    started = time.monotonic()
    for _ in range(1000):
        limiter.acquire()
    assert time.monotonic() - started < 0.5
