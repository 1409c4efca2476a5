"""Request statistics the simulator server keeps for tests and benchmarks."""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeenQuery:
    """One request to the audit-log path, as the server decoded it.

    ``at`` is the ``time.monotonic()`` of its arrival; ``fault`` names the injected
    fault that changed its answer (a ``Fault`` value), or is None.
    """

    raw: str
    params: tuple[tuple[str, str], ...]
    status: int
    at: float = 0.0
    fault: str | None = None

    def values(self, name: str) -> list[str]:
        """All decoded values of one parameter, e.g. ``values("event_types[]")``."""
        return [v for k, v in self.params if k == name]


class RequestCounter:
    """Thread-safe count of responses sent: in total, by status, truncated ones, and by injected fault."""

    def __init__(self) -> None:
        """Start at zero."""
        self._lock = threading.Lock()
        self._by_status: collections.Counter[int] = collections.Counter()
        self._by_fault: collections.Counter[str] = collections.Counter()
        self._truncated = 0

    def record(self, status: int, *, truncated: bool = False, fault: str | None = None) -> None:
        """Count one response; ``fault`` names the injected fault that shaped it, if any."""
        with self._lock:
            self._by_status[status] += 1
            self._truncated += truncated
            if fault is not None:
                self._by_fault[fault] += 1

    @property
    def total(self) -> int:
        """All responses sent."""
        with self._lock:
            return sum(self._by_status.values())

    @property
    def truncated(self) -> int:
        """200 responses whose body was cut on purpose."""
        with self._lock:
            return self._truncated

    def by_fault(self) -> dict[str, int]:
        """A snapshot ``{fault name: count}`` of the responses an injected fault changed."""
        with self._lock:
            return dict(self._by_fault)

    def by_status(self) -> dict[int, int]:
        """A snapshot ``{status: count}``."""
        with self._lock:
            return dict(self._by_status)

    def __getitem__(self, status: int) -> int:
        """Responses sent with this status."""
        with self._lock:
            return self._by_status[status]
