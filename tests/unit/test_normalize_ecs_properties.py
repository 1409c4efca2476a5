"""Property tests: the ECS normalizer never raises and every document it emits is valid ECS 9.4.0."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.normalize.ecs import EcsNormalizer
from connector.normalize.table import MAPPING
from connector.serialize import dumps
from tests.unit.ecs_validation import ecs_errors

NORMALIZER = EcsNormalizer(org_id="org-abc123")

# Any text, lone surrogates included (JSON text may carry "\ud800").
any_text = st.text(st.characters(codec=None, categories=None, exclude_characters=""), max_size=30)
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**100), max_value=2**100)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=25,
)
maybe = st.none() | json_leaves
ip_like = st.sampled_from(["203.0.113.10", "::1", "fe80::1%eth0", "999.1.1.1", "", "x"]) | maybe
number_like = st.sampled_from(["55256", "AS1", "19.07", "-122.4", "nan", "1e999", ""]) | maybe
user_like = st.fixed_dictionaries({}, optional={"id": maybe, "email": maybe}) | json_values
session = st.fixed_dictionaries(
    {},
    optional={
        "user": user_like,
        "ip_address": ip_like,
        "user_agent": maybe,
        "ja3": maybe,
        "ja4": maybe,
        "ip_address_details": st.fixed_dictionaries(
            {},
            optional={
                key: number_like | maybe
                for key in ("country", "city", "region", "region_code", "asn", "latitude", "longitude")
            },
        )
        | json_values,
    },
)
api_key = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe,
        "type": st.sampled_from(["user", "service_account", "robot"]) | maybe,
        "user": user_like,
        "service_account": user_like,
    },
)
actor = (
    st.fixed_dictionaries(
        {"type": st.sampled_from(["session", "api_key", "other"]) | maybe},
        optional={"session": session | json_values, "api_key": api_key | json_values},
    )
    | json_values
)
event_type = st.sampled_from([*MAPPING, "widget.created", "widget.failed", "x"]) | any_text
target_payload = st.fixed_dictionaries(
    {},
    optional={
        key: maybe | json_values
        for key in (
            "id",
            "user_id",
            "email",
            "role",
            "role_id",
            "group_id",
            "group_name",
            "principal_id",
            "principal_type",
            "error_code",
            "error_message",
            "changes_requested",
            "data",
        )
    },
)


@st.composite
def audit_events(draw: st.DrawFn) -> dict[str, Any]:
    """Events shaped like audit-log entries, with anything missing, null or of the wrong type."""
    kind = draw(event_type)
    event: dict[str, Any] = draw(st.dictionaries(any_text, json_values, max_size=3))
    event["id"] = draw(any_text | st.integers(min_value=-(2**70), max_value=2**70))
    event["type"] = kind
    event["effective_at"] = draw(
        st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.just(1767225600) | maybe
    )
    optional = {
        "object": st.just("organization.audit_log") | maybe,
        "project": st.fixed_dictionaries({}, optional={"id": maybe, "name": maybe}) | json_values,
        "actor": actor | st.none(),
        kind: target_payload | json_values,
        kind.replace(".", "_"): target_payload | json_values,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            event[key] = draw(strategy)
    return event


@contextmanager
def fallbacks_recorded() -> Iterator[list[logging.LogRecord]]:
    """Collect the error records the normalizer logs when its mapping raises."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("connector.normalize.ecs")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


@pytest.mark.slow
# With test_normalize_robustness's 10,000 OCSF documents: at least 20,000 generated events per CI run.
@settings(max_examples=10_000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(event=audit_events())
def test_any_audit_shaped_event_gives_a_valid_ecs_document(event: dict[str, Any]) -> None:
    with fallbacks_recorded() as fallbacks:
        document = NORMALIZER.normalize(event)

    assert fallbacks == [], "the mapping raised; the safety net hid it"
    errors = ecs_errors(document)
    assert errors == [], "\n".join(errors)
    kind = event["type"] if type(event["type"]) is str else str(event["type"])
    assert document["event"].get("action") == (kind or None)
    dumps(document)  # what the sinks do with it


@settings(max_examples=300, deadline=None)
@given(payload=json_values, deep=st.integers(min_value=40, max_value=3000))
def test_deep_payloads_are_cut_not_raised(payload: Any, deep: int) -> None:
    nested: Any = payload
    for _ in range(deep):
        nested = {"d": nested}
    document = NORMALIZER.normalize(
        {"id": "a", "type": "widget.spun", "effective_at": 1, "widget.spun": nested}
    )
    assert ecs_errors(document) == []
