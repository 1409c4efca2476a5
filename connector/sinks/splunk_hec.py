"""Splunk HEC sink (httpx): batched, gzipped `/event` requests, indexer acks, retries by HEC code.

``publish`` returns only when every event is durable: HTTP 200 *and*, with
acknowledgement on, ``/services/collector/ack`` reporting the request indexed.
A request not acknowledged within ``ack_timeout`` is sent again (at-least-once).
Busy answers are retried with capped backoff; an event HEC refuses as bad data
is isolated by splitting the batch and handed back as a rejection (dead-lettered
by the pipeline), the rest is delivered; token and index problems raise
``SinkConfigError``, logged once, so the checkpoint waits until an operator fixes them.
"""

from __future__ import annotations

import gzip
import logging
import random
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import orjson

from connector.config import SinkSettings
from connector.errors import SinkConfigError, SinkUnavailable
from connector.metrics import Metrics
from connector.models import OutputRecord, Rejection
from connector.sinks.hec_protocol import EnvelopeBuilder, HecAnswer, Verdict
from connector.tls import is_tls_verification_failure, verify_setting

log = logging.getLogger(__name__)

EVENT_PATH = "/services/collector/event"
ACK_PATH = "/services/collector/ack"
HEALTH_PATH = "/services/collector/health"
DRAIN_SECONDS = 20.0  # how long a stopping connector still waits for the acks of its last batch
MAX_RESENDS = 3  # resends of an unacknowledged request before the batch is given up for this cycle


@dataclass
class _Pending:
    """A request HEC accepted, waiting for its acknowledgement."""

    ack_id: int
    items: list[tuple[OutputRecord, bytes]]
    sent_at: float
    resends: int = 0


