"""Background thread that keeps adding fresh events to a store, some of them late."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from connector.simulator.catalogue import EVENT_TYPES, is_tenant_scoped
from connector.simulator.events import EventFactory
from connector.simulator.store import EventStore

log = logging.getLogger(__name__)

_TICK_S = 0.05


class LiveFeed:
    """Adds ``rate_per_s`` new events per second until stopped.

    Each event gets ``effective_at = int(clock())`` and is visible at once, except
    a ``late_fraction`` of them whose ``visible_at`` is ``effective_at + uniform(1,
    max_late_s)``: they appear later, with an ``effective_at`` already in the past.
    Pacing follows the monotonic clock, so an injected (skewed or frozen) ``clock``
    only changes the timestamps.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        rate_per_s: float,
        late_fraction: float = 0.0,
        max_late_s: int = 60,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        tenant: bool = True,
        org_projects: int = 3,
    ) -> None:
        """Configure the feed; nothing runs until ``start()``.

        Args:
            store: where events go.
            rate_per_s: events per second (> 0).
            late_fraction: share of events that become visible late, in [0, 1].
            max_late_s: upper bound of the delay of a late event (>= 1).
            seed: same seed, same event sequence (ids differ from the history
                generated with the same seed).
            clock: the server's clock, for ``effective_at`` and ``visible_at``.
            tenant: include tenant-scoped types.
            org_projects: projects of the simulated organization (match the history).
        """
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be > 0")
        if not 0.0 <= late_fraction <= 1.0 or max_late_s < 1:
            raise ValueError("late_fraction must lie in [0, 1] and max_late_s be >= 1")
        types = EVENT_TYPES if tenant else tuple(t for t in EVENT_TYPES if not is_tenant_scoped(t))
        self._store = store
        self._rate = rate_per_s
        self._late_fraction = late_fraction
        self._max_late_s = max_late_s
        self._clock = clock
        self._factory = EventFactory(seed=seed, org_projects=org_projects, types=types, stream="live")
        self._rng = random.Random(f"late:{seed}")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._make_lock = threading.Lock()
        self._added = 0
        self._late = 0

    @property
    def added(self) -> int:
        """Events added so far."""
        with self._lock:
            return self._added

    @property
    def late(self) -> int:
        """Events added with a delayed ``visible_at``."""
        with self._lock:
            return self._late

    def start(self) -> LiveFeed:
        """Start the background thread. Returns self."""
        if self._thread is not None:
            raise RuntimeError("live feed already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="simulator-live-feed", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and wait for it. Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def add_one(self) -> None:
        """Add one event now (what the thread does ``rate_per_s`` times a second)."""
        with self._make_lock:
            effective_at = int(self._clock())
            event = self._factory.make(effective_at)
            late = self._late_fraction > 0 and self._rng.random() < self._late_fraction
            visible_at = effective_at + self._rng.uniform(1, self._max_late_s) if late else None
        self._store.add(event, visible_at=visible_at)
        with self._lock:
            self._added += 1
            self._late += late

    def _run(self) -> None:
        began = time.monotonic()
        done = 0
        while not self._stop.is_set():
            due = int((time.monotonic() - began) * self._rate) - done
            for _ in range(due):
                try:
                    self.add_one()
                except Exception:
                    # Keep feeding: a single bad event must not end the demo's live stream.
                    log.exception("live feed could not add an event")
                done += 1
            self._stop.wait(_TICK_S)
