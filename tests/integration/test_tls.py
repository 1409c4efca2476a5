"""TLS verification is on everywhere: a self-signed server is refused unless its CA is configured."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

from connector.config import OpenAISettings, SinkSettings
from connector.errors import SinkConfigError, TlsError
from connector.metrics import Metrics
from connector.models import OutputRecord, Window
from connector.sinks.splunk_hec import SplunkHecSink
from connector.source.client import AuditLogClient, AuditQuery


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._send(b'{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}')

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(b'{"text":"Success","code":0}')

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 with a certificate from a private CA; yields (url, ca file)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ca_file
    finally:
        server.shutdown()
        server.server_close()


def test_the_api_client_refuses_an_untrusted_certificate_and_accepts_its_configured_ca(
    tls_server: tuple[str, Path],
) -> None:
    url, ca_file = tls_server
    untrusted = AuditLogClient(
        OpenAISettings(base_url=f"{url}/v1", admin_key="sk-admin-x" * 3), metrics=Metrics()
    )
    with pytest.raises(TlsError, match="CONNECTOR_OPENAI__CA_BUNDLE"):
        untrusted.fetch_page(AuditQuery(), Window(1, 2))
    trusted = AuditLogClient(
        OpenAISettings(base_url=f"{url}/v1", admin_key="sk-admin-x" * 3, ca_bundle=ca_file), metrics=Metrics()
    )
    assert trusted.fetch_page(AuditQuery(), Window(1, 2)).events == []


def test_the_hec_sink_refuses_an_untrusted_certificate_and_accepts_its_configured_ca(
    tls_server: tuple[str, Path],
) -> None:
    url, ca_file = tls_server
    record = [OutputRecord("a", b"{}", "login.succeeded", 1)]
    settings = {"type": "splunk_hec", "url": url, "token": "t0ken-0123456789", "ack": False}
    untrusted = SplunkHecSink(
        SinkSettings(**settings), output_format="raw", org_id=None, metrics=Metrics(), stop=threading.Event()
    )
    with pytest.raises(SinkConfigError, match="CONNECTOR_SINK__CA_BUNDLE"):
        untrusted.publish(record)
    trusted = SplunkHecSink(
        SinkSettings(**settings, ca_bundle=ca_file),
        output_format="raw",
        org_id=None,
        metrics=Metrics(),
        stop=threading.Event(),
    )
    assert trusted.publish(record) == []


def test_the_admin_key_is_never_sent_over_plain_http_to_a_remote_host() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="plain http would send the Admin key in clear"):
        OpenAISettings(base_url="http://api.example.com/v1")
    assert OpenAISettings(base_url="http://127.0.0.1:8089/v1").base_url.startswith("http://")
    assert OpenAISettings(base_url="http://proxy.internal/v1", allow_insecure_http=True)
