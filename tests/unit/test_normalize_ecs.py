"""The ECS 9.4.0 normalizer: every catalogue type × actor shape validates offline, plus the mapping rules."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
import pytest

from connector.catalogue import EVENT_TYPES
from connector.normalize import make_normalizer
from connector.normalize.ecs import ECS_VERSION, EcsNormalizer
from connector.normalize.table import MAPPING
from tests.unit.ecs_validation import catalogue, ecs_errors
from tests.unit.normalize_samples import (
    ACTOR_SHAPES,
    API_KEY_SERVICE_ACCOUNT,
    API_KEY_USER,
    SESSION_IPV4,
    SESSION_IPV6,
    make_event,
    sample_payload,
)

ORG = "org-abc123"
NORMALIZER = EcsNormalizer(org_id=ORG)
MATRIX = [(t, shape) for t in MAPPING for shape in ACTOR_SHAPES]
PRINCIPAL_TYPES = [t for t, row in MAPPING.items() if row.target == "principal"]
UNKNOWN_TYPES = [
    "widget.created",
    "tenant.widget.updated",
    "widget.frobnicated",
    "widget.failed",
    "standalone",
]


def flatten(document: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted field name, value)`` for the leaves of a nested document."""
    for key, value in document.items():
        name = f"{path}.{key}" if path else key
        if isinstance(value, Mapping) and name != "source.geo.location":
            yield from flatten(value, name)
        else:
            yield name, value


def assert_valid(document: dict[str, Any], event: Mapping[str, Any]) -> None:
    errors = ecs_errors(document)
    assert errors == [], "\n".join(errors)
    assert document["ecs"]["version"] == ECS_VERSION
    assert document["event"]["id"] == event["id"]
    assert document["event"]["action"] == event["type"]
    assert document["openai"]["audit"]["type"] == event["type"]
    assert document["@timestamp"] == "2026-01-01T00:00:00.000Z"
    assert orjson.loads(document["event"]["original"]) == event
    orjson.dumps(document)  # what the sinks do with it


# --- the catalogue itself -------------------------------------------------------------------------


def test_catalogue_is_ecs_9_4_0_with_all_its_fields() -> None:
    cat = catalogue()
    assert cat.version == ECS_VERSION
    assert len(cat.fields) == 2605
    assert cat.fields["source.as.number"] == "long"
    assert cat.fields["source.geo.location"] == "geo_point"
    assert "related.user" in cat.arrays and "event.category" in cat.arrays
    assert "tls.client.ja4" not in cat.fields
    assert cat.expected["iam"] >= {"admin", "change", "creation", "deletion", "group", "info", "user"}


@pytest.mark.parametrize("event_type", list(MAPPING))
def test_table_ecs_columns_are_allowed_and_expected_pairs(event_type: str) -> None:
    cat, row = catalogue(), MAPPING[event_type]
    assert set(row.ecs_category) <= cat.allowed["event.category"]
    assert set(row.ecs_type) <= cat.allowed["event.type"]
    for value in row.ecs_type:
        assert any(value in cat.expected[c] for c in row.ecs_category), (value, row.ecs_category)


# --- every type × every actor shape ---------------------------------------------------------------


@pytest.mark.parametrize(("event_type", "shape"), MATRIX, ids=[f"{t}-{s}" for t, s in MATRIX])
def test_catalogue_type_validates_with_its_table_categorization(event_type: str, shape: str) -> None:
    event = make_event(event_type, ACTOR_SHAPES[shape])

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    row = MAPPING[event_type]
    assert document["event"]["category"] == list(row.ecs_category)
    assert document["event"]["type"] == list(row.ecs_type)
    assert document["event"]["kind"] == "event"
    assert document["event"]["outcome"] == ("failure" if event_type.endswith(".failed") else "success")
    assert document["event"]["dataset"] == "openai.audit"
    assert document["organization"]["id"] == ORG
    assert document["openai"]["audit"]["project"] == {"id": "proj_abc", "name": "Production"}
    for name, _ in flatten(document):
        assert name.startswith("openai.") or name in catalogue().fields, name


def test_the_matrix_covers_every_catalogue_type_and_shape() -> None:
    assert set(MAPPING) == set(EVENT_TYPES) and len(EVENT_TYPES) == 145
    assert len(MATRIX) == 145 * len(ACTOR_SHAPES)


@pytest.mark.parametrize("event_type", list(MAPPING))
def test_catalogue_type_validates_without_org_id_or_project(event_type: str) -> None:
    event = make_event(event_type, SESSION_IPV4)
    del event["project"]

    document = EcsNormalizer().normalize(event)

    assert_valid(document, event)
    assert "organization" not in document
    assert "project" not in document["openai"]["audit"]


