"""The ECS 9.4.0 normalizer: one OpenAI audit event in, one Elastic Common Schema document out.

Field mapping: normalization.md §4.2. Field names follow Elastic's own OpenAI
integration (``openai.audit`` data stream) so both kinds of document can share an index,
but the categorization is finer (the ECS columns of the mapping table) and
``event.outcome`` is set. Documents are nested objects; no key anywhere contains a
dot, because Elasticsearch would expand it into a path.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connector.normalize.clean import (
    as_float,
    as_int,
    as_ip,
    as_str,
    clean,
    dig,
    dumps_raw,
    event_id,
    find_payload,
    first_str,
)
from connector.normalize.ocsf_targets import (
    EMAIL,
    GROUP_NAME,
    GROUP_UID,
    MEMBER_UID,
    PRINCIPAL_TYPE,
    PRINCIPAL_UID,
    ROLE,
    SERVICE_ACCOUNT_UID,
    USER_UID,
    Paths,
)
from connector.normalize.table import MAPPING, MappingRow

log = logging.getLogger(__name__)

ECS_VERSION = "9.4.0"
"""The one place the ECS version is pinned; the test catalogue is ``ecs_flat_9.4.0.json``."""

OBSERVER: dict[str, Any] = {"vendor": "OpenAI", "product": "OpenAI API Platform"}
UNKNOWN_CATEGORY = ("configuration",)
UNKNOWN_TYPE = ("info",)
"""Categorization of a type the table does not know (normalization.md §2.6 rule 2)."""

GROUP_PRINCIPAL_TYPE = ("group", "change")
"""``event.type`` of a role assignment whose principal is a group (the table says user/change)."""

ASN_MAX = 2**32 - 1
EPOCH = "1970-01-01T00:00:00.000Z"
"""``@timestamp`` of an event whose ``effective_at`` is not a usable number (ECS requires one)."""

ASSIGNED_ROLE: Paths = (("role_id",), ("role", "id"), ("role_name",), ("role",))
"""The role of a role assignment; unlike OCSF ``privileges``, never the assignment's own id."""

_AUDIT_DEPTH = 3
"""Depth of ``openai.audit.*`` in the document, for clean()'s nesting limit."""
_ENVELOPE_KEYS = frozenset({"id", "type", "effective_at", "object", "project", "actor"})
_ACTOR_KINDS = ("session", "api_key")
_GROUP_TYPE_ID = 3
_USER_TYPE_ID = 2


def _event_head(event_type: str, category: tuple[str, ...], types: tuple[str, ...]) -> dict[str, Any]:
    return {
        "kind": "event",
        "category": list(category),
        "type": list(types),
        "action": event_type,
        "outcome": "failure" if event_type.endswith(".failed") else "success",
        "module": "openai",
        "dataset": "openai.audit",
        "provider": "openai",
    }


def _unknown_head(event_type: str) -> dict[str, Any]:
    return _event_head(event_type, UNKNOWN_CATEGORY, UNKNOWN_TYPE)


# Per-type constants, computed once at import (the normalizer is on the hot path);
# _prune() copies them into each document, so no document shares a list with another.
_HEADS = {t: _event_head(t, r.ecs_category, r.ecs_type) for t, r in MAPPING.items()}


