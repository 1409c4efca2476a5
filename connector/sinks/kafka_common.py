"""What the Kafka sink, the transactional delivery and the Kafka checkpoint store share.

Connection settings (security included), topic routing, record headers, the
topic-existence check, and the one place kafka-python errors are classified. The path
that hands records to the producer is ``connector.sinks.kafka_send``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from connector import __version__
from connector.config import SinkSettings
from connector.errors import ConnectorError, SinkError, SinkUnavailable
from connector.models import OutputRecord

log = logging.getLogger(__name__)

SCHEMA_VERSIONS = {"ocsf": "1.8.0", "ecs": "9.4.0", "raw": "openai-audit-log"}


def connection_config(settings: SinkSettings) -> dict[str, Any]:
    """kafka-python client settings for bootstrap and security; secrets unwrapped only here."""
    config: dict[str, Any] = {
        "bootstrap_servers": list(settings.bootstrap_servers),
        "security_protocol": settings.security_protocol,
        "client_id": f"openai-audit-connector/{__version__}",
    }
    if settings.security_protocol.startswith("SASL"):
        config["sasl_mechanism"] = settings.sasl_mechanism
        config["sasl_plain_username"] = settings.sasl_username
        config["sasl_plain_password"] = (
            settings.sasl_password.get_secret_value() if settings.sasl_password else None
        )
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        config["ssl_check_hostname"] = settings.ssl_check_hostname
        for key, path in (
            ("ssl_cafile", settings.ssl_cafile),
            ("ssl_certfile", settings.ssl_certfile),
            ("ssl_keyfile", settings.ssl_keyfile),
        ):
            if path is not None:
                config[key] = str(path)
        if settings.ssl_password is not None:
            config["ssl_password"] = settings.ssl_password.get_secret_value()
    return config


def producer_config(settings: SinkSettings, **extra: Any) -> dict[str, Any]:
    """Durable producer settings, stated explicitly so a conflict fails loudly (sinks.md §2.1)."""
    delivery_ms = int(settings.delivery_timeout * 1000)
    request_ms = min(30_000, max(1_000, delivery_ms - settings.linger_ms - 1))
    config = connection_config(settings) | {
        "acks": "all",
        "enable_idempotence": True,
        "compression_type": None if settings.compression == "none" else settings.compression,
        "linger_ms": settings.linger_ms,
        # never more than a record may be: a batch the topic refuses (max.message.bytes) is split
        # and resent by kafka-python, and its flush() then fails with "Future not done"
        "batch_size": min(settings.producer_batch_bytes, settings.max_record_bytes),
        "max_request_size": max(settings.max_record_bytes + 4096, 1_048_576),
        "delivery_timeout_ms": delivery_ms,
        "request_timeout_ms": request_ms,
        "max_block_ms": min(delivery_ms, 30_000),
        "allow_auto_create_topics": settings.create_topics,
    }
    return config | extra


class TopicRouter:
    """Picks each record's topic: the fixed topic, or the template filled from the record."""

    def __init__(self, settings: SinkSettings) -> None:
        self._fixed = settings.topic
        self._template = settings.topic_template

    def topic(self, record: OutputRecord) -> str:
        if self._template is None:
            return self._fixed
        return self._template.format(
            class_uid=record.class_uid if record.class_uid is not None else "raw",
            event_type=record.event_type,
            family=record.event_type.split(".", 1)[0],
        )


class RecordHeaders(NamedTuple):
    """One record's headers, with what the send path needs of them worked out once per header set."""

    items: list[tuple[str, bytes]]
    """As kafka-python takes them: (str, bytes) pairs."""
    wire: bytes
    """Their record-format-v2 encoding: the count, then each key and value, varint-length-prefixed."""
    payload: int
    """Bytes of the keys and values, kafka-python's ``serialized_header_size`` (-1 for none)."""
    estimate: int
    """Their share of ``record_size``."""


def record_headers(items: list[tuple[str, bytes]]) -> RecordHeaders:
    wire = bytearray(varint(len(items)))
    for key, value in items:
        raw = key.encode("utf-8")
        wire += varint(len(raw)) + raw + varint(len(value)) + value
    payload = sum(len(k.encode("utf-8")) + len(v) for k, v in items) if items else -1
    return RecordHeaders(items, bytes(wire), payload, sum(len(k) + len(v) + 8 for k, v in items))


class HeaderBuilder:
    """Record headers that let consumers route without parsing the body (sinks.md §2.7)."""

    def __init__(self, *, output_format: str, org_id: str | None) -> None:
        self._static: list[tuple[str, bytes]] = [
            ("content-type", b"application/json"),
            ("schema", output_format.encode()),
            ("schema_version", SCHEMA_VERSIONS.get(output_format, "unknown").encode()),
            ("source", b"openai-audit-connector"),
            ("connector_version", __version__.encode()),
        ]
        if org_id:
            self._static.append(("org_id", org_id.encode()))
        self._cache: dict[str, RecordHeaders] = {}

    def headers(self, record: OutputRecord) -> list[tuple[str, bytes]]:
        return self.header_set(record).items

    def header_set(self, record: OutputRecord) -> RecordHeaders:
        """The record's headers, encoded once per event type (the cache is bounded)."""
        headers = self._cache.get(record.event_type)
        if headers is None:
            headers = record_headers(
                [*self._static, ("event_type", record.event_type.encode("utf-8", "replace"))]
            )
            if len(self._cache) < 1024:  # bounded: event types are few, but input is untrusted
                self._cache[record.event_type] = headers
        return headers


