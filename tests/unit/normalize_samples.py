"""Realistic sample audit events for every catalogue type and actor shape (normalizer tests)."""

from __future__ import annotations

import json
import zlib
from typing import Any

from connector.catalogue import catalogue
from connector.normalize.table import MAPPING

EFFECTIVE_AT = 1767225600  # 2026-01-01T00:00:00Z

SESSION_IPV4: dict[str, Any] = {
    "type": "session",
    "session": {
        "user": {"id": "user-abc123", "email": "alice@example.com"},
        "ip_address": "203.0.113.10",
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "ja3": "a497151ce4338a12c4418c44d375173e",
        "ja4": "q13d0313h3_55b375c5d22e_c7319ce65786",
        # strings, exactly as the OpenAPI example and Elastic's fixture show them
        "ip_address_details": {
            "country": "US",
            "city": "San Francisco",
            "region": "California",
            "region_code": "CA",
            "asn": "1234",
            "latitude": "37.77490",
            "longitude": "-122.41940",
        },
    },
}
SESSION_IPV6: dict[str, Any] = {
    "type": "session",
    "session": {
        "user": {"id": "user-def456", "email": "bob.smith+audit@example.co.uk"},
        "ip_address": "2001:db8:85a3::8a2e:370:7334",
        "user_agent": "curl/8.5.0",
        "ja3": "e7d705a3286e19ea42f587b344ee6865",
        "ja4": "t13d1516h2_8daaf6152771_02713d6af862",
        # numbers this time: the live type is unknown, both must work
        "ip_address_details": {
            "country": "IN",
            "city": "Mumbai",
            "region": "Maharashtra",
            "region_code": "MH",
            "asn": 55256,
            "latitude": 19.07283,
            "longitude": 72.88261,
        },
    },
}
API_KEY_USER: dict[str, Any] = {
    "type": "api_key",
    "api_key": {
        "id": "key_tracking_01",
        "type": "user",
        "user": {"id": "user-abc123", "email": "alice@example.com"},
    },
}
API_KEY_SERVICE_ACCOUNT: dict[str, Any] = {
    "type": "api_key",
    "api_key": {
        "id": "key_tracking_02",
        "type": "service_account",
        "service_account": {"id": "svc_acct_01"},
    },
}
ABSENT = object()
"""Marker: build the event without an ``actor`` key."""

ACTOR_SHAPES: dict[str, Any] = {
    "session_ipv4": SESSION_IPV4,
    "session_ipv6": SESSION_IPV6,
    "api_key_user": API_KEY_USER,
    "api_key_service_account": API_KEY_SERVICE_ACCOUNT,
    "actor_null": None,
    "actor_absent": ABSENT,
}

# Field values that make the generated payloads look like real ones.
_STRINGS = {
    "email": "carol@example.com",
    "role": "member",
    "principal_type": "user",
    "principal_id": "user-xyz789",
    "resource_type": "project",
    "resource_id": "proj_abc",
    "project_id": "proj_abc",
    "role_name": "Project Reader",
    "group_name": "Security Engineering",
    "error_code": "invalid_credentials",
    "error_message": "Invalid email or password.",
    "certificate": "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n",
    "fine_tuned_model_checkpoint": "ft:gpt-4o-mini:org:custom:ckpt-step-100",
    "threads_ui_visibility": "OWNERS",
    "api_call_logging": "enabled_per_call",
}
_FREE_FORM = {"issuer": "https://token.example.com", "audience": ["api://openai"]}

# Undocumented tenant.* payloads: the shapes the normalizer's lookups expect.
_TARGET_PAYLOADS: dict[str, dict[str, Any]] = {
    "user": {"id": "user-tgt001", "email": "dave@example.com", "role": "member"},
    "service_account": {"id": "svc_acct_tgt01", "role": "member"},
    "group": {"id": "group_01", "group_name": "Security Engineering"},
    "member": {"group_id": "group_01", "user_id": "user-tgt001"},
    "principal": {
        "id": "role_assignment_01",
        "principal_id": "user-tgt001",
        "principal_type": "user",
        "role_id": "role_01",
        "resource_id": "proj_abc",
        "resource_type": "project",
    },
}


def _value(field: str, spec: Any, prefix: str) -> Any:
    if isinstance(spec, dict):
        return {key: _value(key, sub, prefix) for key, sub in spec.items()}
    if isinstance(spec, list):
        return [_value(field, spec[0], prefix), _value(field, spec[0], prefix + "2")]
    if spec.startswith("object"):
        return dict(_FREE_FORM)
    if spec.startswith("array"):
        return [f"{field}-1", f"{field}-2"] if field != "allowed_ips" else ["10.0.0.0/8"]
    if spec == "integer":
        return 600
    if spec == "boolean":
        return True
    if "enum:" in spec:
        return spec.split("enum:")[1].strip(" )").split("|")[0]
    if field in _STRINGS:
        return _STRINGS[field]
    if field == "id" or field.endswith("_id"):
        return f"{prefix}_{field}_01".replace("_id_01", "_01")
    return f"{field} of {prefix}"


def sample_payload(event_type: str) -> Any:
    """A realistic payload for ``event_type`` built from the catalogue's ``payload_fields``."""
    entry = catalogue()["event_types"].get(event_type, {})
    fields = entry.get("payload_fields")
    prefix = event_type.split(".")[-2] if "." in event_type else event_type
    if fields is not None:
        return _value("", fields, prefix)
    row = MAPPING.get(event_type)
    if row is not None and row.target in _TARGET_PAYLOADS:
        return json.loads(json.dumps(_TARGET_PAYLOADS[row.target]))
    return {"id": f"{prefix}_01", "name": f"{prefix} one", "data": dict(_FREE_FORM)}


def make_event(
    event_type: str, actor: Any = SESSION_IPV4, payload: Any = ABSENT, **extra: Any
) -> dict[str, Any]:
    """Build one audit-log event as the API returns it.

    Args:
        event_type: The ``type``.
        actor: An actor object, ``None`` for ``null``, or ``ABSENT`` to omit the key.
        payload: The type-specific payload; by default ``sample_payload(event_type)``.
        **extra: Top-level keys to add or override (e.g. ``project=...``).
    """
    event: dict[str, Any] = {
        "id": f"audit_log-{zlib.crc32(f'{event_type}{actor!r}'.encode()):08x}_20260101",
        "type": event_type,
        "effective_at": EFFECTIVE_AT,
        "object": "organization.audit_log",
        "project": {"id": "proj_abc", "name": "Production"},
    }
    if actor is not ABSENT:
        event["actor"] = json.loads(json.dumps(actor))
    event[event_type] = sample_payload(event_type) if payload is ABSENT else payload
    event.update(extra)
    return event


def expected_class(event_type: str, actor: Any) -> int:
    """The class the normalizer should pick for a sample event."""
    row = MAPPING[event_type]
    if row.target == "session" and not (isinstance(actor, dict) and actor):
        return 3004  # Authentication needs the actor's user: degraded
    return row.class_uid
