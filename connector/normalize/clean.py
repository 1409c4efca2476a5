"""Defensive helpers: JSON hygiene for output documents and casts that never raise."""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

import orjson

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_DEPTH = 48
"""Deeper payload values are replaced by a marker; ``raw_data`` still holds them."""

TOO_DEEP = f"<nested deeper than {MAX_DEPTH} levels; see raw_data>"

# OCSF 1.8.0 email_t regex, copied verbatim so we only emit addresses the schema accepts.
_EMAIL = re.compile(r"^[a-zA-Z0-9!#$%&'*+-/=?^_`{|}~.]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$")
_IP_MAX_LEN = 40  # ip_t maxLength in OCSF 1.8.0


def clean(value: Any, depth: int = 0) -> Any:
    """Return a JSON-safe copy of ``value`` with empty values removed.

    Drops ``None``, ``""`` and empty containers (OCSF rejects ``null``), turns integers
    beyond 64 bits and non-finite floats into strings (orjson and SIEMs reject them),
    makes keys strings without dots (a dotted key would read as a nested field path in
    Elastic and Splunk), and stringifies anything that is not plain JSON.

    Args:
        value: Any value, usually decoded JSON.
        depth: Current nesting depth; callers leave the default.

    Returns:
        The cleaned value, or ``None`` when nothing is left.
    """
    kind = type(value)
    if kind is dict:
        return _clean_dict(value, depth)
    if kind is list:
        return _clean_list(value, depth)
    return _clean_other(value, depth)


# The hot path: decoded JSON is exact dicts, lists, str, int, float, bool and None, so
# those are tested inline by exact type; anything else takes the general _clean_other.


def _clean_dict(value: dict[Any, Any], depth: int) -> dict[str, Any] | str | None:
    if depth >= MAX_DEPTH:
        return TOO_DEEP
    depth += 1
    out: dict[str, Any] = {}
    for key, raw in value.items():
        item, kind = raw, type(raw)
        if kind is str:
            if not item:
                continue
        elif kind is dict:
            item = _clean_dict(item, depth)
            if item is None:
                continue
        elif kind is list:
            item = _clean_list(item, depth)
            if item is None:
                continue
        elif kind is int:
            if not INT64_MIN <= item <= INT64_MAX:
                item = str(item)
        elif kind is not bool:
            item = _clean_other(item, depth)
            if item is None:
                continue
        out[key if type(key) is str and "." not in key else _key(key)] = item
    return out or None


def _clean_list(value: list[Any] | tuple[Any, ...], depth: int) -> list[Any] | str | None:
    if depth >= MAX_DEPTH:
        return TOO_DEEP
    depth += 1
    out: list[Any] = []
    for raw in value:
        item, kind = raw, type(raw)
        if kind is str:
            if not item:
                continue
        elif kind is dict:
            item = _clean_dict(item, depth)
            if item is None:
                continue
        elif kind is int:
            if not INT64_MIN <= item <= INT64_MAX:
                item = str(item)
        elif kind is not bool:
            item = clean(item, depth)
            if item is None:
                continue
        out.append(item)
    return out or None


def _clean_other(value: Any, depth: int) -> Any:
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return value or None
    if kind is bool:
        return value
    if kind is int:
        return value if INT64_MIN <= value <= INT64_MAX else str(value)
    if kind is float:
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return _clean_dict(dict(value.items()), depth)
    if isinstance(value, list | tuple):
        return _clean_list(value, depth)
    if isinstance(value, str):  # str subclasses
        return str.__str__(value) or None
    if isinstance(value, int):  # bool handled above; int subclasses such as IntEnum
        return _clean_other(int(value), depth)
    if isinstance(value, float):
        return _clean_other(float(value), depth)
    return _safe_str(value)


def _key(key: Any) -> str:
    text = key if type(key) is str else _safe_str(key)
    return text.replace(".", "_") if "." in text else text


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a hostile __str__ must not take the pipeline down
        return f"<unprintable {type(value).__name__}>"


