"""The simulator's event generator: coverage of types, actor shapes and awkward values."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from typing import Any

import pytest

from connector.simulator import (
    ACTOR_SHAPES,
    EVENT_TYPES,
    TENANT_SCOPED_TYPES,
    generate_events,
    is_tenant_scoped,
)
from connector.simulator.catalogue import payload_fields

START = 1_760_000_000
END = START + 86_400


def actor_shape(event: dict[str, Any]) -> str:
    if "actor" not in event:
        return "absent"
    actor = event["actor"]
    if actor is None:
        return "null"
    if actor["type"] == "session":
        ip = ipaddress.ip_address(actor["session"]["ip_address"])
        return f"session_ipv{ip.version}"
    key = actor["api_key"]
    return "user_api_key" if key["type"] == "user" else "service_account_api_key"


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return generate_events(2000, start=START, end=END, seed=11)


def test_catalogue_has_145_types_and_88_tenant_scoped() -> None:
    assert len(EVENT_TYPES) == 145
    assert len(TENANT_SCOPED_TYPES) == 88
    assert is_tenant_scoped("role.bound_to_resource")
    assert is_tenant_scoped("tenant.user.added")
    assert not is_tenant_scoped("api_key.created")


def test_exactly_145_events_cover_every_type_once() -> None:
    events = generate_events(145, start=START, end=END, seed=3)
    assert Counter(e["type"] for e in events) == Counter(EVENT_TYPES)


def test_every_actor_shape_appears(events: list[dict[str, Any]]) -> None:
    assert {actor_shape(e) for e in events} == set(ACTOR_SHAPES)
    assert {actor_shape(e) for e in generate_events(145, start=START, end=END)} == set(ACTOR_SHAPES)


def test_ids_are_unique_and_look_like_audit_log_ids(events: list[dict[str, Any]]) -> None:
    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"audit_log-[0-9a-f]{32}", i) for i in ids)


def test_same_seed_same_events_other_seed_other_events() -> None:
    a = generate_events(300, start=START, end=END, seed=5)
    b = generate_events(300, start=START, end=END, seed=5)
    c = generate_events(300, start=START, end=END, seed=6)
    assert a == b
    assert {e["id"] for e in a}.isdisjoint(e["id"] for e in c)


def test_effective_at_is_whole_seconds_in_range_and_seconds_are_shared(
    events: list[dict[str, Any]],
) -> None:
    stamps = [e["effective_at"] for e in events]
    assert all(type(s) is int and START <= s < END for s in stamps)
    assert max(Counter(stamps).values()) >= 3
    small = generate_events(10, start=START, end=START + 10**6)
    assert max(Counter(e["effective_at"] for e in small).values()) >= 2


def test_session_enrichment_has_string_geo_ipv6_and_fingerprints(
    events: list[dict[str, Any]],
) -> None:
    sessions = [e["actor"]["session"] for e in events if actor_shape(e).startswith("session")]
    enriched = [s for s in sessions if "ip_address_details" in s]
    assert enriched and len(enriched) < len(sessions)  # both shapes occur
    for s in enriched:
        details = s["ip_address_details"]
        assert all(isinstance(details[k], str) for k in ("asn", "latitude", "longitude"))
        assert -90 <= float(details["latitude"]) <= 90 and int(details["asn"]) > 0
        assert re.fullmatch(r"[0-9a-f]{32}", s["ja3"])
        assert s["ja4"].count("_") == 2
        assert s["user_agent"].startswith("Mozilla/5.0")
    assert any(ipaddress.ip_address(s["ip_address"]).version == 6 for s in enriched)
    assert any(
        not details_city.isascii() for details_city in (s["ip_address_details"]["city"] for s in enriched)
    )


def test_non_ascii_appears_in_email_local_parts_and_project_names(
    events: list[dict[str, Any]],
) -> None:
    emails = {e["actor"]["session"]["user"]["email"] for e in events if actor_shape(e).startswith("session")}
    assert any(not email.split("@")[0].isascii() for email in emails)
    names = {e["project"]["name"] for e in events if "project" in e}
    assert any(not name.isascii() for name in names)


def test_project_is_sometimes_present_never_on_tenant_events(events: list[dict[str, Any]]) -> None:
    with_project = [e for e in events if "project" in e]
    assert 0 < len(with_project) < len(events)
    assert not any(is_tenant_scoped(e["type"]) for e in with_project)
    assert all(set(e["project"]) == {"id", "name"} for e in with_project)


def _conforms(value: Any, shape: Any) -> bool:
    if isinstance(shape, dict):
        return isinstance(value, dict) and all(
            k in shape and _conforms(v, shape[k]) for k, v in value.items()
        )
    if isinstance(shape, list):
        return isinstance(value, list) and all(_conforms(v, shape[0]) for v in value)
    text = str(shape)
    if text.startswith("object"):
        return isinstance(value, dict)
    if text.startswith("array"):
        return isinstance(value, list)
    expected = {"string": str, "integer": int, "boolean": bool}[text.split(" ", maxsplit=1)[0]]
    return isinstance(value, expected)


def test_documented_payloads_follow_the_catalogue_shape(events: list[dict[str, Any]]) -> None:
    for event in events:
        shape = payload_fields(event["type"])
        payload = event[event["type"]]
        if event["type"] == "api_key.updated" and "data" in payload:
            continue  # the spec's own example uses data.scopes; accepted on purpose
        if shape is not None:
            assert _conforms(payload, shape), event


def test_undocumented_payloads_are_invented_with_an_id(events: list[dict[str, Any]]) -> None:
    undocumented = [e for e in events if payload_fields(e["type"]) is None]
    assert {e["type"] for e in undocumented} >= {t for t in EVENT_TYPES if t.startswith("tenant.")}
    assert all(isinstance(e[e["type"]]["id"], str) for e in undocumented)


def test_role_binding_resource_id_joins_workspace_and_connector(
    events: list[dict[str, Any]],
) -> None:
    bound = [e["role.bound_to_resource"] for e in events if e["type"] == "role.bound_to_resource"]
    assert bound
    for p in bound:
        assert p["id"] == p["resource_id"] == f"{p['workspace_id']}__{p['connector_id']}"


def test_types_can_be_restricted_and_unknown_types_are_rejected() -> None:
    events = generate_events(50, start=START, end=END, types=["login.failed", "tenant.user.added"])
    assert {e["type"] for e in events} == {"login.failed", "tenant.user.added"}
    with pytest.raises(ValueError, match="unknown"):
        generate_events(5, start=START, end=END, types=["nope.created"])
    with pytest.raises(ValueError):
        generate_events(5, start=END, end=START)
