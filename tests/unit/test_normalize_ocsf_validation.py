"""Every catalogue type × every actor shape validates against the official OCSF 1.8.0 schema."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from connector.normalize.ocsf import OcsfNormalizer
from connector.normalize.table import MAPPING
from tests.unit.normalize_samples import (
    ACTOR_SHAPES,
    EFFECTIVE_AT,
    SESSION_IPV4,
    expected_class,
    make_event,
    sample_payload,
)
from tests.unit.ocsf_validation import ocsf_errors

NORMALIZER = OcsfNormalizer(org_id="org-abc123")
NO_ORG = OcsfNormalizer()

MATRIX = [(t, shape) for t in MAPPING for shape in ACTOR_SHAPES]
PRINCIPAL_TYPES = [t for t, row in MAPPING.items() if row.target == "principal"]
UNKNOWN_TYPES = [
    "widget.created",
    "tenant.widget.updated",
    "tenant.widget.policy.revoked",
    "widget.looked_up",
    "widget.archived",
    "widget.frobnicated",
    "standalone",
]


def _assert_valid(document: dict[str, Any], event: dict[str, Any]) -> None:
    errors = ocsf_errors(document)
    assert errors == [], "\n".join(errors)
    assert document["metadata"]["uid"] == event["id"]
    assert document["metadata"]["event_code"] == event["type"]
    assert document["time"] == EFFECTIVE_AT * 1000
    assert orjson.loads(document["raw_data"]) == event
    orjson.dumps(document)  # what the sinks do with it


@pytest.mark.parametrize(("event_type", "shape"), MATRIX, ids=[f"{t}-{s}" for t, s in MATRIX])
def test_catalogue_type_validates_and_maps_to_its_table_class(event_type: str, shape: str) -> None:
    actor = ACTOR_SHAPES[shape]
    event = make_event(event_type, actor)

    document = NORMALIZER.normalize(event)

    _assert_valid(document, event)
    assert document["class_uid"] == expected_class(event_type, actor)
    if document["class_uid"] == MAPPING[event_type].class_uid:
        assert document["activity_id"] == MAPPING[event_type].activity_id
    assert document["cloud"]["org"]["uid"] == "org-abc123"
    assert document["metadata"]["tenant_uid"] == "org-abc123"


@pytest.mark.parametrize("event_type", list(MAPPING))
def test_catalogue_type_validates_without_org_id_or_project(event_type: str) -> None:
    event = make_event(event_type, SESSION_IPV4)
    del event["project"]

    document = NO_ORG.normalize(event)

    _assert_valid(document, event)
    assert document["cloud"] == {"provider": "OpenAI"}
    assert "tenant_uid" not in document["metadata"]


@pytest.mark.parametrize("event_type", PRINCIPAL_TYPES)
@pytest.mark.parametrize("shape", list(ACTOR_SHAPES))
def test_role_assignment_to_a_group_validates_as_group_management(event_type: str, shape: str) -> None:
    payload = sample_payload(event_type)
    payload.update(principal_type="group", principal_id="group_01")
    event = make_event(event_type, ACTOR_SHAPES[shape], payload)

    document = NORMALIZER.normalize(event)

    _assert_valid(document, event)
    assert document["class_uid"] == 3006
    assert document["group"]["uid"] == "group_01"
    assert document["type_uid"] == 300601 if event_type.endswith(".created") else 300602


@pytest.mark.parametrize("event_type", UNKNOWN_TYPES)
@pytest.mark.parametrize("shape", list(ACTOR_SHAPES))
def test_unknown_type_validates_as_entity_management(event_type: str, shape: str) -> None:
    event = make_event(event_type, ACTOR_SHAPES[shape])

    document = NORMALIZER.normalize(event)

    _assert_valid(document, event)
    assert document["class_uid"] == 3004
