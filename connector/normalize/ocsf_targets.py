"""Per-class OCSF target attributes (user, group, privileges, resources, entity) from a payload.

Each lookup below is a list of payload paths tried in order. The ``tenant.*`` payloads
are undocumented, so the common spellings are all accepted (listed in ``docs/mapping.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connector.normalize import ocsf_enums as enums
from connector.normalize.clean import as_email, as_str, clean, dig, first_str, is_mapping
from connector.normalize.table import MappingRow

Paths = tuple[tuple[str, ...], ...]

USER_UID: Paths = (("user_id",), ("user", "id"), ("id",))
SERVICE_ACCOUNT_UID: Paths = (("service_account_id",), ("service_account", "id"), ("id",))
EMAIL: Paths = (("email",), ("user", "email"), ("data", "email"))
ROLE: Paths = (("changes_requested", "role"), ("data", "role"), ("role",), ("role_id",))
GROUP_UID: Paths = (("group_id",), ("group", "id"), ("id",))
GROUP_NAME: Paths = (("data", "group_name"), ("group_name",), ("group", "name"), ("name",))
MEMBER_UID: Paths = (("user_id",), ("user", "id"), ("member_id",), ("principal_id",))
PRINCIPAL_UID: Paths = (("principal_id",), ("principal", "id"))
PRINCIPAL_TYPE: Paths = (("principal_type",), ("principal", "type"))
PRIVILEGE: Paths = (("role_id",), ("role", "id"), ("role_name",), ("role",), ("id",))
ENTITY_UID: Paths = (("id",),)
ENTITY_NAME: Paths = (
    ("name",),
    ("role_name",),
    ("group_name",),
    ("connector_name",),
    ("data", "name"),
    ("data", "group_name"),
)
ENTITY_LISTS = ("certificates", "configs")
"""Payload lists of ``{id, name}`` objects, used when the payload has no top-level id."""

LOOKUPS: Mapping[str, Paths] = {
    "user uid": USER_UID,
    "service account uid": SERVICE_ACCOUNT_UID,
    "target email": EMAIL,
    "privilege (role)": ROLE,
    "group uid": GROUP_UID,
    "group name": GROUP_NAME,
    "member uid": MEMBER_UID,
    "principal uid": PRINCIPAL_UID,
    "principal type": PRINCIPAL_TYPE,
    "role assignment privilege": PRIVILEGE,
    "entity uid": ENTITY_UID,
    "entity name": ENTITY_NAME,
}
"""Every payload lookup, by role; rendered into the mapping docs."""

AUTH_SERVICE: Mapping[str, str] = {"name": "OpenAI API Platform"}
"""Authentication ``service``: what the user signed in to."""

Target = tuple[int, int, dict[str, Any]]
"""``(class_uid, activity_id, class-specific attributes)``."""

Observables = list[dict[str, Any]]


def build_target(
    row: MappingRow, payload: Any, actor_user: dict[str, Any] | None, observables: Observables
) -> Target | None:
    """Build the class-specific attributes of ``row``'s class from ``payload``.

    Returns:
        The target, or ``None`` when a required attribute is missing: the caller then
        degrades the event to Entity Management (normalization.md §2.6 rule 1).
    """
    return _BUILDERS[row.target](row, payload, actor_user, observables)


def _session(row: MappingRow, payload: Any, actor_user: Any, obs: Observables) -> Target | None:
    if actor_user is None:
        return None
    # Authentication also requires ``service`` or ``dst_endpoint``; the service the user
    # signs in to is the platform itself.
    attrs = {"user": dict(actor_user), "service": dict(AUTH_SERVICE)}
    return row.class_uid, row.activity_id, attrs


def _account(
    row: MappingRow, payload: Any, paths: Paths, type_pair: tuple[int, str], obs: Observables
) -> Target | None:
    uid = first_str(payload, paths)
    if uid is None:
        return None
    user: dict[str, Any] = {"uid": uid, "type_id": type_pair[0], "type": type_pair[1]}
    email = as_email(_first_raw(payload, EMAIL))
    if email is not None:
        user["email_addr"] = email
    attrs: dict[str, Any] = {"user": user}
    if row.class_uid == 3005:
        role = first_str(payload, ROLE)
        if role is None:  # privileges is required in User Access Management
            return None
        attrs["privileges"] = [role]
    obs.append({"name": "user.uid", "type_id": enums.OBS_USER_UID, "value": uid})
    return row.class_uid, row.activity_id, attrs


def _user(row: MappingRow, payload: Any, actor_user: Any, obs: Observables) -> Target | None:
    return _account(row, payload, USER_UID, enums.USER_TYPE_USER, obs)


def _service_account(row: MappingRow, payload: Any, actor_user: Any, obs: Observables) -> Target | None:
    return _account(row, payload, SERVICE_ACCOUNT_UID, enums.USER_TYPE_SERVICE, obs)


def _group_object(payload: Any, obs: Observables) -> dict[str, Any] | None:
    uid = first_str(payload, GROUP_UID)
    name = first_str(payload, GROUP_NAME)
    if uid is None and name is None:
        return None
    if uid is not None:
        obs.append({"name": "group.uid", "type_id": enums.OBS_GROUP_UID, "value": uid})
    return {"uid": uid, "name": name}


def _group(row: MappingRow, payload: Any, actor_user: Any, obs: Observables) -> Target | None:
    group = _group_object(payload, obs)
    if group is None:
        return None
    return row.class_uid, row.activity_id, {"group": group}


def _member(row: MappingRow, payload: Any, actor_user: Any, obs: Observables) -> Target | None:
    member = first_str(payload, MEMBER_UID)
    group = _group_object(payload, obs) if member is not None else None
    if member is None or group is None:
        return None
    obs.append({"name": "user.uid", "type_id": enums.OBS_USER_UID, "value": member})
    return row.class_uid, row.activity_id, {"group": group, "user": {"uid": member}}


def _principal(row: MappingRow, payload: Any, actor_user: Any, obs: Observables) -> Target | None:
    uid = first_str(payload, PRINCIPAL_UID)
    privilege = first_str(payload, PRIVILEGE)
    if uid is None or privilege is None:
        return None
    kind = (first_str(payload, PRINCIPAL_TYPE) or "").lower()
    resource_uid = as_str(dig(payload, "resource_id"))
    # resource_details needs a uid (or name): a bare resource_type stays in unmapped.
    resource = (
        {"uid": resource_uid, "type": as_str(dig(payload, "resource_type"))}
        if resource_uid is not None
        else None
    )
    # Assign/Revoke Privileges have the same activity ids in 3005 and 3006.
    if kind == "group":
        obs.append({"name": "group.uid", "type_id": enums.OBS_GROUP_UID, "value": uid})
        attrs: dict[str, Any] = {"group": {"uid": uid}, "privileges": [privilege], "resource": resource}
        return 3006, row.activity_id, attrs
    user: dict[str, Any] = {"uid": uid}
    if kind == "user":
        user["type_id"], user["type"] = enums.USER_TYPE_USER
    elif kind == "service_account":
        user["type_id"], user["type"] = enums.USER_TYPE_SERVICE
    obs.append({"name": "user.uid", "type_id": enums.OBS_USER_UID, "value": uid})
    attrs = {"user": user, "privileges": [privilege], "resources": [resource]}
    return 3005, row.activity_id, attrs


_BUILDERS: Mapping[str, Callable[[MappingRow, Any, Any, Observables], Target | None]] = {
    "session": _session,
    "user": _user,
    "service_account": _service_account,
    "group": _group,
    "member": _member,
    "principal": _principal,
}


_REFERENCES = {4: "org", 5: "policy", 3: "group"}
"""``managed_entity.type_id`` → the object that repeats the entity's uid and name."""

