"""Wire protocol of the list endpoint: query-string parsing and OpenAI-style error bodies."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import orjson

from connector.simulator.catalogue import KNOWN_TYPES, is_tenant_scoped
from connector.simulator.store import Query

_BOUNDS = ("gt", "gte", "lt", "lte")
_LISTS = ("project_ids", "event_types", "actor_ids", "actor_emails", "resource_ids")
_MAX_ECHO = 64
_INTEGER = re.compile(r"-?[0-9]+")


class ApiError(Exception):
    """An error the simulator answers with an OpenAI error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        """Describe the error.

        Args:
            status: HTTP status.
            message: human-readable text (never containing a secret).
            type: the error ``type`` field.
            param: the offending parameter, or None.
            code: machine-readable code, or None.
        """
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code

    def body(self) -> bytes:
        """The JSON error body: ``{"error": {message, type, param, code}}``."""
        return orjson.dumps(
            {
                "error": {
                    "message": self.message,
                    "type": self.type,
                    "param": self.param,
                    "code": self.code,
                }
            }
        )


def _echo(value: str) -> str:
    """Quote a client value in a message, cut short so bodies stay small."""
    return value if len(value) <= _MAX_ECHO else value[:_MAX_ECHO] + "…"


def mask_key(key: str) -> str:
    """Mask an API key the way OpenAI does in 401 messages (never the whole key).

    Args:
        key: the presented key.

    Returns:
        e.g. ``sk-adm***********************wxyz``; short keys are fully masked.
    """
    if len(key) < 16:
        return "*" * len(key)
    return key[:6] + "*" * (len(key) - 10) + key[-4:]


def _integer(name: str, raw: str) -> int:
    if _INTEGER.fullmatch(raw) is None:
        raise ApiError(
            400,
            f"Invalid '{name}': expected an integer, but got {_echo(raw)!r} instead.",
            param=name,
            code="invalid_type",
        )
    return int(raw)


def parse_query(raw_query: str) -> Query:
    """Turn the query string of ``GET /organization/audit_logs`` into a ``Query``.

    Brackets may be literal or percent-encoded; array parameters repeat their key
    (``event_types[]=a&event_types[]=b``). Unknown parameters are ignored, as the
    live API is assumed to do. For scalar parameters the last value wins.

    Args:
        raw_query: the part of the URL after ``?`` (may be empty).

    Returns:
        The validated query.

    Raises:
        ApiError: a 400 naming the offending parameter.
    """
    scalars: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        if key.endswith("[]") and key[:-2] in _LISTS:
            lists.setdefault(key[:-2], []).append(value)
        else:
            scalars[key] = value
    bounds: dict[str, int] = {}
    for op in _BOUNDS:
        name = f"effective_at[{op}]"
        if name in scalars:
            bounds[op] = _integer(name, scalars[name])
    limit = 20
    if "limit" in scalars:
        limit = _integer("limit", scalars["limit"])
        if limit < 1:
            raise ApiError(
                400,
                f"Invalid 'limit': integer below minimum value. Expected a value >= 1, "
                f"but got {limit} instead.",
                param="limit",
                code="integer_below_min_value",
            )
        if limit > 100:
            raise ApiError(
                400,
                f"Invalid 'limit': integer above maximum value. Expected a value <= 100, "
                f"but got {limit} instead.",
                param="limit",
                code="integer_above_max_value",
            )
    tenant_raw = scalars.get("tenant_only", "false").lower()
    if tenant_raw not in ("true", "false"):
        raise ApiError(
            400,
            f"Invalid 'tenant_only': expected a boolean (true or false), "
            f"but got {_echo(scalars['tenant_only'])!r} instead.",
            param="tenant_only",
            code="invalid_type",
        )
    tenant_only = tenant_raw == "true"
    for value in lists.get("event_types", ()):
        if value not in KNOWN_TYPES:
            raise ApiError(
                400,
                f"Invalid 'event_types[]': {_echo(value)!r} is not a known audit log event type.",
                param="event_types[]",
                code="invalid_value",
            )
        if tenant_only and not is_tenant_scoped(value):
            raise ApiError(
                400,
                f"Invalid 'event_types[]': {value!r} is not tenant-scoped; with "
                f"tenant_only=true every event type must be tenant-scoped.",
                param="event_types[]",
                code="invalid_value",
            )
    after = scalars.get("after") or None
    before = scalars.get("before") or None
    if after is not None and before is not None:
        raise ApiError(
            400, "Only one of 'after' and 'before' may be given.", param="before", code="invalid_value"
        )

    def members(name: str) -> frozenset[str] | None:
        values = lists.get(name)
        return frozenset(values) if values is not None else None

    return Query(
        gt=bounds.get("gt"),
        gte=bounds.get("gte"),
        lt=bounds.get("lt"),
        lte=bounds.get("lte"),
        project_ids=members("project_ids"),
        event_types=members("event_types"),
        actor_ids=members("actor_ids"),
        actor_emails=members("actor_emails"),
        resource_ids=members("resource_ids"),
        tenant_only=tenant_only,
        limit=limit,
        after=after,
        before=before,
    )


def invalid_cursor(name: str, value: str) -> ApiError:
    """The 400 for an ``after``/``before`` value that is not a known audit-log id."""
    return ApiError(
        400,
        f"Invalid '{name}': {_echo(value)!r} is not the id of an audit log in this organization.",
        param=name,
        code="invalid_cursor",
    )
