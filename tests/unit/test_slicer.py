"""Slice length adaptation: it converges on the target from both sides; a dense history costs one drop."""

from __future__ import annotations

import itertools

from connector.config import PollSettings
from connector.models import Window
from connector.slicer import Slice, Slicer, TooDense


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
        # A slice cut short by the end of the range (a steady-state poll) judges the density
        # on what it covered, and still moves at most fourfold from its planned length.
        assert slicer.adapt(4000, 100, covered=60) == 1200
        assert slicer.adapt(86_400, 5, covered=60) == 24_000
        assert slicer.adapt(86_400, 1, covered=60) == 86_400  # max_slice
    finally:
        slicer.close()


def test_a_dense_history_costs_one_dropped_read_not_one_per_halving() -> None:
    """10 events/s under a one-day first slice: the density seen sets the next length at once."""
    poll = PollSettings(slice_events=1000, max_slice=86400, min_slice=1)
    slicer = Slicer(poll, workers=2)
    density, start, end = 10, 0, 86_400
    dropped: list[Window] = []
    read: list[Window] = []

    def collect(window: Window, split: bool) -> Slice | TooDense:
        count = (window.end - window.start) * density
        if split and count > 2 * poll.slice_events:
            # Newest first, as the API's own example: the events read are the window's latest.
            kept = 2 * poll.slice_events + 1
            dropped.append(window)
            return TooDense(kept, kept // density)
        read.append(window)
        events = [{"id": f"{window.start}-{n}", "effective_at": window.start} for n in range(count)]
        return Slice(window=window, events=events, invalid=[], fetched=count)

    try:
        lengths = [length for _, length in slicer.slices(collect, start, end, lead=0, length=86_400)]
    finally:
        slicer.close()
    assert [(w.start, w.end) for w in dropped] == [(0, 86_400)]
    assert read[0] == Window(0, 99) and set(lengths) == {100}  # then 1,000 events a slice, steadily
    assert read[-1].end == end and all(a.end == b.start for a, b in itertools.pairwise(read))


def test_events_in_no_time_order_fall_back_to_halving() -> None:
    slicer = Slicer(PollSettings(slice_events=1000, max_slice=86400, min_slice=1), workers=1)
    try:
        # In no time order the events read span about the whole window: about half of it.
        assert 43_000 <= slicer.shorter(86_400, TooDense(events=2001, seconds=86_400)) <= 43_200
        assert slicer.shorter(86_400, TooDense(events=20, seconds=86_400)) == 43_200  # never longer than half
        assert slicer.shorter(86_400, TooDense(events=2001, seconds=200)) == 99
        assert slicer.shorter(86_400, TooDense(events=2001, seconds=1)) == 1  # min_slice
    finally:
        slicer.close()
