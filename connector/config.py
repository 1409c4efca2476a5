"""The one settings tree: env (``CONNECTOR_`` prefix, ``__`` nesting) over an optional YAML file.

Nothing else in the package reads the environment. ``load_settings`` validates
everything once, at start-up, and turns the first problem into a ``ConfigError``
whose message names the setting by its environment variable.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from connector.config_types import CsvList, Duration
from connector.errors import ConfigError

ENV_PREFIX = "CONNECTOR_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpenAISettings(_Section):
    """The audit-log source."""

    base_url: str = Field(
        "https://api.openai.com/v1",
        description="API base URL; the path /organization/audit_logs is appended.",
    )
    admin_key: SecretStr | None = Field(
        None, description="OpenAI Admin API key (sk-admin-…). Required for run, backfill and check."
    )
    organization_id: str | None = Field(
        None,
        description="Your org id (org-…), written to OCSF cloud.org.uid; the events do not carry it.",
    )
    lookback: Duration = Field(86400.0, description="How far back the first run starts.")
    tenant_stream: bool = Field(
        True, description="Also read tenant-scoped events (tenant_only=true) as a second stream."
    )
    event_types: CsvList = Field(default_factory=list, description="Server-side filter: event types.")
    project_ids: CsvList = Field(default_factory=list, description="Server-side filter: project ids.")
    actor_ids: CsvList = Field(default_factory=list, description="Server-side filter: actor ids.")
    actor_emails: CsvList = Field(default_factory=list, description="Server-side filter: actor e-mails.")
    resource_ids: CsvList = Field(default_factory=list, description="Server-side filter: resource ids.")
    page_limit: int = Field(100, ge=1, le=100, description="Events per page (the API allows 1-100).")
    max_requests_per_second: float = Field(
        0.0,
        ge=0,
        description="Requests per second to the API, shared by all workers (0 = no limit; a 429's "
        "Retry-After always pauses every worker).",
    )
    timeout: Duration = Field(30.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(8, ge=0, description="Retries of one request before the poll gives up.")
    retry_base: Duration = Field(0.5, gt=0, description="First backoff delay; doubles per retry.")
    retry_max: Duration = Field(30.0, gt=0, description="Cap of one backoff delay.")
    retry_after_max: Duration = Field(
        300.0, gt=0, description="Longest Retry-After honoured; longer requests wait this long."
    )
    ca_bundle: Path | None = Field(None, description="CA bundle for TLS verification (default: system).")
    verify_tls: bool = Field(True, description="Verify the API's TLS certificate. Leave on.")
    allow_insecure_http: bool = Field(
        False,
        description="Allow a plain-http base URL to a non-loopback host (the Admin key travels in clear).",
    )

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _key_only_over_https(self) -> OpenAISettings:
        host = urlsplit(self.base_url).hostname or ""
        if self.base_url.startswith("http://") and not self.allow_insecure_http and not _is_loopback(host):
            raise ValueError(
                "CONNECTOR_OPENAI__BASE_URL: plain http would send the Admin key in clear; use https "
                "(or set CONNECTOR_OPENAI__ALLOW_INSECURE_HTTP=true for a trusted proxy)"
            )
        return self


class PollSettings(_Section):
    """Collection windows and pacing (design.md §2)."""

    interval: Duration = Field(60.0, gt=0, description="Time between polls in steady state.")
    overlap: Duration = Field(
        300.0,
        ge=0,
        description="How far each poll re-reads before the watermark to catch late events.",
    )
    settle: Duration = Field(
        0.0,
        ge=0,
        description="A poll reads up to server time minus this (not used by run --once); the overlap "
        "already catches late events, so any settle only adds latency.",
    )
    max_slice: Duration = Field(86400.0, gt=0, description="Longest time slice read as one batch.")
    min_slice: Duration = Field(1.0, ge=1, description="Shortest slice the density adaptation may use.")
    slice_events: int = Field(
        1000,
        ge=100,
        description="Target events per slice; the slice length adapts to stay near it.",
    )
    tenant_retry: Duration = Field(
        3600.0,
        gt=0,
        description="How long to wait before asking again for a tenant stream the key may not read.",
    )


SinkType = Literal["file", "stdout", "kafka", "splunk_hec"]
TOPIC_FIELDS = ("class_uid", "event_type", "family")


class BackfillSettings(_Section):
    """Catching up on a backlog (first run, downtime, operator backfill)."""

    workers: int = Field(
        4, ge=1, le=32, description="Time slices fetched in parallel; delivered in time order."
    )


class SinkSettings(_Section):
    """Where normalized events go (the Kafka fields apply when type is kafka)."""

    type: SinkType = Field("file", description="file, stdout, kafka or splunk_hec.")
    path: Path = Field(Path("connector-output/events.ndjson"), description="NDJSON file for the file sink.")
    fsync: bool = Field(True, description="fsync the file before the checkpoint commits.")
    bootstrap_servers: CsvList = Field(default_factory=list, description="Kafka brokers, host:port,…")
    topic: str = Field("security.openai.audit-events.v1", description="Kafka topic for the events.")
    topic_template: str | None = Field(
        None,
        description="Route each event to a topic built from {class_uid}, {event_type} or {family} "
        "(e.g. security.openai.audit.{class_uid}); overrides topic.",
    )
    create_topics: bool = Field(
        False, description="Create missing Kafka topics (off: a missing topic is an error)."
    )
    topic_partitions: int = Field(3, ge=1, description="Partitions of topics the connector creates.")
    topic_replication: int = Field(3, ge=1, description="Replication factor of topics the connector creates.")
    compression: Literal["zstd", "lz4", "snappy", "gzip", "none"] = Field(
        "zstd", description="Kafka batch compression."
    )
    linger_ms: int = Field(20, ge=0, description="Kafka producer linger before a batch is sent.")
    producer_batch_bytes: int = Field(
        1_000_000,
        ge=1024,
        description="Kafka producer batch size in bytes, before compression; at most max_record_bytes "
        "(a larger value is capped), so a batch fits the topic's max.message.bytes.",
    )
    max_record_bytes: int = Field(
        1_000_000,
        ge=1024,
        description="Largest record sent to Kafka; larger ones go to the dead-letter file. "
        "Keep it at or below the topic's max.message.bytes.",
    )
    delivery_timeout: Duration = Field(
        120.0, gt=0, description="How long Kafka may take to acknowledge a batch."
    )
    transactions: bool = Field(
        True,
        description="With the kafka checkpoint backend: write each batch and its checkpoint in one "
        "transaction (exactly-once for read_committed consumers).",
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="Kafka security protocol."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="SASL mechanism for SASL_SSL / SASL_PLAINTEXT."
    )
    sasl_username: str | None = Field(None, description="SASL user name.")
    sasl_password: SecretStr | None = Field(None, description="SASL password.")
    ssl_cafile: Path | None = Field(None, description="CA bundle that signs the brokers' certificates.")
    ssl_certfile: Path | None = Field(None, description="Client certificate (PEM) for mutual TLS.")
    ssl_keyfile: Path | None = Field(None, description="Client private key (PEM) for mutual TLS.")
    ssl_password: SecretStr | None = Field(None, description="Password of the client private key.")
    ssl_check_hostname: bool = Field(True, description="Check the brokers' certificate host names.")

    url: str | None = Field(None, description="Splunk HEC base URL, e.g. https://splunk:8088.")
    token: SecretStr | None = Field(None, description="Splunk HEC token.")
    index: str | None = Field(None, description="Splunk index (default: the token's default index).")
    ack: bool = Field(
        True,
        description="Use HEC indexer acknowledgement: commit only once Splunk says the events are indexed.",
    )
    sourcetype: str | None = Field(
        None, description="Splunk sourcetype (default: ocsf:openai:audit for OCSF, openai:audit for raw)."
    )
    host: str = Field("api.openai.com", description="Splunk host field of every event.")
    source: str = Field("openai:admin_api:audit_logs", description="Splunk source field of every event.")
    indexed_fields: bool = Field(
        True, description="Send openai_event_type (and openai_org_id) as HEC indexed fields."
    )
    verify_tls: bool = Field(True, description="Verify the HEC server's TLS certificate. Leave on.")
    ca_bundle: Path | None = Field(None, description="CA bundle for the HEC server's certificate.")
    gzip: bool = Field(True, description="gzip HEC request bodies.")
    batch_events: int = Field(500, ge=1, description="Most events in one HEC request.")
    batch_bytes: int = Field(1_048_576, ge=1024, description="Most uncompressed bytes in one HEC request.")
    max_event_bytes: int = Field(
        5_000_000,
        ge=1024,
        description="Events larger than this (HEC maxEventSize) go to the dead-letter file.",
    )
    request_timeout: Duration = Field(30.0, gt=0, description="Timeout of one HEC request.")
    retries: int = Field(
        6, ge=0, description="Retries of a busy/5xx/network-failed HEC request within one batch."
    )
    retry_base: Duration = Field(0.5, gt=0, description="First HEC retry delay; doubles per retry.")
    retry_max: Duration = Field(30.0, gt=0, description="Cap of one HEC retry delay.")
    ack_poll_interval: Duration = Field(10.0, gt=0, description="How often pending HEC acks are queried.")
    ack_timeout: Duration = Field(
        300.0, gt=0, description="A request not acknowledged in this long is sent again (at-least-once)."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http://)")
        return value.rstrip("/") if value else value

    @field_validator("topic_template")
    @classmethod
    def _known_fields(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format(**dict.fromkeys(TOPIC_FIELDS, "x"))
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"use only {', '.join('{' + f + '}' for f in TOPIC_FIELDS)}: {exc}"
                ) from None
        return value


class CheckpointSettings(_Section):
    """Where the per-stream checkpoint lives."""

    backend: Literal["sqlite", "kafka"] = Field(
        "sqlite", description="sqlite (a local file) or kafka (a compacted topic on the sink's cluster)."
    )
    path: Path = Field(Path("connector-state/checkpoint.db"), description="SQLite checkpoint file.")
    topic: str = Field("_openai-audit.checkpoints", description="Compacted Kafka topic of the checkpoints.")
    namespace: str = Field(
        "openai-audit-connector",
        pattern=r"^[A-Za-z0-9._-]+$",
        description="Names this deployment in Kafka: checkpoint keys are <namespace>/<stream> and "
        "transactional ids <namespace>-<stream>. Two deployments must not share one.",
    )


class OutputSettings(_Section):
    """The output schema."""

    format: Literal["ocsf", "ecs", "raw"] = Field(
        "ocsf",
        description="ocsf (OCSF 1.8.0), ecs (ECS 9.4.0, for Elastic) or raw (the event as the API gave it).",
    )
    processes: int = Field(
        1,
        ge=0,
        le=16,
        description="Child processes that normalize and encode large slices while the main process "
        "fetches and publishes (0 = all in the main process). One puts a second core to work in a backfill.",
    )


class MetricsSettings(_Section):
    """The Prometheus and health endpoint."""

    enabled: bool = Field(True, description="Serve /metrics, /healthz and /readyz.")
    host: str = Field("127.0.0.1", description="Listen address; 0.0.0.0 in a container.")
    port: int = Field(9464, ge=0, le=65535, description="Listen port (0 = any free port).")
    ready_intervals: int = Field(
        3, ge=1, description="/readyz turns unready after this many poll intervals without a successful poll."
    )


class LogSettings(_Section):
    """Logging."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    format: Literal["text", "json"] = Field("text", description="text for humans, json for collectors.")


