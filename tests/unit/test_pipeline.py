"""The pipeline: windows, overlap dedupe, publish-then-commit, density adaptation, dead letters."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from connector.checkpoint.memory import MemoryCheckpointStore
from connector.collect import Stream
from connector.config import PollSettings
from connector.deadletter.file import DeadLetterFile
from connector.delivery import PublishThenCommit
from connector.errors import SinkUnavailable
from connector.metrics import Metrics
from connector.models import Checkpoint, OutputRecord, Rejection, Window
from connector.normalize.raw import RawNormalizer
from connector.pipeline import Pipeline
from connector.source.client import AuditQuery
from connector.source.page import Page

STREAM = Stream("default", AuditQuery())


class FakeSource:
    """Serves events newest-first in pages of ``limit``; records the windows asked for."""

    def __init__(self, events: list[dict[str, Any]], limit: int = 3) -> None:
        self.events = events
        self.limit = limit
        self.windows: list[Window] = []

    def iter_window(self, query: AuditQuery, window: Window) -> Iterator[Page]:
        self.windows.append(window)
        hits = sorted(
            (e for e in self.events if window.start <= e["effective_at"] < window.end),
            key=lambda e: (e["effective_at"], e["id"]),
            reverse=True,
        )
        for i in range(0, max(len(hits), 1), self.limit):
            chunk = hits[i : i + self.limit]
            more = i + self.limit < len(hits)
            yield Page.of(chunk, more, chunk[-1]["id"] if chunk else None)


class ListSink:
    name = "list"

    def __init__(self) -> None:
        self.records: list[OutputRecord] = []
        self.batches: list[int] = []
        self.fail = False
        self.max_bytes = 10**9

    def publish(self, records: Sequence[OutputRecord]) -> list[Rejection]:
        if self.fail:
            raise SinkUnavailable("down")
        accepted = [r for r in records if len(r.value) < self.max_bytes]
        self.records.extend(accepted)
        self.batches.append(len(records))
        return [Rejection(r, "too_large", f"{len(r.value)} bytes") for r in records if r not in accepted]

    def close(self) -> None:
        pass


class ExplodingNormalizer:
    # Wraps rather than subclasses: RawNormalizer is compiled (mypyc), and interpreted
    # classes cannot inherit from compiled ones.
    format = "raw"

    def __init__(self) -> None:
        self._raw = RawNormalizer()

    def normalize(self, event: Any) -> dict[str, Any]:
        if event["type"] == "boom":
            raise RuntimeError("cannot map this")
        return self._raw.normalize(event)


def ev(i: int, t: int, type_: str = "login.succeeded") -> dict[str, Any]:
    return {"id": f"audit_log-{i:05d}", "type": type_, "effective_at": t, "object": "organization.audit_log"}


def build(
    events: list[dict[str, Any]],
    tmp_path: Path,
    *,
    normalizer: Any = None,
    workers: int = 1,
    source: FakeSource | None = None,
    **poll: Any,
) -> tuple[Pipeline, FakeSource, ListSink, MemoryCheckpointStore]:
    source = source or FakeSource(events)
    sink = ListSink()
    store = MemoryCheckpointStore()
    settings = PollSettings(**{"overlap": 100, "max_slice": 1000, "slice_events": 100, **poll})
    pipeline = Pipeline(
        client=source,  # type: ignore[arg-type]
        normalizer=normalizer or RawNormalizer(),
        delivery=PublishThenCommit(sink, store),
        store=store,
        dead_letter=DeadLetterFile(tmp_path / "dlq.ndjson"),
        poll=settings,
        metrics=Metrics(),
        stop=threading.Event(),
        workers=workers,
    )
    return pipeline, source, sink, store


def delivered(sink: ListSink) -> list[str]:
    return [r.key for r in sink.records]


def test_events_are_published_in_time_order_whatever_the_page_order(tmp_path: Path) -> None:
    events = [ev(i, 1000 + (i * 7) % 50) for i in range(40)]
    pipeline, _, sink, _ = build(events, tmp_path)
    pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 2000)
    times = [orjson.loads(r.value)["effective_at"] for r in sink.records]
    assert times == sorted(times) and len(sink.records) == 40


def test_overlap_rereads_skip_what_was_delivered_and_catch_late_events(tmp_path: Path) -> None:
    events = [ev(i, 1000 + i) for i in range(50)]
    pipeline, source, sink, _store = build(events, tmp_path)
    checkpoint = pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 1060)
    assert len(sink.records) == 50 and checkpoint.watermark == 1060
    # A late event with an older effective_at shows up, plus a new one.
    source.events += [ev(900, 1030), ev(901, 1070)]
    checkpoint = pipeline.catch_up(STREAM, checkpoint, 1080)
    assert source.windows[-1].start == 1060 - 100
    assert delivered(sink)[50:] == ["audit_log-00900", "audit_log-00901"]
    assert len(set(delivered(sink))) == 52


def test_recent_ids_are_pruned_to_the_overlap(tmp_path: Path) -> None:
    pipeline, _, _, _ = build([ev(i, 1000 + i * 10) for i in range(100)], tmp_path)
    checkpoint = pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 2000)
    assert checkpoint.watermark == 2000
    assert min(checkpoint.recent_ids.values()) >= 2000 - 100


def test_nothing_is_committed_when_the_sink_fails(tmp_path: Path) -> None:
    pipeline, _, sink, store = build([ev(i, 1000 + i) for i in range(10)], tmp_path)
    start = pipeline.start_checkpoint(STREAM, 1000)
    sink.fail = True
    with pytest.raises(SinkUnavailable):
        pipeline.catch_up(STREAM, start, 1100)
    assert store.load("default") == start
    sink.fail = False
    pipeline.catch_up(STREAM, start, 1100)
    assert len(sink.records) == 10


def test_commit_happens_only_after_publish(tmp_path: Path) -> None:
    pipeline, _, sink, store = build([ev(i, 1000 + i) for i in range(10)], tmp_path)
    published_when_saved: list[int] = []
    original = store.save

    def save(checkpoint: Checkpoint) -> None:
        published_when_saved.append(len(sink.records))
        original(checkpoint)

    store.save = save  # type: ignore[method-assign]
    pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 1100)
    assert published_when_saved == [0, 10]


def test_dense_slices_are_split_so_a_batch_stays_bounded(tmp_path: Path) -> None:
    # 2,000 events in 200 s with a 100-event target: slices must shrink.
    events = [ev(i, 1000 + i // 10) for i in range(2000)]
    pipeline, _, sink, store = build(events, tmp_path, overlap=0)
    pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 1200)
    assert sorted(delivered(sink)) == sorted(e["id"] for e in events)
    assert len(sink.batches) > 10
    assert store.saves[-1].slice_seconds is not None and store.saves[-1].slice_seconds < 1000
    # never more than twice the target in one batch: that bounds memory and re-delivery
    assert max(sink.batches) <= 2 * 100


def test_an_event_the_normalizer_cannot_map_is_dead_lettered_not_lost(tmp_path: Path) -> None:
    events = [ev(1, 1001), ev(2, 1002, "boom"), ev(3, 1003)]
    pipeline, _, sink, _ = build(events, tmp_path, normalizer=ExplodingNormalizer())
    pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 1100)
    assert delivered(sink) == ["audit_log-00001", "audit_log-00003"]
    dead = [orjson.loads(line) for line in (tmp_path / "dlq.ndjson").read_bytes().splitlines()]
    assert [(d["reason"], d["event"]["id"]) for d in dead] == [("normalize_error", "audit_log-00002")]
    assert "cannot map this" in dead[0]["error"]


def test_an_event_without_id_or_time_is_dead_lettered(tmp_path: Path) -> None:
    events = [ev(1, 1001)]
    pipeline, source, sink, _ = build(events, tmp_path)
    broken = {"type": "login.failed", "effective_at": 1002}

    def pages(query: AuditQuery, window: Window) -> Iterator[Page]:
        yield Page.of([events[0], broken], False, None)

    source.iter_window = pages  # type: ignore[method-assign]
    pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 1100)
    assert delivered(sink) == ["audit_log-00001"]
    dead = orjson.loads((tmp_path / "dlq.ndjson").read_bytes().splitlines()[0])
    assert dead["reason"] == "invalid_event" and dead["event"] == broken


def test_operator_backfill_redelivers_a_range_without_moving_the_watermark(tmp_path: Path) -> None:
    events = [ev(i, 1000 + i) for i in range(30)]
    pipeline, _, sink, store = build(events, tmp_path)
    checkpoint = pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 1100)
    checkpoint = pipeline.plan_backfill(STREAM, checkpoint, 1010, 1020)
    checkpoint = pipeline.backfill(STREAM, checkpoint)
    assert delivered(sink)[30:] == [f"audit_log-{i:05d}" for i in range(10, 20)]
    assert checkpoint.backfill is None and checkpoint.watermark == 1100
    assert store.load("default") == checkpoint


def test_a_stop_during_fetch_publishes_and_commits_nothing(tmp_path: Path) -> None:
    pipeline, _, sink, store = build([ev(i, 1000 + i) for i in range(30)], tmp_path)
    start = pipeline.start_checkpoint(STREAM, 1000)
    pipeline._stop.set()
    assert pipeline.catch_up(STREAM, start, 1100) == start
    assert sink.records == [] and store.load("default") == start


def test_a_record_the_sink_refuses_for_good_is_dead_lettered_before_the_commit(tmp_path: Path) -> None:
    events = [ev(1, 1001), {**ev(2, 1002), "blob": "x" * 5000}, ev(3, 1003)]
    pipeline, _, sink, store = build(events, tmp_path)
    sink.max_bytes = 1000
    dead_letter_seen_at_commit: list[bool] = []
    original = store.save

    def save(checkpoint: Checkpoint) -> None:
        dead_letter_seen_at_commit.append((tmp_path / "dlq.ndjson").exists())
        original(checkpoint)

    store.save = save  # type: ignore[method-assign]
    pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 1100)
    assert delivered(sink) == ["audit_log-00001", "audit_log-00003"]
    dead = orjson.loads((tmp_path / "dlq.ndjson").read_bytes())
    assert (dead["reason"], dead["event"]["id"]) == ("too_large", "audit_log-00002")
    assert dead_letter_seen_at_commit == [False, True]


class SlowSource(FakeSource):
    """Each page takes a while; records how many windows were being read at once."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        super().__init__(events, limit=100)
        self.lock = threading.Lock()
        self.active = self.peak = 0

    def iter_window(self, query: AuditQuery, window: Window) -> Iterator[Page]:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            for page in super().iter_window(query, window):
                time.sleep(0.02)
                yield page
        finally:
            with self.lock:
                self.active -= 1


