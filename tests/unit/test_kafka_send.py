"""The Kafka send path's pieces against kafka-python's own: murmur2, varints, headers, the direct batch path.

The direct path (``kafka_send._DirectAppender``) writes records straight into kafka-python's
producer batches; these tests pin it to what kafka-python itself would write. The broker-backed
tests are in tests/integration/test_kafka_sink.py.
"""

from __future__ import annotations

import logging
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.partitioner.default import murmur2 as kafka_murmur2
from kafka.record.util import encode_varint

from connector.config import SinkSettings
from connector.models import OutputRecord
from connector.sinks import kafka_send
from connector.sinks.kafka_common import (
    HeaderBuilder,
    producer_config,
    record_headers,
    record_size,
    varint,
)
from connector.sinks.murmur2 import murmur2, murmur2_many


def sink(**kwargs: object) -> SinkSettings:
    return SinkSettings(type="kafka", bootstrap_servers=["b1:9093"], **kwargs)  # type: ignore[arg-type]


@given(st.binary(max_size=300))
def test_murmur2_is_kafkas(key: bytes) -> None:
    assert murmur2(key) == kafka_murmur2(key)


@settings(max_examples=60)
@given(st.lists(st.binary(max_size=70), max_size=200))
def test_murmur2_of_many_keys_of_mixed_lengths_is_kafkas(keys: list[bytes]) -> None:
    assert murmur2_many(keys) == [kafka_murmur2(key) for key in keys]


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 5, 7, 8, 42, 43, 45, 256])
def test_murmur2_of_many_keys_of_one_length_is_kafkas(length: int) -> None:
    keys = [os.urandom(length) for _ in range(500)]
    assert murmur2_many(keys) == [kafka_murmur2(key) for key in keys]


def test_audit_log_ids_spread_over_partitions_as_kafka_python_spreads_them() -> None:
    keys = [f"audit_log-{os.urandom(16).hex()}".encode() for _ in range(3000)]
    ours = [(h & 0x7FFFFFFF) % 3 for h in murmur2_many(keys)]
    assert ours == [(kafka_murmur2(key) & 0x7FFFFFFF) % 3 for key in keys]
    assert min(ours.count(p) for p in range(3)) > 800


@given(st.integers(min_value=-(2**62), max_value=2**62))
def test_varint_is_record_format_v2s(value: int) -> None:
    expected = bytearray()
    encode_varint(value, expected.append)
    assert varint(value) == bytes(expected)


def test_header_sets_are_encoded_once_per_event_type() -> None:
    builder = HeaderBuilder(output_format="ocsf", org_id="org-1")
    record = OutputRecord("id1", b"{}", "api_key.created", 1, 3004)
    first = builder.header_set(record)
    again = builder.header_set(OutputRecord("id2", b"", "api_key.created", 2))
    assert first is again and builder.headers(record) is first.items
    assert dict(first.items)["event_type"] == b"api_key.created"
    assert first.payload == sum(len(k.encode()) + len(v) for k, v in first.items)
    assert record_size(record, first) == record_size(record, first.items)
    assert record_headers([]).wire == b"\x00" and record_headers([]).payload == -1


def test_the_self_check_passes_and_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        kafka_send._self_check()
    assert not [r for r in caplog.records if r.name.startswith("kafka.")]


def test_the_self_check_catches_a_wrong_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    real = kafka_send.varint
    monkeypatch.setattr(kafka_send, "varint", lambda value: real(value + (value == 8191)))
    with pytest.raises(AssertionError, match="differs from kafka-python"):
        kafka_send._self_check()


def test_the_self_check_catches_futures_that_are_never_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_send, "_resolve_all", lambda futures, result: None)
    with pytest.raises(AssertionError, match="futures after completion"):
        kafka_send._self_check()


def test_a_failed_self_check_means_send(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = kafka_send.varint
    monkeypatch.setattr(kafka_send, "varint", lambda value: real(value + 1))
    monkeypatch.setattr(kafka_send, "_CHECKED", [])
    with caplog.at_level(logging.WARNING):
        assert kafka_send._DirectAppender.attach(object()) is None
        assert kafka_send._DirectAppender.attach(object()) is None  # checked once, warned once
    assert len([r for r in caplog.records if "direct batch path" in r.message]) == 1


def test_another_kafka_python_means_send(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_send._DirectAppender, "SUPPORTED", ("9.9.",))
    assert kafka_send._DirectAppender.attach(object()) is None


def test_batches_are_capped_at_the_largest_record() -> None:
    assert producer_config(sink())["batch_size"] == 1_000_000
    assert producer_config(sink(producer_batch_bytes=4_000_000))["batch_size"] == 1_000_000
    assert producer_config(sink(producer_batch_bytes=65_536))["batch_size"] == 65_536
    assert producer_config(sink(max_record_bytes=65_536))["batch_size"] == 65_536
