"""Request statistics the simulator server keeps for tests and benchmarks."""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeenQuery:
    """One request to the audit-log path, as the server decoded it."""

    raw: str
    params: tuple[tuple[str, str], ...]
    status: int

    def values(self, name: str) -> list[str]:
        """All decoded values of one parameter, e.g. ``values("event_types[]")``."""
        return [v for k, v in self.params if k == name]


class RequestCounter:
    """Thread-safe count of responses sent: in total, by status, and truncated ones."""

    def __init__(self) -> None:
        """Start at zero."""
        self._lock = threading.Lock()
        self._by_status: collections.Counter[int] = collections.Counter()
        self._truncated = 0

    def record(self, status: int, *, truncated: bool = False) -> None:
        """Count one response."""
        with self._lock:
            self._by_status[status] += 1
            self._truncated += truncated

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

    def by_status(self) -> dict[int, int]:
        """A snapshot ``{status: count}``."""
        with self._lock:
            return dict(self._by_status)

    def __getitem__(self, status: int) -> int:
        """Responses sent with this status."""
        with self._lock:
            return self._by_status[status]
