"""API faults: 429 storms, 5xx bursts, timeouts, resets, broken bodies, cursor faults and huge fields.

Each case runs ``connector run`` as a process against the simulator with one fault switched on,
samples checkpoint and output while it runs, and then checks that every visible event was
delivered, exactly once, and that the checkpoint is sane. Clock skew of ±10 minutes is covered by
tests/e2e/test_operations.py (``test_a_host_clock_ten_minutes_off_neither_skips_nor_delays_events``),
low-rate 429/500/truncated mixes with late events by tests/e2e/test_delivery.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from connector.simulator import EventStore, Faults, SeenQuery, generate_events, is_tenant_scoped
from tests.e2e.harness import Workspace, read_output, serve, terminate
from tests.faults.helpers import (
    PeakRss,
    assert_checkpoint_sane,
    error_lines,
    file_ids,
    history,
    metric_value,
    running,
    scrape,
    watch_delivery,
)

pytestmark = pytest.mark.faults

# Small pages and slices: many requests, and windows of several pages for the cursor faults.
PAGED = {"OPENAI__PAGE_LIMIT": "20", "POLL__SLICE_EVENTS": "200", "POLL__OVERLAP": "60"}


@dataclass(frozen=True)
class Case:
    faults: Faults
    injected: str  # the simulator's name for the fault, as counted in requests.by_fault()
    settings: dict[str, str] = field(default_factory=dict)
    fault_s: float | None = None  # None: the fault stays on until everything is delivered
    bursts: bool = False  # the fault comes in bursts: 1.5 s of every 4 s
    log: str | None = None  # the connector's log must say this


CASES = {
    "5xx-bursts": Case(
        Faults(rate_500=0.1, server_error_statuses=(500, 502, 503, 504), latency_s=0.1, seed=1),
        "500",
        bursts=True,
    ),
    "timeouts": Case(
        Faults(rate_slow=0.1, slow_s=2.5, seed=2), "slow", settings={"OPENAI__TIMEOUT": "1"}, log="timeout"
    ),
    "connection-resets": Case(Faults(rate_reset=0.2, seed=3), "reset", log="connection error"),
    "truncated-bodies": Case(Faults(rate_truncated=0.25, seed=4), "truncated", log="malformed response"),
    "invalid-json": Case(Faults(rate_invalid_json=0.25, seed=5), "invalid_json", log="malformed response"),
    "invalid-utf8": Case(Faults(rate_invalid_utf8=0.25, seed=6), "invalid_utf8", log="not strict UTF-8"),
    "empty-page-has-more-with-cursor": Case(
        Faults(rate_empty_has_more=0.15, seed=7), "empty_has_more", fault_s=10, log="repeated cursor"
    ),
    "empty-page-has-more-null-last-id": Case(
        Faults(rate_empty_has_more=0.15, empty_last_id="null", seed=8), "empty_has_more", fault_s=10
    ),
    "repeated-cursor": Case(
        Faults(rate_repeat_cursor=0.15, seed=9), "repeat_cursor", fault_s=10, log="repeated cursor"
    ),
    # Rare enough that one window read never meets more expired cursors than the client restarts
    # for; one worker keeps the seeded draws on the same requests run after run.
    "expired-cursor": Case(
        Faults(rate_expire_cursor=0.02, seed=10), "expire_cursor", settings={"BACKFILL__WORKERS": "1"}
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_api_fault_loses_nothing_and_keeps_the_checkpoint_sane(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    events, store = history(3000, seed=100 + len(name))
    expected = {e["id"] for e in events}
    burst = replace(case.faults, rate_500=1.0, seed=99) if case.bursts else case.faults
    with serve(store, case.faults) as server:
        ws = Workspace(tmp_path, server.url, **(PAGED | case.settings))
        switched_off: list[float] = []

        def tick(elapsed: float) -> None:
            if case.bursts:
                server.faults = burst if elapsed % 4 < 1.5 else case.faults
            elif case.fault_s is not None and elapsed >= case.fault_s and not switched_off:
                server.faults = Faults()
                switched_off.append(elapsed)

        with running(ws, "run") as proc:
            watch = watch_delivery(
                proc,
                expected,
                events,
                checkpoint=tmp_path / "checkpoint.db",
                delivered=file_ids(ws),
                timeout=150,
                tick=tick,
            )
            server.faults = Faults()
            code = terminate(proc)
        injected = server.requests.by_fault()
        statuses = server.requests.by_status()
        queries = list(server.seen_queries)
    out = read_output(ws.output)
    missing = expected - set(out.ids)
    logs = ws.logs()
    print(
        f"\n{name}: {len(expected)} events in {watch.seconds:.1f}s; injected {injected}; "
        f"statuses {statuses}; "
        f"fault on for {switched_off[0] if switched_off else watch.seconds:.0f}s; "
        f"{len(error_lines(logs))} ERROR lines; duplicates {out.duplicates()}; {watch.samples} samples"
    )
    assert not missing, (
        f"{len(missing)} of {len(expected)} events never delivered, e.g. {sorted(missing)[:3]}"
    )
    assert watch.violations == [], watch.violations[:5]
    assert code == 0, logs[-3000:]
    assert out.fragments == 0 and out.duplicates() == 0
    assert injected.get(case.injected, 0) > 0, injected
    if case.log is not None:
        assert case.log in logs, logs[-3000:]
    if name == "invalid-utf8":
        assert any("\ufffd" in line for line in ws.output.read_text().splitlines())
    if name == "expired-cursor":
        # After a refused cursor the window is read again from its start (no 'after').
        for i, query in enumerate(queries):
            if query.fault == "expire_cursor":
                same = [q for q in queries[i + 1 :] if _window(q) == _window(query)]
                assert same and "after" not in dict(same[0].params), (query.raw, [q.raw for q in same[:2]])
    assert_checkpoint_sane(ws, events, set(out.ids), db=tmp_path / "checkpoint.db")


def _window(query: SeenQuery) -> tuple[str | None, ...]:
    params = dict(query.params)
    return tuple(params.get(k) for k in ("effective_at[gte]", "effective_at[lt]", "tenant_only"))


def test_a_429_storm_honours_retry_after_and_the_total_wait_is_bounded_and_reported(tmp_path: Path) -> None:
    retry_after, storm_s = 1, 15
    events, store = history(1500, seed=11)
    expected = {e["id"] for e in events}
    storm = Faults(rate_429=0.6, retry_after=retry_after, seed=11)
    with serve(store, storm) as server:
        # One worker: requests are sequential, so the gap after each 429 is the connector's own wait.
        ws = Workspace(
            tmp_path, server.url, BACKFILL__WORKERS="1", OPENAI__PAGE_LIMIT="50", POLL__SLICE_EVENTS="300"
        )

        storm_end: list[float] = []

        def tick(elapsed: float) -> None:
            if elapsed >= storm_s and not storm_end:
                server.faults = Faults()
                storm_end.append(time.monotonic())

        with running(ws, "run") as proc:
            watch = watch_delivery(
                proc,
                expected,
                events,
                checkpoint=tmp_path / "checkpoint.db",
                delivered=file_ids(ws),
                timeout=150,
                tick=tick,
            )
            metrics = scrape(ws)
            code = terminate(proc)
        queries = list(server.seen_queries)
        statuses = server.requests.by_status()
    out = read_output(ws.output)
    assert set(out.ids) == expected and watch.violations == [] and code == 0
    assert out.duplicates() == 0 and out.fragments == 0
    limited = [i for i, q in enumerate(queries) if q.status == 429]
    gaps = [queries[i + 1].at - queries[i].at for i in limited if i + 1 < len(queries)]
    in_storm = [q for q in queries if not storm_end or q.at <= storm_end[0]]
    waited = metric_value(metrics, "connector_api_rate_limited_wait_seconds_total")
    seen_429 = metric_value(metrics, "connector_api_rate_limited_total")
    print(
        f"\n429 storm: {len(limited)} 429s of {len(in_storm)} requests in the {storm_s}s storm "
        f"({len(queries)} requests in all: {statuses}); "
        f"total Retry-After wait {waited:.1f}s (bound {seen_429:.0f} x {retry_after}s); "
        f"shortest gap after a 429 {min(gaps):.2f}s; delivered {len(expected)} in {watch.seconds:.1f}s"
    )
    assert len(limited) >= 10, statuses
    # Honoured: after every 429 the connector waited at least Retry-After before its next request.
    assert min(gaps) >= retry_after - 0.05, sorted(gaps)[:5]
    # Bounded and reported: the metric sums the Retry-After of the 429s it waited on, never more
    # (a 429 that ends a request's last retry is not waited on: the poll fails and is retried later).
    assert seen_429 == len(limited)
    assert (len(limited) - 1) * retry_after - 0.01 <= waited <= len(limited) * retry_after + 0.01
    assert watch.seconds < storm_s + len(limited) * retry_after + 30
    assert_checkpoint_sane(ws, events, set(out.ids), db=tmp_path / "checkpoint.db")


def test_a_page_of_100_events_with_1mb_fields_each_is_delivered_whole(tmp_path: Path) -> None:
    now = int(time.time())
    candidates = generate_events(400, start=now - 3600, end=now - 600, seed=12)
    events = [e for e in candidates if not is_tenant_scoped(e["type"])][:100]
    assert len(events) == 100
    store = EventStore()
    store.add_many(events)
    size = 1_000_000
    with serve(store, Faults(big_field_bytes=size)) as server:
        ws = Workspace(tmp_path, server.url, OPENAI__LOOKBACK="2h", OPENAI__TENANT_STREAM="false")
        started = time.monotonic()
        with running(ws, "run", "--once") as proc:
            rss = PeakRss(proc.pid)
            code = proc.wait(timeout=300)
            rss.join()
        elapsed = time.monotonic() - started
        pages = [q for q in server.seen_queries if ("limit", "100") in q.params]
    assert code == 0, ws.logs()[-3000:]
    lines = ws.output.read_bytes().splitlines()
    out = read_output(ws.output)
    assert sorted(out.ids) == sorted(e["id"] for e in events)
    assert out.duplicates() == 0 and out.fragments == 0
    assert all(len(line) > size for line in lines)
    assert [q.status for q in pages] == [200]  # all 100 came in one page
    print(
        f"\n100 events x 1 MB field: one {size * 100 / 1e6:.0f} MB page, "
        f"output {sum(map(len, lines)) / 1e6:.0f} MB, "
        f"{elapsed:.1f}s, connector peak RSS {rss.mib:.0f} MiB"
    )
    assert_checkpoint_sane(ws, events, set(out.ids), db=tmp_path / "checkpoint.db")
