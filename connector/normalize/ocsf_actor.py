"""Map the OpenAI ``actor`` (session, API key, null, absent) to OCSF actor/src_endpoint fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.normalize import ocsf_enums as enums
from connector.normalize.clean import as_email, as_float, as_int, as_ip, as_str, dig, is_mapping

SYSTEM_ACTOR: dict[str, Any] = {"app_name": "OpenAI"}
"""The actor of events whose ``actor`` is ``null`` (performed by OpenAI itself)."""

ASN_MAX = 2**32 - 1


def map_actor(actor: Any, observables: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Translate an event's ``actor`` (when it has one) into top-level OCSF attributes.

    Args:
        actor: The raw ``actor`` value; ``None`` means OpenAI itself acted.
        observables: Observables found here are appended to it.

    Returns:
        ``(fields, user)``: ``fields`` holds any of ``actor``, ``src_endpoint``,
        ``http_request`` and ``unmapped_actor`` (an actor we could not read, kept for
        ``unmapped``); ``user`` is the OCSF user who acted, or ``None``.
    """
    if actor is None:
        return {"actor": dict(SYSTEM_ACTOR)}, None
    if not is_mapping(actor):
        return {"unmapped_actor": actor}, None
    kind = actor.get("type")
    if kind not in ("session", "api_key"):
        # Be lenient when ``type`` is missing or new but the shape is recognisable.
        shapes = [k for k in ("session", "api_key") if isinstance(actor.get(k), Mapping)]
        if len(shapes) != 1:
            return {"unmapped_actor": actor}, None
        kind = shapes[0]
    if kind == "session":
        return _session(actor.get("session"), observables)
    return _api_key(actor.get("api_key"), observables)


def _user(raw: Any, type_pair: tuple[int, str], observables: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Build an OCSF user from ``{id, email}``; ``None`` when it has neither."""
    if not is_mapping(raw):
        return None
    uid = as_str(raw.get("id"))
    raw_email = raw.get("email")
    email = as_email(raw_email)
    user: dict[str, Any] = {}
    if uid is not None:
        user["uid"] = uid
        observables.append({"name": "actor.user.uid", "type_id": enums.OBS_USER_UID, "value": uid})
    elif not (type(raw_email) is str and raw_email):
        return None
    if email is not None:
        user["email_addr"] = email
        observables.append({"name": "actor.user.email_addr", "type_id": enums.OBS_EMAIL, "value": email})
    if (email is None or uid is None) and type(raw_email) is str and raw_email:
        # OCSF needs uid, name or account, and its email pattern is ASCII-only: an address
        # it rejects (a failed login's typed text, an internationalized søren@…) is still
        # who acted, so it becomes the name rather than being lost.
        user["name"] = raw_email
    user["type_id"], user["type"] = type_pair
    return user


def _session(session: Any, observables: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    fields: dict[str, Any] = {}
    user = _user(dig(session, "user"), enums.USER_TYPE_USER, observables)
    if user is not None:
        fields["actor"] = {"user": user}
    if not is_mapping(session):
        return fields, user
    src = _src_endpoint(session, observables)
    if src is not None:
        fields["src_endpoint"] = src
    agent = session.get("user_agent")
    if type(agent) is str and agent:
        fields["http_request"] = {"user_agent": agent}
        observables.append(
            {"name": "http_request.user_agent", "type_id": enums.OBS_USER_AGENT, "value": agent}
        )
    return fields, user


def _src_endpoint(session: Mapping[str, Any], observables: list[dict[str, Any]]) -> dict[str, Any] | None:
    # network_endpoint needs an ip (or a name we do not have): no IP, no endpoint.
    ip = as_ip(session.get("ip_address"))
    if ip is None:
        return None
    src: dict[str, Any] = {"ip": ip}
    observables.append({"name": "src_endpoint.ip", "type_id": enums.OBS_IP, "value": ip})
    details = session.get("ip_address_details")
    if is_mapping(details):
        location: dict[str, Any] = {
            key: value
            for key in ("city", "country", "region")
            if type(value := details.get(key)) is str and value
        }
        # OCSF location needs city, country, region or postal_code; coordinates alone
        # would make the whole event invalid.
        if location:
            lat = as_float(details.get("latitude"), bound=90.0)
            long = as_float(details.get("longitude"), bound=180.0)
            if lat is not None and long is not None:
                location["lat"], location["long"] = lat, long
            src["location"] = location
        asn = as_int(details.get("asn"), lo=0, hi=ASN_MAX)
        if asn is not None:
            src["autonomous_system"] = {"number": asn}
    prints = []
    for key, algorithm in (("ja3", "JA3"), ("ja4", "JA4")):
        value = session.get(key)
        if type(value) is str and value:
            prints.append({"algorithm_id": enums.FINGERPRINT_OTHER, "algorithm": algorithm, "value": value})
            observables.append(
                {"name": "src_endpoint.fingerprints.value", "type_id": enums.OBS_FINGERPRINT, "value": value}
            )
    if prints:
        src["fingerprints"] = prints
    return src


def _api_key(api_key: Any, observables: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    key_id = as_str(dig(api_key, "id"))
    kind = dig(api_key, "type")
    service_account = dig(api_key, "service_account")
    if kind == "service_account" or (kind != "user" and is_mapping(service_account)):
        user = _user(service_account, enums.USER_TYPE_SERVICE, observables)
    else:
        user = _user(dig(api_key, "user"), enums.USER_TYPE_USER, observables)
    if user is not None:
        if key_id is not None:
            user["programmatic_credentials"] = [{"uid": key_id, "type": "API Key"}]
        return {"actor": {"user": user}}, user
    if key_id is not None:
        # A key whose owner is not given still identifies the calling client.
        return {"actor": {"app_uid": key_id}}, None
    return {}, None
