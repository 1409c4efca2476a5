"""Kafka client settings built from the connector's settings: durability and security."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import SinkSettings, load_settings
from connector.errors import ConfigError, SinkError, SinkUnavailable
from connector.models import OutputRecord
from connector.sinks.kafka_common import (
    HeaderBuilder,
    TopicRouter,
    classify,
    connection_config,
    producer_config,
)


def sink(**kwargs: object) -> SinkSettings:
    return SinkSettings(type="kafka", bootstrap_servers=["b1:9093", "b2:9093"], **kwargs)  # type: ignore[arg-type]


def test_producer_is_durable_and_explicit() -> None:
    config = producer_config(sink())
    assert config["acks"] == "all" and config["enable_idempotence"] is True
    assert config["compression_type"] == "zstd" and config["allow_auto_create_topics"] is False
    assert config["bootstrap_servers"] == ["b1:9093", "b2:9093"]
    assert config["delivery_timeout_ms"] >= config["request_timeout_ms"] + config["linger_ms"]


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_settings(mechanism: str, tmp_path: Path) -> None:
    config = connection_config(
        sink(
            security_protocol="SASL_SSL",
            sasl_mechanism=mechanism,
            sasl_username="svc-openai",
            sasl_password="s3cret-pa55word",
            ssl_cafile=tmp_path / "ca.pem",
        )
    )
    assert config["security_protocol"] == "SASL_SSL" and config["sasl_mechanism"] == mechanism
    assert (
        config["sasl_plain_username"] == "svc-openai" and config["sasl_plain_password"] == "s3cret-pa55word"
    )
    assert config["ssl_cafile"] == str(tmp_path / "ca.pem") and config["ssl_check_hostname"] is True


def test_mutual_tls_settings(tmp_path: Path) -> None:
    config = connection_config(
        sink(
            security_protocol="SSL",
            ssl_cafile=tmp_path / "ca.pem",
            ssl_certfile=tmp_path / "client.pem",
            ssl_keyfile=tmp_path / "client.key",
            ssl_password="keypass123",
        )
    )
    assert config["ssl_certfile"] == str(tmp_path / "client.pem")
    assert config["ssl_keyfile"] == str(tmp_path / "client.key") and config["ssl_password"] == "keypass123"
    assert "sasl_mechanism" not in config


def test_secrets_never_show_in_the_settings_repr() -> None:
    settings = sink(
        security_protocol="SASL_SSL", sasl_mechanism="PLAIN", sasl_username="u", sasl_password="hunter2-xyz"
    )
    assert "hunter2-xyz" not in repr(settings) and "hunter2-xyz" not in str(settings.model_dump())


def test_sasl_without_credentials_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_SINK__TYPE", "kafka")
    monkeypatch.setenv("CONNECTOR_SINK__BOOTSTRAP_SERVERS", "b1:9093")
    monkeypatch.setenv("CONNECTOR_SINK__SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(ConfigError, match="CONNECTOR_SINK__SASL_MECHANISM"):
        load_settings()


def test_topic_template_routes_by_class_type_and_family() -> None:
    record = OutputRecord("id1", b"{}", "api_key.created", 1, 3004)
    assert TopicRouter(sink()).topic(record) == "security.openai.audit-events.v1"
    router = TopicRouter(sink(topic_template="audit.{family}.{class_uid}.{event_type}"))
    assert router.topic(record) == "audit.api_key.3004.api_key.created"
    assert router.topic(OutputRecord("id2", b"{}", "login.failed", 1, None)) == "audit.login.raw.login.failed"


def test_headers_name_the_schema_type_and_org() -> None:
    headers = dict(
        HeaderBuilder(output_format="ocsf", org_id="org-1").headers(OutputRecord("i", b"", "x.y", 1))
    )
    assert headers["schema"] == b"ocsf" and headers["schema_version"] == b"1.8.0"
    assert headers["event_type"] == b"x.y" and headers["org_id"] == b"org-1"


def test_wrapped_fencing_is_fatal_and_timeouts_are_retriable() -> None:
    from kafka import errors

    wrapped = errors.KafkaError("Cannot perform send", errors.ProducerFencedError())
    assert isinstance(classify(wrapped, "x"), SinkError)
    assert isinstance(classify(errors.KafkaTimeoutError("slow"), "x"), SinkUnavailable)
    assert isinstance(classify(errors.TopicAuthorizationFailedError(), "x"), SinkError)
