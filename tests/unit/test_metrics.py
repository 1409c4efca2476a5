"""Metric helpers."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Histogram

from connector.metrics import observe_many


def test_observe_many_gives_the_same_histogram_as_observing_one_value_at_a_time() -> None:
    values = [0.0, 0.5, 1.0, 1.0000001, 7.0, 59.9, 60.0, 3600.0, 86400.0 * 40, 12.25]
    one, many = CollectorRegistry(), CollectorRegistry()
    buckets = (1.0, 10.0, 60.0, 3600.0, 86400.0)
    single = Histogram("lag_seconds", "lag", buckets=buckets, registry=one)
    bulk = Histogram("lag_seconds", "lag", buckets=buckets, registry=many)
    for value in values:
        single.observe(value)
    observe_many(bulk, values)
    observe_many(bulk, [])

    def samples(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
        return {
            (s.name, s.labels.get("le", "")): s.value
            for metric in registry.collect()
            for s in metric.samples
            if not s.name.endswith("_created")
        }

    expected, got = samples(one), samples(many)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12), key
    assert got[("lag_seconds_bucket", "1.0")] == 3  # 0.0, 0.5 and exactly 1.0: le is inclusive
