"""Offline ECS 9.4.0 validation for tests, against the field catalogue in ``tests/data/ecs``.

The checks of normalization.md §4.3: every field is an ECS field or under ``openai.``;
each value has its field's type; the ``event.*`` values are allowed ones; the
``normalize: array`` fields are arrays (and no other field is); every ``event.type`` is
expected for one of the event's categories; ``@timestamp`` and ``ecs.version`` are
present. Two hygiene rules of the connector are checked too: no key contains a dot
(Elasticsearch would expand it into a path) and no value is ``null``.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

ECS_VERSION = "9.4.0"
CATALOGUE = Path(__file__).resolve().parents[1] / "data" / "ecs" / f"ecs_flat_{ECS_VERSION}.json"
CUSTOM_PREFIX = "openai"
"""The one custom namespace: anything goes below it, except dotted keys and nulls."""

_STRING_TYPES = frozenset({"keyword", "constant_keyword", "wildcard", "match_only_text", "text"})
_INT_RANGES = {
    "long": (-(2**63), 2**63 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-(2**7), 2**7 - 1),
    "unsigned_long": (0, 2**64 - 1),
}
_FLOAT_TYPES = frozenset({"float", "double", "half_float", "scaled_float"})
_OBJECT_TYPES = frozenset({"object", "flattened"})


class Catalogue:
    """The parts of ECS 9.4.0's ``ecs_flat`` that the checks use."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = data["ecs_version"]
        self.fields: dict[str, str] = data["fields"]
        self.arrays: frozenset[str] = frozenset(data["array_fields"])
        self.allowed: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in data["allowed_values"].items()}
        self.expected: dict[str, frozenset[str]] = {
            k: frozenset(v) for k, v in data["expected_event_types"].items()
        }
        # Every proper prefix of a field name: "user", "user.target", … (objects to descend into).
        self.parents: frozenset[str] = frozenset(
            name.rsplit(".", n)[0] for name in self.fields for n in range(1, name.count(".") + 1)
        )


@cache
def catalogue() -> Catalogue:
    """The committed catalogue (no network)."""
    return Catalogue(json.loads(CATALOGUE.read_text("utf-8")))


def ecs_errors(document: Any) -> list[str]:
    """Return every reason ``document`` is not a valid ECS 9.4.0 document (empty when valid)."""
    cat = catalogue()
    if not isinstance(document, Mapping):
        return [f"<root>: not an object but {type(document).__name__}"]
    errors: list[str] = []
    _walk(cat, document, "", errors)
    if "@timestamp" not in document:
        errors.append("@timestamp: missing")
    ecs = document.get("ecs")
    version = ecs.get("version") if isinstance(ecs, Mapping) else None
    if version != cat.version:
        errors.append(f"ecs.version: {version!r}, expected {cat.version!r}")
    errors.extend(_event_type_errors(cat, document.get("event")))
    return errors


def _walk(cat: Catalogue, node: Mapping[Any, Any], path: str, errors: list[str]) -> None:
    for key, value in node.items():
        if type(key) is not str:
            errors.append(f"{path or '<root>'}: key {key!r} is not a string")
            continue
        name = f"{path}.{key}" if path else key
        if "." in key:
            errors.append(f"{name}: dotted key {key!r} (Elasticsearch expands it into a path)")
            continue
        if value is None:
            errors.append(f"{name}: null value")
        elif name == CUSTOM_PREFIX or name.startswith(CUSTOM_PREFIX + "."):
            _walk_custom(value, name, errors)
        elif name in cat.fields:
            errors.extend(_field_errors(cat, name, value))
        elif name in cat.parents and isinstance(value, Mapping):
            _walk(cat, value, name, errors)
        else:
            errors.append(f"{name}: not an ECS {cat.version} field")


def _walk_custom(value: Any, path: str, errors: list[str]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{path}.{key}"
            if type(key) is not str or "." in key:
                errors.append(f"{name}: dotted or non-string key {key!r}")
            elif item is None:
                errors.append(f"{name}: null value")
            else:
                _walk_custom(item, name, errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if item is None:
                errors.append(f"{path}[{index}]: null value")
            else:
                _walk_custom(item, f"{path}[{index}]", errors)


def _field_errors(cat: Catalogue, name: str, value: Any) -> list[str]:
    kind = cat.fields[name]
    if name in cat.arrays:
        if not isinstance(value, list):
            return [f"{name}: must be an array (normalize: array), got {type(value).__name__}"]
        values = value
    elif isinstance(value, list) and kind != "nested":
        return [f"{name}: an array, but ECS does not declare the field an array"]
    else:
        values = [value]
    errors = []
    allowed = cat.allowed.get(name)
    for item in values:
        problem = _type_problem(kind, item)
        if problem is not None:
            errors.append(f"{name}: {problem} ({kind} expected): {item!r:.80}")
        elif allowed is not None and item not in allowed:
            errors.append(f"{name}: {item!r} is not an allowed value")
    return errors


def _type_problem(kind: str, value: Any) -> str | None:
    if kind in _STRING_TYPES:
        return None if type(value) is str else "not a string"
    if kind in _INT_RANGES:
        lo, hi = _INT_RANGES[kind]
        return None if type(value) is int and lo <= value <= hi else "not an integer in range"
    if kind in _FLOAT_TYPES:
        ok = type(value) in (int, float) and math.isfinite(value)
        return None if ok else "not a finite number"
    if kind == "boolean":
        return None if type(value) is bool else "not a boolean"
    if kind == "ip":
        return None if _is_ip(value) else "not an IP address"
    if kind == "date":
        return None if _is_iso_datetime(value) else "not an ISO-8601 date-time with a time zone"
    if kind == "geo_point":
        return None if _is_geo_point(value) else "not a {lat, lon} object"
    if kind in _OBJECT_TYPES:
        return None if isinstance(value, Mapping) else "not an object"
    if kind == "nested":
        ok = isinstance(value, Mapping) or (
            isinstance(value, list) and all(isinstance(v, Mapping) for v in value)
        )
        return None if ok else "not an object or array of objects"
    return f"unknown ECS type {kind!r}"


def _is_ip(value: Any) -> bool:
    if type(value) is not str or "%" in value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_iso_datetime(value: Any) -> bool:
    if type(value) is not str or "T" not in value:
        return False
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    return moment.tzinfo is not None


def _is_geo_point(value: Any) -> bool:
    if not isinstance(value, Mapping) or set(value) != {"lat", "lon"}:
        return False
    lat, lon = value["lat"], value["lon"]
    numbers = all(type(v) in (int, float) and math.isfinite(v) for v in (lat, lon))
    return numbers and -90 <= lat <= 90 and -180 <= lon <= 180


def _event_type_errors(cat: Catalogue, event: Any) -> list[str]:
    """Every ``event.type`` must be expected for at least one of the ``event.category`` values."""
    if not isinstance(event, Mapping):
        return []
    categories, types = event.get("category"), event.get("type")
    if not isinstance(types, list):
        return []
    if not isinstance(categories, list) or not categories:
        return ["event.type: set without an event.category"]
    return [
        f"event.type: {value!r} is not expected for event.category {categories!r}"
        for value in types
        if type(value) is str
        and not any(
            value in cat.expected.get(category, ()) for category in categories if type(category) is str
        )
    ]
