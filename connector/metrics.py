"""Every Prometheus metric of the connector, in one place (catalogue: docs/operations.md).

All names carry the ``connector_`` prefix and unit suffixes; labels are bounded:
stream, status class, reason, sink, HEC code, and the OpenAI event type, which is
one of the catalogue's types or ``unknown``. Label sets are pre-initialized so
dashboards and alerts see zeros rather than gaps. Tests build ``Metrics`` on their
own ``CollectorRegistry``; the process uses ``Metrics.default()``.
"""

from __future__ import annotations

import bisect
import functools
import platform
import time
from collections import Counter as Tally
from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from connector import __version__
from connector.catalogue import EVENT_TYPES, KNOWN_TYPES

STREAMS = ("default", "tenant")
STATUS_CLASSES = ("2xx", "4xx", "5xx", "error")
RETRY_REASONS = ("rate_limited", "server_error", "timeout", "connection", "malformed")
DEAD_LETTER_REASONS = ("normalize_error", "invalid_event", "too_large", "rejected_by_sink")
SINKS = ("file", "stdout", "kafka", "splunk_hec")
UNKNOWN_TYPE = "unknown"

_LATENCY = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_LONG = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
_LAG = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 86400, 7 * 86400)


def observe_many(histogram: Histogram, values: Sequence[float]) -> None:
    """``histogram.observe(v)`` for every value, with one increment per bucket instead of per value.

    prometheus_client has no bulk observe and scans its buckets in Python per value;
    this uses its (stable since 0.4) child internals, and falls back to ``observe``
    when they are not there.
    """
    bounds = getattr(histogram, "_upper_bounds", None)
    buckets = getattr(histogram, "_buckets", None)
    total = getattr(histogram, "_sum", None)
    if bounds is None or buckets is None or total is None or len(bounds) != len(buckets):
        for value in values:
            histogram.observe(value)
        return
    for index, count in Tally(bisect.bisect_left(bounds, value) for value in values).items():
        buckets[index].inc(count)
    total.inc(sum(values))


def type_label(event_type: object) -> str:
    """The bounded label value for an OpenAI event type."""
    return event_type if isinstance(event_type, str) and event_type in KNOWN_TYPES else UNKNOWN_TYPE


