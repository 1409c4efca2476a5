"""One HTTP port for ``/metrics``, ``/healthz`` and ``/readyz``."""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from connector.metrics import Metrics

log = logging.getLogger(__name__)


READY_SLACK_SECONDS = 5.0


class Health:
    """Liveness and readiness facts, updated by the runner and the pipeline."""

    def __init__(
        self, *, poll_interval: float, ready_intervals: int = 3, wedged_after: float = 600.0
    ) -> None:
        self._lock = threading.Lock()
        self._beat = time.monotonic()
        self._last_ok: float | None = None
        self._started = time.monotonic()
        self.poll_interval = poll_interval
        self.ready_intervals = ready_intervals
        self.wedged_after = max(wedged_after, 3 * poll_interval)
        self.sink_ok = True

    def beat(self) -> None:
        """The loop made progress (a page fetched, a slice committed, a poll finished)."""
        with self._lock:
            self._beat = time.monotonic()

    def poll_ok(self) -> None:
        """A poll completed, or a batch was committed: the API and the sink both work."""
        with self._lock:
            self._beat = self._last_ok = time.monotonic()

    def alive(self) -> tuple[bool, str]:
        idle = time.monotonic() - self._beat
        if idle > self.wedged_after:
            return False, f"no progress for {idle:.0f}s"
        return True, "ok"

    def ready(self) -> tuple[bool, str]:
        if not self.sink_ok:
            return False, "the sink is not accepting events"
        if self._last_ok is None:
            return False, "no successful poll yet"
        age = time.monotonic() - self._last_ok
        # A few seconds of slack for the poll itself; a long catch-up counts each commit as a success.
        limit = self.ready_intervals * self.poll_interval + READY_SLACK_SECONDS
        if age > limit:
            return False, f"no successful poll or commit for {age:.0f}s (limit {limit:.0f}s)"
        return True, "ok"


class MetricsServer:
    """Serves the registry and the health checks on ``host:port`` in a daemon thread."""

    def __init__(self, *, host: str, port: int, metrics: Metrics, health: Health) -> None:
        registry = metrics.registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/metrics"):
                    self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif self.path.startswith("/healthz"):
                    self._check(health.alive())
                elif self.path.startswith("/readyz"):
                    self._check(health.ready())
                else:
                    self._send(404, b"not found\n", "text/plain")

            def _check(self, result: tuple[bool, str]) -> None:
                ok, reason = result
                self._send(200 if ok else 503, (reason + "\n").encode(), "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="metrics", daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