@pytest.mark.parametrize("event_type", PRINCIPAL_TYPES)
@pytest.mark.parametrize("shape", list(ACTOR_SHAPES))
def test_role_assignment_to_a_group_names_the_group(event_type: str, shape: str) -> None:
    payload = sample_payload(event_type)
    payload.update(principal_type="group", principal_id="group_01")
    event = make_event(event_type, ACTOR_SHAPES[shape], payload)

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert document["group"] == {"id": "group_01"}
    assert document["event"]["type"] == ["group", "change"]
    assert "target" not in document.get("user", {})


@pytest.mark.parametrize("event_type", UNKNOWN_TYPES)
@pytest.mark.parametrize("shape", list(ACTOR_SHAPES))
def test_unknown_type_is_configuration_info(event_type: str, shape: str) -> None:
    event = make_event(event_type, ACTOR_SHAPES[shape])

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert document["event"]["category"] == ["configuration"]
    assert document["event"]["type"] == ["info"]
    assert document["event"]["outcome"] == ("failure" if event_type.endswith(".failed") else "success")
    assert document["openai"]["audit"]["details"] == event[event_type]


# --- scenarios --------------------------------------------------------------------------------------


def test_login_failed_is_an_authentication_failure_with_its_error() -> None:
    event = make_event("login.failed", SESSION_IPV4)

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert document["event"]["category"] == ["authentication"]
    assert document["event"]["type"] == ["start"]
    assert document["event"]["outcome"] == "failure"
    assert document["error"] == {"code": "invalid_credentials"}
    assert document["event"]["reason"] == "Invalid email or password."


def test_login_succeeded_is_authentication_and_session_start() -> None:
    document = NORMALIZER.normalize(make_event("login.succeeded", SESSION_IPV4))
    assert document["event"]["category"] == ["authentication", "session"]
    assert document["event"]["outcome"] == "success"
    assert "error" not in document and "reason" not in document["event"]


def test_session_actor_geo_is_cast_from_strings() -> None:
    document = NORMALIZER.normalize(make_event("api_key.created", SESSION_IPV4))

    assert document["source"] == {
        "ip": "203.0.113.10",
        "as": {"number": 1234},
        "geo": {
            "city_name": "San Francisco",
            "country_iso_code": "US",
            "region_name": "California",
            "region_iso_code": "US-CA",
            "location": {"lat": 37.7749, "lon": -122.4194},
        },
    }
    assert document["user"] == {"id": "user-abc123", "email": "alice@example.com", "domain": "example.com"}
    assert document["user_agent"] == {"original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}
    assert document["tls"] == {"client": {"ja3": "a497151ce4338a12c4418c44d375173e"}}
    assert document["openai"]["audit"]["actor"] == {
        "type": "session",
        "session": {"ja4": "q13d0313h3_55b375c5d22e_c7319ce65786"},
    }
    assert document["related"] == {"ip": ["203.0.113.10"], "user": ["user-abc123", "alice@example.com"]}


def test_session_actor_geo_given_as_numbers_and_ipv6() -> None:
    document = NORMALIZER.normalize(make_event("project.created", SESSION_IPV6))

    assert document["source"]["ip"] == "2001:db8:85a3::8a2e:370:7334"
    assert document["source"]["as"] == {"number": 55256}
    assert document["source"]["geo"]["location"] == {"lat": 19.07283, "lon": 72.88261}
    assert document["source"]["geo"]["region_iso_code"] == "IN-MH"
    assert document["user"]["domain"] == "example.co.uk"


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        ({"asn": "AS13335", "latitude": "91", "longitude": "0"}, {"as": {"number": 13335}}),
        ({"asn": "not a number", "latitude": "x", "longitude": "1"}, {}),
        ({"asn": str(2**40), "latitude": "1e309", "longitude": 2}, {}),
        (
            {"region_code": "US-CA", "country": "US"},
            {"geo": {"region_iso_code": "US-CA", "country_iso_code": "US"}},
        ),
        ({"region_code": "CA"}, {"geo": {"region_iso_code": "CA"}}),
        ({"city": 7, "country": ["US"], "region": {}}, {}),
    ],
)
def test_bad_or_partial_geo_is_dropped_not_passed_through(
    details: dict[str, Any], expected: dict[str, Any]
) -> None:
    actor = copy.deepcopy(SESSION_IPV4)
    actor["session"]["ip_address_details"] = details
    event = make_event("project.created", actor)

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert {k: v for k, v in document["source"].items() if k != "ip"} == expected


