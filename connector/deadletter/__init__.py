"""Dead-letter destinations: where an event that cannot be normalized or published goes, whole.

An entry is ``{"time", "stream", "reason", "error", "event"}``: the original event
exactly as the API returned it, why it was set aside, and when. Entries are made
durable before the checkpoint passes their events, so nothing is ever dropped;
``connector dlq replay`` sends them back through normalization and the sink once
the cause is fixed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Protocol

from connector.serialize import dumps

Entry = tuple[str, str, str, Any]
"""``(stream, reason, error, event)`` as the pipeline hands it over."""


class DeadLetter(Protocol):
    """Stores dead-letter entries durably."""

    def write(self, entries: list[Entry]) -> None:
        """Store every entry; on return they survive a crash. Raise ``SinkUnavailable`` otherwise."""
        ...

    def close(self) -> None:
        """Release the destination."""
        ...


def encode(entries: Iterable[Entry]) -> list[bytes]:
    """One JSON document per entry."""
    now = time.time()
    return [
        dumps({"time": now, "stream": stream, "reason": reason, "error": error, "event": event})
        for stream, reason, error, event in entries
    ]