class DeadLetterSettings(_Section):
    """Where events that cannot be normalized or published go (never dropped)."""

    type: Literal["file", "kafka"] = Field(
        "file",
        description="file, or kafka (a topic on the sink's cluster; needs CONNECTOR_SINK__TYPE=kafka).",
    )
    path: Path = Field(
        Path("connector-state/dead-letter.ndjson"),
        description="NDJSON file of dead-lettered events.",
    )
    topic: str = Field(
        "security.openai.audit-events.v1.dlq", description="Kafka topic of dead-lettered events."
    )


class ReconcileSettings(_Section):
    """The reconcile sweep: re-read a long window and deliver ids never delivered (very late events)."""

    interval: Duration = Field(3600.0, ge=0, description="How often the sweep runs (0 = never).")
    window: Duration = Field(86400.0, gt=0, description="How far back the sweep re-reads.")
    index_path: Path = Field(
        Path("connector-state/delivered.db"), description="The delivered-id index the sweep checks against."
    )


class DriftSettings(_Section):
    """Schema drift: event types and payload keys the catalogue does not know."""

    path: Path = Field(
        Path("connector-state/schema-drift.json"),
        description="Where new event types and payload keys are remembered (listed by `connector mapping`).",
    )


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    poll: PollSettings = Field(default_factory=PollSettings)
    backfill: BackfillSettings = Field(default_factory=BackfillSettings)
    sink: SinkSettings = Field(default_factory=SinkSettings)
    checkpoint: CheckpointSettings = Field(default_factory=CheckpointSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    dead_letter: DeadLetterSettings = Field(default_factory=DeadLetterSettings)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.poll.min_slice > self.poll.max_slice:
            raise ValueError("CONNECTOR_POLL__MIN_SLICE must not exceed CONNECTOR_POLL__MAX_SLICE")
        sink = self.sink
        if sink.type == "kafka" and not sink.bootstrap_servers:
            raise ValueError("CONNECTOR_SINK__BOOTSTRAP_SERVERS: required when CONNECTOR_SINK__TYPE=kafka")
        if sink.type == "splunk_hec" and not (sink.url and sink.token):
            raise ValueError(
                "CONNECTOR_SINK__URL and CONNECTOR_SINK__TOKEN: required when CONNECTOR_SINK__TYPE=splunk_hec"
            )
        if self.dead_letter.type == "kafka" and sink.type != "kafka":
            raise ValueError("CONNECTOR_DEAD_LETTER__TYPE: kafka needs CONNECTOR_SINK__TYPE=kafka")
        if self.checkpoint.backend == "kafka" and sink.type != "kafka":
            raise ValueError(
                "CONNECTOR_CHECKPOINT__BACKEND: kafka keeps checkpoints on the sink's cluster, "
                "so it needs CONNECTOR_SINK__TYPE=kafka"
            )
        if sink.security_protocol.startswith("SASL") and not (
            sink.sasl_mechanism and sink.sasl_username and sink.sasl_password
        ):
            raise ValueError(
                "CONNECTOR_SINK__SASL_MECHANISM, CONNECTOR_SINK__SASL_USERNAME and "
                f"CONNECTOR_SINK__SASL_PASSWORD: all required with {sink.security_protocol}"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit overrides, then env, then the YAML file (if any).
        yaml_file = _YAML_FILE.get("path")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


# pydantic-settings reads sources at construction time; this holds the --config
# path for that one call (load_settings sets and clears it).
_YAML_FILE: dict[str, Path | None] = {"path": None}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def env_name(loc: tuple[int | str, ...]) -> str:
    """The environment variable that sets the field at ``loc``."""
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read and validate every setting, or raise ``ConfigError`` naming the first bad one."""
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"--config {config_file}: no such file")
    _YAML_FILE["path"] = config_file
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(part for part in first["loc"] if isinstance(part, str | int))
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown setting"
        named = loc and not message.startswith(ENV_PREFIX)  # cross-field checks name their settings
        raise ConfigError(f"{env_name(loc)}: {message}" if named else message) from None
    except ValueError as exc:  # YAML syntax errors and the like
        raise ConfigError(f"configuration: {exc}") from None
    finally:
        _YAML_FILE["path"] = None
