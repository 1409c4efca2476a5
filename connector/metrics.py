"""Every Prometheus metric of the connector, in one place.

All names carry the ``connector_`` prefix and unit suffixes; labels are bounded
(stream, status class, reason, sink). Label sets are pre-initialized so a
dashboard shows zeros rather than gaps. Tests build ``Metrics`` on their own
``CollectorRegistry``; the process uses ``Metrics.default()``.
"""

from __future__ import annotations

import platform

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from connector import __version__

STREAMS = ("default", "tenant")
STATUS_CLASSES = ("2xx", "4xx", "5xx", "error")
RETRY_REASONS = ("rate_limited", "server_error", "timeout", "connection", "malformed")
DEAD_LETTER_REASONS = ("normalize_error", "invalid_event", "too_large", "rejected_by_sink")
SINKS = ("file", "stdout", "kafka", "splunk_hec")

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)


class Metrics:
    """The connector's metrics, registered on one registry."""

    _default: Metrics | None = None

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.build_info = Info("connector_build", "Build information.", registry=r)
        self.build_info.info({"version": __version__, "python": platform.python_version()})

        self.events_fetched = Counter(
            "connector_events_fetched", "Events read from the API.", ["stream"], registry=r
        )
        self.events_deduplicated = Counter(
            "connector_events_deduplicated",
            "Events skipped because they were already delivered (overlap re-reads).",
            ["stream"],
            registry=r,
        )
        self.events_published = Counter(
            "connector_events_published",
            "Events durably accepted by the sink and committed.",
            ["stream"],
            registry=r,
        )
        self.events_dead_lettered = Counter(
            "connector_events_dead_lettered",
            "Events written to the dead-letter file instead of the sink.",
            ["reason"],
            registry=r,
        )
        self.api_requests = Counter(
            "connector_api_requests", "Requests to the audit-log API.", ["status_class"], registry=r
        )
        self.api_request_duration = Histogram(
            "connector_api_request_duration_seconds",
            "Latency of audit-log API requests.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.api_retries = Counter("connector_api_retries", "Retried API requests.", ["reason"], registry=r)
        self.rate_limited_wait = Counter(
            "connector_api_rate_limited_wait_seconds",
            "Seconds spent waiting on 429 responses.",
            registry=r,
        )
        self.auth_failures = Counter(
            "connector_api_auth_failures", "401/403 answers from the API.", ["stream"], registry=r
        )
        self.tenant_unavailable = Counter(
            "connector_tenant_stream_unavailable",
            "Times the key was refused the tenant_only stream.",
            registry=r,
        )
        self.poll_duration = Histogram(
            "connector_poll_duration_seconds",
            "Duration of one poll cycle of a stream.",
            ["stream"],
            buckets=_POLL_BUCKETS,
            registry=r,
        )
        self.poll_errors = Counter(
            "connector_poll_errors",
            "Poll cycles that failed and will be retried.",
            ["stream"],
            registry=r,
        )
        self.watermark = Gauge(
            "connector_checkpoint_watermark_timestamp_seconds",
            "The committed watermark: every event before it is delivered.",
            ["stream"],
            registry=r,
        )
        self.last_success = Gauge(
            "connector_last_successful_poll_timestamp_seconds",
            "Wall-clock time of the last poll cycle that completed.",
            ["stream"],
            registry=r,
        )
        self.batch_in_flight = Gauge(
            "connector_batch_in_flight_events",
            "Events fetched but not yet committed.",
            registry=r,
        )
        self.sink_publish_duration = Histogram(
            "connector_sink_publish_duration_seconds",
            "Time for the sink to durably accept one batch.",
            ["sink"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.sink_failures = Counter(
            "connector_sink_failures",
            "Batches the sink did not accept; they are retried and nothing is committed.",
            ["sink"],
            registry=r,
        )
        self.sink_retries = Counter(
            "connector_sink_retries", "Requests the sink retried (busy, 5xx, network).", ["sink"], registry=r
        )
        self.sink_config_errors = Counter(
            "connector_sink_config_errors",
            "Batches refused because of the sink's credentials or settings (token, index, ack).",
            ["sink"],
            registry=r,
        )
        self.hec_responses = Counter(
            "connector_hec_responses",
            "Splunk HEC answers by HTTP status and HEC code.",
            ["status", "code"],
            registry=r,
        )
        self.hec_request_duration = Histogram(
            "connector_hec_request_duration_seconds",
            "Latency of HEC requests.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.hec_acks_pending = Gauge(
            "connector_hec_acks_pending", "HEC requests accepted but not yet acknowledged.", registry=r
        )
        self.hec_ack_wait = Histogram(
            "connector_hec_ack_wait_seconds",
            "Time from a HEC request to its indexer acknowledgement.",
            buckets=_POLL_BUCKETS,
            registry=r,
        )
        self.hec_ack_timeouts = Counter(
            "connector_hec_ack_timeouts",
            "HEC requests resent because their ack did not come in time.",
            registry=r,
        )
        self.hec_rejected = Counter(
            "connector_hec_rejected_events", "Events HEC refused as bad data (dead-lettered).", registry=r
        )
        self.hec_ack_mode = Gauge(
            "connector_hec_ack_mode", "1 for the HEC acknowledgement mode in use.", ["mode"], registry=r
        )
        self._preinitialize()

    def _preinitialize(self) -> None:
        for stream in STREAMS:
            for family in (
                self.events_fetched,
                self.events_deduplicated,
                self.events_published,
                self.auth_failures,
                self.poll_errors,
            ):
                family.labels(stream=stream)
        for status in STATUS_CLASSES:
            self.api_requests.labels(status_class=status)
        for reason in RETRY_REASONS:
            self.api_retries.labels(reason=reason)
        for reason in DEAD_LETTER_REASONS:
            self.events_dead_lettered.labels(reason=reason)
        for sink in SINKS:
            self.sink_failures.labels(sink=sink)
            self.sink_retries.labels(sink=sink)
            self.sink_config_errors.labels(sink=sink)
            self.sink_publish_duration.labels(sink=sink)

    @classmethod
    def default(cls) -> Metrics:
        """The process-wide metrics on the global registry."""
        if cls._default is None:
            from prometheus_client import REGISTRY

            cls._default = cls(REGISTRY)
        return cls._default