def dumps_raw(event: Mapping[str, Any]) -> str:
    """Serialize the original event for ``raw_data``, whatever it contains.

    orjson is tried first (fast, exact); it refuses integers beyond 64 bits and
    non-string keys, so the stdlib encoder is the fallback, and a cleaned copy the last
    resort (for nesting too deep for either encoder).
    """
    try:
        return orjson.dumps(event if type(event) is dict else dict(event)).decode()
    except (TypeError, ValueError):
        pass
    try:
        return json.dumps(event, default=_safe_str, skipkeys=True, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        pass
    cleaned = clean(dict(event))
    try:
        return orjson.dumps(cleaned).decode()
    except TypeError:  # lone surrogates or NaN survive cleaning; the stdlib escapes and spells them
        return json.dumps(cleaned, default=_safe_str, skipkeys=True)


def as_str(value: Any) -> str | None:
    """Return a non-empty string for a scalar identifier (str or int), else ``None``."""
    if type(value) is str:
        return value or None
    if type(value) is int:
        return str(value)
    return None


def as_int(value: Any, *, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int | None:
    """Cast ``value`` (int or numeric string such as ``"55256"`` / ``"AS55256"``) to int.

    Returns:
        The integer when it parses and lies in ``[lo, hi]``, else ``None``.
    """
    if type(value) is int:
        number = value
    elif type(value) is str:
        text = value.strip()
        if text[:2].upper() == "AS":
            text = text[2:]
        # isascii: str.isdigit() also accepts "²", which int() rejects
        if not (text.isascii() and text.isdigit()) or len(text) > 20:
            return None
        number = int(text)
    elif type(value) is float and value.is_integer():
        number = int(value)
    else:
        return None
    return number if lo <= number <= hi else None


def as_float(value: Any, *, bound: float) -> float | None:
    """Cast ``value`` (number or numeric string) to a finite float within ``±bound``."""
    if type(value) is int or type(value) is float:
        number = float(value)
    elif type(value) is str and len(value) <= 64:
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and -bound <= number <= bound else None


def as_ip(value: Any) -> str | None:
    """Return ``value`` when it is an IPv4/IPv6 address OCSF's ``ip_t`` accepts."""
    if type(value) is not str or not value or len(value) > _IP_MAX_LEN:
        return None
    return value if _is_ip(value) else None


@functools.lru_cache(maxsize=4096)
def _is_ip(text: str) -> bool:
    # Cached: the same few addresses recur across an organization's events.
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def as_email(value: Any) -> str | None:
    """Return ``value`` when it matches OCSF's ``email_t`` pattern."""
    if type(value) is str and len(value) <= 320 and _is_email(value):
        return value
    return None


@functools.lru_cache(maxsize=4096)
def _is_email(text: str) -> bool:
    # Cached like _is_ip: a few people act again and again.
    return _EMAIL.match(text) is not None


def is_mapping(value: Any) -> TypeGuard[Mapping[Any, Any]]:
    """``isinstance(value, Mapping)``, answering the common exact-dict case first (ABC checks are slow)."""
    return type(value) is dict or isinstance(value, Mapping)


def dig(payload: Any, *path: str) -> Any:
    """Return ``payload[path[0]][path[1]]…`` or ``None`` when any step is missing."""
    for key in path:
        if type(payload) is not dict and not isinstance(payload, Mapping):
            return None
        payload = payload.get(key)
    return payload


def first_str(payload: Any, paths: tuple[tuple[str, ...], ...]) -> str | None:
    """Return the first non-empty string/int identifier found at one of ``paths``."""
    if type(payload) is not dict and not isinstance(payload, Mapping):
        return None
    # dig() and as_str() inlined: this runs several times per event, and most paths miss
    # at their first key, so a miss costs one lookup.
    for path in paths:
        value: Any = payload.get(path[0])
        if value is None:
            continue
        for key in path[1:]:
            if type(value) is not dict and not isinstance(value, Mapping):
                value = None
                break
            value = value.get(key)
        if type(value) is str:
            if value:
                return value
        elif type(value) is int:
            return str(value)
    return None


def event_id(event: Mapping[str, Any]) -> str | None:
    """The audit-log id as a string, if the event has a usable one."""
    return as_str(event.get("id"))


def find_payload(event: Mapping[str, Any], event_type: str) -> tuple[str | None, Any]:
    """Find the type-specific payload: ``event[type]``, or the underscored spelling (normalization.md §1)."""
    if event_type in event:
        return event_type, event[event_type]
    underscored = event_type.replace(".", "_")
    if underscored in event:
        return underscored, event[underscored]
    return None, None
