"""Run a complete simulator (history, live feed, server) until told to stop."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable

from connector.simulator.events import iter_events
from connector.simulator.faults import Faults
from connector.simulator.feed import LiveFeed
from connector.simulator.server import SimulatorServer
from connector.simulator.store import EventStore

log = logging.getLogger(__name__)

_DAY_S = 86_400


def build_store(*, events: int, start: int, end: int, seed: int = 0, org_projects: int = 3) -> EventStore:
    """Return a store holding ``events`` generated events over ``[start, end)``.

    Events are generated lazily and stored serialized, so a million events never
    exist as a million dicts at once.
    """
    store = EventStore()
    if not events:
        return store
    # Millions of long-lived objects make the cyclic GC rescan the heap again and
    # again (about a third of the build time); nothing built here forms cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        store.add_many(iter_events(events, start=start, end=end, seed=seed, org_projects=org_projects))
    finally:
        if was_enabled:
            gc.enable()
    return store


def run_simulator(
    *,
    host: str,
    port: int,
    admin_key: str,
    events: int,
    days: float,
    rate_per_s: float,
    faults: Faults,
    seed: int,
    stop: threading.Event | None = None,
    on_ready: Callable[[SimulatorServer], None] | None = None,
    late_fraction: float = 0.0,
    max_late_s: int = 60,
    tenant_allowed: bool = True,
    clock: Callable[[], float] = time.time,
) -> None:
    """Serve ``events`` historical events plus a live feed until ``stop`` is set.

    Args:
        host: interface to listen on (use 127.0.0.1 unless you mean otherwise).
        port: TCP port (0: any free port; read it from the server in ``on_ready``).
        admin_key: the accepted bearer token.
        events: number of historical events, spread over the last ``days`` days.
        days: length of the history.
        rate_per_s: live events per second (0: no live feed).
        faults: injected failures.
        seed: makes history and live feed reproducible.
        stop: set it to stop; without one, runs until KeyboardInterrupt.
        on_ready: called with the running server once it answers requests.
        late_fraction: share of live events that become visible late.
        max_late_s: the latest a late live event shows up, in seconds.
        tenant_allowed: whether ``tenant_only=true`` is allowed (else 403).
        clock: the server's clock.

    Raises:
        ValueError: a negative event count, a non-positive history length with
            events to place, or invalid feed settings.
    """
    if events < 0:
        raise ValueError("events must be >= 0")
    if events and days <= 0:
        raise ValueError("days must be > 0 when events > 0")
    end = int(clock())
    start = min(end - 1, end - int(days * _DAY_S))
    began = time.monotonic()
    store = build_store(events=events, start=start, end=end, seed=seed)
    log.info(
        "simulator store ready: %d events over %.1f days in %.1fs",
        len(store),
        days,
        time.monotonic() - began,
    )
    feed = (
        LiveFeed(
            store,
            rate_per_s=rate_per_s,
            late_fraction=late_fraction,
            max_late_s=max_late_s,
            seed=seed,
            clock=clock,
        )
        if rate_per_s > 0
        else None
    )
    server = SimulatorServer(
        store,
        admin_key=admin_key,
        faults=faults,
        host=host,
        port=port,
        clock=clock,
        tenant_allowed=tenant_allowed,
    )
    stop = stop or threading.Event()
    try:
        server.start()
        if feed is not None:
            feed.start()
        if on_ready is not None:
            on_ready(server)
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        log.info("simulator interrupted")
    finally:
        if feed is not None:
            feed.stop()
        server.stop()
