"""``connector dlq replay``: send dead-lettered events back through normalization and the sink.

Once the cause is fixed (a mapping added, a record size raised, a bad event
understood), each entry's original event is normalized again and published.
Entries that still fail stay in the dead-letter destination; the others are
removed (file) or consumed (Kafka, with a consumer group per namespace).
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import orjson

from connector.config import Settings
from connector.deadletter import Entry, encode
from connector.models import OutputRecord
from connector.normalize import Normalizer
from connector.serialize import dumps
from connector.sinks import Sink
from connector.source.page import is_valid_event

log = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    replayed: int = 0
    still_failing: int = 0


def replay(
    entries: list[dict[str, Any]], normalizer: Normalizer, sink: Sink
) -> tuple[ReplayResult, list[Entry]]:
    """Normalize and publish the entries' events; return what still fails, as new entries."""
    records: list[OutputRecord] = []
    failing: list[Entry] = []
    by_key: dict[str, dict[str, Any]] = {}
    for entry in entries:
        event = entry.get("event")
        stream = str(entry.get("stream", "default"))
        if not isinstance(event, dict) or not is_valid_event(event):
            failing.append(
                (stream, "invalid_event", "event lacks a string id or an integer effective_at", event)
            )
            continue
        try:
            doc = normalizer.normalize(event)
            value = dumps(doc)
        except Exception as exc:  # the same guard as the pipeline: nothing may vanish
            failing.append((stream, "normalize_error", f"{type(exc).__name__}: {exc}", event))
            continue
        records.append(
            OutputRecord(
                event["id"], value, str(event.get("type")), event["effective_at"], doc.get("class_uid")
            )
        )
        by_key[event["id"]] = entry
    rejected = sink.publish(records) if records else []
    for rejection in rejected:
        entry = by_key[rejection.record.key]
        failing.append(
            (str(entry.get("stream", "default")), rejection.reason, rejection.detail, entry["event"])
        )
    return ReplayResult(replayed=len(records) - len(rejected), still_failing=len(failing)), failing


def replay_file(settings: Settings, normalizer: Normalizer, sink: Sink) -> ReplayResult:
    """Replay the dead-letter file; keep only the entries that still fail (atomic rewrite)."""
    path = settings.dead_letter.path
    if not path.exists():
        return ReplayResult()
    entries: list[dict[str, Any]] = []
    unreadable: list[bytes] = []
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            entries.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            unreadable.append(line)  # a torn line from a crash: kept as it is, never dropped
    result, failing = replay(entries, normalizer, sink)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".dead-letter-")
    with os.fdopen(fd, "wb") as fh:
        fh.writelines(line + b"\n" for line in unreadable)
        fh.writelines(line + b"\n" for line in encode(failing))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    result.still_failing += len(unreadable)
    return result


def replay_topic(settings: Settings, normalizer: Normalizer, sink: Sink) -> ReplayResult:
    """Replay the dead-letter topic from the replay group's committed offsets; re-queue what still fails."""
    from kafka import KafkaConsumer

    from connector.deadletter.kafka import DeadLetterTopic
    from connector.sinks.kafka_common import connection_config

    consumer = KafkaConsumer(
        settings.dead_letter.topic,
        **connection_config(settings.sink),
        group_id=f"{settings.checkpoint.namespace}-dlq-replay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        consumer_timeout_ms=5000,
    )
    total = ReplayResult()
    requeue = DeadLetterTopic(settings.sink, settings.dead_letter.topic)
    try:
        while batch := [
            r for records in consumer.poll(timeout_ms=3000, max_records=1000).values() for r in records
        ]:
            entries = [orjson.loads(r.value) for r in batch]
            result, failing = replay(entries, normalizer, sink)
            requeue.write(failing)  # durable before the offsets move past them
            consumer.commit()
            total.replayed += result.replayed
            total.still_failing += result.still_failing
    finally:
        consumer.close()
        requeue.close()
    return total