@pytest.mark.parametrize("address", ["999.1.1.1", "fe80::1%eth0", "", 42, "2001:db8::1/64"])
def test_an_invalid_source_ip_is_left_out(address: Any) -> None:
    actor = copy.deepcopy(SESSION_IPV4)
    actor["session"]["ip_address"] = address
    event = make_event("project.created", actor)

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert "ip" not in document["source"]
    assert "ip" not in document["related"]


def test_service_account_api_key_is_the_user_and_the_service() -> None:
    event = make_event("project.updated", API_KEY_SERVICE_ACCOUNT)

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert document["user"] == {"id": "svc_acct_01"}
    assert document["service"] == {"id": "svc_acct_01"}
    assert document["openai"]["audit"]["actor"] == {
        "type": "api_key",
        "api_key": {"id": "key_tracking_02", "type": "service_account"},
    }
    assert document["related"] == {"user": ["svc_acct_01"]}
    assert "source" not in document and "user_agent" not in document


def test_user_api_key_names_the_user_and_the_key() -> None:
    document = NORMALIZER.normalize(make_event("project.updated", API_KEY_USER))
    assert document["user"] == {"id": "user-abc123", "email": "alice@example.com", "domain": "example.com"}
    assert document["openai"]["audit"]["actor"]["api_key"] == {"id": "key_tracking_01", "type": "user"}
    assert "service" not in document


@pytest.mark.parametrize("shape", ["actor_null", "actor_absent"])
def test_null_or_absent_actor_names_no_user(shape: str) -> None:
    event = make_event("project.archived", ACTOR_SHAPES[shape])

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert "user" not in document and "source" not in document and "related" not in document
    assert "actor" not in document["openai"]["audit"]


@pytest.mark.parametrize(
    "actor", ["a string", ["list"], {"type": "robot"}, {"type": "robot", "robot": {"id": 1}}]
)
def test_an_unreadable_actor_is_kept_under_unmapped(actor: Any) -> None:
    event = make_event("project.created", actor)

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert document["openai"]["audit"]["unmapped"]["actor"] == actor
    assert "user" not in document


def test_an_actor_without_type_but_with_one_shape_is_read() -> None:
    actor = {"api_key": copy.deepcopy(API_KEY_SERVICE_ACCOUNT["api_key"])}
    document = NORMALIZER.normalize(make_event("project.created", actor))
    assert document["user"] == {"id": "svc_acct_01"}


@pytest.mark.parametrize(
    ("event_type", "user_fields", "related_extra"),
    [
        ("user.added", {"target": {"id": "user_01", "roles": ["member"]}}, ["user_01"]),
        ("user.updated", {"target": {"id": "user_01"}, "changes": {"roles": ["member"]}}, ["user_01"]),
        ("user.deleted", {"target": {"id": "user_01"}}, ["user_01"]),
        ("service_account.created", {"target": {"id": "service_account_01", "roles": ["member"]}}, None),
        (
            "tenant.user.added",
            {"target": {"id": "user-tgt001", "email": "dave@example.com", "roles": ["member"]}},
            None,
        ),
        ("tenant.group.member.added", {"target": {"id": "user-tgt001"}}, ["user-tgt001"]),
        ("role.assignment.created", {"target": {"id": "user-xyz789"}}, ["user-xyz789"]),
        (
            "tenant.role_assignment.created",
            {"target": {"id": "user-tgt001"}, "changes": {"roles": ["role_01"]}},
            None,
        ),
        ("tenant.role_assignment.deleted", {"target": {"id": "user-tgt001", "roles": ["role_01"]}}, None),
        ("invite.sent", {"target": {"email": "carol@example.com"}}, ["carol@example.com"]),
        ("tenant.user.looked_up", {"target": {"id": "user_01"}}, None),
    ],
)
def test_target_user_and_role_changes(
    event_type: str, user_fields: dict[str, Any], related_extra: list[str] | None
) -> None:
    event = make_event(event_type, None)

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert document["user"] == user_fields
    if related_extra is not None:
        assert document["related"]["user"] == related_extra


@pytest.mark.parametrize(
    ("event_type", "group"),
    [
        ("group.created", {"id": "group_01", "name": "Security Engineering"}),
        ("group.updated", {"id": "group_01"}),  # the new name stays in details.changes_requested
        ("tenant.group.created", {"id": "group_01", "name": "Security Engineering"}),
        ("tenant.group.member.removed", {"id": "group_01"}),
    ],
)
def test_group_events_name_the_group(event_type: str, group: dict[str, Any]) -> None:
    event = make_event(event_type, API_KEY_USER)

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert document["group"] == group


