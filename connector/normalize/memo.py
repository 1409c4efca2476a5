"""A small bounded memo keyed by a value's JSON text, for the parts of events that recur.

An organization has few actors and projects, and each appears on thousands of events:
mapping the same ``actor`` object again for every event was a quarter of the OCSF
normalizer's time. Results are keyed by the exact JSON encoding (orjson, insertion
order), so two keys are equal only when the values are the same JSON. Values that
orjson refuses, or whose text is long, are not memoized.

What a memo hands out is shared by every document built from it: documents treat
their nested parts as read-only (see ``connector.normalize.Normalizer``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson

T = TypeVar("T")

MAX_ENTRIES = 1024
"""Distinct keys kept; the memo starts over when it is full (bounded memory)."""

MAX_KEY_BYTES = 2048
"""Longer JSON texts are mapped every time: a hostile or odd value cannot bloat the memo."""


class JsonMemo(Generic[T]):
    """``compute(value)``, remembered by ``value``'s JSON text."""

    __slots__ = ("_compute", "_entries")

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self._compute = compute
        self._entries: dict[bytes, T] = {}

    def __call__(self, value: Any) -> T:
        try:
            key = orjson.dumps(value)
        except TypeError:  # integers beyond 64 bits, non-string keys, ...
            return self._compute(value)
        found = self._entries.get(key)
        if found is not None:
            return found
        result = self._compute(value)
        if len(key) <= MAX_KEY_BYTES:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = result
        return result

    def __reduce__(self) -> tuple[type[JsonMemo[T]], tuple[Callable[[Any], T]]]:
        # A normalizer is pickled into its worker processes: send the function, not the
        # entries. (__reduce__ rather than __getstate__: it also works when mypyc compiles
        # this class, whose instances have no __dict__ for the default protocol.)
        return type(self), (self._compute,)