DATA_DEPTH = 2
"""Nesting depth of ``entity.data`` in the document, for clean()'s limit."""


def build_entity(
    entity_type: str,
    type_id: int,
    payload: Any,
    default_name: str,
    obs: Observables,
    *,
    name: str | None = None,
) -> dict[str, Any]:
    """Build the Entity Management ``entity``, already clean; always valid (it falls back to a name).

    Args:
        entity_type: ``entity.type`` (e.g. ``"API Key"``).
        type_id: ``entity.type_id`` (e.g. 99).
        payload: The type-specific payload; cleaned, it becomes ``entity.data``.
        default_name: ``entity.name`` when the payload names no uid or name.
        obs: Observables found here are appended to it.
        name: ``entity.name`` whatever the payload names (the generic mapping's prefix).
    """
    uid = first_str(payload, ENTITY_UID)
    found = first_str(payload, ENTITY_NAME)
    if uid is None and found is None and is_mapping(payload):
        for key in ENTITY_LISTS:
            items = payload.get(key)
            if isinstance(items, list) and len(items) == 1:
                uid, found = first_str(items[0], (("id",),)), first_str(items[0], (("name",),))
                break
    # Built without empty values, so only the payload needs cleaning.
    entity: dict[str, Any] = {}
    if uid is not None:
        entity["uid"] = uid
    shown = name or found or (default_name if uid is None else None)
    if shown is not None:
        entity["name"] = shown
    entity["type"] = entity_type
    entity["type_id"] = type_id
    reference = _REFERENCES.get(type_id)
    if reference is not None:
        ref = {k: v for k, v in (("uid", uid), ("name", found)) if v is not None}
        if ref:
            entity[reference] = ref
    elif type_id == 2 and uid is not None:
        entity["user"] = {"uid": uid}
    if uid is not None:
        obs.append({"name": "entity.uid", "type_id": enums.OBS_RESOURCE_UID, "value": uid})
    data = clean(payload, DATA_DEPTH)
    if data is not None:
        entity["data"] = data
    return entity


def _first_raw(payload: Any, paths: Paths) -> Any:
    for path in paths:
        found = dig(payload, *path)
        if found is not None:
            return found
    return None
