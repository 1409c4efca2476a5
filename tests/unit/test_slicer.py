"""Slice length adaptation: it converges on the target size from both sides, in bounded steps."""

from __future__ import annotations

from connector.config import PollSettings
from connector.slicer import Slicer


def test_slice_length_converges_on_the_target_event_count_from_both_sides() -> None:
    slicer = Slicer(PollSettings(slice_events=2000, max_slice=86400, min_slice=1), workers=1)
    try:
        density = 0.1  # events per second: 2,000 events take 20,000 s
        for start in (600, 80_000):
            length = start
            for _ in range(12):
                length = slicer.adapt(length, int(length * density))
            assert 18_000 <= length <= 22_000, (start, length)
    finally:
        slicer.close()


def test_one_step_changes_the_length_at_most_twofold_up_and_fourfold_down() -> None:
    slicer = Slicer(PollSettings(slice_events=2000, max_slice=86400, min_slice=10), workers=1)
    try:
        assert slicer.adapt(1000, 0) == 2000
        assert slicer.adapt(1000, 1) == 2000
        assert slicer.adapt(1000, 100_000) == 250
        assert slicer.adapt(1000, 2000) == 1000
        assert slicer.adapt(60_000, 10) == 86_400  # max_slice
        assert slicer.adapt(20, 100_000) == 10  # min_slice
    finally:
        slicer.close()
