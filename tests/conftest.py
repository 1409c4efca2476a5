"""Shared fixtures: the Kafka broker ones live in tests/kafka_broker.py; a broker starts only on request."""

import pytest

from tests.kafka_broker import kafka_bootstrap, kafka_broker, kafka_broker_session

__all__ = ["kafka_bootstrap", "kafka_broker", "kafka_broker_session"]


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to test an old build: an edited normalizer module must be compiled again."""
    from connector.normalize import native

    stale = native.stale()
    if stale:
        pytest.exit(
            f"these compiled modules are older than their source: {', '.join(stale)}. "
            "Run scripts/bootstrap dev to build them again (or CONNECTOR_PURE_PYTHON=1 scripts/bootstrap dev "
            "to run the pure-Python normalizer).",
            returncode=4,
        )
