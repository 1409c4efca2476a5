"""Scenario tests for the OCSF mapping rules: principals, degrade, unknown types, casts, status."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from connector.normalize import make_normalizer
from connector.normalize.ocsf import OcsfNormalizer, ocsf_class_name
from connector.normalize.raw import RawNormalizer
from tests.unit.normalize_samples import (
    API_KEY_SERVICE_ACCOUNT,
    API_KEY_USER,
    SESSION_IPV4,
    make_event,
)
from tests.unit.ocsf_validation import ocsf_errors

NORMALIZER = OcsfNormalizer(org_id="org-abc123")


def normalize(event: dict[str, Any]) -> dict[str, Any]:
    document = NORMALIZER.normalize(event)
    assert ocsf_errors(document) == []
    return document


def session_with(**details: Any) -> dict[str, Any]:
    actor = copy.deepcopy(SESSION_IPV4)
    actor["session"]["ip_address_details"] = details
    return actor


# --- role assignments (footnote 1) -------------------------------------------------------


def test_role_assignment_with_group_principal_becomes_group_management() -> None:
    payload = {
        "id": "ra_1",
        "principal_id": "group_eng",
        "principal_type": "group",
        "resource_id": "proj_1",
        "resource_type": "project",
    }
    doc = normalize(make_event("role.assignment.deleted", payload=payload))

    assert (doc["class_uid"], doc["activity_id"], doc["type_uid"]) == (3006, 2, 300602)
    assert doc["group"] == {"uid": "group_eng"}
    assert doc["privileges"] == ["ra_1"]
    assert doc["resource"] == {"uid": "proj_1", "type": "project"}
    assert "user" not in doc


def test_role_assignment_with_user_principal_is_user_access_management() -> None:
    payload = {
        "id": "ra_1",
        "principal_id": "user-1",
        "principal_type": "user",
        "role_id": "role_reader",
        "resource_id": "proj_1",
        "resource_type": "project",
    }
    doc = normalize(make_event("tenant.role_assignment.created", payload=payload))

    assert (doc["class_uid"], doc["type_uid"]) == (3005, 300501)
    assert doc["user"] == {"uid": "user-1", "type_id": 1, "type": "User"}
    assert doc["privileges"] == ["role_reader"]
    assert doc["resources"] == [{"uid": "proj_1", "type": "project"}]


def test_role_assignment_to_a_service_account_marks_the_user_as_service() -> None:
    payload = {"id": "ra_1", "principal_id": "svc_1", "principal_type": "service_account"}
    doc = normalize(make_event("role.assignment.created", payload=payload))

    assert doc["class_uid"] == 3005
    assert doc["user"]["type_id"] == 4


# --- degrade, don't drop (§2.6 rule 1) ------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "payload", "activity", "entity_type_id"),
    [
        ("user.added", {"data": {"role": "owner"}}, 1, 2),
        ("user.updated", {"id": "user-1", "changes_requested": {}}, 3, 2),  # no role
        ("service_account.deleted", {}, 4, 2),
        ("group.deleted", None, 4, 3),
        ("tenant.group.member.added", {"group_id": "group_1"}, 3, 3),  # no member
        ("tenant.group.member.removed", {"user_id": "user-1"}, 3, 3),  # no group
        ("role.assignment.created", {"id": "ra_1", "principal_type": "user"}, 1, 99),
        ("tenant.user.removed", {"note": "no id"}, 4, 2),
    ],
)
def test_missing_target_degrades_to_entity_management(
    event_type: str, payload: Any, activity: int, entity_type_id: int
) -> None:
    doc = normalize(make_event(event_type, payload=payload))

    assert (doc["class_uid"], doc["activity_id"]) == (3004, activity)
    assert doc["entity"]["type_id"] == entity_type_id
    for leftover in ("user", "group", "privileges", "resources", "resource"):
        assert leftover not in doc


@pytest.mark.parametrize("actor", [None, "absent"])
def test_login_without_an_actor_user_degrades_but_keeps_the_logon_label(actor: Any) -> None:
    event = make_event("login.succeeded", actor=None)
    if actor == "absent":
        del event["actor"]

    doc = normalize(event)

    assert (doc["class_uid"], doc["activity_id"], doc["type_uid"]) == (3004, 99, 300499)
    assert doc["activity_name"] == "Logon"
    assert doc["entity"]["type"] == "Session"


# --- unknown types (§2.6 rule 2) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "activity_id", "activity_name", "prefix"),
    [
        ("widget.created", 1, "Create", "widget"),
        ("tenant.widget.provisioned", 1, "Create", "tenant.widget"),
        ("tenant.widget.resolved", 3, "Update", "tenant.widget"),
        ("widget.removed", 4, "Delete", "widget"),
        ("widget.enabled", 8, "Enable", "widget"),
        ("widget.deactivated", 9, "Disable", "widget"),
        ("widget.looked_up", 2, "Read", "widget"),
        ("widget.frobnicated", 99, "frobnicated", "widget"),
        ("standalone", 99, "standalone", "standalone"),
    ],
)
def test_unknown_type_maps_generically_from_its_verb(
    event_type: str, activity_id: int, activity_name: str, prefix: str
) -> None:
    doc = normalize(make_event(event_type, payload={"id": "w_1", "size": 3}))

    assert doc["class_uid"] == 3004
    assert doc["activity_id"] == activity_id
    assert doc["activity_name"] == activity_name
    assert doc["type_uid"] == 300400 + activity_id
    assert doc["entity"]["name"] == prefix and doc["entity"]["type_id"] == 99
    assert doc["entity"]["uid"] == "w_1"
    assert doc["entity"]["data"] == {"id": "w_1", "size": 3}


# --- actor, geo and casts ------------------------------------------------------------------


def test_string_asn_and_coordinates_are_cast() -> None:
    doc = normalize(make_event("api_key.created"))
    src = doc["src_endpoint"]
    assert src["autonomous_system"] == {"number": 1234}
    assert src["location"]["lat"] == pytest.approx(37.7749)
    assert src["location"]["long"] == pytest.approx(-122.4194)
    assert src["fingerprints"][0] == {
        "algorithm_id": 99,
        "algorithm": "JA3",
        "value": "a497151ce4338a12c4418c44d375173e",
    }
    assert doc["http_request"]["user_agent"].startswith("Mozilla/5.0")


@pytest.mark.parametrize(
    "details",
    [
        {"city": "Paris", "asn": "abc", "latitude": "north", "longitude": "west"},
        {"city": "Paris", "asn": "", "latitude": None, "longitude": []},
        {"city": "Paris", "asn": {"n": 1}, "latitude": "91", "longitude": "nan"},
        {"city": "Paris", "asn": -5, "latitude": True, "longitude": "1e999"},
        {"city": "Paris", "asn": 2**80, "latitude": "12.5", "longitude": "inf"},
        {"city": "Paris", "asn": "²", "latitude": "١٢", "longitude": "0x10"},
    ],
)
def test_garbage_asn_and_coordinates_are_dropped_not_raised(details: dict[str, Any]) -> None:
    doc = normalize(make_event("api_key.created", actor=session_with(**details)))
    src = doc["src_endpoint"]
    assert src["location"] == {"city": "Paris"}
    assert "autonomous_system" not in src


def test_location_needs_a_place_not_just_coordinates() -> None:
    actor = session_with(latitude="1.5", longitude="2.5", asn="AS64500")
    doc = normalize(make_event("api_key.created", actor=actor))
    assert "location" not in doc["src_endpoint"]
    assert doc["src_endpoint"]["autonomous_system"] == {"number": 64500}


@pytest.mark.parametrize("ip", ["999.1.1.1", "not-an-ip", "", 12345, "1.2.3.4/24"])
def test_invalid_ip_leaves_no_src_endpoint(ip: Any) -> None:
    actor = copy.deepcopy(SESSION_IPV4)
    actor["session"]["ip_address"] = ip
    doc = normalize(make_event("api_key.created", actor=actor))
    assert "src_endpoint" not in doc
    assert doc["actor"]["user"]["uid"] == "user-abc123"


def test_invalid_email_is_dropped_and_an_email_only_user_is_named_by_it() -> None:
    actor = copy.deepcopy(SESSION_IPV4)
    actor["session"]["user"] = {"id": "user-1", "email": "not an email"}
    user = normalize(make_event("api_key.created", actor=actor))["actor"]["user"]
    assert "email_addr" not in user and user["name"] == "not an email"

    actor["session"]["user"] = {"id": "user-1", "email": "søren@example.com"}
    doc = normalize(make_event("api_key.created", actor=actor))
    assert doc["actor"]["user"]["name"] == "søren@example.com" and not ocsf_errors(doc)

    actor["session"]["user"] = {"email": "mallory@example.com"}
    doc = normalize(make_event("login.failed", actor=actor))
    assert doc["class_uid"] == 3002
    assert doc["user"]["name"] == "mallory@example.com"


def test_api_key_actor_carries_the_key_as_programmatic_credential() -> None:
    user_doc = normalize(make_event("project.created", actor=API_KEY_USER))
    assert user_doc["actor"]["user"]["programmatic_credentials"] == [
        {"uid": "key_tracking_01", "type": "API Key"}
    ]
    svc_doc = normalize(make_event("project.created", actor=API_KEY_SERVICE_ACCOUNT))
    assert svc_doc["actor"]["user"]["uid"] == "svc_acct_01"
    assert (svc_doc["actor"]["user"]["type_id"], svc_doc["actor"]["user"]["type"]) == (4, "Service")


def test_null_actor_is_openai_and_absent_actor_is_omitted() -> None:
    assert normalize(make_event("project.created", actor=None))["actor"] == {"app_name": "OpenAI"}
    event = make_event("project.created")
    del event["actor"]
    assert "actor" not in normalize(event)


@pytest.mark.parametrize(
    "actor",
    [{"type": "workload", "workload": {"id": "w"}}, "system", [1, 2], {"type": "api_key"}],
)
def test_unreadable_actor_is_kept_in_unmapped(actor: Any) -> None:
    doc = normalize(make_event("project.created", actor=actor))
    assert "actor" not in doc or doc["actor"] == {}
    if actor != {"type": "api_key"}:
        assert "actor" in doc["unmapped"]


def test_api_key_without_an_owner_is_identified_by_the_key() -> None:
    actor = {"type": "api_key", "api_key": {"id": "key_9", "type": "user"}}
    assert normalize(make_event("project.created", actor=actor))["actor"] == {"app_uid": "key_9"}


# --- envelope, status, project -------------------------------------------------------------


def test_login_failed_is_a_failed_logon_with_the_error() -> None:
    doc = normalize(make_event("login.failed"))
    assert (doc["class_uid"], doc["type_uid"]) == (3002, 300201)
    assert (doc["status_id"], doc["status"]) == (2, "Failure")
    assert doc["status_code"] == "invalid_credentials"
    assert doc["status_detail"] == "Invalid email or password."
    assert doc["user"]["uid"] == "user-abc123"
    assert doc["service"] == {"name": "OpenAI API Platform"}


def test_success_events_have_status_success_and_severity_informational() -> None:
    doc = normalize(make_event("login.succeeded"))
    assert (doc["status_id"], doc["severity_id"], doc["category_uid"]) == (1, 1, 3)
    assert "status_code" not in doc


def test_project_becomes_cloud_project_and_its_name_stays_in_unmapped() -> None:
    doc = normalize(make_event("api_key.deleted"))
    assert doc["cloud"]["project_uid"] == "proj_abc"
    assert doc["unmapped"]["project"] == {"id": "proj_abc", "name": "Production"}


def test_absent_project_leaves_only_the_provider() -> None:
    event = make_event("api_key.deleted")
    del event["project"]
    doc = OcsfNormalizer().normalize(event)
    assert ocsf_errors(doc) == []
    assert doc["cloud"] == {"provider": "OpenAI"}
    assert "project" not in doc.get("unmapped", {})


def test_underscored_payload_key_is_read_like_the_dotted_one() -> None:
    event = make_event("login.failed", payload=None)
    del event["login.failed"]
    event["login_failed"] = {"error_code": "mfa_required", "error_message": "MFA needed"}
    doc = normalize(event)
    assert doc["status_code"] == "mfa_required"
    assert "login_failed" not in doc.get("unmapped", {})


def test_make_normalizer_builds_each_format() -> None:
    assert make_normalizer("ocsf", org_id="org-1").format == "ocsf"
    assert make_normalizer("raw").format == "raw"
    with pytest.raises(ValueError, match="unknown output format"):
        make_normalizer("cef")


def test_raw_normalizer_returns_the_event_unchanged() -> None:
    event = make_event("api_key.created")
    doc = RawNormalizer().normalize(event)
    assert doc == event and doc is not event
    assert doc["id"] == event["id"]


def test_ocsf_class_name_captions() -> None:
    assert ocsf_class_name(3004) == "Entity Management"
    assert ocsf_class_name(3002) == "Authentication"
    assert ocsf_class_name(4001) == "Other"


@pytest.mark.parametrize(
    "ip", ["192.0.2.1", "::1", "2001:db8::", "fe80::1%eth0", "::ffff:192.0.2.1", "2001:db8:0:0:0:0:2:1"]
)
def test_valid_ipv4_and_ipv6_forms_are_kept(ip: str) -> None:
    actor = copy.deepcopy(SESSION_IPV4)
    actor["session"]["ip_address"] = ip
    assert normalize(make_event("api_key.created", actor=actor))["src_endpoint"]["ip"] == ip


# --- entity details ------------------------------------------------------------------------


def test_a_single_listed_certificate_names_the_entity() -> None:
    payload = {"certificates": [{"id": "cert_1", "name": "prod-mtls"}]}
    entity = normalize(make_event("certificates.activated", payload=payload))["entity"]
    assert (entity["uid"], entity["name"], entity["type"]) == ("cert_1", "prod-mtls", "Certificate")


def test_several_listed_configs_leave_the_entity_named_by_its_type() -> None:
    payload = {"configs": [{"id": "cfg_1"}, {"id": "cfg_2"}]}
    entity = normalize(make_event("ip_allowlist.config.deactivated", payload=payload))["entity"]
    assert (entity["name"], entity["type_id"]) == ("IP Allowlist", 7)
    assert "uid" not in entity
    assert entity["data"] == payload


def test_organization_and_policy_entities_carry_their_typed_objects() -> None:
    org = normalize(make_event("organization.updated", payload={"id": "org-9"}))["entity"]
    assert (org["type_id"], org["org"]) == (4, {"uid": "org-9"})
    policy = normalize(make_event("tenant.policy.created", payload={"id": "pol_1", "name": "MFA"}))
    assert policy["entity"]["policy"] == {"uid": "pol_1", "name": "MFA"}


def test_group_created_names_the_group() -> None:
    doc = normalize(make_event("group.created", payload={"id": "g_1", "data": {"group_name": "SecEng"}}))
    assert (doc["class_uid"], doc["type_uid"]) == (3006, 300606)
    assert doc["group"] == {"uid": "g_1", "name": "SecEng"}


def test_user_role_change_is_a_privilege_assignment() -> None:
    payload = {"id": "user-7", "changes_requested": {"role": "owner"}}
    doc = normalize(make_event("user.updated", payload=payload))
    assert (doc["class_uid"], doc["type_uid"]) == (3005, 300501)
    assert doc["user"]["uid"] == "user-7" and doc["privileges"] == ["owner"]
    assert doc["unmapped"]["payload"] == payload


def test_service_account_target_is_typed_service() -> None:
    doc = normalize(
        make_event("service_account.created", payload={"id": "svc_9", "data": {"role": "member"}})
    )
    assert (doc["class_uid"], doc["type_uid"]) == (3001, 300101)
    assert (doc["user"]["uid"], doc["user"]["type_id"]) == ("svc_9", 4)
