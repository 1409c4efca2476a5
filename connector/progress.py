"""Backfill progress: a redrawn bar on a terminal, else a throttled INFO line; the same figures as gauges.

The pipeline calls ``advance`` after each slice it commits (in time order) and
``close`` when the range is done or the run stops. Nothing here is per event: one
call per slice, a lock, a few float operations, and a draw or log line only when
the throttle allows. The rates are exponentially weighted over wall time, so the
ETA settles after a slow first slice instead of jumping with every slice.

In terminal mode the bar shares stderr with the log: while it is shown, a filter on
the root handlers that write to the same stream wipes it before each log record,
and the next ``advance`` draws it again below that record.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TextIO

from connector.metrics import Metrics

log = logging.getLogger(__name__)

REDRAW_SECONDS = 0.2
"""At most five redraws a second: a terminal write per slice would flicker on fast slices."""
RATE_HALF_LIFE = 20.0
"""Wall seconds after which a rate sample weighs half: follows a change (429s) yet does not jitter."""
BACKFILL_MIN_SECONDS = 3600
"""A catch-up shorter than this (or than three poll intervals) is a normal poll and shows no progress."""
BAR_WIDTH = 20
_CLEAR_LINE = "\r\x1b[K"


def is_backfill(start: int, end: int, *, poll_interval: float) -> bool:
    """Whether reading ``[start, end)`` is a backlog worth a progress display rather than a routine poll."""
    return end - start >= max(BACKFILL_MIN_SECONDS, 3 * poll_interval)


@dataclass(frozen=True, slots=True)
class Figures:
    """What the display shows at one moment."""

    stream: str
    start: int
    end: int
    covered_until: int
    events: int
    rate: float | None
    """Events per wall second, recent (None before the first slice that took time)."""
    eta_seconds: float | None
    """Wall seconds still needed; None while the rate is unknown or zero."""
    elapsed: float

    @property
    def ratio(self) -> float:
        """Share of ``[start, end)`` covered, 0 to 1."""
        span = self.end - self.start
        return 1.0 if span <= 0 else min(1.0, max(0.0, (self.covered_until - self.start) / span))

    @property
    def percent(self) -> int:
        """Whole percent covered, rounded down so that 100 means done."""
        return math.floor(self.ratio * 100)


class BackfillProgress:
    """Shows how far one stream's backfill of ``[start, end)`` has come; usable as a context manager."""

    def __init__(
        self,
        *,
        stream: str,
        start: int,
        end: int,
        metrics: Metrics | None,
        stream_out: TextIO | None = None,
        interactive: bool | None = None,
        json_logs: bool = False,
        every: float = 5.0,
        covered_until: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start the display; nothing is drawn or logged until the first ``advance``.

        Args:
            stream: the stream name (a bounded metric label).
            start: first second of the range, Unix seconds.
            end: end of the range (exclusive), Unix seconds.
            metrics: where to set the backfill gauges; None for none.
            stream_out: the terminal to draw on; default ``sys.stderr`` at call time.
            interactive: draw a bar (True) or log lines (False); None: a bar when
                ``stream_out`` is a terminal and the logs are not JSON.
            json_logs: whether the log format is JSON (``CONNECTOR_LOG__FORMAT=json``).
            every: least wall seconds between two progress log lines.
            covered_until: where a resumed backfill already stands (default ``start``);
                it counts towards the percentage but not towards the rate.
            clock: monotonic wall clock, injectable for tests.
        """
        self._out = stream_out if stream_out is not None else sys.stderr
        self._interactive = (
            (_is_terminal(self._out) and not json_logs) if interactive is None else interactive
        )
        self._stream, self._start, self._end = stream, start, max(start, end)
        self._every = every
        self._clock = clock
        self._lock = threading.RLock()
        self._covered = min(max(covered_until if covered_until is not None else start, start), self._end)
        self._events = 0
        self._slices_left: int | None = None
        self._started = self._sampled_at = self._logged_at = clock()
        self._drawn_at = -math.inf
        self._pending = (0, 0, 0)  # event-time seconds, events, slices since the last rate sample
        self._covered_rate: float | None = None  # event-time seconds per wall second
        self._event_rate: float | None = None
        self._slice_seconds: float | None = None  # wall seconds per slice
        self._shown = False
        self._closed = False
        self._arrow = "→" if _can_encode(self._out, "→") else "->"
        self._gauges = (
            None
            if metrics is None
            else (
                metrics.backfill_remaining.labels(stream=stream),
                metrics.backfill_progress.labels(stream=stream),
            )
        )
        self._handlers: list[logging.Handler] = []
        if self._interactive:
            self._handlers = [
                h for h in logging.getLogger().handlers if getattr(h, "stream", None) is self._out
            ]
            for handler in self._handlers:
                handler.addFilter(self._before_log)
        self._publish(self.figures())

    @property
    def interactive(self) -> bool:
        """Whether this display draws a bar (else it logs lines)."""
        return self._interactive

    def advance(self, covered_until: int, events: int, slices_left: int | None = None) -> None:
        """Record a committed slice: ``[start, covered_until)`` is done and ``events`` more were delivered.

        Args:
            covered_until: end of the committed slice; a value behind the last one is ignored.
            events: events the slice delivered.
            slices_left: slices still to fetch, when the caller knows; the ETA then
                uses the recent wall time per slice instead of the time-range rate.
        """
        with self._lock:
            if self._closed:
                return
            now = self._clock()
            covered = min(max(covered_until, self._covered), self._end)
            seconds, count, slices = self._pending
            self._pending = (seconds + covered - self._covered, count + max(0, events), slices + 1)
            self._covered = covered
            self._events += max(0, events)
            self._slices_left = slices_left
            self._sample(now)
            figures = self._figures(now)
            self._publish(figures)
            if self._interactive:
                if not self._shown or now - self._drawn_at >= REDRAW_SECONDS:
                    self._draw(figures, now)
            elif now - self._logged_at >= self._every:
                self._log_progress(figures, now)

    def figures(self) -> Figures:
        """The current figures (what the next bar or log line would show)."""
        with self._lock:
            return self._figures(self._clock())

    def close(self) -> None:
        """Finish the display: complete the bar with a newline, or log a final line. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            now = self._clock()
            figures = self._figures(now)
            self._publish(figures)
            for handler in self._handlers:
                handler.removeFilter(self._before_log)
            if self._interactive:
                self._draw(figures, now)
                self._write("\n")
                self._shown = False
            else:
                self._log_final(figures)

    def __enter__(self) -> BackfillProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- figures ------------------------------------------------------------------------

    def _sample(self, now: float) -> None:
        """Fold the slices since the last sample into the weighted rates (skipped when no time passed)."""
        elapsed = now - self._sampled_at
        if elapsed <= 0:
            return
        seconds, count, slices = self._pending
        # Weighting by elapsed time keeps irregular slice durations from skewing the average.
        weight = 1.0 - 0.5 ** (elapsed / RATE_HALF_LIFE)
        self._covered_rate = _blend(self._covered_rate, seconds / elapsed, weight)
        self._event_rate = _blend(self._event_rate, count / elapsed, weight)
        self._slice_seconds = _blend(self._slice_seconds, elapsed / slices, weight)
        self._pending = (0, 0, 0)
        self._sampled_at = now

    def _figures(self, now: float) -> Figures:
        remaining = self._end - self._covered
        eta: float | None
        if remaining <= 0:
            eta = 0.0
        elif self._slices_left is not None and self._slice_seconds is not None:
            eta = self._slices_left * self._slice_seconds
        elif self._covered_rate:
            eta = remaining / self._covered_rate
        else:
            eta = None
        return Figures(
            stream=self._stream,
            start=self._start,
            end=self._end,
            covered_until=self._covered,
            events=self._events,
            rate=self._event_rate,
            eta_seconds=eta,
            elapsed=now - self._started,
        )

    def _publish(self, figures: Figures) -> None:
        if self._gauges is not None:
            remaining, progress = self._gauges
            remaining.set(figures.end - figures.covered_until)
            progress.set(figures.ratio)

    # -- output -------------------------------------------------------------------------

    def _draw(self, figures: Figures, now: float) -> None:
        self._write(_CLEAR_LINE + self._line(figures, _columns(self._out)))
        self._drawn_at = now
        self._shown = True

    def _line(self, figures: Figures, columns: int | None) -> str:
        """The bar line, cut to fit ``columns``: a wrapped line would defeat the carriage-return redraw."""
        filled = math.floor(figures.ratio * BAR_WIDTH)
        parts = {
            "name": f"backfill {figures.stream}",
            "bar": f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}]",
            "percent": f"{figures.percent:3d}%",
            "span": self._span(figures),
            "events": f"{figures.events:,} events",
            "rate": f"{_rate(figures.rate)} ev/s",
            "eta": f"ETA {_duration(figures.eta_seconds)}",
        }
        line = "  ".join(parts.values())
        if columns is None:
            return line
        # On a narrow terminal, give up the least telling figures first; the percentage and ETA stay.
        for part in ("span", "rate", "events", "bar"):
            if len(line) < columns:
                break
            del parts[part]
            line = "  ".join(parts.values())
        return line[: max(1, columns - 1)]

    def _span(self, figures: Figures) -> str:
        day = figures.end - figures.start >= 7 * 86400
        start, covered, end = (_when(ts, day) for ts in (figures.start, figures.covered_until, figures.end))
        return f"{start} {self._arrow} {covered} of {self._arrow} {end}"

    def _log_progress(self, figures: Figures, now: float) -> None:
        log.info(
            "backfill %s: %d%%, covered to %s of [%s, %s), %s events, %s ev/s, ETA %s",
            figures.stream,
            figures.percent,
            _iso(figures.covered_until),
            _iso(figures.start),
            _iso(figures.end),
            f"{figures.events:,}",
            _rate(figures.rate),
            _duration(figures.eta_seconds),
            extra=_extra(figures),
        )
        self._logged_at = now

    def _log_final(self, figures: Figures) -> None:
        state = "complete" if figures.covered_until >= figures.end else f"stopped at {figures.percent}%"
        log.info(
            "backfill %s %s: covered to %s of [%s, %s), %s events in %s",
            figures.stream,
            state,
            _iso(figures.covered_until),
            _iso(figures.start),
            _iso(figures.end),
            f"{figures.events:,}",
            _duration(figures.elapsed),
            extra=_extra(figures),
        )

    def _before_log(self, record: logging.LogRecord) -> bool:
        """Handler filter: wipe the bar so a log record does not start in the middle of it."""
        with self._lock:
            if self._shown:
                self._write(_CLEAR_LINE)
                self._shown = False
        return True

    def _write(self, text: str) -> None:
        try:
            self._out.write(text)
            self._out.flush()
        except (OSError, ValueError):  # a closed or broken terminal must not stop a backfill
            self._interactive = False


