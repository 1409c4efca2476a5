"""Shared fixtures: the Kafka broker ones live in tests/kafka_broker.py; a broker starts only on request."""

from tests.kafka_broker import kafka_bootstrap, kafka_broker, kafka_broker_session

__all__ = ["kafka_bootstrap", "kafka_broker", "kafka_broker_session"]
