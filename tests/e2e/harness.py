"""Runs the connector CLI as a separate process against an in-test simulator over loopback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from connector.simulator import EventStore, Faults, SimulatorServer

ADMIN_KEY = "sk-admin-e2e-" + "5f3c9a1b7d2e4f60a8b9c0d1e2f3a4b5"


@dataclass
class Output:
    """What the file sink holds: every parsed document, and torn fragments left by a SIGKILL."""

    docs: list[dict[str, Any]]
    fragments: int

    @property
    def ids(self) -> list[str]:
        return [d["metadata"]["uid"] if "metadata" in d else d["id"] for d in self.docs]

    def duplicates(self) -> int:
        return sum(n - 1 for n in Counter(self.ids).values())


def read_output(path: Path) -> Output:
    docs: list[dict[str, Any]] = []
    fragments = 0
    if path.exists():
        for line in path.read_bytes().splitlines():
            if not line.strip():
                continue
            try:
                docs.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                fragments += 1
    return Output(docs, fragments)


CREATED: list[Workspace] = []
"""Every workspace of the running test; tests/e2e/conftest.py checks their logs for secrets."""

SECRET_SETTINGS = ("ADMIN_KEY", "TOKEN", "PASSWORD")


class Workspace:
    """One connector deployment: its folder, its settings, its processes."""

    def __init__(self, root: Path, base_url: str, *, key: str = ADMIN_KEY, **settings: str) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.output = root / "events.ndjson"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
        self.env.update(
            {
                "CONNECTOR_OPENAI__BASE_URL": base_url,
                "CONNECTOR_OPENAI__ADMIN_KEY": key,
                "CONNECTOR_OPENAI__ORGANIZATION_ID": "org-e2e",
                "CONNECTOR_OPENAI__LOOKBACK": "4d",
                "CONNECTOR_OPENAI__RETRY_BASE": "0.05",
                "CONNECTOR_OPENAI__RETRY_MAX": "0.5",
                "CONNECTOR_SINK__TYPE": "file",
                "CONNECTOR_SINK__PATH": str(self.output),
                "CONNECTOR_CHECKPOINT__PATH": str(root / "checkpoint.db"),
                "CONNECTOR_DEAD_LETTER__PATH": str(root / "dead-letter.ndjson"),
                "CONNECTOR_METRICS__PORT": "0",
                "CONNECTOR_POLL__INTERVAL": "1",
                "CONNECTOR_POLL__SETTLE": "0",
                "CONNECTOR_LOG__FORMAT": "json",
            }
        )
        self.env.update({f"CONNECTOR_{k.upper()}": v for k, v in settings.items()})
        self._runs = 0
        self._captured: list[bytes] = []
        CREATED.append(self)

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        self._runs += 1
        log = (self.root / f"run-{self._runs}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", "connector.cli", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
        )

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
        result = subprocess.run(
            [sys.executable, "-m", "connector.cli", *args],
            env=self.env,
            capture_output=True,
            timeout=timeout,
            cwd=self.root,
            check=False,
        )
        self._captured += [result.stdout, result.stderr]
        return result

    def secrets(self) -> list[str]:
        return [
            v for k, v in self.env.items() if k.startswith("CONNECTOR_") and k.endswith(SECRET_SETTINGS) and v
        ]

    def leaked_secrets(self) -> list[str]:
        """Secrets found in any captured output, log file or output file of this workspace."""
        texts = [self.logs(), *(b.decode(errors="replace") for b in self._captured)]
        texts += [p.read_text(errors="replace") for p in self.root.glob("*.ndjson")]
        return [s for s in self.secrets() for text in texts if s in text]

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.root.glob("run-*.log")))

    def problems(self) -> list[str]:
        """The messages of the connector's own WARNING and ERROR log lines (JSON logs)."""
        found = []
        for line in self.logs().splitlines():
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if (
                isinstance(entry, dict)
                and str(entry.get("logger", "")).startswith("connector")
                and entry.get("level") in ("WARNING", "ERROR")
            ):
                found.append(str(entry.get("message", "")))
        return found

    def published(self) -> int:
        """Events the runs so far logged as published (an empty window logs "published 0")."""
        return sum(int(n) for n in re.findall(r"published (\d+)", self.logs()))


def no_secret_leaks() -> Iterator[None]:
    """Body of the autouse fixtures: no configured secret in any log line or output of the test's runs."""
    CREATED.clear()
    yield
    leaked = [(str(ws.root), secret[:6] + "…") for ws in CREATED for secret in ws.leaked_secrets()]
    CREATED.clear()
    assert not leaked, f"secrets leaked into logs or output: {leaked}"


def wait_for(condition: Callable[[], bool], *, timeout: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def terminate(proc: subprocess.Popen[bytes], *, grace: float = 30) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=grace)


def serve(store: EventStore, faults: Faults | None = None, **kwargs: Any) -> SimulatorServer:
    """A simulator on 127.0.0.1 that accepts ``ADMIN_KEY``; use it as a context manager."""
    return SimulatorServer(store, admin_key=ADMIN_KEY, faults=faults, **kwargs)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def consume_all(bootstrap: str, topic: str, *, committed_only: bool = True) -> list[Any]:
    """Every record of ``topic`` up to its end offsets, read ``read_committed`` by default."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed" if committed_only else "read_uncommitted",
        auto_offset_reset="earliest",
    )
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records: list[Any] = []
        deadline = time.monotonic() + 120
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            assert time.monotonic() < deadline, "timed out reading the topic"
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def kafka_settings(
    bootstrap: str, topic: str, checkpoint_topic: str | None = None, **extra: str
) -> dict[str, str]:
    """Workspace settings for the Kafka sink (and, with a checkpoint topic, exactly-once mode)."""
    settings = {
        "SINK__TYPE": "kafka",
        "SINK__BOOTSTRAP_SERVERS": bootstrap,
        "SINK__TOPIC": topic,
        "SINK__TOPIC_REPLICATION": "1",
        "SINK__DELIVERY_TIMEOUT": "20",
    }
    if checkpoint_topic is not None:
        settings |= {"CHECKPOINT__BACKEND": "kafka", "CHECKPOINT__TOPIC": checkpoint_topic}
    return settings | extra
