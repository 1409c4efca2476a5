"""Backfill progress: the terminal bar, the throttled log line, the ETA and the gauges."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import re
import select
import struct
import termios
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from connector.logs import JsonFormatter
from connector.metrics import Metrics
from connector.progress import RATE_HALF_LIFE, BackfillProgress, is_backfill

DAY = 86400
START = 1_790_812_800  # 2026-10-01T00:00:00Z
END = START + 20 * DAY  # 2026-10-21


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def terminal(
    clock: FakeClock, out: io.StringIO, *, start: int = START, end: int = END, **kwargs: object
) -> BackfillProgress:
    return BackfillProgress(
        stream="default",
        start=start,
        end=end,
        metrics=None,
        stream_out=out,
        interactive=True,
        clock=clock,
        **kwargs,  # type: ignore[arg-type]
    )


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "connector.progress"]


@pytest.fixture
def progress_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="connector.progress")
    return caplog


# -- terminal -----------------------------------------------------------------------------


def test_a_terminal_gets_one_line_redrawn_with_cr_and_a_newline_at_the_end(clock: FakeClock) -> None:
    out = io.StringIO()
    progress = terminal(clock, out)
    assert out.getvalue() == ""  # nothing before the first slice
    clock.now = 10.0
    progress.advance(START + 5 * DAY, 12_345)
    clock.now = 20.0
    progress.advance(START + 10 * DAY, 10_000)
    progress.close()

    text = out.getvalue()
    assert "\n" not in text[:-1] and text.endswith("\n")
    draws = text[:-1].split("\r\x1b[K")[1:]
    assert len(draws) == 3  # two advances and the final draw
    assert draws[0].startswith("backfill default  [#####---------------]   25%  2026-10-01 → 2026-10-06 of")
    assert "→ 2026-10-21" in draws[0]
    assert "12,345 events" in draws[0] and "1,234 ev/s" in draws[0] and "ETA 30s" in draws[0]
    assert "[##########----------]   50%" in draws[1] and "22,345 events" in draws[1]


def test_a_short_range_shows_hours_and_minutes(clock: FakeClock) -> None:
    out = io.StringIO()
    progress = terminal(clock, out, start=START, end=START + 6 * 3600)
    clock.now = 1.0
    progress.advance(START + 3600 + 30 * 60, 7)
    assert "2026-10-01 00:00 → 2026-10-01 01:30 of → 2026-10-01 06:00" in out.getvalue()


def test_redraws_are_throttled_to_five_a_second(clock: FakeClock) -> None:
    out = io.StringIO()
    progress = terminal(clock, out)
    for i in range(1, 11):  # ten slices within 0.1 s: one draw
        clock.now = i / 100
        progress.advance(START + i * 3600, 1)
    assert out.getvalue().count("\r") == 1
    clock.now = 0.3
    progress.advance(START + 11 * 3600, 1)
    assert out.getvalue().count("\r") == 2
    assert "11 events" in out.getvalue().rsplit("\r", 1)[1]
    progress.close()  # the final figures are drawn whatever the throttle says
    assert out.getvalue().count("\r") == 3


def test_a_log_record_wipes_the_bar_and_the_next_slice_draws_it_again_below(clock: FakeClock) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        progress = terminal(clock, out)
        clock.now = 1.0
        progress.advance(START + DAY, 5)
        logging.getLogger("connector.pipeline").warning("a window line")
        clock.now = 1.01  # within the throttle, but the bar is gone: draw it again
        progress.advance(START + 2 * DAY, 5)
        progress.close()
        assert handler.filters == []
    finally:
        root.removeHandler(handler)
    text = out.getvalue()
    bar, log_line, redrawn = text.split("\r\x1b[K")[1:4]
    assert bar.startswith("backfill default") and log_line == "a window line\n"
    assert redrawn.startswith("backfill default") and "10 events" in redrawn


def read_until_newline(fd: int) -> str:
    """What the terminal received, up to the final newline (a pty hands it over in pieces)."""
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], 5.0)
        assert ready, f"no newline from the terminal after {data!r}"
        data += os.read(fd, 65536)
    return data.decode()


def test_a_real_terminal_is_detected_and_the_line_fits_its_width(clock: FakeClock) -> None:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    with os.fdopen(slave, "w", encoding="utf-8") as tty:
        progress = BackfillProgress(
            stream="default", start=START, end=END, metrics=None, stream_out=tty, clock=clock
        )
        assert progress.interactive
        clock.now = 2.0
        progress.advance(START + DAY, 100)
        progress.close()
        shown = read_until_newline(master)
        assert not BackfillProgress(
            stream="default", start=START, end=END, metrics=None, stream_out=tty, json_logs=True
        ).interactive
    os.close(master)
    draws = [d.rstrip("\r\n") for d in shown.split("\r\x1b[K")[1:]]
    assert len(draws) == 2 and all(len(d) <= 59 for d in draws), draws
    assert draws[0].startswith("backfill default  [#-------------------]    5%")
    assert draws[0].endswith("ETA 38s"), draws  # the dates, rate and counts made way for the ETA
    assert shown.endswith("\n")


def test_a_pipe_or_a_file_is_not_a_terminal() -> None:
    progress = BackfillProgress(
        stream="default", start=START, end=END, metrics=None, stream_out=io.StringIO()
    )
    assert not progress.interactive


# -- ETA ------------------------------------------------------------------------------------


def test_eta_is_the_remaining_range_over_the_rate_at_which_it_is_covered(clock: FakeClock) -> None:
    progress = terminal(clock, io.StringIO(), start=0, end=1000)
    clock.now = 10.0
    progress.advance(100, 50)  # 100 s of event time in 10 s
    figures = progress.figures()
    assert figures.eta_seconds == pytest.approx(90.0)
    assert figures.rate == pytest.approx(5.0)
    assert figures.percent == 10


@pytest.mark.parametrize(("half_lives", "weight"), [(1, 0.5), (2, 0.75), (0.5, 1 - 0.5**0.5)])
def test_a_new_rate_sample_weighs_by_the_wall_time_it_spans(
    clock: FakeClock, half_lives: float, weight: float
) -> None:
    progress = terminal(clock, io.StringIO(), start=0, end=10_000)
    clock.now = RATE_HALF_LIFE
    progress.advance(100, 0)  # first sample: 100 s of event time per half-life
    clock.now += half_lives * RATE_HALF_LIFE
    progress.advance(100 + round(300 * half_lives), 0)  # then three times as fast
    first, second = 100 / RATE_HALF_LIFE, 300 / RATE_HALF_LIFE
    rate = first + weight * (second - first)
    remaining = 10_000 - progress.figures().covered_until
    assert progress.figures().eta_seconds == pytest.approx(remaining / rate)


def test_the_eta_settles_after_a_slow_first_slice(clock: FakeClock) -> None:
    progress = terminal(clock, io.StringIO(), start=0, end=100_000)
    clock.now = 60.0
    progress.advance(1000, 0)  # slow start: 1000 s in a minute
    covered = 1000
    for _ in range(60):  # then 1000 s every second for a minute
        clock.now += 1.0
        covered += 1000
        progress.advance(covered, 0)
    eta = progress.figures().eta_seconds
    assert eta is not None
    steady = (100_000 - covered) / 1000
    assert steady <= eta < steady * 1.2


def test_known_slices_left_give_the_eta_from_the_time_per_slice(clock: FakeClock) -> None:
    progress = terminal(clock, io.StringIO(), start=0, end=1000)
    clock.now = 4.0
    progress.advance(100, 10, slices_left=9)
    assert progress.figures().eta_seconds == pytest.approx(36.0)
    clock.now = 8.0
    progress.advance(200, 10, slices_left=None)  # unknown again: the range rate decides
    assert progress.figures().eta_seconds == pytest.approx(800 / 25)


def test_the_eta_is_unknown_without_a_rate_and_zero_when_done(clock: FakeClock) -> None:
    out = io.StringIO()
    progress = terminal(clock, out, start=0, end=1000)
    assert progress.figures().eta_seconds is None
    progress.advance(100, 3)  # no wall time has passed: no rate yet
    assert progress.figures().eta_seconds is None and progress.figures().rate is None
    assert out.getvalue().endswith("ETA --")
    assert "-- ev/s" in out.getvalue()

    stalled = terminal(clock, io.StringIO(), start=0, end=1000)
    clock.now = 30.0
    stalled.advance(0, 0)  # a slice that covered nothing: rate zero
    assert stalled.figures().eta_seconds is None

    clock.now = 40.0
    progress.advance(1000, 0)
    assert progress.figures().eta_seconds == 0.0 and progress.figures().percent == 100


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.4, "0s"), (42, "42s"), (192, "3m12s"), (7500, "2h05m"), (3 * DAY + 4 * 3600, "3d04h")],
)
def test_eta_durations_read_short(clock: FakeClock, seconds: float, shown: str) -> None:
    out = io.StringIO()
    progress = terminal(clock, out, start=0, end=1000)
    clock.now = seconds
    progress.advance(500, 0, slices_left=1)  # one more slice, as long as this one took
    assert progress.figures().eta_seconds == pytest.approx(seconds)
    assert out.getvalue().endswith(f"ETA {shown}")


# -- resume and odd input -------------------------------------------------------------------


def test_a_resumed_backfill_counts_what_was_done_towards_the_percentage_not_the_rate(
    clock: FakeClock,
) -> None:
    progress = terminal(clock, io.StringIO(), start=0, end=1000, covered_until=500)
    assert progress.figures().percent == 50
    clock.now = 10.0
    progress.advance(600, 0)
    assert progress.figures().eta_seconds == pytest.approx(400 / 10)


def test_covered_until_never_goes_back_nor_past_the_end(clock: FakeClock) -> None:
    progress = terminal(clock, io.StringIO(), start=0, end=1000)
    progress.advance(600, 1)
    progress.advance(300, 1)
    assert progress.figures().covered_until == 600
    progress.advance(5000, 1)
    assert progress.figures().covered_until == 1000 and progress.figures().events == 3


def test_close_is_idempotent_and_later_slices_are_ignored(clock: FakeClock) -> None:
    out = io.StringIO()
    progress = terminal(clock, out, start=0, end=1000)
    with progress:
        progress.advance(100, 1)
    progress.close()
    progress.advance(200, 1)
    assert out.getvalue().count("\n") == 1 and progress.figures().covered_until == 100


def test_is_backfill_leaves_routine_polls_alone() -> None:
    assert not is_backfill(0, 360, poll_interval=60)
    assert is_backfill(0, 3600, poll_interval=60)
    assert not is_backfill(0, 3600, poll_interval=1800)  # two missed polls of a slow schedule


# -- log lines ------------------------------------------------------------------------------


def logged(
    clock: FakeClock, *, every: float = 5.0, json_logs: bool = False, end: int = 1000
) -> BackfillProgress:
    return BackfillProgress(
        stream="tenant",
        start=0,
        end=end,
        metrics=None,
        stream_out=io.StringIO(),
        json_logs=json_logs,
        every=every,
        clock=clock,
    )


def test_without_a_terminal_a_line_is_logged_every_few_seconds_and_a_final_one(
    clock: FakeClock, progress_logs: pytest.LogCaptureFixture
) -> None:
    progress = logged(clock, every=5.0)
    for second in range(1, 13):  # one slice a second, 50 s of event time each
        clock.now = float(second)
        progress.advance(second * 50, 10)
    records = lines(progress_logs)
    assert [r.covered_until for r in records] == [250, 500]  # type: ignore[attr-defined]
    assert records[0].getMessage().startswith("backfill tenant: 25%, covered to 1970-01-01T00:04:10Z of [")
    assert "50 events, 10 ev/s, ETA 15s" in records[0].getMessage()
    progress.close()
    final = lines(progress_logs)[-1]
    assert final.getMessage().startswith("backfill tenant stopped at 60%: covered to 1970-01-01T00:10:00Z")
    assert "120 events in 12s" in final.getMessage()
    assert all(r.levelno == logging.INFO for r in lines(progress_logs))


def test_each_log_line_carries_the_figures_as_fields(
    clock: FakeClock, progress_logs: pytest.LogCaptureFixture
) -> None:
    progress = logged(clock, json_logs=True)
    assert not progress.interactive
    clock.now = 5.0
    progress.advance(250, 400)
    record = lines(progress_logs)[0]
    doc = json.loads(JsonFormatter().format(record))
    assert {k: doc[k] for k in ("stream", "covered_until", "events", "rate", "eta_seconds", "percent")} == {
        "stream": "tenant",
        "covered_until": 250,
        "events": 400,
        "rate": 80.0,
        "eta_seconds": 15,
        "percent": 25.0,
    }
    assert doc["logger"] == "connector.progress" and doc["start"] == 0 and doc["end"] == 1000


def test_a_finished_backfill_logs_complete_once(
    clock: FakeClock, progress_logs: pytest.LogCaptureFixture
) -> None:
    progress = logged(clock)
    clock.now = 1.0
    progress.advance(1000, 7)
    progress.close()
    progress.close()
    records = lines(progress_logs)
    assert len(records) == 1
    assert re.fullmatch(
        r"backfill tenant complete: covered to \S+ of \[\S+, \S+\), 7 events in 1s", records[0].getMessage()
    )
    assert records[0].percent == 100.0 and records[0].eta_seconds == 0  # type: ignore[attr-defined]


# -- metrics ---------------------------------------------------------------------------------


def test_the_gauges_follow_each_slice(clock: FakeClock) -> None:
    metrics = Metrics(registry=CollectorRegistry())

    def sample(name: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"stream": "default"})

    assert sample("connector_backfill_progress_ratio") == 1.0  # none running
    progress = BackfillProgress(
        stream="default", start=0, end=1000, metrics=metrics, stream_out=io.StringIO(), clock=clock
    )
    assert sample("connector_backfill_remaining_seconds") == 1000
    assert sample("connector_backfill_progress_ratio") == 0.0
    clock.now = 1.0
    progress.advance(250, 5)
    assert sample("connector_backfill_remaining_seconds") == 750
    assert sample("connector_backfill_progress_ratio") == 0.25
    progress.advance(1000, 5)
    progress.close()
    assert sample("connector_backfill_remaining_seconds") == 0
    assert sample("connector_backfill_progress_ratio") == 1.0
    assert metrics.registry.get_sample_value("connector_backfill_progress_ratio", {"stream": "tenant"}) == 1.0


@pytest.fixture(autouse=True)
def _no_leftover_filters() -> Iterator[None]:
    """A closed display leaves no filter on the root handlers."""
    yield
    for handler in logging.getLogger().handlers:
        assert not any(isinstance(getattr(f, "__self__", None), BackfillProgress) for f in handler.filters)
