"""The mapping table: complete, consistent with OCSF 1.8.0, and one row per catalogue type."""

from __future__ import annotations

import re

import pytest

from connector.normalize import ocsf_enums as enums
from connector.normalize.table import MAPPING, TARGET_KINDS, MappingRow, is_known_type
from tests.unit.normalize_samples import catalogue
from tests.unit.ocsf_validation import ocsf_schema

ROLE_ASSIGNMENT = re.compile(r"^(role\.assignment|tenant\.(resource_)?role_assignment)\.")

# normalization.md §4.2: event.type values ECS 9.4.0 expects per event.category.
ECS_EXPECTED = {
    "authentication": {"start", "end", "info"},
    "session": {"start", "end", "info"},
    "iam": {"admin", "change", "creation", "deletion", "group", "info", "user"},
    "configuration": {"access", "change", "creation", "deletion", "info"},
}
CIM_ACTIONS = {
    "Authentication": {"success", "failure"},
    "Change:All_Changes": {"created", "updated", "deleted", "modified", "read"},
    "Change:Account_Management": {"created", "updated", "deleted", "modified", "read"},
}
TARGETS_BY_CLASS = {
    3001: {"user", "service_account"},
    3002: {"session"},
    3004: {"entity"},
    3005: {"user", "service_account", "principal"},
    3006: {"group", "member"},
}


def test_table_covers_exactly_the_145_catalogue_types() -> None:
    types = catalogue()["event_types"]
    assert catalogue()["event_type_count"] == 145
    assert len(types) == 145
    assert set(MAPPING) == set(types)
    assert list(MAPPING) == list(types), "keep the table in catalogue order"


def test_is_known_type_tells_table_types_from_new_ones() -> None:
    assert is_known_type("api_key.created")
    assert not is_known_type("api_key.frobnicated")


@pytest.mark.parametrize("row", MAPPING.values(), ids=list(MAPPING))
def test_row_uses_an_ocsf_class_activity_and_entity_type_that_exist(row: MappingRow) -> None:
    assert row.class_uid in enums.CLASS_NAMES
    assert row.activity_id in enums.ACTIVITY_NAMES[row.class_uid]
    assert row.activity_id not in (0, 99), "a known type deserves a real activity"
    assert row.entity_type_id in enums.MANAGED_ENTITY_TYPES
    assert row.entity_type
    if row.entity_type_id != 99:
        # the standard type ids carry their own meaning; the caption only refines it
        assert row.entity_type_id in (2, 3, 4, 5, 7)
    assert row.target in TARGETS_BY_CLASS[row.class_uid] and row.target in TARGET_KINDS


def test_role_assignment_rows_carry_the_principal_rule() -> None:
    principal = {t for t, row in MAPPING.items() if row.target == "principal"}
    assert principal == {t for t in MAPPING if ROLE_ASSIGNMENT.match(t)}
    assert len(principal) == 6
    for event_type in principal:
        row = MAPPING[event_type]
        assert row.class_uid == 3005
        expected = 1 if event_type.endswith(".created") else 2
        assert row.activity_id == expected, "group principals reuse the id in 3006"


@pytest.mark.parametrize("row", MAPPING.values(), ids=list(MAPPING))
def test_ecs_and_cim_columns_hold_allowed_values(row: MappingRow) -> None:
    for category in row.ecs_category:
        assert category in ECS_EXPECTED
    for ecs_type in row.ecs_type:
        assert any(ecs_type in ECS_EXPECTED[c] for c in row.ecs_category), ecs_type
    assert row.cim_action in CIM_ACTIONS[row.cim_dataset]
    is_auth = row.type.startswith(("login.", "logout."))
    assert (row.cim_dataset == "Authentication") == is_auth
    if is_auth:
        assert row.cim_action == ("failure" if row.type.endswith(".failed") else "success")


def test_ocsf_captions_match_the_bundled_1_8_0_schema() -> None:
    schema = ocsf_schema()
    for class_uid, caption in enums.CLASS_NAMES.items():
        name = schema.lookup_class_name_from_uid(class_uid=class_uid)
        class_schema = schema.get_class_schema(class_name=name, profiles=[])
        assert class_schema["title"] == caption
        activities = set(class_schema["properties"]["activity_id"]["enum"])
        assert activities == set(enums.ACTIVITY_NAMES[class_uid])
        type_uids = set(class_schema["properties"]["type_uid"]["enum"])
        assert {class_uid * 100 + a for a in activities} == type_uids
    entity = schema.get_class_schema(class_name="entity_management", profiles=[])
    entity_types = entity["$defs"]["managed_entity"]["properties"]["type_id"]["enum"]
    assert set(entity_types) == set(enums.MANAGED_ENTITY_TYPES)


def test_activity_captions_match_the_schema_enum_captions() -> None:
    from ocsf_json_schema import get_ocsf_schema

    export = get_ocsf_schema(version=enums.OCSF_VERSION)
    for class_uid in enums.CLASS_NAMES:
        name = ocsf_schema().lookup_class_name_from_uid(class_uid=class_uid)
        klass = export["classes"][name]
        assert klass["caption"] == enums.CLASS_NAMES[class_uid]
        enum = klass["attributes"]["activity_id"]["enum"]
        assert {int(k): v["caption"] for k, v in enum.items()} == dict(enums.ACTIVITY_NAMES[class_uid])
    assert export["categories"]["attributes"]["iam"]["caption"] == enums.CATEGORY_NAMES[3]
    managed = export["objects"]["managed_entity"]["attributes"]["type_id"]["enum"]
    assert {int(k): v["caption"] for k, v in managed.items()} == dict(enums.MANAGED_ENTITY_TYPES)


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("widget.created", (1, "Create")),
        ("widget.sent", (1, "Create")),
        ("widget.looked_up", (2, "Read")),
        ("widget.upserted", (3, "Update")),
        ("widget.revoked", (4, "Delete")),
        ("widget.activated", (8, "Enable")),
        ("widget.archived", (9, "Disable")),
        ("widget.frobnicated", (99, "frobnicated")),
        ("nodots", (99, "nodots")),
        ("", (99, "Other")),
    ],
)
def test_verb_rule_gives_the_entity_management_activity(event_type: str, expected: tuple[int, str]) -> None:
    assert enums.verb_activity(event_type) == expected
