"""The OCSF validation helper rejects broken events, so a passing validation test means something."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from connector.normalize.ocsf import OcsfNormalizer
from tests.unit.normalize_samples import make_event
from tests.unit.ocsf_validation import ocsf_errors


def good(event_type: str = "api_key.created") -> dict[str, Any]:
    return OcsfNormalizer(org_id="org-1").normalize(make_event(event_type))


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        for key in parents:
            doc = doc[key]
        doc[leaf] = value

    return apply


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc.pop(key)


BROKEN: dict[str, Callable[[dict[str, Any]], None]] = {
    "missing entity": _drop("entity"),
    "missing cloud with the cloud profile": _drop("cloud"),
    "time as ISO string": _set("time", "2026-01-01T00:00:00Z"),
    "top-level typo": _set("src_endpont", {"ip": "1.2.3.4"}),
    "nested typo": _set("actor.user.emial", "a@example.com"),
    "unknown activity": _set("activity_id", 42),
    "type_uid mismatch": _set("type_uid", 300403),
    "category mismatch": _set("category_uid", 6),
    "bad email": _set("actor.user.email_addr", "not-an-email"),
    "bad ip": _set("src_endpoint.ip", "999.1.1.1"),
    "asn as string": _set("src_endpoint.autonomous_system.number", "1234"),
    "lat as string": _set("src_endpoint.location.lat", "37.7"),
    "null value": _set("message", None),
    "missing product": lambda doc: doc["metadata"].pop("product"),
    "severity out of range": _set("severity_id", 7),
    "user with only an email": _set("actor.user", {"email_addr": "a@example.com"}),
    "raw_data not a string": _set("raw_data", {"id": 1}),
}


def test_a_normalized_event_is_valid() -> None:
    assert ocsf_errors(good()) == []


@pytest.mark.parametrize("case", list(BROKEN))
def test_validator_rejects_a_broken_event(case: str) -> None:
    doc = copy.deepcopy(good())
    BROKEN[case](doc)
    assert ocsf_errors(doc) != []


def test_validator_rejects_a_wrong_class_for_the_attributes() -> None:
    doc = good()
    doc["class_uid"], doc["type_uid"] = 3001, 300101  # Account Change needs user, not entity
    assert ocsf_errors(doc) != []


def test_validator_rejects_authentication_without_user_or_service() -> None:
    doc = good("login.succeeded")
    del doc["service"]
    assert any("not valid under any" in e for e in ocsf_errors(doc))
    doc = good("login.succeeded")
    del doc["user"]
    assert any("'user' is a required property" in e for e in ocsf_errors(doc))


def test_validator_reports_an_unknown_class_instead_of_raising() -> None:
    assert ocsf_errors({"class_uid": 9999, "metadata": {}}) != []
    assert ocsf_errors({}) != []
