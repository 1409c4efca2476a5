"""The poll loop: streams in turn, a stop event, SIGTERM drain and ``--once``.

Signals only set the stop event; work stops at a safe boundary (between slices,
or by abandoning an unpublished fetch), so a drain never leaves a half-committed
batch. Sleeps are ``stop.wait``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field, replace

from connector.catalogue import is_tenant_scoped
from connector.collect import Stream
from connector.config import Settings
from connector.errors import AuthError, RetriableError, SinkUnavailable
from connector.metrics import Metrics
from connector.models import Checkpoint, Window
from connector.pipeline import Pipeline
from connector.server import Health
from connector.source.client import AuditLogClient, AuditQuery

log = logging.getLogger(__name__)

ONCE_ATTEMPTS = 5


def build_streams(settings: Settings) -> list[Stream]:
    """The default stream, and the tenant_only stream unless it is switched off."""
    o = settings.openai
    common = {
        "project_ids": tuple(o.project_ids),
        "actor_ids": tuple(o.actor_ids),
        "actor_emails": tuple(o.actor_emails),
        "resource_ids": tuple(o.resource_ids),
        "limit": o.page_limit,
    }
    tenant_types = tuple(t for t in o.event_types if is_tenant_scoped(t))
    other_types = tuple(t for t in o.event_types if not is_tenant_scoped(t))
    streams = []
    # With an event-type filter, each stream asks only for its own kind of types
    # (the API rejects non-tenant types with tenant_only=true).
    if not o.event_types or other_types:
        streams.append(Stream("default", AuditQuery(event_types=other_types, **common)))  # type: ignore[arg-type]
    if o.tenant_stream and (not o.event_types or tenant_types):
        streams.append(
            Stream("tenant", AuditQuery(tenant_only=True, event_types=tenant_types, **common))  # type: ignore[arg-type]
        )
    return streams


@dataclass
class StreamState:
    """Runner-side facts about one stream (not persisted)."""

    stream: Stream
    paused_until: float = 0.0
    refused_logged: bool = False
    last_success: float | None = None
    failures: int = 0
    last_error: str | None = None
    last_reconcile: float = field(default_factory=time.monotonic)
    done: bool = False


class Runner:
    """Runs every stream until stopped, or once until everything visible is delivered."""

    def __init__(
        self,
        settings: Settings,
        *,
        client: AuditLogClient,
        pipeline: Pipeline,
        metrics: Metrics,
        stop: threading.Event,
        streams: list[Stream] | None = None,
        health: Health | None = None,
    ) -> None:
        self._health = health or Health(poll_interval=settings.poll.interval)
        self._settings = settings
        self._client = client
        self._pipeline = pipeline
        self._metrics = metrics
        self._stop = stop
        self.states = [StreamState(s) for s in (streams or build_streams(settings))]

    def run(self, *, once: bool = False) -> None:
        """Poll until stopped; with ``once``, drain what is visible now and return.

        Raises ``FatalError`` (a wrong key, a corrupt checkpoint); with ``once``,
        also the ``RetriableError`` that outlasted every retry.
        """
        interval = self._settings.poll.interval
        target: int | None = None
        while not self._stop.is_set():
            self._health.beat()
            round_started = time.monotonic()
            if target is None or not once:
                target = self._target_end(once)
            for state in self.states:
                if self._stop.is_set():
                    break
                # The sink is shared: when it refused one stream's batch, the others wait a round too.
                if not state.done and not self._cycle(state, target, once=once):
                    break
            if once and all(s.done for s in self.states):
                return
            if once:
                # A stream failed transiently; try it again soon rather than after an interval.
                self._stop.wait(min(interval, 2.0))
            else:
                # A steady cadence: the round's own duration counts towards the interval.
                self._stop.wait(max(0.0, interval - (time.monotonic() - round_started)))

    def _target_end(self, once: bool) -> int:
        """Where this round of polls ends, on the server's clock."""
        if not self._client.clock.known:
            self._probe()
        # The second in progress is read too: what arrives in it later, the next poll's overlap
        # re-read finds (and the recent ids keep from repeating), so it costs no extra poll of latency.
        settle = 0.0 if once else self._settings.poll.settle
        return math.floor(self._client.clock.now() - settle) + 1

    def _probe(self) -> None:
        """One cheap request that learns the server's clock and checks the key early."""
        now = int(time.time())
        main = next((s.stream for s in self.states if s.stream.name == "default"), self.states[0].stream)
        try:
            self._client.fetch_page(replace(main.query, limit=1), Window(now - 1, now + 1))
        except AuthError:
            raise
        except RetriableError as exc:
            log.warning("could not read the server clock yet (%s); using the local clock", exc)

    def _cycle(self, state: StreamState, target: int, *, once: bool) -> bool:
        """One poll of one stream; False when the sink failed (the round should end)."""
        name = state.stream.name
        if time.time() < state.paused_until:
            if once:
                state.done = True
            return True
        started = time.monotonic()
        try:
            lookback_start = math.floor(self._client.clock.now() - self._settings.openai.lookback)
            checkpoint = self._pipeline.start_checkpoint(state.stream, lookback_start)
            if checkpoint.backfill is not None:
                checkpoint = self._pipeline.backfill(state.stream, checkpoint)
            checkpoint = self._pipeline.catch_up(state.stream, checkpoint, target)
            if not once:
                self._maybe_reconcile(state, checkpoint)
        except AuthError as exc:
            self._metrics.auth_failures.labels(stream=name).inc()
            if name == "tenant" and exc.status == 403:
                self._refuse_tenant(state, exc, once=once)
                return True
            raise
        except RetriableError as exc:
            state.failures += 1
            self._metrics.poll_errors.labels(stream=name).inc()
            # One line per distinct problem: a lasting outage must not flood the log.
            repeated = str(exc) in {s.last_error for s in self.states}
            log.log(
                logging.DEBUG if repeated else logging.ERROR,
                "stream %s: poll failed, will retry: %s",
                name,
                exc,
            )
            state.last_error = str(exc)
            if once and state.failures >= ONCE_ATTEMPTS:
                raise
            return not isinstance(exc, SinkUnavailable)
        finally:
            self._metrics.poll_duration.labels(stream=name).observe(time.monotonic() - started)
        if self._stop.is_set():
            return True
        if state.last_error is not None:
            log.info("stream %s: recovered after %d failed attempt(s)", name, state.failures)
            state.last_error = None
        state.failures = 0
        state.last_success = time.time()
        self._health.poll_ok()
        self._metrics.last_success.labels(stream=name).set(state.last_success)
        state.done = once
        return True

    def _maybe_reconcile(self, state: StreamState, checkpoint: Checkpoint) -> None:
        """Every reconcile interval, re-read the reconcile window for events the polls missed."""
        settings = self._settings.reconcile
        if not settings.interval or time.monotonic() - state.last_reconcile < settings.interval:
            return
        since = math.floor(self._client.clock.now() - settings.window)
        self._pipeline.reconcile(state.stream, checkpoint, since, checkpoint.watermark)
        state.last_reconcile = time.monotonic()

    def _refuse_tenant(self, state: StreamState, exc: AuthError, *, once: bool) -> None:
        self._metrics.tenant_unavailable.inc()
        retry = self._settings.poll.tenant_retry
        if not state.refused_logged:
            log.warning(
                "the Admin key may not read tenant-scoped events (tenant_only=true): %s. "
                "The main stream keeps running; asking again every %.0fs. "
                "Set CONNECTOR_OPENAI__TENANT_STREAM=false to stop asking.",
                exc,
                retry,
            )
            state.refused_logged = True
        state.paused_until = time.time() + retry
        state.done = once
