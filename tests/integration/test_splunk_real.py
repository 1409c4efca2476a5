"""Opt-in: the HEC sink against the real ``splunk/splunk`` image, through testcontainers.

Runs only where a Docker engine answers and ``SPLUNK_IMAGE_TEST=1`` is set (the image
is large and takes minutes to start). Our own machines have no Docker engine, so
there it is skipped with that reason; the HEC receiver in tests/hec_receiver.py
covers the same contract on every run.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

import httpx
import pytest

from connector.config import SinkSettings
from connector.metrics import Metrics
from connector.models import OutputRecord
from tests.kafka_broker import _docker_answers

TOKEN = str(uuid.uuid4())
PASSWORD = "Ch4ngeMe-" + uuid.uuid4().hex[:8]


def _requirements() -> str | None:
    if os.environ.get("SPLUNK_IMAGE_TEST") != "1":
        return "opt-in: set SPLUNK_IMAGE_TEST=1 to run against the real splunk/splunk image"
    if not _docker_answers():
        return "no Docker engine answers here; the real splunk/splunk image needs one"
    return None


@pytest.mark.skipif(_requirements() is not None, reason=_requirements() or "")
def test_events_reach_a_real_splunk_with_indexer_acknowledgement() -> None:
    from testcontainers.core.container import DockerContainer

    container = (
        DockerContainer("splunk/splunk:latest")
        .with_env("SPLUNK_START_ARGS", "--accept-license")
        .with_env("SPLUNK_GENERAL_TERMS", "--accept-sgt-current-at-splunk-com")
        .with_env("SPLUNK_PASSWORD", PASSWORD)
        .with_env("SPLUNK_HEC_TOKEN", TOKEN)
        .with_exposed_ports(8088, 8089)
    )
    with container:
        host = container.get_container_host_ip()
        hec = f"https://{host}:{container.get_exposed_port(8088)}"
        mgmt = f"https://{host}:{container.get_exposed_port(8089)}"
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(f"{hec}/services/collector/health", verify=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "Splunk did not start"
            time.sleep(5)
        # Turn indexer acknowledgement on for the provisioned token.
        httpx.post(
            f"{mgmt}/servicesNS/nobody/splunk_httpinput/data/inputs/http/splunk_hec_token",
            data={"useACK": "1"},
            auth=("admin", PASSWORD),
            verify=False,
        ).raise_for_status()

        from connector.sinks.splunk_hec import SplunkHecSink

        settings = SinkSettings(
            type="splunk_hec", url=hec, token=TOKEN, verify_tls=False, ack=True, index="main"
        )
        sink = SplunkHecSink(
            settings, output_format="raw", org_id=None, metrics=Metrics(), stop=threading.Event()
        )
        ids = [f"audit_log-real-{i}" for i in range(50)]
        records = [
            OutputRecord(i, b'{"id":"%s","type":"login.succeeded"}' % i.encode(), "login.succeeded", 1)
            for i in ids
        ]
        assert sink.publish(records) == []  # returns only once every ack is true
        sink.close()
        found = httpx.post(
            f"{mgmt}/services/search/jobs/export",
            data={"search": 'search index=main "audit_log-real-" | stats dc(id) AS n', "output_mode": "json"},
            auth=("admin", PASSWORD),
            verify=False,
            timeout=120,
        )
        assert '"n":"50"' in found.text