def test_a_known_type_without_its_target_keeps_its_categorization() -> None:
    event = make_event("tenant.group.member.added", SESSION_IPV4, payload={"note": "no ids"})

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert document["event"]["category"] == ["iam"] and document["event"]["type"] == ["group", "change"]
    assert "group" not in document and "target" not in document["user"]


def test_dotted_payload_keys_never_become_field_names() -> None:
    payload = {"id": "key_1", "data": {"scopes.v2": ["a"], "a.b": {"c.d": 1}}}
    event = make_event("api_key.created", payload=payload)
    event["tenant.metadata.updated"] = {"stray": True}  # another type's payload key
    event["source.system"] = "adminapi"

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    audit = document["openai"]["audit"]
    assert audit["details"] == {"id": "key_1", "data": {"scopes_v2": ["a"], "a_b": {"c_d": 1}}}
    assert audit["unmapped"] == {"tenant_metadata_updated": {"stray": True}, "source_system": "adminapi"}
    assert all("." not in name.split(".")[-1] for name, _ in flatten(document))


def test_underscored_payload_key_is_found() -> None:
    event = make_event("login.failed", SESSION_IPV4)
    event["login_failed"] = event.pop("login.failed")

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert document["error"] == {"code": "invalid_credentials"}
    assert document["openai"]["audit"]["details"]["error_code"] == "invalid_credentials"
    assert "unmapped" not in document["openai"]["audit"]


@pytest.mark.parametrize("payload", ["text", 7, [1, 2], True])
def test_a_payload_that_is_not_an_object_goes_to_unmapped(payload: Any) -> None:
    event = make_event("rate_limit.updated", payload=payload)

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert "details" not in document["openai"]["audit"]
    assert document["openai"]["audit"]["unmapped"] == {"rate_limit_updated": payload}


def test_integers_beyond_64_bits_become_strings() -> None:
    huge = 2**70
    payload = {"id": huge, "limits": {"max": huge, "min": -huge}, "ok": 2**63 - 1}
    actor = copy.deepcopy(SESSION_IPV4)
    actor["session"]["ip_address_details"]["asn"] = huge
    event = make_event("rate_limit.updated", actor, payload)

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    details = document["openai"]["audit"]["details"]
    assert details == {"id": str(huge), "limits": {"max": str(huge), "min": str(-huge)}, "ok": 2**63 - 1}
    assert "as" not in document["source"]
    assert json.loads(document["event"]["original"]) == event, "event.original keeps the exact number"


