"""JsonMemo: results remembered by a value's JSON text, bounded, and never pickled."""

from __future__ import annotations

import pickle
from typing import Any

from connector.normalize import memo
from connector.normalize.memo import JsonMemo


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, value: Any) -> dict[str, Any]:
        self.calls += 1
        return {"seen": value}


def test_equal_json_is_computed_once_and_different_json_again() -> None:
    compute = Counting()
    remember = JsonMemo(compute)
    first = remember({"id": "u1", "ip": "10.0.0.1"})
    assert remember({"id": "u1", "ip": "10.0.0.1"}) is first
    assert remember({"id": "u1", "ip": "10.0.0.2"}) == {"seen": {"id": "u1", "ip": "10.0.0.2"}}
    # 1 and 1.0 and True are different JSON, so different keys.
    remember(1), remember(1.0), remember(True)
    assert compute.calls == 5


def test_values_orjson_refuses_and_long_values_are_computed_every_time() -> None:
    compute = Counting()
    remember = JsonMemo(compute)
    huge = {"n": 2**70}
    long = {"blob": "x" * memo.MAX_KEY_BYTES}
    for _ in range(3):
        assert remember(huge) == {"seen": huge}
        assert remember(long) == {"seen": long}
    assert compute.calls == 6


def test_the_memo_starts_over_when_full() -> None:
    compute = Counting()
    remember = JsonMemo(compute)
    for i in range(memo.MAX_ENTRIES + 1):
        remember(i)
    assert compute.calls == memo.MAX_ENTRIES + 1
    remember(memo.MAX_ENTRIES)  # kept: it came after the clear
    remember(0)  # forgotten
    assert compute.calls == memo.MAX_ENTRIES + 2


def test_pickling_sends_the_function_without_the_entries() -> None:
    remember = JsonMemo(_module_level)
    remember("a")
    copy = pickle.loads(pickle.dumps(remember))
    assert copy._entries == {}
    assert copy("b") == "B"


def _module_level(value: Any) -> str:
    return str(value).upper()