class Metrics:
    """The connector's metrics, registered on one registry."""

    _default: Metrics | None = None

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry if registry is not None else CollectorRegistry()

        def counter(name: str, doc: str, labels: Iterable[str] = ()) -> Counter:
            return Counter(f"connector_{name}", doc, list(labels), registry=r)

        def gauge(name: str, doc: str, labels: Iterable[str] = ()) -> Gauge:
            return Gauge(f"connector_{name}", doc, list(labels), registry=r)

        def histogram(
            name: str, doc: str, buckets: tuple[float, ...], labels: Iterable[str] = ()
        ) -> Histogram:
            return Histogram(f"connector_{name}", doc, list(labels), buckets=buckets, registry=r)

        self.build_info = Info("connector_build", "Build information.", registry=r)
        self.build_info.info({"version": __version__, "python": platform.python_version()})
        by_type = ("stream", "event_type")
        # -- source
        self.events_fetched = counter("events_fetched", "Events read from the API.", by_type)
        self.events_deduplicated = counter(
            "events_deduplicated", "Events skipped as already delivered (overlap re-reads).", by_type
        )
        self.api_requests = counter("api_requests", "Requests to the audit-log API.", ["status_class"])
        self.api_request_duration = histogram(
            "api_request_duration_seconds", "API request latency.", _LATENCY
        )
        self.api_retries = counter("api_retries", "Retried API requests.", ["reason"])
        self.rate_limited = counter("api_rate_limited", "429 answers from the API.")
        self.rate_limited_wait = counter(
            "api_rate_limited_wait_seconds", "Seconds spent waiting on 429 answers."
        )
        self.auth_failures = counter("api_auth_failures", "401/403 answers from the API.", ["stream"])
        self.tenant_unavailable = counter(
            "tenant_stream_unavailable", "Times the key was refused the tenant_only stream."
        )
        # -- progress
        self.poll_duration = histogram(
            "poll_duration_seconds", "One poll cycle of a stream.", _LONG, ["stream"]
        )
        self.poll_errors = counter("poll_errors", "Poll cycles that failed and will be retried.", ["stream"])
        self.last_success = gauge(
            "last_successful_poll_timestamp_seconds",
            "Wall-clock time of the last completed poll.",
            ["stream"],
        )
        self.watermark = gauge(
            "checkpoint_watermark_timestamp_seconds",
            "Committed watermark: every event before it is delivered.",
            ["stream"],
        )
        self.checkpoint_commits = counter("checkpoint_commits", "Checkpoint commits.", ["stream"])
        self.newest_delivered = gauge(
            "newest_delivered_event_timestamp_seconds",
            "effective_at of the newest delivered event.",
            ["stream"],
        )
        self.lag = gauge(
            "lag_seconds", "Now minus the effective_at of the newest delivered event.", ["stream"]
        )
        self.delivery_lag = histogram(
            "event_delivery_lag_seconds", "Time from an event's effective_at until it was first read.", _LAG
        )
        self.backfill_remaining = gauge(
            "backfill_remaining_seconds",
            "Event time still to read before the stream is caught up (or an operator backfill is done).",
            ["stream"],
        )
        self.backfill_progress = gauge(
            "backfill_progress_ratio",
            "Share of the running catch-up or backfill's time range delivered, 0 to 1 (1: none running).",
            ["stream"],
        )
        self.reconcile_found = counter(
            "reconcile_found_events",
            "Events the reconcile sweep found that the polls had missed.",
            ["stream"],
        )
        self.batch_in_flight = gauge("batch_in_flight_events", "Events fetched but not yet committed.")
        self.unmapped_events = counter(
            "unmapped_events",
            "Events of a type the mapping table lacks (kind=type) or with unknown payload keys (kind=key).",
            ["kind", "event_type"],
        )
        # -- delivery
        self.events_published = counter(
            "events_published", "Events durably accepted by the sink and committed.", by_type
        )
        self.events_dead_lettered = counter(
            "events_dead_lettered", "Events written to the dead-letter file instead of the sink.", ["reason"]
        )
        self.sink_batches = counter("sink_batches", "Batches the sink accepted.", ["sink"])
        self.sink_events = counter("sink_events", "Events the sink accepted.", ["sink"])
        self.sink_publish_duration = histogram(
            "sink_publish_duration_seconds",
            "Time for the sink to accept and commit one batch.",
            _LATENCY,
            ["sink"],
        )
        self.sink_failures = counter(
            "sink_failures", "Batches the sink did not accept (retried, nothing committed).", ["sink"]
        )
        self.sink_retries = counter(
            "sink_retries", "Requests the sink retried (busy, 5xx, network).", ["sink"]
        )
        self.sink_config_errors = counter(
            "sink_config_errors", "Batches refused for the sink's credentials or settings.", ["sink"]
        )
        # -- Splunk HEC
        self.hec_responses = counter(
            "hec_responses", "HEC answers by HTTP status and HEC code.", ["status", "code"]
        )
        self.hec_request_duration = histogram(
            "hec_request_duration_seconds", "HEC request latency.", _LATENCY
        )
        self.hec_acks_pending = gauge("hec_acks_pending", "HEC requests accepted but not yet acknowledged.")
        self.hec_ack_wait = histogram("hec_ack_wait_seconds", "From a HEC request to its ack.", _LONG)
        self.hec_ack_timeouts = counter(
            "hec_ack_timeouts", "HEC requests resent because no ack came in time."
        )
        self.hec_rejected = counter("hec_rejected_events", "Events HEC refused as bad data (dead-lettered).")
        self.hec_ack_mode = gauge("hec_ack_mode", "1 for the HEC acknowledgement mode in use.", ["mode"])
        self._newest: dict[str, float] = {}
        self._preinitialize()

    def _preinitialize(self) -> None:
        for stream in STREAMS:
            for family in (
                self.auth_failures,
                self.poll_errors,
                self.checkpoint_commits,
                self.backfill_remaining,
                self.reconcile_found,
            ):
                family.labels(stream=stream)
            self.backfill_progress.labels(stream=stream).set(1)
            self.lag.labels(stream=stream).set_function(functools.partial(self._lag, stream))
            for event_type in (*EVENT_TYPES, UNKNOWN_TYPE):
                for family in (self.events_fetched, self.events_deduplicated, self.events_published):
                    family.labels(stream=stream, event_type=event_type)
        for kind in ("type", "key"):
            self.unmapped_events.labels(kind=kind, event_type="other")
        for status in STATUS_CLASSES:
            self.api_requests.labels(status_class=status)
        for reason in RETRY_REASONS:
            self.api_retries.labels(reason=reason)
        for reason in DEAD_LETTER_REASONS:
            self.events_dead_lettered.labels(reason=reason)
        per_sink: tuple[Counter | Histogram, ...] = (
            self.sink_batches, self.sink_events, self.sink_failures, self.sink_retries,
            self.sink_config_errors, self.sink_publish_duration,
        )  # fmt: skip
        for sink in SINKS:
            for sink_family in per_sink:
                sink_family.labels(sink=sink)

    def count_types(self, family: Counter, stream: str, types: Tally[str]) -> None:
        """Add a batch's per-type tally: one label lookup per type, not per event."""
        for event_type, n in types.items():
            family.labels(stream=stream, event_type=type_label(event_type)).inc(n)

    def delivered(self, stream: str, newest_effective_at: int) -> None:
        """Record the newest delivered event time; the lag gauge follows the clock from it."""
        if newest_effective_at > self._newest.get(stream, 0):
            self._newest[stream] = newest_effective_at
            self.newest_delivered.labels(stream=stream).set(newest_effective_at)

    def _lag(self, stream: str) -> float:
        newest = self._newest.get(stream)
        return 0.0 if newest is None else max(0.0, time.time() - newest)

    @classmethod
    def default(cls) -> Metrics:
        """The process-wide metrics on the global registry."""
        if cls._default is None:
            from prometheus_client import REGISTRY

            cls._default = cls(REGISTRY)
        return cls._default