class SplunkHecSink:
    """Delivers records to Splunk HEC; durable on return."""

    name = "splunk_hec"

    def __init__(
        self,
        settings: SinkSettings,
        *,
        output_format: str,
        org_id: str | None,
        metrics: Metrics,
        stop: threading.Event | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        assert settings.url and settings.token, "validated by Settings"
        self._settings = settings
        self._metrics = metrics
        self._stop = stop or threading.Event()
        self._envelopes = EnvelopeBuilder(settings, output_format=output_format, org_id=org_id)
        self._channel = str(uuid.uuid4())
        verify = verify_setting(settings.ca_bundle, settings.verify_tls)
        self._http = httpx.Client(
            base_url=settings.url,
            verify=verify,
            timeout=settings.request_timeout,
            transport=transport,
            headers={
                "Authorization": f"Splunk {settings.token.get_secret_value()}",
                "X-Splunk-Request-Channel": self._channel,
            },
        )
        self._rng = random.Random()
        metrics.hec_ack_mode.labels(mode="ack" if settings.ack else "noack").set(1)
        self._check_health()

    # -- public ----------------------------------------------------------------------

    def publish(self, records: Sequence[OutputRecord]) -> list[Rejection]:
        rejected: list[Rejection] = []
        items: list[tuple[OutputRecord, bytes]] = []
        for record in records:
            envelope = self._envelopes.envelope(record)
            if len(envelope) > self._settings.max_event_bytes:
                rejected.append(
                    Rejection(record, "too_large", f"{len(envelope)} bytes exceeds HEC maxEventSize")
                )
            else:
                items.append((record, envelope))
        pending: list[_Pending] = []
        for batch in self._batches(items):
            pending.extend(self._send(batch, rejected))
        if self._settings.ack:
            self._await_acks(pending, rejected)
        return rejected

    def close(self) -> None:
        self._http.close()

    # -- sending ---------------------------------------------------------------------

    def _batches(self, items: list[tuple[OutputRecord, bytes]]) -> list[list[tuple[OutputRecord, bytes]]]:
        batches: list[list[tuple[OutputRecord, bytes]]] = []
        current: list[tuple[OutputRecord, bytes]] = []
        size = 0
        for item in items:
            if current and (
                len(current) >= self._settings.batch_events
                or size + len(item[1]) > self._settings.batch_bytes
            ):
                batches.append(current)
                current, size = [], 0
            current.append(item)
            size += len(item[1]) + 1
        if current:
            batches.append(current)
        return batches

    def _send(self, batch: list[tuple[OutputRecord, bytes]], rejected: list[Rejection]) -> list[_Pending]:
        """Send one batch until HEC accepts it; split it around refused events."""
        answer = self._post_with_retries(batch)
        if answer.verdict is Verdict.OK:
            if self._settings.ack:
                if answer.ack_id is None:
                    raise self._config(
                        "HEC accepted the batch but returned no ackId: is indexer "
                        "acknowledgement on for this token? (or set CONNECTOR_SINK__ACK=false)"
                    )
                return [_Pending(answer.ack_id, batch, time.monotonic())]
            return []
        if answer.verdict is Verdict.BAD_DATA and len(batch) == 1:
            record = batch[0][0]
            rejected.append(
                Rejection(record, "rejected_by_sink", f"Splunk HEC refused the event: {answer.describe()}")
            )
            self._metrics.hec_rejected.inc()
            return []
        if answer.verdict in (Verdict.BAD_DATA, Verdict.SPLIT):
            if answer.verdict is Verdict.SPLIT and len(batch) == 1:
                record = batch[0][0]
                rejected.append(
                    Rejection(record, "too_large", f"Splunk HEC refused the event: {answer.describe()}")
                )
                return []
            cut = (
                answer.bad_event
                if answer.bad_event and 0 < answer.bad_event < len(batch)
                else len(batch) // 2
            )
            return self._send(batch[:cut], rejected) + self._send(batch[cut:], rejected)
        raise self._config(answer.describe())

    def _post_with_retries(self, batch: list[tuple[OutputRecord, bytes]]) -> HecAnswer:
        body = b"\n".join(envelope for _, envelope in batch)
        headers = {"Content-Type": "application/json"}
        if self._settings.gzip:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        attempt = 0
        while True:
            answer = self._post(EVENT_PATH, body, headers)
            if answer.verdict is not Verdict.RETRY:
                return answer
            self._metrics.sink_retries.labels(sink=self.name).inc()
            if attempt >= self._settings.retries or self._stop.is_set():
                raise SinkUnavailable(f"Splunk HEC kept failing ({answer.describe()}); nothing was committed")
            delay = self._backoff(attempt)
            log.warning(
                "Splunk HEC %s; retry %d/%d in %.1fs",
                answer.describe(),
                attempt + 1,
                self._settings.retries,
                delay,
            )
            if self._stop.wait(delay):
                raise SinkUnavailable("stopping while Splunk HEC was busy; nothing was committed")
            attempt += 1

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> HecAnswer:
        started = time.monotonic()
        try:
            response = self._http.post(path, content=body, headers=headers)
        except httpx.HTTPError as exc:
            self._metrics.hec_responses.labels(status="error", code="none").inc()
            if is_tls_verification_failure(exc):
                raise self._config(
                    f"the HEC server's TLS certificate does not verify ({exc}); set CONNECTOR_SINK__CA_BUNDLE"
                ) from exc
            return HecAnswer(599, None, f"{type(exc).__name__}: {exc}")
        finally:
            self._metrics.hec_request_duration.observe(time.monotonic() - started)
        answer = HecAnswer.parse(response.status_code, response.content)
        self._metrics.hec_responses.labels(status=str(answer.status), code=_code_label(answer.code)).inc()
        return answer

    # -- acknowledgement -------------------------------------------------------------------

    def _await_acks(self, pending: list[_Pending], rejected: list[Rejection]) -> None:
        """Poll until every request is indexed; resend those that time out."""
        rounds = 0
        drain_deadline: float | None = None
        while pending:
            self._metrics.hec_acks_pending.set(len(pending))
            # The first query comes soon (acks are often quick); later ones at the poll interval.
            wait = (
                min(self._settings.ack_poll_interval, 1.0)
                if rounds == 0
                else self._settings.ack_poll_interval
            )
            if drain_deadline is None and self._stop.wait(wait):
                # Stopping: finish this batch if Splunk acknowledges it soon, so the drain can commit it.
                drain_deadline = time.monotonic() + DRAIN_SECONDS
            if drain_deadline is not None:
                if time.monotonic() > drain_deadline:
                    raise SinkUnavailable(
                        "stopping before Splunk acknowledged the batch; nothing was committed"
                    )
                time.sleep(min(wait, 0.5))
            rounds += 1
            done = self._query_acks([p.ack_id for p in pending])
            now = time.monotonic()
            still: list[_Pending] = []
            for item in pending:
                if done.get(item.ack_id):
                    self._metrics.hec_ack_wait.observe(now - item.sent_at)
                elif now - item.sent_at >= self._settings.ack_timeout:
                    self._metrics.hec_ack_timeouts.inc()
                    if item.resends >= MAX_RESENDS:
                        raise SinkUnavailable(
                            f"Splunk HEC did not acknowledge a request after {MAX_RESENDS} resends; "
                            "nothing was committed, the batch will be retried"
                        )
                    log.warning(
                        "Splunk HEC did not acknowledge ackId %d in %.0fs; sending its %d events again",
                        item.ack_id, self._settings.ack_timeout, len(item.items),
                    )  # fmt: skip
                    for again in self._send(item.items, rejected):
                        again.resends = item.resends + 1
                        still.append(again)
                else:
                    still.append(item)
            pending = still
        self._metrics.hec_acks_pending.set(0)

    def _query_acks(self, ack_ids: list[int]) -> dict[int, bool]:
        answer_body = b""
        try:
            response = self._http.post(ACK_PATH, content=orjson.dumps({"acks": ack_ids}))
            answer_body = response.content
            if response.status_code != 200:
                answer = HecAnswer.parse(response.status_code, answer_body)
                if answer.verdict is Verdict.CONFIG:
                    raise self._config(f"ack query: {answer.describe()}")
                log.warning("Splunk HEC ack query failed: %s", answer.describe())
                return {}
            acks = orjson.loads(answer_body).get("acks", {})
            return {int(k): v is True for k, v in acks.items()}
        except httpx.HTTPError as exc:
            log.warning("Splunk HEC ack query failed: %s", exc)
            return {}
        except (orjson.JSONDecodeError, AttributeError, ValueError):
            log.warning("Splunk HEC ack query returned an unreadable body: %r", answer_body[:200])
            return {}

    # -- helpers ------------------------------------------------------------------------------

    def _config(self, problem: str) -> SinkConfigError:
        """The error that stops this batch; the runner logs it once and retries each poll interval."""
        self._metrics.sink_config_errors.labels(sink=self.name).inc()
        message = (
            f"Splunk HEC refuses the connector's requests ({problem}); check CONNECTOR_SINK__TOKEN, "
            "CONNECTOR_SINK__INDEX and the token's indexer acknowledgement setting. Nothing is committed; "
            "retrying every poll interval"
        )
        return SinkConfigError(message)

    def _backoff(self, attempt: int) -> float:
        step = min(self._settings.retry_max, self._settings.retry_base * (1 << min(attempt, 30)))
        return step / 2 + self._rng.uniform(0, step / 2)

    def _check_health(self) -> None:
        try:
            response = self._http.get(HEALTH_PATH)
        except httpx.HTTPError as exc:
            log.warning("Splunk HEC health check failed: %s", exc)
            return
        answer = HecAnswer.parse(response.status_code, response.content)
        if response.status_code != 200:
            log.warning("Splunk HEC reports itself unhealthy: %s", answer.describe())


def _code_label(code: int | None) -> str:
    return str(code) if code is not None and 0 <= code <= 22 else "none"
