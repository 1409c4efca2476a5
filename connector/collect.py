"""Collect: read every page of one window, keep the first copy of each new id, in time order.

The first of the pipeline's steps (connector.pipeline), run by the slicer's workers,
several windows at once. It reads only each event's id, type and time
(``EventRef``); the page bodies go on whole, to be decoded where the events are mapped.
"""

from __future__ import annotations

import threading
import time
from collections import Counter as Tally
from collections.abc import Container
from dataclasses import dataclass

from connector.metrics import Metrics, observe_many, type_label
from connector.models import Event, Window
from connector.normalize.batch import Batches
from connector.server import Health
from connector.slicer import Slice, TooDense
from connector.source.client import AuditLogClient, AuditQuery
from connector.source.page import EventRef, is_valid_event, is_valid_ref


@dataclass(frozen=True, slots=True)
class Stream:
    """One independently checkpointed read of the audit log."""

    name: str
    query: AuditQuery


class Stopped(Exception):
    """Raised inside a fetch when a stop was requested; nothing was published."""


class Collector:
    """Reads windows of a stream for the pipeline; safe to call from several threads."""

    def __init__(
        self,
        *,
        client: AuditLogClient,
        batches: Batches,
        metrics: Metrics,
        health: Health,
        stop: threading.Event,
        slice_cap: int,
    ) -> None:
        self._client = client
        self._batches = batches
        self._metrics = metrics
        self._health = health
        self._stop = stop
        self._slice_cap = slice_cap

    def collect(
        self, stream: Stream, delivered: Container[str], window: Window, split: bool
    ) -> Slice | TooDense:
        """Fetch every page of ``window``; stop early when it holds more than ``slice_cap`` new events.

        Only a window that may be split (``split``) stops early. Events whose id is in
        ``delivered`` are counted as duplicates and skipped.
        """
        seen: set[str] = set()
        events: list[EventRef] = []
        invalid: list[Event] = []
        fetched = 0
        fetched_types: Tally[str] = Tally()
        duplicate_types: Tally[str] = Tally()
        bodies: list[bytes] = []
        for page in self._client.iter_window(stream.query, window):
            if self._stop.is_set():
                raise Stopped
            self._health.beat()
            bodies.append(page.body)
            fetched += len(page.refs)
            now = time.time()
            lags: list[float] = []
            broken = False
            for ref in page.refs:
                label = type_label(ref.type)
                fetched_types[label] += 1
                if not is_valid_ref(ref):
                    broken = True
                    continue
                event_id = ref.id
                if event_id in delivered or event_id in seen:
                    duplicate_types[label] += 1
                    continue
                seen.add(event_id)
                events.append(ref)
                lags.append(max(0.0, now - ref.effective_at))
            if broken:  # dead-lettered whole: this page's events are decoded in full
                invalid.extend(event for event in page.events if not is_valid_event(event))
            observe_many(self._metrics.delivery_lag, lags)
            self._metrics.batch_in_flight.set(len(events))
            if split and len(events) > self._slice_cap:
                self._metrics.batch_in_flight.set(0)
                times = [e.effective_at for e in events]
                return TooDense(len(events), max(times) - min(times) + 1)
        self._metrics.count_types(self._metrics.events_fetched, stream.name, fetched_types)
        self._metrics.count_types(self._metrics.events_deduplicated, stream.name, duplicate_types)
        events.sort(key=_order)
        return Slice(
            window=window,
            events=events,
            invalid=invalid,
            fetched=fetched,
            bodies=bodies,
            normalized=self._batches.submit([e.id for e in events], bodies),
        )


def _order(event: EventRef) -> tuple[int, str]:
    return event.effective_at, event.id
