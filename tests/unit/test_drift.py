"""Schema drift: new types and keys are counted, logged once, remembered; known ones cost nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from connector.drift import MAX_LABELS, SchemaDrift, find_drift, load_drift
from connector.metrics import Metrics


def value(metrics: Metrics, kind: str, event_type: str) -> float:
    return (
        metrics.registry.get_sample_value(
            "connector_unmapped_events_total", {"kind": kind, "event_type": event_type}
        )
        or 0.0
    )


def test_a_new_type_is_counted_logged_once_and_remembered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics(CollectorRegistry())
    drift = SchemaDrift(tmp_path / "drift.json", metrics)
    events = [{"id": f"a{i}", "type": "sora.video.created", "effective_at": 1} for i in range(3)]
    with caplog.at_level(logging.WARNING):
        drift.record(find_drift(events))
        drift.record(find_drift(events))
    assert value(metrics, "type", "sora.video.created") == 6
    assert sum("sora.video.created" in r.getMessage() for r in caplog.records) == 1
    assert "sora.video.created" in load_drift(tmp_path / "drift.json")["types"]
    # A restart remembers it: no second warning.
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        SchemaDrift(tmp_path / "drift.json", Metrics(CollectorRegistry())).record(find_drift(events))
    assert not caplog.records


def test_an_unknown_payload_key_on_a_documented_type_is_drift(tmp_path: Path) -> None:
    metrics = Metrics(CollectorRegistry())
    drift = SchemaDrift(tmp_path / "drift.json", metrics)
    event = {
        "id": "a",
        "type": "api_key.created",
        "effective_at": 1,
        "api_key.created": {"id": "key_1", "data": {}, "expires_at": 5},
    }
    drift.record(find_drift([event]))
    assert value(metrics, "key", "api_key.created") == 1
    assert "api_key.created:expires_at" in load_drift(tmp_path / "drift.json")["keys"]


def test_known_keys_and_undocumented_payloads_are_not_drift(tmp_path: Path) -> None:
    metrics = Metrics(CollectorRegistry())
    drift = SchemaDrift(tmp_path / "drift.json", metrics)
    drift.record(
        find_drift(
            [
                {
                    "id": "a",
                    "type": "api_key.created",
                    "effective_at": 1,
                    "api_key.created": {"id": "k", "data": {}},
                },
                {
                    "id": "b",
                    "type": "tenant.user.added",
                    "effective_at": 1,
                    "tenant.user.added": {"whatever": 1},
                },
                {"id": "c", "type": 42, "effective_at": 1},
            ]
        )
    )
    assert not (tmp_path / "drift.json").exists()


def test_labels_stay_bounded(tmp_path: Path) -> None:
    metrics = Metrics(CollectorRegistry())
    drift = SchemaDrift(tmp_path / "drift.json", metrics)
    drift.record(
        find_drift(
            [{"id": str(i), "type": f"new.type{i}", "effective_at": 1} for i in range(MAX_LABELS + 20)]
        )
    )
    assert value(metrics, "type", "other") == 20
    assert len(load_drift(tmp_path / "drift.json")["types"]) == MAX_LABELS + 20


def test_an_unwritable_drift_file_never_stops_delivery(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    drift = SchemaDrift(blocker / "sub" / "drift.json", Metrics(CollectorRegistry()))
    drift.record(find_drift([{"id": "a", "type": "brand.new", "effective_at": 1}]))
