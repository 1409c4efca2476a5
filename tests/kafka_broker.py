"""A real Kafka broker for integration tests, started only when a test asks for one.

Fixtures (registered by tests/conftest.py):

* ``kafka_bootstrap`` (session): ``"host:port"`` of the broker.
* ``kafka_broker`` (function): the :class:`KafkaBroker`, with ``.bootstrap``, ``.kind``, ``.stop()``,
  ``.start()``, ``.create_topic(name, partitions=1, compacted=False)`` and ``.unique_topic(prefix)``.
  If a test leaves the broker stopped, teardown starts it again for the next test.
* ``kafka_broker_session`` (session): the same object, for other session-scoped fixtures.

Where the broker comes from, in this order:

1. ``KAFKA_BOOTSTRAP_SERVERS`` if set (an external broker; its ``transaction.state.log.*`` RF/ISR must fit
   its size, and tests create their own topics);
2. testcontainers' Kafka module if a Docker engine answers;
3. ``scripts/kafka-local`` on free loopback ports with a temporary data dir, stopped and wiped at session end.
   It needs Java 17+ (and Maven for the first assembly); without Java the Kafka tests are skipped, except
   under CI (``CI`` set), where they fail.

Only the local broker can be stopped and restarted; for the others ``stop()``/``start()`` skip the test.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
KAFKA_LOCAL = REPO_ROOT / "scripts" / "kafka-local"
RESTART_SKIP_REASON = "broker restart needs the local broker"
START_TIMEOUT_S = 480  # the first run downloads the broker jars from Maven Central


def unique_topic(prefix: str = "test") -> str:
    """A topic name that no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create_topic(
    bootstrap: str,
    name: str,
    partitions: int = 1,
    compacted: bool = False,
    configs: dict[str, str] | None = None,
) -> str:
    """Create a topic (replication factor: the broker default) and wait until every partition has a leader."""
    from kafka.admin import KafkaAdminClient

    topic_configs = dict(configs or {})
    if compacted:
        topic_configs.setdefault("cleanup.policy", "compact")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000, client_id="test-admin")
    try:
        admin.create_topics(
            {name: {"num_partitions": partitions, "replication_factor": -1, "configs": topic_configs}},
            timeout_ms=30000,
            wait_for_metadata=True,
        )
    finally:
        admin.close()
    return name


class KafkaBroker:
    """A broker for the test session; ``kind`` is ``"external"``, ``"testcontainers"`` or ``"local"``."""

    def __init__(self, kind: str, bootstrap: str, close: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self.bootstrap = bootstrap
        self._close = close

    @property
    def restartable(self) -> bool:
        return False

    @property
    def running(self) -> bool:
        return True

    def stop(self) -> None:
        pytest.skip(f"{RESTART_SKIP_REASON} (this session uses a {self.kind} broker)")

    def start(self) -> None:
        pytest.skip(f"{RESTART_SKIP_REASON} (this session uses a {self.kind} broker)")

    def ensure_running(self) -> None:
        """Start the broker again if a test left it stopped."""

    def create_topic(
        self, name: str, partitions: int = 1, compacted: bool = False, configs: dict[str, str] | None = None
    ) -> str:
        return create_topic(self.bootstrap, name, partitions=partitions, compacted=compacted, configs=configs)

    def unique_topic(self, prefix: str = "test", partitions: int = 1, compacted: bool = False) -> str:
        """Create a topic with a fresh name and return the name."""
        return self.create_topic(unique_topic(prefix), partitions=partitions, compacted=compacted)

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None

    def __repr__(self) -> str:
        return f"KafkaBroker(kind={self.kind!r}, bootstrap={self.bootstrap!r})"


class LocalKafkaBroker(KafkaBroker):
    """The broker of ``scripts/kafka-local``, in a temporary data dir that survives stop()/start()."""

    def __init__(self) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="kafka-local-"))
        port = _free_port()
        self._env = {
            **os.environ,
            "KAFKA_LOCAL_DATA": str(self._tmp / "data"),
            "KAFKA_LOCAL_PORT": str(port),
            "KAFKA_LOCAL_PYTHON": sys.executable,
            # If this pytest process dies without teardown, the broker stops by itself.
            "KAFKA_LOCAL_WATCH_PID": str(os.getpid()),
        }
        super().__init__("local", f"127.0.0.1:{port}")
        self._running = False
        self._first_start = True

    @property
    def restartable(self) -> bool:
        return True

    @property
    def running(self) -> bool:
        return self._running

    @property
    def data_dir(self) -> Path:
        return self._tmp / "data"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "server.log"

    def _run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        env = dict(self._env)
        if self._first_start and args[0] == "start":
            env["KAFKA_LOCAL_CONTROLLER_PORT"] = str(_free_port(exclude=int(self._env["KAFKA_LOCAL_PORT"])))
        return subprocess.run(
            [str(KAFKA_LOCAL), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def start(self) -> None:
        if self._running:
            return
        result = self._run("start", timeout=START_TIMEOUT_S)
        lines = result.stdout.strip().splitlines()
        if result.returncode != 0 or not lines or lines[-1] != self.bootstrap:
            pytest.fail(
                f"scripts/kafka-local start failed (rc={result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}",
                pytrace=False,
            )
        self._first_start = False
        self._running = True

    def stop(self) -> None:
        self._stop()

    def _stop(self, *extra: str) -> None:
        result = self._run("stop", *extra, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"scripts/kafka-local stop failed:\n{result.stdout}\n{result.stderr}")
        self._running = False

    def ensure_running(self) -> None:
        if not self._running:
            self.start()

    def close(self) -> None:
        try:
            self._stop("--wipe")
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)


def _free_port(exclude: int | None = None) -> int:
    """A free loopback port below the ephemeral range, so client sockets cannot take it during a restart."""
    for _ in range(100):
        port = random.randint(20000, 32000)
        if port == exclude:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:  # ImportError, DockerException, connection errors: no usable engine
        return False
    return True


def _testcontainers_broker() -> KafkaBroker:
    try:
        from testcontainers.community.kafka import KafkaContainer
    except ImportError:
        from testcontainers.kafka import KafkaContainer  # older testcontainers
    container: Any = (
        KafkaContainer()
        .with_kraft()
        .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS", "1")
        .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
    )
    container.start()
    return KafkaBroker("testcontainers", container.get_bootstrap_server(), close=container.stop)


def _local_broker() -> KafkaBroker:
    if shutil.which("java") is None:
        reason = (
            "no Kafka broker: set KAFKA_BOOTSTRAP_SERVERS, run Docker, "
            "or install Java 17+ for scripts/kafka-local"
        )
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    broker = LocalKafkaBroker()
    try:
        broker.start()
    except BaseException:
        broker.close()
        raise
    return broker


def _session_broker() -> KafkaBroker:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if external:
        return KafkaBroker("external", external)
    if _docker_answers():
        return _testcontainers_broker()
    return _local_broker()


@pytest.fixture(scope="session")
def kafka_broker_session() -> Iterator[KafkaBroker]:
    broker = _session_broker()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker_session: KafkaBroker) -> str:
    return kafka_broker_session.bootstrap


@pytest.fixture
def kafka_broker(kafka_broker_session: KafkaBroker) -> Iterator[KafkaBroker]:
    kafka_broker_session.ensure_running()
    yield kafka_broker_session
    kafka_broker_session.ensure_running()