def test_parallel_workers_fetch_ahead_but_deliver_and_commit_in_time_order(tmp_path: Path) -> None:
    events = [ev(i, 1000 + i * 3) for i in range(3000)]  # 9,000 s of events
    slow = SlowSource(events)
    pipeline, _, sink, store = build(
        events, tmp_path, workers=4, source=slow, overlap=0, max_slice=300, slice_events=100
    )
    checkpoint = pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 10_000)
    assert slow.peak > 1  # windows were read concurrently
    assert delivered(sink) == [e["id"] for e in events]  # and published strictly in time order
    watermarks = [c.watermark for c in store.saves]
    assert watermarks == sorted(watermarks) and checkpoint.watermark == 10_000
    pipeline.close()


def test_a_dense_slice_in_a_parallel_backfill_replans_without_losing_or_duplicating(tmp_path: Path) -> None:
    sparse = [ev(i, 1000 + i * 10) for i in range(200)]
    burst = [ev(10_000 + i, 2500) for i in range(1500)]  # 1,500 events in one second
    events = sorted(sparse + burst, key=lambda e: (e["effective_at"], e["id"]))
    pipeline, _, sink, _ = build(events, tmp_path, workers=3, overlap=0, max_slice=400, slice_events=100)
    pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 4000)
    assert sorted(delivered(sink)) == sorted(e["id"] for e in events)
    assert len(delivered(sink)) == len(events)
    pipeline.close()


