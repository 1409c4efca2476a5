"""Collect → normalize → publish → commit, one time slice at a time (design.md §2).

This is the only module that saves checkpoints, and it saves one only after the
sink (and the dead-letter file) returned for every event of the slice. The cursor
that is persisted is time: a watermark plus the ids delivered in the overlap, so
the algorithm is correct whatever order the API pages in.
"""

from __future__ import annotations

import bisect
import functools
import logging
import threading
import time
from collections import Counter as Tally
from dataclasses import replace
from typing import Any

from connector.checkpoint import CheckpointStore
from connector.checkpoint.delivered import DeliveredIndex
from connector.collect import Collector, Stopped, Stream
from connector.config import PollSettings
from connector.deadletter import DeadLetter, Entry
from connector.delivery import Delivery, RejectionHandler
from connector.drift import SchemaDrift
from connector.errors import RetriableError
from connector.metrics import Metrics
from connector.models import BackfillPlan, Checkpoint, OutputRecord, Rejection
from connector.normalize import Normalizer
from connector.normalize.batch import Batches
from connector.progress import BackfillProgress, is_backfill
from connector.server import Health
from connector.slicer import Slice, Slicer
from connector.source.client import AuditLogClient
from connector.source.page import EventRef, first_copies, pick_events

log = logging.getLogger(__name__)


