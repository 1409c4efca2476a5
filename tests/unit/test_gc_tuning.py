"""Collector tuning: frozen start-up objects and a large young-generation threshold."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from connector import gc_tuning


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restore_gc")
def test_start_up_objects_are_frozen_and_young_collections_are_rare() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0

    gc_tuning.tune_gc()

    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (gc_tuning.GEN0_THRESHOLD, *gc_tuning.OLDER_THRESHOLDS)


@pytest.mark.usefixtures("restore_gc")
def test_cycles_are_still_collected() -> None:
    gc_tuning.tune_gc()

    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    del a, b
    assert gc.collect() >= 2