def test_a_crash_mid_parallel_backfill_resumes_after_the_committed_slices(tmp_path: Path) -> None:
    events = [ev(i, 1000 + i * 3) for i in range(3000)]
    pipeline, source, sink, store = build(
        events, tmp_path, workers=4, overlap=0, max_slice=300, slice_events=100
    )
    start = pipeline.start_checkpoint(STREAM, 1000)
    sink_fail_after = 5

    original = sink.publish

    def flaky(records: Sequence[OutputRecord]) -> list[Rejection]:
        if len(sink.batches) >= sink_fail_after:
            raise SinkUnavailable("crash")
        return original(records)

    sink.publish = flaky  # type: ignore[method-assign]
    with pytest.raises(SinkUnavailable):
        pipeline.catch_up(STREAM, start, 10_000)
    committed = store.load("default")
    assert committed is not None and committed.watermark > 1000
    source.windows.clear()
    sink.publish = original  # type: ignore[method-assign]
    pipeline.catch_up(STREAM, committed, 10_000)
    assert min(w.start for w in source.windows) == committed.watermark  # committed slices are not read again
    assert sorted(delivered(sink)) == sorted(e["id"] for e in events)
    pipeline.close()


def test_a_long_catch_up_reports_progress_and_a_routine_poll_does_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    day = 86_400
    events = [ev(i, 1000 + i * 60) for i in range(3 * day // 60)]  # three days, one a minute
    pipeline, _, sink, _ = build(events, tmp_path, max_slice=day, slice_events=500)
    ratio = pipeline._metrics.backfill_progress.labels(stream=STREAM.name)
    with caplog.at_level("INFO", logger="connector.progress"):
        checkpoint = pipeline.catch_up(STREAM, pipeline.start_checkpoint(STREAM, 1000), 1000 + 3 * day)
        lines = [r for r in caplog.records if r.name == "connector.progress"]
        assert lines, "a three-day catch-up logs its progress when output is not a terminal"
        assert lines[-1].percent == 100 and lines[-1].events == len(events)  # type: ignore[attr-defined]
        assert ratio._value.get() == 1.0
        caplog.clear()
        pipeline.catch_up(STREAM, checkpoint, 1000 + 3 * day + 60)  # a routine poll
        assert not [r for r in caplog.records if r.name == "connector.progress"]
    assert len(delivered(sink)) == len(events)
    pipeline.close()
