"""The simulator's event store: order, cursors, visibility, robustness and size."""

from __future__ import annotations

from typing import Any

import pytest

from connector.simulator import EventStore, Query, build_store, generate_events
from connector.simulator.store import UnknownCursor

NOW = 1_760_000_000


def event(event_id: str, effective_at: int, event_type: str = "login.succeeded") -> dict[str, Any]:
    return {"id": event_id, "type": event_type, "effective_at": effective_at, event_type: {}}


def page_ids(store: EventStore, now: float = NOW, **kwargs: Any) -> list[str]:
    import orjson

    result = store.page(Query(**kwargs), now=now)
    return [orjson.loads(raw)["id"] for raw in result.data]


def test_out_of_order_adds_are_served_newest_first_with_ties_by_id_descending() -> None:
    store = EventStore()
    for eid, at in [("b", 5), ("a", 9), ("c", 5), ("z", 1), ("d", 9), ("a5", 5)]:
        store.add(event(eid, at))
    assert page_ids(store) == ["d", "a", "c", "b", "a5", "z"]


def test_cursors_step_through_the_order_in_both_directions() -> None:
    store = EventStore()
    store.add_many(event(f"e{i:02d}", 100 + i // 3) for i in range(30))
    order = page_ids(store, limit=100)
    assert page_ids(store, limit=4, after=order[5]) == order[6:10]
    assert page_ids(store, limit=4, before=order[10]) == order[6:10]
    assert page_ids(store, limit=4, before=order[2]) == order[0:2]
    assert store.page(Query(limit=4, before=order[0]), now=NOW).first_id is None
    with pytest.raises(UnknownCursor):
        store.page(Query(after="missing"), now=NOW)


def test_has_more_tells_whether_the_direction_of_travel_has_more() -> None:
    store = EventStore()
    store.add_many(event(f"e{i}", 100 + i) for i in range(10))
    assert store.page(Query(limit=9), now=NOW).has_more
    assert not store.page(Query(limit=10), now=NOW).has_more
    assert store.page(Query(limit=2, before="e5"), now=NOW).has_more
    assert not store.page(Query(limit=4, before="e5"), now=NOW).has_more


def test_events_become_visible_at_their_visible_at() -> None:
    store = EventStore()
    store.add(event("now", 10))
    store.add(event("late", 5), visible_at=NOW + 30)
    assert page_ids(store, now=NOW) == ["now"]
    assert page_ids(store, now=NOW + 30) == ["now", "late"]
    assert store.visible_ids(NOW) == {"now"}
    assert store.ids() == {"now", "late"}
    assert len(store) == 2


def test_duplicate_ids_are_rejected_without_changing_the_store() -> None:
    store = EventStore()
    store.add(event("x", 1))
    with pytest.raises(ValueError, match="duplicate"):
        store.add(event("x", 2))
    with pytest.raises(ValueError, match="duplicate"):
        store.add_many([event("y", 1), event("y", 2)])
    with pytest.raises(ValueError, match="duplicate"):
        store.add_many([event(f"n{i}", i) for i in range(2000)] + [event("x", 3)])
    assert store.ids() == {"x"}


def test_odd_events_are_stored_and_served_unchanged() -> None:
    odd: list[dict[str, Any]] = [
        {"id": "a", "type": "future.type", "effective_at": 3, "future.type": {"x": [1, None]}},
        {"id": "b", "type": "login.failed", "effective_at": 2, "actor": None},
        {"id": "c", "type": "user.added", "effective_at": 1, "actor": {"type": "session"}},
        {"id": "d", "type": "api_key.created", "effective_at": 1, "actor": "weird", "project": 7},
    ]
    store = EventStore()
    store.add_many(odd)
    assert [store.get(e["id"]) for e in odd] == odd
    assert page_ids(store) == ["a", "b", "d", "c"]
    with pytest.raises(ValueError, match="lacks"):
        store.add({"id": "no-type", "effective_at": 1})


def test_added_events_are_copied_not_aliased() -> None:
    store = EventStore()
    original = event("k", 1)
    store.add(original)
    original["type"] = "changed"
    assert store.get("k") == event("k", 1)
    assert list(store) == [event("k", 1)]


@pytest.mark.slow
def test_a_store_of_200k_events_serves_deep_pages_and_bounded_queries() -> None:
    start, end = NOW - 30 * 86_400, NOW
    store = build_store(events=200_000, start=start, end=end, seed=2)
    assert len(store) == 200_000
    first = store.page(Query(limit=100), now=NOW)
    assert len(first.data) == 100 and first.has_more
    middle = page_ids(store, limit=100, gte=NOW - 15 * 86_400, lt=NOW - 14 * 86_400)
    assert len(middle) == 100
    deeper = page_ids(store, limit=100, gte=NOW - 15 * 86_400, lt=NOW - 14 * 86_400, after=middle[-1])
    assert len(deeper) == 100 and not set(deeper) & set(middle)
    assert page_ids(store, limit=1, before=deeper[0]) == [middle[-1]]


def test_generated_events_round_trip_through_the_store() -> None:
    events = generate_events(400, start=NOW - 100, end=NOW, seed=1)
    store = EventStore()
    store.add_many(events)
    assert {e["id"]: e for e in events} == {i: store.get(i) for i in store.ids()}
