"""Offline OCSF 1.8.0 validation for tests: the official JSON schema plus the uid consistency checks."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

OCSF_VERSION = "1.8.0"


@cache
def ocsf_schema() -> Any:
    """The bundled OCSF 1.8.0 export wrapped by ocsf-json-schema (no network)."""
    return OcsfJsonSchemaEmbedded(get_ocsf_schema(version=OCSF_VERSION))


@cache
def _validator(class_uid: int, profiles: tuple[str, ...]) -> Draft202012Validator:
    schema = ocsf_schema()
    name = schema.lookup_class_name_from_uid(class_uid=class_uid)
    return Draft202012Validator(schema.get_class_schema(class_name=name, profiles=list(profiles)))


def ocsf_errors(event: Mapping[str, Any]) -> list[str]:
    """Return every reason ``event`` is not a valid OCSF 1.8.0 event (empty when valid).

    The JSON schema of the event's class is built with the profiles the event declares
    in ``metadata.profiles`` (otherwise ``cloud`` would be rejected as unknown). Two
    checks the schema cannot express are added: ``type_uid == class_uid*100 +
    activity_id`` and ``category_uid == class_uid // 1000``.
    """
    try:
        class_uid = event["class_uid"]
        metadata = event.get("metadata")
        profiles = tuple(metadata.get("profiles", ())) if isinstance(metadata, Mapping) else ()
        validator = _validator(class_uid, profiles)
    except Exception as exc:  # unknown class, missing class_uid, unknown profile
        return [f"cannot pick a schema: {exc!r}"]
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {_short(error.message)}"
        for error in validator.iter_errors(event)
    ]
    activity_id, type_uid = event.get("activity_id"), event.get("type_uid")
    if not isinstance(activity_id, int) or type_uid != class_uid * 100 + activity_id:
        errors.append(f"type_uid {type_uid} != class_uid*100 + activity_id ({activity_id})")
    if event.get("category_uid") != class_uid // 1000:
        errors.append(f"category_uid {event.get('category_uid')} != class_uid // 1000")
    return errors


def _short(message: str) -> str:
    # Messages quote the failing instance, which for a root error is the whole event;
    # keep its start and the verdict at the end.
    return message if len(message) <= 300 else f"{message[:120]} … {message[-120:]}"
