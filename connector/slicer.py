"""Time slices for catch-up and backfill: planned ahead, fetched in parallel, handed over in time order.

A bounded pool fetches up to ``workers`` slices at once, so a long backfill is
limited by the API's latency and rate limit rather than by one request at a time;
the caller still publishes and commits slice after slice in time order, so the
checkpoint stays a plain watermark. Slice length adapts to density, aiming at
``slice_events`` new events: a slice that grows past twice that while it is read
is dropped and planned again, together with everything planned after it, at the
length its events' density calls for (at most half the dropped one), so a dense
history costs one dropped read rather than one per halving. Up to ``2 × workers``
slices are planned ahead of the one being delivered, so a worker that finishes a
short slice goes on to the next instead of waiting for a long one at the head.
Memory is bounded by those slices (each at most twice ``slice_events``), whatever
the backlog.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from connector.config import PollSettings
from connector.models import Event, Window
from connector.normalize.batch import Normalized
from connector.source.page import EventRef

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Slice:
    """What one window yielded: new events to deliver, and unusable ones to dead-letter."""

    window: Window
    events: list[EventRef]
    """The new events, in time order, as read by the main process; ``bodies`` holds them whole."""
    invalid: list[Event]
    fetched: int
    bodies: list[bytes] = field(default_factory=list)
    """The bodies of the pages read, which hold every event of ``events``."""
    normalized: Future[Normalized] | None = None
    """The events already on their way through a normalizer process, if they are."""


@dataclass(frozen=True, slots=True)
class TooDense:
    """A window dropped while it was read: it held ``events`` new events over ``seconds`` (their span)."""

    events: int
    seconds: int


Collect = Callable[[Window, bool], "Slice | TooDense"]
"""Reads one window completely, or stops at too many new events (only if allowed to split)."""


class Slicer:
    """Plans and fetches the slices of a time range."""

    def __init__(self, poll: PollSettings, *, workers: int) -> None:
        self._poll = poll
        self._min = int(poll.min_slice)
        self._max = int(poll.max_slice)
        self.workers = workers
        self._ahead = 2 * workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slice")

    def slices(
        self, collect: Collect, start: int, end: int, *, lead: int, length: int
    ) -> Generator[tuple[Slice, int], None, None]:
        """Yield ``(slice, next_length)`` covering ``[start, end)`` in time order.

        The first window also reads ``lead`` seconds before ``start`` (the overlap
        re-read). ``next_length`` is the adapted slice length to remember.
        """
        cursor = start
        pending: deque[tuple[Window, int, Future[Slice | TooDense]]] = deque()
        try:
            while True:
                while len(pending) < self._ahead and cursor < end:
                    window = Window(
                        max(0, cursor - lead) if cursor == start else cursor, min(cursor + length, end)
                    )
                    pending.append((window, length, self._pool.submit(collect, window, length > self._min)))
                    cursor = window.end
                if not pending:
                    return
                window, planned, future = pending.popleft()
                collected = future.result()
                covered = window.end - max(window.start, start)  # without the overlap re-read
                if isinstance(collected, TooDense):
                    # Forget what was planned after it and plan again, shorter.
                    _cancel(pending)
                    length = self.shorter(covered, collected)
                    cursor = max(window.start + (lead if window.start < start else 0), start)
                    log.info("slice [%d, %d) too dense; slices are now %ds", window.start, window.end, length)
                    continue
                # From this slice's own plan: those planned ahead of it may have used older lengths.
                length = self.adapt(planned, len(collected.events), covered)
                yield collected, length
        finally:
            _cancel(pending)

    def adapt(self, length: int, count: int, covered: int | None = None) -> int:
        """Next slice length after one planned ``length`` long held ``count`` events over ``covered`` s.

        It aims at ``slice_events`` at the density seen, at most ×2 longer or ×4 shorter than
        ``length`` per step. ``covered`` is shorter than ``length`` when the range ended first.
        """
        seen = length if covered is None else covered
        ideal = self._fit(seen, count) if count else 2.0 * length
        return max(self._min, min(self._max, int(min(2.0 * length, max(0.25 * length, ideal)))))

    def shorter(self, length: int, dense: TooDense) -> int:
        """The length for ``slice_events`` at the density seen, at most half of ``length``.

        The events read span part of the window; if the API returned them in no time
        order, that span is about the whole window and this is about halving.
        """
        fit = int(self._fit(max(1, dense.seconds), max(1, dense.events)))
        return max(self._min, min(length // 2, fit))

    def _fit(self, seconds: int, events: int) -> float:
        """The length that holds ``slice_events`` at ``events`` per ``seconds``."""
        return self._poll.slice_events * seconds / events

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _cancel(pending: deque[tuple[Window, int, Future[Slice | TooDense]]]) -> None:
    """Drop planned slices; one already being read finishes in the background and is ignored."""
    for _, _, future in pending:
        future.cancel()
    pending.clear()