def _blend(old: float | None, new: float, weight: float) -> float:
    return new if old is None else old + weight * (new - old)


def _extra(figures: Figures) -> dict[str, object]:
    """Structured fields for JSON logs (no per-event data)."""
    return {
        "stream": figures.stream,
        "start": figures.start,
        "end": figures.end,
        "covered_until": figures.covered_until,
        "events": figures.events,
        "rate": None if figures.rate is None else round(figures.rate, 1),
        "eta_seconds": None if figures.eta_seconds is None else round(figures.eta_seconds),
        "percent": round(figures.ratio * 100, 1),
    }


def _duration(seconds: float | None) -> str:
    """``42s``, ``3m12s``, ``2h05m``, ``3d04h``; ``--`` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "--"
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _rate(rate: float | None) -> str:
    return "--" if rate is None else f"{rate:,.0f}"


def _when(ts: int, day: bool) -> str:
    return time.strftime("%Y-%m-%d" if day else "%Y-%m-%d %H:%M", time.gmtime(ts))


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _can_encode(out: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(out, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _columns(out: TextIO) -> int | None:
    """The width of the terminal ``out`` writes to (stdout may be the sink); None when it is not one."""
    try:
        return os.get_terminal_size(out.fileno()).columns or None
    except (AttributeError, OSError, ValueError):
        return None