class Pipeline:
    """Moves events of one stream from the API to the sink, slice by slice."""

    def __init__(
        self,
        *,
        client: AuditLogClient,
        normalizer: Normalizer,
        delivery: Delivery,
        store: CheckpointStore,
        dead_letter: DeadLetter,
        poll: PollSettings,
        metrics: Metrics,
        stop: threading.Event,
        health: Health | None = None,
        drift: SchemaDrift | None = None,
        workers: int = 1,
        index: DeliveredIndex | None = None,
        normalize_processes: int = 0,
        json_logs: bool = False,
    ) -> None:
        self._json_logs = json_logs
        self._index = index
        self._drift = drift
        self._client = client
        self._health = health or Health(poll_interval=poll.interval)
        self._batches = Batches(normalizer, processes=normalize_processes)
        self._delivery = delivery
        self._store = store
        self._dead_letter = dead_letter
        self._poll = poll
        self._metrics = metrics
        self._stop = stop
        self._overlap = int(poll.overlap)
        self._collector = Collector(
            client=client,
            batches=self._batches,
            metrics=metrics,
            health=self._health,
            stop=stop,
            slice_cap=poll.slice_events * 2,  # a slice is abandoned and split past this many new events
        )
        self._slicer = Slicer(poll, workers=workers)

    # -- steady state and catch-up ---------------------------------------------------

    def start_checkpoint(self, stream: Stream, start: int) -> Checkpoint:
        """The stream's checkpoint; on a first run, one that starts at ``start`` is saved now.

        Saving the starting point at once keeps a first run that crashes from
        sliding its lookback forward on restart.
        """
        self._delivery.prepare(stream.name)
        checkpoint = self._store.load(stream.name)
        if checkpoint is None:
            checkpoint = Checkpoint(stream=stream.name, watermark=start, updated_at=time.time())
            self._commit(checkpoint)
            if self._index is not None:
                self._index.mark_complete(stream.name, 0)
            log.info("stream %s: first run, reading from %s", stream.name, _iso(start))
        self._metrics.watermark.labels(stream=stream.name).set(checkpoint.watermark)
        return checkpoint

    def catch_up(self, stream: Stream, checkpoint: Checkpoint, target_end: int) -> Checkpoint:
        """Deliver every slice from the watermark (minus the overlap) up to ``target_end``, in time order."""
        remaining = self._metrics.backfill_remaining.labels(stream=stream.name)
        delivered = checkpoint.recent_ids

        slices = self._slicer.slices(
            functools.partial(self._collector.collect, stream, delivered),
            checkpoint.watermark,
            target_end,
            lead=self._overlap,
            length=int(checkpoint.slice_seconds or self._poll.max_slice),
        )
        # A first run's lookback or a long downtime shows progress; a routine poll does not.
        progress = (
            self._progress(stream, checkpoint.watermark, target_end)
            if is_backfill(checkpoint.watermark, target_end, poll_interval=self._poll.interval)
            else None
        )
        try:
            for collected, length in slices:
                remaining.set(target_end - checkpoint.watermark)
                checkpoint = self._deliver(
                    stream, checkpoint, collected, slice_seconds=length, watermark=collected.window.end
                )
                if progress is not None:
                    progress.advance(collected.window.end, len(collected.events))
                if self._stop.is_set():
                    break
        except Stopped:
            pass
        finally:
            slices.close()
            if progress is not None:
                progress.close()
        remaining.set(max(0, target_end - checkpoint.watermark))
        return checkpoint

    def close(self) -> None:
        """Stop the slice workers and the normalizer processes."""
        self._slicer.close()
        self._batches.close()

    # -- operator backfill ------------------------------------------------------------

    def backfill(self, stream: Stream, checkpoint: Checkpoint) -> Checkpoint:
        """Continue the checkpoint's backfill plan: re-read and deliver ``[next, end)``.

        The watermark and recent ids are left alone; an operator backfill may
        re-deliver events the stream already sent (the sink dedupes on id).
        """
        plan = checkpoint.backfill
        if plan is None:
            return checkpoint

        length = int(checkpoint.slice_seconds or self._poll.max_slice)
        collect = functools.partial(self._collector.collect, stream, {})
        slices = self._slicer.slices(collect, plan.next, plan.end, lead=0, length=length)
        progress = self._progress(stream, plan.start, plan.end, covered_until=plan.next)
        try:
            for collected, length in slices:
                plan = replace(plan, next=collected.window.end)
                checkpoint = self._deliver(stream, checkpoint, collected, slice_seconds=length, plan=plan)
                progress.advance(collected.window.end, len(collected.events))
                if self._stop.is_set():
                    return checkpoint
        except Stopped:
            return checkpoint
        finally:
            slices.close()
            progress.close()
        checkpoint = replace(checkpoint, backfill=None)
        self._commit(checkpoint)
        log.info("stream %s: backfill of [%s, %s) done", stream.name, _iso(plan.start), _iso(plan.end))
        return checkpoint

    def _progress(
        self, stream: Stream, start: int, end: int, *, covered_until: int | None = None
    ) -> BackfillProgress:
        return BackfillProgress(
            stream=stream.name,
            start=start,
            end=end,
            covered_until=covered_until,
            metrics=self._metrics,
            json_logs=self._json_logs,
        )

    def reconcile(
        self, stream: Stream, checkpoint: Checkpoint, since: int, until: int
    ) -> tuple[Checkpoint, int]:
        """Re-read ``[since, until)`` and deliver only ids never delivered; return how many were found.

        Catches events that became visible long after their ``effective_at`` (more
        than the overlap), which the polls cannot see. The watermark does not move.
        """
        if self._index is None:
            return checkpoint, 0
        # Deliveries from before the index existed are not in it: re-reading them would repeat them all.
        since = max(since, self._index.complete_from(stream.name))
        if until <= since:
            return checkpoint, 0
        delivered = self._index.ids(stream.name, since, until) | set(checkpoint.recent_ids)
        found = 0

        length = int(checkpoint.slice_seconds or self._poll.max_slice)
        collect = functools.partial(self._collector.collect, stream, delivered)
        slices = self._slicer.slices(collect, since, until, lead=0, length=length)
        try:
            for collected, _ in slices:
                if collected.events or collected.invalid:
                    found += len(collected.events)
                    checkpoint = self._deliver(
                        stream, checkpoint, collected, slice_seconds=int(checkpoint.slice_seconds or length)
                    )
                if self._stop.is_set():
                    break
        except Stopped:
            pass
        finally:
            slices.close()
        self._metrics.reconcile_found.labels(stream=stream.name).inc(found)
        level = logging.WARNING if found else logging.INFO
        log.log(
            level,
            "stream %s: reconcile of [%s, %s) found %d undelivered event(s)",
            stream.name,
            _iso(since),
            _iso(until),
            found,
        )
        return checkpoint, found

    def plan_backfill(self, stream: Stream, checkpoint: Checkpoint, since: int, until: int) -> Checkpoint:
        """Record an operator backfill of ``[since, until)`` in the checkpoint."""
        checkpoint = replace(checkpoint, backfill=BackfillPlan(start=since, end=until, next=since))
        self._commit(checkpoint)
        return checkpoint

    # -- normalize, publish, commit ------------------------------------------------------

    def _deliver(
        self,
        stream: Stream,
        checkpoint: Checkpoint,
        collected: Slice,
        *,
        slice_seconds: int,
        watermark: int | None = None,
        plan: BackfillPlan | None = None,
    ) -> Checkpoint:
        """Normalize, publish, dead-letter, then commit the next checkpoint."""
        events = collected.events
        records, dead = self._normalize(stream, collected)
        dead.extend(
            (stream.name, "invalid_event", "event lacks a string id or an integer effective_at", e)
            for e in collected.invalid
        )
        self._write_dead_letters(dead)

        next_checkpoint = replace(
            checkpoint,
            slice_seconds=slice_seconds,
            updated_at=time.time(),
        )
        if watermark is not None:
            floor = watermark - self._overlap
            recent = {k: v for k, v in checkpoint.recent_ids.items() if v >= floor}
            # Events are in time order: only the tail from the floor on is recent.
            tail = bisect.bisect_left(events, floor, key=_effective_at)
            recent.update((e.id, e.effective_at) for e in events[tail:])
            next_checkpoint = replace(next_checkpoint, watermark=watermark, recent_ids=recent)
        if plan is not None:
            next_checkpoint = replace(next_checkpoint, backfill=plan)
        refused: list[Rejection] = []

        def rejected(rejections: list[Rejection]) -> None:
            refused.extend(rejections)
            whole = first_copies(collected.bodies, lenient=[])
            self._write_dead_letters(
                [(stream.name, r.reason, r.detail, whole.get(r.record.key, r.record.key)) for r in rejections]
            )

        self._commit(next_checkpoint, records, rejected)
        self._count_published(stream, records, refused)
        if self._index is not None:
            self._index.add(stream.name, ((e.id, e.effective_at) for e in events), now=int(time.time()))
        published = len(records) - len(refused)
        log.info(
            "stream %s: window [%s, %s) fetched %d, published %d, dead-lettered %d",
            stream.name,
            _iso(collected.window.start),
            _iso(collected.window.end),
            collected.fetched,
            published,
            len(dead) + len(refused),
            extra={
                "stream": stream.name,
                "window_start": collected.window.start,
                "window_end": collected.window.end,
                "fetched": collected.fetched,
                "batch": published,
                "dead_lettered": len(dead) + len(refused),
                "watermark": next_checkpoint.watermark,
            },
        )
        return next_checkpoint

    def _normalize(
        self, stream: Stream, collected: Slice
    ) -> tuple[list[OutputRecord], list[tuple[str, str, str, Any]]]:
        """The slice's records, and its events that could not be normalized; notes schema drift."""
        records: list[OutputRecord] = []
        failed: list[tuple[EventRef, str]] = []
        events = collected.events
        ids = [e.id for e in events]
        result = self._batches.normalized(ids, collected.bodies, collected.normalized)
        if self._drift is not None:
            self._drift.record(result.drift)
        if result.lenient:
            log.warning(
                "stream %s: the API sent JSON that is not strict UTF-8 in %d page(s) of [%s, %s) (%s); "
                "read leniently",
                stream.name,
                len(result.lenient),
                _iso(collected.window.start),
                _iso(collected.window.end),
                result.lenient[0],
            )
        for event, outcome in zip(events, result.outcomes, strict=True):
            if isinstance(outcome, str):
                failed.append((event, outcome))
                continue
            value, class_uid = outcome
            records.append(OutputRecord(event.id, value, str(event.type), event.effective_at, class_uid))
        if not failed:
            return records, []
        whole = pick_events(collected.bodies, [event.id for event, _ in failed], lenient=[])
        dead = [
            (stream.name, "normalize_error", error, event)
            for (_, error), event in zip(failed, whole, strict=True)
        ]
        return records, dead

    def _commit(
        self,
        checkpoint: Checkpoint,
        records: list[OutputRecord] | None = None,
        rejected: RejectionHandler | None = None,
    ) -> None:
        """Hand the batch and its checkpoint to the delivery: publish, then commit."""
        started = time.monotonic()
        try:
            self._delivery.deliver(records or [], checkpoint, rejected=rejected or self._unexpected_rejection)
        except RetriableError:
            self._health.sink_ok = False
            self._metrics.sink_failures.labels(sink=self._delivery.sink_name).inc()
            raise
        if records:  # a checkpoint-only commit says nothing about the sink
            self._health.sink_ok = True
            self._health.poll_ok()
            self._metrics.sink_publish_duration.labels(sink=self._delivery.sink_name).observe(
                time.monotonic() - started
            )
        self._metrics.watermark.labels(stream=checkpoint.stream).set(checkpoint.watermark)
        self._metrics.checkpoint_commits.labels(stream=checkpoint.stream).inc()

    def _count_published(self, stream: Stream, records: list[OutputRecord], refused: list[Rejection]) -> None:
        published = records
        if refused:
            refused_keys = {r.record.key for r in refused}
            published = [r for r in records if r.key not in refused_keys]
        # count_types bounds the labels, once per distinct type.
        self._metrics.count_types(
            self._metrics.events_published, stream.name, Tally(r.event_type for r in published)
        )
        self._metrics.batch_in_flight.set(0)
        if published:
            self._metrics.sink_batches.labels(sink=self._delivery.sink_name).inc()
            self._metrics.sink_events.labels(sink=self._delivery.sink_name).inc(len(published))
            self._metrics.delivered(stream.name, max(r.effective_at for r in published))

    def _write_dead_letters(self, dead: list[Entry]) -> None:
        """Store unpublishable events durably; called before the checkpoint passes them."""
        self._dead_letter.write(dead)
        for _, reason, _, _ in dead:
            self._metrics.events_dead_lettered.labels(reason=reason).inc()

    @staticmethod
    def _unexpected_rejection(rejections: list[Rejection]) -> None:
        raise AssertionError(f"a checkpoint-only commit had {len(rejections)} rejected records")


def _effective_at(event: EventRef) -> int:
    return event.effective_at  # type: ignore[no-any-return]


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
