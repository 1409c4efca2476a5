"""A faithful simulator of ``GET /v1/organization/audit_logs`` for the demo, tests and bench.

    EventStore       sorted, thread-safe events; answers list queries (store.py)
    generate_events  realistic events of all 145 types and every actor shape (events.py)
    SimulatorServer  the HTTP endpoint: auth, filters, cursors, tenant split (server.py)
    Faults           injected 429 / 5xx / broken bodies / resets / slow answers / cursor
                     faults / huge fields / latency (faults.py)
    LiveFeed         keeps adding new, sometimes late, events (feed.py)
    run_simulator    all of the above until a stop event is set (runner.py)

``python -m connector.simulator --help`` runs one from the shell.

Behaviour where the live API is undocumented (see reference/openai-audit-api.md §13):
newest-first by ``(effective_at, id)``; ``tenant.*``, ``role.bound_to_resource`` and
``role.unbound_from_resource`` only under ``tenant_only=true``; ``limit`` outside
1..100, unknown ``event_types[]`` values and unknown cursors are 400s.
"""

from __future__ import annotations

from connector.simulator.catalogue import EVENT_TYPES, TENANT_SCOPED_TYPES, is_tenant_scoped
from connector.simulator.events import ACTOR_SHAPES, EventFactory, generate_events, iter_events
from connector.simulator.faults import Faults
from connector.simulator.feed import LiveFeed
from connector.simulator.protocol import mask_key
from connector.simulator.runner import build_store, run_simulator
from connector.simulator.server import AUDIT_LOGS_PATH, SimulatorServer
from connector.simulator.stats import RequestCounter, SeenQuery
from connector.simulator.store import EventStore, PageResult, Query

__all__ = [
    "ACTOR_SHAPES",
    "AUDIT_LOGS_PATH",
    "EVENT_TYPES",
    "TENANT_SCOPED_TYPES",
    "EventFactory",
    "EventStore",
    "Faults",
    "LiveFeed",
    "PageResult",
    "Query",
    "RequestCounter",
    "SeenQuery",
    "SimulatorServer",
    "build_store",
    "generate_events",
    "is_tenant_scoped",
    "iter_events",
    "mask_key",
    "run_simulator",
]