class EcsNormalizer:
    """Maps raw audit events to ECS 9.4.0 documents (see the module docstring).

    ``normalize`` never raises: an unknown type gets ``configuration``/``info``, a
    missing target only leaves its ECS fields out, and a bug in the mapping gives the
    envelope-only document instead of an exception.
    """

    format = "ecs"

    def __init__(self, *, org_id: str | None = None, keep_original: bool = True) -> None:
        """Create a normalizer.

        Args:
            org_id: The OpenAI organization id (events do not carry it); it becomes
                ``organization.id``.
            keep_original: Put the event as received, as JSON text, in
                ``event.original`` (not indexed by ECS templates; kept in ``_source``).
        """
        self._org_id = org_id or None
        self._keep_original = keep_original

    def normalize(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Return the ECS document for ``event``."""
        try:
            return self._normalize(event)
        except Exception:
            log.exception(
                "ECS mapping failed; emitting the generic form", extra={"event_id": event_id(event)}
            )
            return self._fallback(event)

    def _normalize(self, event: Mapping[str, Any]) -> dict[str, Any]:
        event_type = _type(event)
        payload_key, payload = find_payload(event, event_type)
        row = MAPPING.get(event_type)
        head = _HEADS[event_type] if row is not None else _unknown_head(event_type)

        audit: dict[str, Any] = {"type": event_type}
        unmapped: dict[str, Any] = {}
        doc: dict[str, Any] = {
            "@timestamp": _timestamp(event.get("effective_at")),
            "ecs": {"version": ECS_VERSION},
            "event": {**head, "id": event_id(event)},
            "observer": OBSERVER,
            "organization": {"id": self._org_id},
            "openai": {"audit": audit},
        }
        related_users: list[str] = []
        _map_actor(event, doc, audit, unmapped, related_users)
        if row is not None:
            _map_target(row, payload, doc, related_users)
        if head["outcome"] == "failure" and isinstance(payload, Mapping):
            doc["error"] = {"code": _scalar_text(payload.get("error_code"))}
            doc["event"]["reason"] = _scalar_text(payload.get("error_message"))
        if related_users:
            doc.setdefault("related", {})["user"] = list(dict.fromkeys(related_users))
        _project(event.get("project"), audit, unmapped)
        for key, value in event.items():
            if key not in _ENVELOPE_KEYS and key != payload_key:
                unmapped[key] = value  # e.g. another type's payload, a new envelope field
        if payload_key is not None and not isinstance(payload, Mapping):
            unmapped[payload_key] = payload  # a payload that is not an object would not fit details
        # Everything so far was built here from checked scalars: pruning the None values is
        # enough. The payload and the leftovers are arbitrary JSON: clean() drops empty values,
        # stringifies >64-bit integers and replaces dots in keys.
        document = _prune(doc) or {}
        vendor = {
            # One object field each: map them as `flattened` in Elasticsearch.
            "details": clean(payload, _AUDIT_DEPTH) if isinstance(payload, Mapping) else None,
            "unmapped": clean(unmapped, _AUDIT_DEPTH),
        }
        vendor = {key: value for key, value in vendor.items() if value is not None}
        if vendor:
            document.setdefault("openai", {}).setdefault("audit", {}).update(vendor)
        if self._keep_original:
            document["event"]["original"] = _original(event)
        return document

    def _fallback(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The envelope-only document: still valid ECS, with the event kept whole."""
        event_type = _type(event)
        doc = {
            "@timestamp": _timestamp(event.get("effective_at")),
            "ecs": {"version": ECS_VERSION},
            "event": {**_unknown_head(event_type), "id": event_id(event)},
            "observer": OBSERVER,
            "organization": {"id": self._org_id},
            "openai": {"audit": {"type": event_type}},
        }
        document = _prune(doc) or {}
        if self._keep_original:
            try:
                document["event"]["original"] = _original(event)
            except Exception:
                log.exception("could not serialize event.original", extra={"event_id": event_id(event)})
        return document


def _prune(node: dict[str, Any]) -> dict[str, Any] | None:
    """Copy ``node`` without ``None``, ``""`` and empty containers (for the fields built here)."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if value is None or value == "":
            continue
        kind = type(value)
        if kind is dict:
            pruned = _prune(value)
            if pruned is not None:
                out[key] = pruned
        elif kind is list:
            if value:
                out[key] = list(value)  # the per-type constants must not be shared with a document
        else:
            out[key] = value
    return out or None


def _original(event: Mapping[str, Any]) -> str:
    """The event as JSON text; ASCII-escaped when it holds what UTF-8 cannot (a lone surrogate)."""
    try:
        return dumps_raw(event)
    except (TypeError, ValueError, RecursionError):
        # dumps_raw's last resort is orjson, which refuses lone surrogates ("\ud800").
        return json.dumps(clean(dict(event)), ensure_ascii=True, default=str)


def _map_actor(
    event: Mapping[str, Any],
    doc: dict[str, Any],
    audit: dict[str, Any],
    unmapped: dict[str, Any],
    related_users: list[str],
) -> None:
    """``user.*`` (who acted), ``source.*``, ``user_agent``, ``tls`` and ``openai.audit.actor``."""
    actor = event.get("actor")
    if actor is None:
        return  # absent, or null: the action was OpenAI's own; no user to name
    if not isinstance(actor, Mapping):
        unmapped["actor"] = actor
        return
    kind = actor.get("type")
    if kind not in _ACTOR_KINDS:
        # Lenient when ``type`` is missing or new but the shape is recognisable.
        shapes = [k for k in _ACTOR_KINDS if isinstance(actor.get(k), Mapping)]
        if len(shapes) != 1:
            unmapped["actor"] = actor
            return
        kind = shapes[0]
    if kind == "session":
        session = actor.get("session")
        audit["actor"] = {"type": "session", "session": {"ja4": _text(dig(session, "ja4"))}}
        doc["user"] = _user(dig(session, "user"), related_users)
        if isinstance(session, Mapping):
            _session(session, doc)
        return
    api_key = actor.get("api_key")
    key_type = dig(api_key, "type")
    service_account = dig(api_key, "service_account")
    is_service = key_type == "service_account" or (
        key_type != "user" and isinstance(service_account, Mapping)
    )
    audit["actor"] = {
        "type": "api_key",
        "api_key": {
            "id": as_str(dig(api_key, "id")),
            "type": "service_account" if is_service else _text(key_type),
        },
    }
    if is_service:
        account_id = as_str(dig(service_account, "id"))
        # ECS has no service-account field: the account is who acted (user.id), and
        # service.id is where Elastic's own integration puts it.
        doc["user"] = {"id": account_id}
        doc["service"] = {"id": account_id}
        if account_id is not None:
            related_users.append(account_id)
    else:
        doc["user"] = _user(dig(api_key, "user"), related_users)


def _user(raw: Any, related_users: list[str]) -> dict[str, Any]:
    user_id = as_str(dig(raw, "id"))
    email = _text(dig(raw, "email"))
    user: dict[str, Any] = {"id": user_id, "email": email, "domain": _domain(email)}
    related_users.extend(value for value in (user_id, email) if value is not None)
    return user


def _session(session: Mapping[str, Any], doc: dict[str, Any]) -> None:
    ip = _ip(session.get("ip_address"))
    source: dict[str, Any] = {"ip": ip}
    if ip is not None:
        doc["related"] = {"ip": [ip]}
    details = session.get("ip_address_details")
    if isinstance(details, Mapping):
        country = _text(details.get("country"))
        region_code = _text(details.get("region_code"))
        if region_code is not None and country is not None and "-" not in region_code:
            region_code = f"{country}-{region_code}"  # ISO 3166-2, as ECS's "CA-QC" example
        lat = as_float(details.get("latitude"), bound=90.0)
        lon = as_float(details.get("longitude"), bound=180.0)
        source["geo"] = {
            "city_name": _text(details.get("city")),
            "country_iso_code": country,
            "region_name": _text(details.get("region")),
            "region_iso_code": region_code,
            "location": {"lat": lat, "lon": lon} if lat is not None and lon is not None else None,
        }
        source["as"] = {"number": as_int(details.get("asn"), lo=0, hi=ASN_MAX)}
    doc["source"] = source
    doc["user_agent"] = {"original": _text(session.get("user_agent"))}
    doc["tls"] = {"client": {"ja3": _text(session.get("ja3"))}}


def _map_target(row: MappingRow, payload: Any, doc: dict[str, Any], related_users: list[str]) -> None:
    """``user.target``, ``user.changes`` and ``group`` from the payload, where the row has a target."""
    target: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    kind = row.target
    if kind in ("user", "service_account"):
        target["id"] = first_str(payload, USER_UID if kind == "user" else SERVICE_ACCOUNT_UID)
        if kind == "user":
            target["email"] = _first_text(payload, EMAIL)
        role = first_str(payload, ROLE)
        if role is not None:
            # A role change (User Access Management rows) is the new role; on creation
            # or deletion the role is the account's own.
            (changes if row.class_uid == 3005 else target)["roles"] = [role]
    elif kind in ("group", "member"):
        doc["group"] = _group(payload)
        if kind == "member":
            target["id"] = first_str(payload, MEMBER_UID)
    elif kind == "principal":
        principal = first_str(payload, PRINCIPAL_UID)
        if (first_str(payload, PRINCIPAL_TYPE) or "").lower() == "group":
            # A role granted to a group changes the group, not a user (OCSF: Group Management).
            doc["group"] = {"id": principal}
            if principal is not None:
                doc["event"]["type"] = list(GROUP_PRINCIPAL_TYPE)
        else:
            target["id"] = principal
            role = first_str(payload, ASSIGNED_ROLE)
            if role is not None:
                (changes if row.activity_id == 1 else target)["roles"] = [role]
    elif kind == "entity":
        if row.entity_type_id == _GROUP_TYPE_ID:
            doc["group"] = _group(payload)
        elif row.entity_type_id == _USER_TYPE_ID:
            paths = SERVICE_ACCOUNT_UID if row.entity_type == "Service Account" else USER_UID
            target["id"] = first_str(payload, paths)
            target["email"] = _first_text(payload, EMAIL)
        elif row.entity_type == "Invite":
            target["email"] = _first_text(payload, EMAIL)
    related_users.extend(target[key] for key in ("id", "email") if target.get(key) is not None)
    if target or changes:
        user = doc.setdefault("user", {})
        user["target"] = target
        user["changes"] = changes


def _group(payload: Any) -> dict[str, Any]:
    return {"id": first_str(payload, GROUP_UID), "name": first_str(payload, GROUP_NAME)}


def _project(project: Any, audit: dict[str, Any], unmapped: dict[str, Any]) -> None:
    if isinstance(project, Mapping):
        audit["project"] = {"id": as_str(project.get("id")), "name": as_str(project.get("name"))}
    elif as_str(project) is not None:
        audit["project"] = {"id": as_str(project)}
    elif project is not None:
        unmapped["project"] = project


def _timestamp(effective_at: Any) -> str:
    """``effective_at`` (Unix seconds) as ISO-8601 UTC with milliseconds (``2026-01-01T00:00:00.000Z``)."""
    if type(effective_at) is not int and not (type(effective_at) is float and math.isfinite(effective_at)):
        return EPOCH
    try:
        moment = datetime.fromtimestamp(effective_at, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return EPOCH
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _type(event: Mapping[str, Any]) -> str:
    value = event.get("type")
    if type(value) is str:
        return value
    try:
        return str(value)
    except Exception:  # e.g. RecursionError for a deeply nested list
        return f"<unprintable {type(value).__name__}>"


def _text(value: Any) -> str | None:
    return value if type(value) is str and value else None


def _first_text(payload: Any, paths: Paths) -> str | None:
    for path in paths:
        found = _text(dig(payload, *path))
        if found is not None:
            return found
    return None


def _scalar_text(value: Any) -> str | None:
    if type(value) is str:
        return value or None
    if type(value) in (int, float, bool):
        return str(value)
    return None


def _domain(email: str | None) -> str | None:
    if email is None or "@" not in email:
        return None
    return email.rpartition("@")[2] or None


def _ip(value: Any) -> str | None:
    """An address Elasticsearch's ``ip`` type takes (no IPv6 zone such as ``%eth0``)."""
    ip = as_ip(value)
    return ip if ip is not None and "%" not in ip else None