@pytest.mark.parametrize(
    ("effective_at", "timestamp"),
    [
        (1767225600, "2026-01-01T00:00:00.000Z"),
        (1767225600.25, "2026-01-01T00:00:00.250Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (-86400, "1969-12-31T00:00:00.000Z"),
        ("1767225600", "1970-01-01T00:00:00.000Z"),
        (None, "1970-01-01T00:00:00.000Z"),
        (True, "1970-01-01T00:00:00.000Z"),
        (2**70, "1970-01-01T00:00:00.000Z"),
        (float("nan"), "1970-01-01T00:00:00.000Z"),
        (1e300, "1970-01-01T00:00:00.000Z"),
    ],
)
def test_timestamp_is_iso_8601_utc(effective_at: Any, timestamp: str) -> None:
    event = make_event("project.created", effective_at=effective_at)

    document = NORMALIZER.normalize(event)

    assert document["@timestamp"] == timestamp
    assert ecs_errors(document) == []


def test_empty_values_are_removed_everywhere() -> None:
    payload = {"id": "key_1", "name": "", "data": {"scopes": [], "x": None, "y": {}}}
    actor = {
        "type": "session",
        "session": {"user": {"id": "u", "email": ""}, "ip_address": "", "user_agent": None},
    }
    event = make_event("api_key.created", actor, payload, project=None)

    document = NORMALIZER.normalize(event)

    assert_valid(document, event)
    assert document["openai"]["audit"]["details"] == {"id": "key_1"}
    assert document["user"] == {"id": "u"}
    assert "source" not in document and "user_agent" not in document and "tls" not in document


def test_keep_original_can_be_turned_off() -> None:
    document = EcsNormalizer(org_id=ORG, keep_original=False).normalize(make_event("project.created"))
    assert "original" not in document["event"]
    assert ecs_errors(document) == []


def test_make_normalizer_builds_the_ecs_normalizer() -> None:
    normalizer = make_normalizer("ecs", org_id=ORG)
    assert isinstance(normalizer, EcsNormalizer) and normalizer.format == "ecs"
    assert normalizer.normalize(make_event("project.created"))["organization"] == {"id": ORG}


class ExplodingEvent(Mapping[str, Any]):
    """An event whose ``items()`` fails: simulates a bug deep in the mapping."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def items(self) -> Any:
        raise RuntimeError("boom")


def test_a_mapping_bug_falls_back_to_the_envelope_document(caplog: pytest.LogCaptureFixture) -> None:
    event = make_event("api_key.created")

    document = NORMALIZER.normalize(ExplodingEvent(event))

    assert ecs_errors(document) == []
    assert document["event"]["id"] == event["id"]
    assert document["event"]["category"] == ["configuration"]
    assert json.loads(document["event"]["original"]) == event
    assert "ECS mapping failed" in caplog.text


@pytest.mark.parametrize("shape", list(ACTOR_SHAPES))
def test_normalizing_does_not_mutate_the_event(shape: str) -> None:
    event = make_event("role.assignment.created", ACTOR_SHAPES[shape])
    before = json.dumps(event, sort_keys=True)
    NORMALIZER.normalize(event)
    assert json.dumps(event, sort_keys=True) == before


def test_documents_do_not_share_mutable_parts() -> None:
    first = NORMALIZER.normalize(make_event("project.created", SESSION_IPV4))
    first["event"]["category"].append("x")
    first["observer"]["vendor"] = "changed"
    second = NORMALIZER.normalize(make_event("project.created", SESSION_IPV4))
    assert second["event"]["category"] == ["configuration"]
    assert second["observer"]["vendor"] == "OpenAI"


# --- the checker rejects what it must ---------------------------------------------------------------


def _valid_document() -> dict[str, Any]:
    document = NORMALIZER.normalize(make_event("login.succeeded", SESSION_IPV4))
    assert ecs_errors(document) == []
    return document


def _broken(mutate: Any) -> dict[str, Any]:
    document = _valid_document()
    mutate(document)
    return document


BROKEN: dict[str, tuple[Any, str]] = {
    # the 8 broken documents of normalization.md §4.3
    "region_code is not ECS": (
        lambda d: d["source"]["geo"].update(region_code="CA"),
        "source.geo.region_code: not an ECS 9.4.0 field",
    ),
    "as.number as a string": (
        lambda d: d["source"]["as"].update(number="55256"),
        "source.as.number: not an integer",
    ),
    "bad IP": (lambda d: d["source"].update(ip="203.0.113.999"), "source.ip: not an IP address"),
    "iam with start": (
        lambda d: d["event"].update(category=["iam"], type=["start"]),
        "event.type: 'start' is not expected",
    ),
    "outcome succeeded": (
        lambda d: d["event"].update(outcome="succeeded"),
        "event.outcome: 'succeeded' is not an allowed value",
    ),
    "category not an array": (
        lambda d: d["event"].update(category="authentication"),
        "event.category: must be an array",
    ),
    "tls.client.ja4": (
        lambda d: d["tls"]["client"].update(ja4="t13d1516h2_8daaf6152771_02713d6af862"),
        "tls.client.ja4: not an ECS 9.4.0 field",
    ),
    "@timestamp as epoch int": (
        lambda d: d.update({"@timestamp": 1767225600}),
        "@timestamp: not an ISO-8601",
    ),
    # and the connector's own rules
    "dotted key": (lambda d: d.update({"user.name": "x"}), "dotted key"),
    "dotted key under openai": (
        lambda d: d["openai"]["audit"].update({"a.b": 1}),
        "dotted or non-string key",
    ),
    "null value": (lambda d: d["user"].update(name=None), "user.name: null value"),
    "no @timestamp": (lambda d: d.pop("@timestamp"), "@timestamp: missing"),
    "no ecs.version": (lambda d: d.pop("ecs"), "ecs.version: None"),
    "unknown kind": (
        lambda d: d["event"].update(kind="audit"),
        "event.kind: 'audit' is not an allowed value",
    ),
    "geo_point as a string": (
        lambda d: d["source"]["geo"].update(location="37.7,-122.4"),
        "source.geo.location: not a {lat, lon} object",
    ),
    "array on a scalar field": (lambda d: d["user"].update(id=["a", "b"]), "user.id: an array"),
    "related.ip not an array": (
        lambda d: d["related"].update(ip="203.0.113.10"),
        "related.ip: must be an array",
    ),
    "bool as long": (lambda d: d["source"]["as"].update(number=True), "source.as.number: not an integer"),
    "field under a leaf": (lambda d: d.update(user="alice"), "user: not an ECS 9.4.0 field"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_the_checker_rejects_a_broken_document(case: str) -> None:
    mutate, expected = BROKEN[case]
    errors = ecs_errors(_broken(mutate))
    assert any(expected in error for error in errors), errors
