"""Handing records to kafka-python's producer fast: ``RecordSender``.

kafka-python's ``send()`` costs about 50 µs of Python per record. With kafka-python
3.0.x the records of a publish are written straight into the producer's own batches
(same bytes, partition and futures as ``send()``), after a once-per-process self-check
against kafka-python's own append path; otherwise ``send()`` is used. See docs/kafka.md.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import partial
from typing import Any

from connector.models import OutputRecord
from connector.sinks.kafka_common import RecordHeaders, record_headers, varint
from connector.sinks.murmur2 import murmur2_many

log = logging.getLogger(__name__)

Plan = list[tuple[str, OutputRecord, RecordHeaders]]
"""Routed records: topic, record, headers."""


class RecordSender:
    """Hands routed records to one kafka-python producer and returns one future per record.

    kafka-python's ``send()`` spends ~50 µs of Python per record (argument and header checks, the
    partitioner's byte-at-a-time murmur2, the size estimate, the accumulator's locks, every
    header encoded twice, a debug log line's arguments formatted eagerly), which held a sink to
    ~10,000 records/s. With kafka-python 3.0, ``_DirectAppender`` does that work once per batch
    and writes the records straight into producer batches, several times faster. With any other
    kafka-python, or if its self-check fails, records go through ``send()``. Either way every
    record has its own future, and the caller checks them all after ``flush()``.
    """

    def __init__(self, producer: Any) -> None:
        self._producer = producer
        self._direct = _DirectAppender.attach(producer)

    @property
    def direct(self) -> bool:
        """Whether records bypass ``KafkaProducer.send()``."""
        return self._direct is not None

    def send(self, plan: Plan) -> list[Any]:
        if self._direct is not None:
            return self._direct.send(plan)
        send = self._producer.send
        return [
            send(topic, key=record.key.encode(), value=record.value, headers=headers.items)
            for topic, record, headers in plan
        ]


_CHECKED: list[bool] = []  # the direct path's self-check, run once per process


class _DirectAppender:
    """Fills a kafka-python 3.0 producer's batches without ``send()``'s per-record overhead.

    It does what ``KafkaProducer.send()`` and ``RecordAccumulator.append()`` do, once per batch
    where they do it once per record: the default partitioner's choice (murmur2 of the key over
    the topic's sorted partitions, from metadata fetched as ``send()`` fetches it), the partition
    added to the open transaction, the records encoded exactly as ``DefaultRecordBatchBuilder``
    encodes them (the headers once per event type), a ``FutureRecordMetadata`` per record, then
    the batch queued under the partition's lock and the sender woken. From there the sender
    handles it like any other batch: producer id and sequence numbers when drained, compression,
    the CRC, retries, splitting on MESSAGE_TOO_LARGE, delivery timeouts.

    The record futures are kafka-python's own class, resolved by its own code, but built lean:
    they share one lock per batch, take no callbacks of their own, and the batch resolves them
    with one callback instead of two bound methods each (per-record garbage is what the cyclic
    GC pays for, many times over, while a batch is in flight). A batch split on MESSAGE_TOO_LARGE
    rebinds them to the new batches, as it rebinds kafka-python's.

    It relies on kafka-python internals (the accumulator's deques and locks, the builder's and
    the futures' fields), so it is used only with kafka-python 3.0.x, and only after a self-check
    that it writes the same bytes, counts and futures as kafka-python's own append path, and that
    those futures resolve the same way on success, on failure and across a split.
    """

    SUPPORTED = ("3.0.",)

    def __init__(self, producer: Any, *, batch_size: int = 16384) -> None:
        from kafka.errors import IllegalStateError, MessageSizeTooLargeError
        from kafka.partitioner import DefaultPartitioner
        from kafka.producer.future import FutureRecordMetadata
        from kafka.producer.producer_batch import ProducerBatch
        from kafka.record.default_records import DefaultRecordBatchBuilder
        from kafka.record.memory_records import MemoryRecordsBuilder
        from kafka.structs import TopicPartition

        self._illegal_state = IllegalStateError
        self._too_large = MessageSizeTooLargeError
        self._new_future = FutureRecordMetadata.__new__
        self._future_class = FutureRecordMetadata
        self._new_batch = ProducerBatch
        self._new_records = MemoryRecordsBuilder
        self._topic_partition = TopicPartition
        # send()'s size estimate: the batch header and the worst record overhead, plus the record
        self._overhead = (
            DefaultRecordBatchBuilder.HEADER_STRUCT.size + DefaultRecordBatchBuilder.MAX_RECORD_OVERHEAD
        )
        self._producer = producer
        self._accumulator: Any = None
        self._transactions: Any = None
        self._compression = 0
        self._batch_size = batch_size
        self._max_request_size = 1 << 30
        if producer is None:  # the self-check: batches only
            return
        config = producer.config
        if type(config["partitioner"]) is not DefaultPartitioner:
            raise TypeError("a custom partitioner")
        if config["key_serializer"] is not None or config["value_serializer"] is not None:
            raise TypeError("a key or value serializer")
        self._accumulator = producer._accumulator
        accumulator_config = self._accumulator.config
        if accumulator_config["message_version"] != 2:
            raise TypeError(f"record format v{accumulator_config['message_version']} (needs v2)")
        self._compression = accumulator_config["compression_attrs"]
        self._batch_size = accumulator_config["batch_size"]
        self._max_request_size = config["max_request_size"]
        self._wakeup = producer._sender.wakeup
        self._transactions = producer._transaction_manager
        for name in ("_batches", "_incomplete", "_appends_in_progress", "_tp_lock", "_closed"):
            getattr(self._accumulator, name)

    @classmethod
    def attach(cls, producer: Any) -> _DirectAppender | None:
        """The direct path for this producer, or None where ``send()`` must be used."""
        import kafka

        version = getattr(kafka, "__version__", "unknown")
        if not version.startswith(cls.SUPPORTED):
            log.info(
                "kafka-python %s: records go through KafkaProducer.send() (the direct batch path "
                "is written against kafka-python 3.0)",
                version,
            )
            return None
        try:
            if not _CHECKED:
                _CHECKED.append(False)
                _self_check()
                _CHECKED[0] = True
            return cls(producer) if _CHECKED[0] else None
        except Exception:
            log.warning(
                "kafka-python %s: the direct batch path is not usable here; records go through "
                "KafkaProducer.send(), several times slower",
                version,
                exc_info=True,
            )
            return None

    def send(self, plan: Plan) -> list[Any]:
        producer = self._producer
        if producer._closed:
            raise self._illegal_state("KafkaProducer already closed!")
        targets: dict[str, list[Any]] = {}
        for topic in {topic for topic, _, _ in plan}:  # waits for metadata, as send() does
            targets[topic] = [self._topic_partition(topic, p) for p in sorted(producer.partitions_for(topic))]
        keys = [record.key.encode() for _, record, _ in plan]
        if any(len(partitions) > 1 for partitions in targets.values()):
            hashes = murmur2_many(keys)
        else:
            hashes = [0] * len(keys)
        # per partition, in plan order: keys, values and headers side by side (no tuple per record)
        groups: dict[Any, tuple[list[bytes], list[bytes], list[RecordHeaders]]] = {}
        for (topic, record, headers), key, hashed in zip(plan, keys, hashes, strict=True):
            partitions = targets[topic]
            tp = partitions[(hashed & 0x7FFFFFFF) % len(partitions)]
            group = groups.get(tp)
            if group is None:
                group = groups[tp] = ([], [], [])
            group[0].append(key)
            group[1].append(record.value)
            group[2].append(headers)
        transactions = self._transactions
        transactional = transactions is not None and transactions.is_transactional()
        futures: list[Any] = []
        for tp, (tp_keys, tp_values, tp_headers) in groups.items():
            if transactional:  # also raises if the transaction has failed, as send() does
                transactions.maybe_add_partition_to_transaction(tp)
            start = 0
            while start < len(tp_keys):
                batch, start = self.fill(
                    tp, tp_keys, tp_values, tp_headers, start=start, timestamp=int(time.time() * 1000)
                )
                futures += batch._record_futures
                self._enqueue(batch)
                self._wakeup()
        return futures

    def fill(
        self,
        tp: Any,
        keys: list[bytes],
        values: list[bytes],
        header_sets: list[RecordHeaders],
        *,
        start: int,
        timestamp: int,
    ) -> tuple[Any, int]:
        """A new batch of the records from ``start`` up to the first that does not fit, and its index.

        Each record is what ``DefaultRecordBatchBuilder.append`` writes: length, attributes,
        timestamp delta (0: the records of a batch share its timestamp), offset delta, key, value,
        headers. As there, the first record always goes in, however large.
        """
        records = self._new_records(2, self._compression, self._batch_size)
        batch = self._new_batch(tp, records, now=time.monotonic())
        builder = records._builder
        header = builder._buffer  # the batch header's room, written when the sender closes the batch
        parts = [bytes(header)]  # joined once at the end: growing a bytearray record by record copies it
        add = parts.append
        room = self._batch_size - len(header)
        limit = self._max_request_size - self._overhead
        produce_future = batch.produce_future
        record_futures = batch._record_futures
        lock = threading.Lock()  # what a record future's lock guards is its own fields; one will do
        new_future = self._new_future
        future_class = self._future_class
        offset = largest = 0
        end = len(keys)
        i = start
        while i < end:
            key = keys[i]
            value = values[i]
            headers = header_sets[i]
            key_len = len(key)
            value_len = len(value)
            delta = varint(offset)
            prefix = b"\x00\x00" + delta + varint(key_len) + key + varint(value_len)
            body = len(prefix) + value_len + len(headers.wire)
            if body - 2 - len(delta) > limit:  # send() refuses it; the sinks set such records aside
                raise self._too_large(
                    f"a record of {body + self._overhead} bytes is larger than max_request_size"
                )
            length = varint(body)
            size = body + len(length)
            if size > room and offset:
                break
            room -= size
            add(length + prefix)
            add(value)
            add(headers.wire)
            future = new_future(future_class)
            future.is_done = False
            future.value = None
            future.exception = None
            future._callbacks = None
            future._errbacks = None
            future._lock = lock
            future._produce_future = produce_future
            future.args = (offset, timestamp, None, key_len, value_len, headers.payload)
            record_futures.append(future)
            largest = max(largest, size)
            offset += 1
            i += 1
        builder._buffer = bytearray().join(parts)
        builder._first_timestamp = builder._max_timestamp = timestamp
        builder._num_records = offset
        builder._last_offset = offset - 1
        records._next_offset = offset
        batch.max_record_size = largest
        produce_future._add_cb_eb(partial(_resolve_all, record_futures), partial(_fail_all, record_futures))
        return batch, i

    def _enqueue(self, batch: Any) -> None:
        """Queue a filled batch behind the partition's others, as the accumulator queues its own."""
        accumulator = self._accumulator
        tp = batch.topic_partition
        accumulator._appends_in_progress.increment()
        try:
            with accumulator._tp_lock(tp):
                if accumulator._closed:
                    raise self._illegal_state("RecordAccumulator is closed")
                accumulator._batches[tp].append(batch)
                accumulator._incomplete.add(batch)
        finally:
            accumulator._appends_in_progress.decrement()


def _resolve_all(futures: list[Any], result: Any) -> None:
    """The batch's answer to each of its record futures, as their own callbacks would give it."""
    for future in futures:
        future._produce_success(result)


def _fail_all(futures: list[Any], error: Any) -> None:
    for future in futures:
        future.failure(error)


_SELF_CHECK_TOPIC = "openai-audit-connector-self-check"


class _SelfCheckQuiet(logging.Filter):
    """Drops kafka-python's log lines about the self-check's batches (they fail and split on purpose)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(getattr(arg, "topic", None) == _SELF_CHECK_TOPIC for arg in args)


def _self_check() -> None:
    quiet = _SelfCheckQuiet()
    loggers = [
        logging.getLogger(f"kafka.producer.{name}") for name in ("producer_batch", "record_accumulator")
    ]
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        _compare_with_kafka_python()
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


def _compare_with_kafka_python() -> None:
    """Fail unless ``_DirectAppender`` builds what kafka-python's own append path builds.

    Records of varied sizes (one-, two- and three-byte varints, an empty key, headers or none,
    records larger than a batch) into small batches: the same batch boundaries, bytes, counts and
    future arguments; then the futures of both resolve alike when the batches succeed, fail, or
    are split and their halves succeed.
    """
    from kafka.errors import KafkaError
    from kafka.producer.producer_batch import ProducerBatch
    from kafka.producer.record_accumulator import RecordAccumulator
    from kafka.record.memory_records import MemoryRecordsBuilder
    from kafka.structs import TopicPartition

    tp = TopicPartition(_SELF_CHECK_TOPIC, 0)
    header_sets = [
        record_headers([]),
        record_headers([("content-type", b"application/json")]),
        record_headers([("événement", "ü".encode() * 70), ("schema", b"ocsf"), ("x", b"")]),
    ]
    sizes = [0, 1, 60, 63, 64, 200, 8191, 8192, 9000, 20000, 3, 5000, 70000, 10, 700, 900, 1200]
    keys = [f"key-{n}".encode() * (n % 40) for n in range(len(sizes))]
    values = [bytes([n % 251]) * size for n, size in enumerate(sizes)]
    headers = [header_sets[n % 3] for n in range(len(sizes))]
    timestamp = 1_700_000_000_123

    def ours() -> list[Any]:
        appender = _DirectAppender(None, batch_size=16384)
        batches, start = [], 0
        while start < len(keys):
            batch, start = appender.fill(tp, keys, values, headers, start=start, timestamp=timestamp)
            batches.append(batch)
        return batches

    def theirs() -> list[Any]:
        batches: list[Any] = []
        for key, value, header_set in zip(keys, values, headers, strict=True):
            if not batches or batches[-1].try_append(timestamp, key, value, header_set.items) is None:
                batches.append(ProducerBatch(tp, MemoryRecordsBuilder(2, 0, 16384)))
                batches[-1].try_append(timestamp, key, value, header_set.items)
        return batches

    def outcome(batches: list[Any]) -> list[Any]:
        return [(f.is_done, f.value, repr(f.exception)) for b in batches for f in b._record_futures]

    mine, reference = ours(), theirs()
    _expect(len(mine) == len(reference) >= 4, "batch boundaries")
    for a, b in zip(mine, reference, strict=True):
        _expect(a.record_count == b.record_count, "record counts")
        _expect(a.max_record_size == b.max_record_size, "record sizes")
        _expect([f.args for f in a._record_futures] == [f.args for f in b._record_futures], "futures")
        _expect(a.records.size_in_bytes() == b.records.size_in_bytes(), "batch sizes")
        a.records.close()
        b.records.close()
        _expect(bytes(a.records.buffer()) == bytes(b.records.buffer()), "batch bytes")
    _expect(outcome(mine) == outcome(reference), "futures before completion")
    # success, failure with per-record errors, abort
    for batches in (mine, reference):
        batches[0].complete(1000, -1)
        batches[1].complete_exceptionally(KafkaError("batch"), lambda index: KafkaError(f"record {index}"))
        batches[2].abort(KafkaError("aborted"))
    _expect(outcome(mine) == outcome(reference), "futures after completion")
    _expect(all(f.succeeded() for f in mine[0]._record_futures), "success")
    # a split (MESSAGE_TOO_LARGE): the halves carry the original futures
    split_outcomes = []
    for batch in (mine[-1], reference[-1]):
        accumulator = RecordAccumulator(batch_size=16384)
        accumulator.split_and_reenqueue(batch)
        halves = list(accumulator._batches[batch.topic_partition])
        _expect(batch.record_count >= 2 and len(halves) >= 2, "split")
        for n, half in enumerate(halves):
            half.complete(2000 + 100 * n, -1)
        split_outcomes.append(outcome([batch]))
    _expect(split_outcomes[0] == split_outcomes[1], "futures across a split")
    _expect(all(done for done, _, _ in split_outcomes[0]), "futures done across a split")


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(f"the direct batch path differs from kafka-python's: {what}")
