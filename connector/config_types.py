"""Setting value types: durations (``900``, ``15m``, ``24h``, ``30d``) and comma-separated lists."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_settings import NoDecode

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(value: Any) -> Any:
    """Accept ``900``, ``"900"``, ``"15m"``, ``"24h"``, ``"30d"`` and return seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration must be a number of seconds or like 15m, 24h, 30d")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value.lower())
        if not match:
            raise ValueError(f"invalid duration {value!r}: use seconds or a number with s/m/h/d/w")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        return value
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds; accepts ``900``, ``15m``, ``24h``, ``30d``."""


def split_list(value: Any) -> Any:
    """Let list settings come from env as ``a,b,c`` or as a JSON list."""
    if isinstance(value, str):
        if value.lstrip().startswith("["):
            return json.loads(value)
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CsvList = Annotated[list[str], NoDecode, BeforeValidator(split_list)]
