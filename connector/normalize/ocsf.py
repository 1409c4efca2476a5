"""The OCSF 1.8.0 normalizer: one OpenAI audit event in, one OCSF IAM event (plain dict) out."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping
from typing import Any, Final

from connector.normalize import ocsf_enums as enums
from connector.normalize.clean import (
    INT64_MAX,
    INT64_MIN,
    as_str,
    clean,
    dumps_raw,
    event_id,
    find_payload,
    is_mapping,
)
from connector.normalize.memo import JsonMemo
from connector.normalize.ocsf_actor import map_actor
from connector.normalize.ocsf_targets import build_entity, build_target
from connector.normalize.table import MAPPING, MappingRow

log = logging.getLogger(__name__)

PRODUCT: dict[str, Any] = {
    "name": "OpenAI API Platform",
    "vendor_name": "OpenAI",
    "feature": {"name": "Audit Logs"},
}
CLOUD_PROVIDER = "OpenAI"
PROFILES = ("cloud",)
_SMALL_INT_MAX: Final = 4_611_686_018_427_387_903  # 2**62 - 1: compiled code keeps such ints unboxed
_ENVELOPE_KEYS = frozenset({"id", "type", "effective_at", "object", "project", "actor"})


def ocsf_class_name(class_uid: int) -> str:
    """Return the OCSF caption of ``class_uid``, e.g. ``3004`` → ``"Entity Management"``."""
    return enums.class_name(class_uid)


def _head(class_uid: int, activity_id: int, activity_name: str | None = None) -> dict[str, Any]:
    """The classification attributes; every uid is derived, none is written by hand."""
    category_uid = class_uid // 1000
    class_caption = enums.class_name(class_uid)
    caption = enums.activity_name(class_uid, activity_id)
    return {
        "category_uid": category_uid,
        "category_name": enums.CATEGORY_NAMES.get(category_uid, "Other"),
        "class_uid": class_uid,
        "class_name": class_caption,
        "activity_id": activity_id,
        # 99 Other carries the source's own label; type_name keeps the OCSF caption.
        "activity_name": activity_name or caption,
        "type_uid": class_uid * 100 + activity_id,
        "type_name": f"{class_caption}: {caption}",
        "severity_id": enums.SEVERITY_INFORMATIONAL[0],
        "severity": enums.SEVERITY_INFORMATIONAL[1],
    }


def _degraded_activity(row: MappingRow) -> tuple[int, str | None]:
    """Entity Management activity for a known type whose class target is missing."""
    if row.class_uid == 3006 and row.activity_id not in (5, 6):
        return 3, None  # membership and privilege changes update the group
    activity_id, name = enums.verb_activity(row.type)
    if activity_id == enums.OTHER_ACTIVITY:
        # "login.succeeded" has no entity verb; the original activity says more.
        return activity_id, enums.activity_name(row.class_uid, row.activity_id)
    return activity_id, name


# Per-type constants, computed once at import (the normalizer is on the hot path).
_HEADS = {t: _head(r.class_uid, r.activity_id) for t, r in MAPPING.items()}
_DEGRADED_HEADS = {
    t: _head(enums.ENTITY_MANAGEMENT, *_degraded_activity(r))
    for t, r in MAPPING.items()
    if r.class_uid != enums.ENTITY_MANAGEMENT
}


class OcsfNormalizer:
    """Maps raw audit events to OCSF 1.8.0 (IAM category, ``cloud`` profile).

    The rules are those of ``docs/mapping.md``: the per-type table, the degrade rule
    (a missing target gives Entity Management), the generic mapping of unknown types,
    and null hygiene. ``normalize`` never raises.
    """

    format = "ocsf"

    def __init__(self, *, org_id: str | None = None) -> None:
        """Create a normalizer.

        Args:
            org_id: The OpenAI organization id (events do not carry it); it becomes
                ``metadata.tenant_uid`` and ``cloud.org.uid``.
        """
        self._org_id = org_id or None
        # Nested parts shared by every document (read-only, see Normalizer).
        self._metadata_base = _metadata_base(self._org_id)
        self._actors = JsonMemo(_actor_parts)
        self._clouds = JsonMemo(functools.partial(_cloud_for, self._org_id))

    def normalize(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Return the OCSF document for ``event`` (see the class docstring)."""
        try:
            # Typed as a dict below: compiled (mypyc), dict lookups take the fast path.
            return self._normalize(event if type(event) is dict else dict(event))
        except Exception:
            # A bug here must not stop the pipeline: emit the generic form instead.
            log.exception(
                "OCSF mapping failed; emitting the generic form", extra={"event_id": event_id(event)}
            )
            return self._fallback(event)

    def _normalize(self, event: dict[str, Any]) -> dict[str, Any]:
        event_type = _type(event.get("type"))
        payload_key, payload = find_payload(event, event_type)
        observables: list[dict[str, Any]] = []
        actor_fields: dict[str, Any] = {}
        actor_user: dict[str, Any] | None = None
        if "actor" in event:
            actor_fields, actor_user, found = self._actors(event["actor"])
            observables.extend(found)

        row = MAPPING.get(event_type)
        target = None
        attrs: dict[str, Any]
        if row is None:
            # connector.drift reports new types (once, with a metric); mapping them is enough here.
            prefix = event_type.rpartition(".")[0] or event_type or "unknown"
            head = _head(enums.ENTITY_MANAGEMENT, *enums.verb_activity(event_type))
            # §2.6 rule 2: the name is the prefix; a payload name stays in entity.data.
            attrs = {"entity": build_entity(prefix, 99, payload, prefix, observables, name=prefix)}
        elif row.target == "entity":
            head = _HEADS[event_type]
            attrs = {"entity": build_entity(*_entity_args(row, payload), observables)}
        else:
            target = build_target(row, payload, actor_user, observables)
            if target is None:
                head = _DEGRADED_HEADS[event_type]
                attrs = {"entity": build_entity(*_entity_args(row, payload), observables)}
            else:
                class_uid, activity_id, attrs = target
                same = class_uid == row.class_uid and activity_id == row.activity_id
                head = _HEADS[event_type] if same else _head(class_uid, activity_id)

        # Everything built here is already clean (no nulls, no empty strings); only what
        # comes from the payload is cleaned, which keeps the walk to the raw parts.
        out: dict[str, Any] = dict(head)
        _set_time(out, event.get("effective_at"))
        if event_type:
            out["message"] = event_type
        out["metadata"] = self._metadata_for(event_id(event), event_type)
        if event_type.endswith(".failed"):
            _failure(out, payload)
        else:
            out["status_id"], out["status"] = enums.STATUS_SUCCESS
        unmapped: dict[str, Any] = {}
        project = event.get("project")
        out["cloud"] = self._clouds(project)
        if project is not None:
            unmapped["project"] = project
        for key, value in actor_fields.items():
            if key == "unmapped_actor":
                unmapped["actor"] = value
            else:
                out[key] = value
        # An entity comes out of build_entity clean; a class target may hold empty values.
        cleaned_attrs = attrs if target is None else clean(attrs)
        if cleaned_attrs is not None:
            out.update(cleaned_attrs)
        if target is not None and payload is not None:
            unmapped["payload"] = payload  # 3004 keeps it in entity.data instead
        extra = event.keys() - _ENVELOPE_KEYS
        extra.discard(payload_key)
        if extra:  # e.g. the short-lived top-level ``source`` field; kept in the event's order
            for key, value in event.items():
                if key in extra:
                    unmapped[key] = value
        if observables:
            out["observables"] = observables
        cleaned_unmapped = clean(unmapped, 1)
        if cleaned_unmapped is not None:
            out["unmapped"] = cleaned_unmapped
        out["raw_data"] = dumps_raw(event)
        return out

    def _metadata_for(self, uid: str | None, event_type: str) -> dict[str, Any]:
        metadata = dict(self._metadata_base)
        if uid is not None:
            metadata["uid"] = uid
        if event_type:
            metadata["event_code"] = event_type
        return metadata

    def _fallback(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The smallest valid Entity Management event, built from the envelope only."""
        event_type = _type(event.get("type"))
        prefix = event_type.rpartition(".")[0] or event_type or "unknown"
        out = _head(enums.ENTITY_MANAGEMENT, *enums.verb_activity(event_type))
        out["time"] = _epoch_ms(event.get("effective_at"))
        out["message"] = event_type
        out["metadata"] = self._metadata_for(event_id(event), event_type)
        out["cloud"] = _cloud_for(self._org_id, None)
        out["entity"] = {"name": prefix, "type": prefix, "type_id": 99}
        document: dict[str, Any] = clean(out) or {}
        try:
            document["raw_data"] = dumps_raw(event)
        except Exception:
            log.exception("could not serialize raw_data", extra={"event_id": event_id(event)})
        return document


def _metadata_base(org_id: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "version": enums.OCSF_VERSION,
        "product": PRODUCT,
        "log_provider": "OpenAI Admin API",
        "log_name": "organization.audit_logs",
        "profiles": list(PROFILES),
    }
    if org_id:
        metadata["tenant_uid"] = org_id
    return metadata


def _actor_parts(actor: Any) -> tuple[dict[str, Any], dict[str, Any] | None, tuple[dict[str, Any], ...]]:
    """``map_actor`` of one ``actor`` value, with the observables it found."""
    observables: list[dict[str, Any]] = []
    fields, user = map_actor(actor, observables)
    return fields, user, tuple(observables)


def _cloud_for(org_id: str | None, project: Any) -> dict[str, Any]:
    """OCSF ``cloud`` for the event's ``project`` (an object with id and name, or a bare id)."""
    cloud: dict[str, Any] = {"provider": CLOUD_PROVIDER}
    if org_id:
        cloud["org"] = {"uid": org_id}
    if is_mapping(project):
        project_id, name = as_str(project.get("id")), as_str(project.get("name"))
    else:
        project_id, name = as_str(project), None
    if project_id is not None:
        # project_uid is what normalization.md §2.4 specifies; it is deprecated
        # since OCSF 1.4 in favour of account.uid, so both are set.
        cloud["project_uid"] = project_id
        account: dict[str, Any] = {"uid": project_id, "type_id": 99, "type": "Project"}
        if name is not None:
            account["name"] = name
        cloud["account"] = account
    return cloud


def _entity_args(row: MappingRow, payload: Any) -> tuple[str, int, Any, str]:
    return row.entity_type, row.entity_type_id, payload, row.entity_type


def _type(value: Any) -> str:
    """The event's ``type`` value as text."""
    return value if type(value) is str else str(value)


def _failure(out: dict[str, Any], payload: Any) -> None:
    """The status of a ``*.failed`` event, with the payload's error code and message."""
    out["status_id"], out["status"] = enums.STATUS_FAILURE
    if is_mapping(payload):
        for field, key in (("status_code", "error_code"), ("status_detail", "error_message")):
            text = _scalar_text(payload.get(key))
            if text:
                out[field] = text


def _scalar_text(value: Any) -> str | None:
    if type(value) is str:
        return value
    if type(value) in (int, float, bool):
        return str(value)
    return None


def _set_time(out: dict[str, Any], effective_at: Any) -> None:
    millis = _epoch_ms(effective_at)
    # The first test answers the common case without boxing when compiled; the second
    # is the exact int64 range.
    small = -_SMALL_INT_MAX <= millis <= _SMALL_INT_MAX
    out["time"] = millis if small or INT64_MIN <= millis <= INT64_MAX else str(millis)


def _epoch_ms(effective_at: Any) -> int:
    """``effective_at`` (Unix seconds) as OCSF ``timestamp_t`` (milliseconds)."""
    if type(effective_at) is int:
        return effective_at * 1000
    if type(effective_at) is float and math.isfinite(effective_at * 1000):
        return int(effective_at * 1000)
    return 0