def record_size(record: OutputRecord, headers: RecordHeaders | Iterable[tuple[str, bytes]]) -> int:
    """An upper estimate of the record's size on the wire."""
    if isinstance(headers, RecordHeaders):
        extra = headers.estimate
    else:
        extra = sum(len(k) + len(v) + 8 for k, v in headers)
    return len(record.value) + len(record.key) + extra + 64


class TopicChecker:
    """Makes sure topics exist before anything is sent to them: no silent auto-creation."""

    def __init__(self, settings: SinkSettings) -> None:
        self._settings = settings
        self._known: set[str] = set()

    def ensure(self, topics: Iterable[str], *, compacted: bool = False) -> None:
        missing = set(topics) - self._known
        if not missing:
            return
        from kafka import KafkaAdminClient

        try:
            admin = KafkaAdminClient(**connection_config(self._settings), request_timeout_ms=15_000)
        except Exception as exc:  # kafka-python raises a zoo of types here; classify once
            raise classify(exc, "connecting to Kafka") from exc
        try:
            existing = set(admin.list_topics())
            absent = missing - existing
            if absent and not self._settings.create_topics:
                raise SinkError(
                    f"Kafka topic(s) {', '.join(sorted(absent))} do not exist; create them "
                    "(see docs/kafka.md) or set CONNECTOR_SINK__CREATE_TOPICS=true"
                )
            if absent:
                self._create(admin, absent, compacted=compacted)
            self._known |= missing
        except ConnectorError:
            raise
        except Exception as exc:
            raise classify(exc, "checking Kafka topics") from exc
        finally:
            admin.close()

    def _create(self, admin: Any, topics: set[str], *, compacted: bool) -> None:
        from kafka.admin import NewTopic

        configs = {"cleanup.policy": "compact"} if compacted else {}
        new = [
            NewTopic(
                name,
                num_partitions=1 if compacted else self._settings.topic_partitions,
                replication_factor=self._settings.topic_replication,
                topic_configs=configs,
            )
            for name in sorted(topics)
        ]
        admin.create_topics(new)
        log.warning("created Kafka topic(s) %s", ", ".join(sorted(topics)))


def classify(exc: BaseException, doing: str) -> ConnectorError:
    """Translate a kafka-python exception: retriable ones become ``SinkUnavailable``.

    kafka-python often wraps the real cause (``KafkaError("Cannot perform send …",
    ProducerFencedError())``), so the whole chain is inspected.
    """
    from kafka import errors

    if isinstance(exc, ConnectorError):
        return exc
    causes = list(_causes(exc))
    if any(isinstance(c, errors.ProducerFencedError | errors.InvalidProducerEpochError) for c in causes):
        return SinkError(
            f"{doing}: another connector instance with the same transactional id took over this "
            "stream (CONNECTOR_CHECKPOINT__NAMESPACE); this one stops"
        )
    fatal = (
        errors.TopicAuthorizationFailedError,
        errors.TransactionalIdAuthorizationFailedError,
        errors.SaslAuthenticationFailedError,
        errors.ClusterAuthorizationFailedError,
        errors.IllegalStateError,
    )
    cause = next((c for c in causes if isinstance(c, fatal)), None)
    if cause is not None:
        return SinkError(f"{doing}: {type(cause).__name__}: {cause}")
    return SinkUnavailable(f"{doing}: {type(exc).__name__}: {exc}")


def _causes(exc: BaseException, depth: int = 0) -> Iterator[BaseException]:
    """``exc``, the exceptions among its args, and its ``__cause__``/``__context__``, recursively."""
    yield exc
    if depth >= 5:
        return
    nested = [a for a in exc.args if isinstance(a, BaseException)]
    nested += [e for e in (exc.__cause__, exc.__context__) if e is not None]
    for inner in nested:
        yield from _causes(inner, depth + 1)


def _zigzag_varint(value: int) -> bytes:
    zigzag = (value << 1) ^ (value >> 63)
    out = bytearray()
    while zigzag > 0x7F:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)


_SMALL_VARINTS = tuple(_zigzag_varint(n) for n in range(8192))  # the one- and two-byte ones


def varint(value: int) -> bytes:
    """``value`` as record format v2 writes lengths, offset and time deltas: a zigzag varint."""
    if 0 <= value < 8192:
        return _SMALL_VARINTS[value]
    return _zigzag_varint(value)
