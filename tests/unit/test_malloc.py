"""glibc malloc tuning: applied once at start unless the operator chose otherwise."""

from __future__ import annotations

import ctypes

import pytest

from connector import malloc


class FakeLibc:
    def __init__(self, answer: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self._answer = answer

    def mallopt(self, option: int, value: int) -> int:
        self.calls.append((option, value))
        return self._answer


@pytest.fixture(autouse=True)
def no_operator_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)


def test_two_arenas_and_glibcs_own_mmap_threshold() -> None:
    libc = FakeLibc()
    assert malloc.tune_malloc(libc)  # type: ignore[arg-type]
    assert libc.calls == [(malloc.M_ARENA_MAX, 2)]


@pytest.mark.parametrize("variable", ["MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"])
def test_an_operators_setting_wins(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "4")
    libc = FakeLibc()
    assert not malloc.tune_malloc(libc)  # type: ignore[arg-type]
    assert libc.calls == []


def test_a_refused_setting_is_reported() -> None:
    assert not malloc.tune_malloc(FakeLibc(answer=0))  # type: ignore[arg-type]


def test_a_libc_without_mallopt_is_left_alone() -> None:
    assert not malloc.tune_malloc(object())  # type: ignore[arg-type]


def test_the_real_glibc_accepts_the_settings() -> None:
    # The machines this runs on use glibc (Debian); mallopt returns 1 on success.
    assert malloc.tune_malloc(ctypes.CDLL(None))
