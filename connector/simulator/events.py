"""Deterministic generator of realistic audit-log events for every one of the 145 types."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from typing import Any

from connector.simulator.catalogue import EVENT_TYPES, KNOWN_TYPES, category, is_tenant_scoped
from connector.simulator.identities import Organization, api_key_actor, rand_hex, session_actor
from connector.simulator.payloads import PayloadContext, build_payload

ACTOR_SHAPES = ("session_ipv4", "session_ipv6", "user_api_key", "service_account_api_key", "null", "absent")
"""Every actor shape the generator produces; the first events cycle through all of them."""

_SHAPE_CUM_WEIGHTS = tuple(itertools.accumulate((35, 20, 15, 20, 5, 5)))
_LOGIN_CATEGORIES = frozenset({"login", "logout"})
_ALWAYS_PROJECT = frozenset({"api_key", "service_account", "rate_limit", "project", "checkpoint"})
_NEVER_PROJECT = frozenset(
    {"organization", "login", "logout", "scim", "certificate", "certificates", "ip_allowlist"}
)
_CATEGORY_WEIGHTS = {"login": 12.0, "logout": 6.0, "api_key": 4.0, "user": 2.0, "project": 2.0}
_TENANT_WEIGHT = 0.5


class EventFactory:
    """Builds one event at a time; the same seed and stream give the same events.

    The organization (projects, users, keys) depends only on ``seed`` and
    ``org_projects``, so a history generator and a live feed built with the same
    seed but different ``stream`` names refer to the same identities and never
    produce the same event ids.
    """

    def __init__(
        self,
        *,
        seed: int | str = 0,
        org_projects: int = 3,
        types: Sequence[str] | None = None,
        stream: str = "history",
    ) -> None:
        """Prepare the pools.

        Args:
            seed: makes the output reproducible.
            org_projects: number of projects events may be scoped to (0: never scoped).
            types: restrict to these event types (default: all 145).
            stream: separates independent event streams that share one organization.

        Raises:
            ValueError: a type in ``types`` is not one of the 145 known types, or
                ``types`` is empty.
        """
        chosen = tuple(types) if types is not None else EVENT_TYPES
        unknown = [t for t in chosen if t not in KNOWN_TYPES]
        if unknown or not chosen:
            raise ValueError(f"unknown or no event types: {unknown or 'empty list'}")
        if org_projects < 0:
            raise ValueError("org_projects must be >= 0")
        self.types = chosen
        self.org = Organization(random.Random(f"org:{seed}:{org_projects}"), projects=org_projects)
        self._rng = random.Random(f"events:{seed}:{stream}")
        self._ipv4 = [s for s in self.org.sessions if ":" not in s.geo[0]]
        self._ipv6 = [s for s in self.org.sessions if ":" in s.geo[0]]
        weights = [
            _TENANT_WEIGHT if is_tenant_scoped(t) else _CATEGORY_WEIGHTS.get(category(t), 1.0) for t in chosen
        ]
        self._cum_weights = list(itertools.accumulate(weights))
        self._coverage = list(chosen)
        self._rng.shuffle(self._coverage)
        self._made = 0

    def next_type(self) -> str:
        """Pick the next event type: each type once first (shuffled), then weighted."""
        if self._made < len(self._coverage):
            return self._coverage[self._made]
        return self._rng.choices(self.types, cum_weights=self._cum_weights)[0]

    def _actor(self, event_type: str) -> dict[str, Any] | bool | None:
        """Return an actor object, None (JSON null), or False (no actor key at all)."""
        rng = self._rng
        if self._made < 4 * len(ACTOR_SHAPES):
            shape = ACTOR_SHAPES[self._made % len(ACTOR_SHAPES)]
        else:
            shape = rng.choices(ACTOR_SHAPES, cum_weights=_SHAPE_CUM_WEIGHTS)[0]
        if category(event_type) in _LOGIN_CATEGORIES and not shape.startswith("session"):
            shape = "session_ipv4"
        if shape == "session_ipv4":
            return session_actor(rng.choice(self._ipv4))
        if shape == "session_ipv6":
            return session_actor(rng.choice(self._ipv6))
        if shape == "user_api_key":
            return api_key_actor(rng.choice(self.org.user_keys))
        if shape == "service_account_api_key":
            return api_key_actor(rng.choice(self.org.service_keys))
        return None if shape == "null" else False

    def _project(self, event_type: str) -> dict[str, str] | None:
        cat = category(event_type)
        if not self.org.projects or is_tenant_scoped(event_type) or cat in _NEVER_PROJECT:
            return None
        if cat in _ALWAYS_PROJECT or self._rng.random() < 0.5:
            return dict(self._rng.choice(self.org.projects))
        return None

    def make(self, effective_at: int, event_type: str | None = None) -> dict[str, Any]:
        """Build one event.

        Args:
            effective_at: Unix seconds of the event.
            event_type: force a type (default: ``next_type()``).

        Returns:
            A fresh JSON-ready dict shaped like one element of the API's ``data``.
        """
        etype = event_type or self.next_type()
        project = self._project(etype)
        actor = self._actor(etype)
        event: dict[str, Any] = {
            "id": "audit_log-" + rand_hex(self._rng, 32),
            "type": etype,
            "effective_at": effective_at,
        }
        if project is not None:
            event["project"] = project
        if actor is not False:
            event["actor"] = actor
        ctx = PayloadContext(rng=self._rng, org=self.org, event_type=etype, project=project)
        event[etype] = build_payload(ctx)
        self._made += 1
        return event


def iter_events(
    count: int,
    *,
    start: int,
    end: int,
    seed: int = 0,
    org_projects: int = 3,
    types: Sequence[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield ``count`` events lazily (same events as ``generate_events``).

    Use this for large stores: only one event dict exists at a time.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    if end <= start:
        raise ValueError("end must be greater than start")
    factory = EventFactory(seed=seed, org_projects=org_projects, types=types)
    rng = random.Random(f"times:{seed}")
    seconds: list[int] = []
    burst = 3  # the first burst guarantees that some events share a second
    while len(seconds) < count:
        second = rng.randrange(start, end)
        seconds.extend([second] * min(burst, count - len(seconds)))
        burst = rng.randint(2, 5) if rng.random() < 0.1 else 1
    # Oldest first: a store then sorts a million events in linear time.
    seconds.sort()
    for second in seconds:
        yield factory.make(second)


def generate_events(
    count: int,
    *,
    start: int,
    end: int,
    seed: int = 0,
    org_projects: int = 3,
    types: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Generate realistic audit-log events spread over ``[start, end)``.

    With ``count >= len(types)`` every type appears at least once (the first
    events walk a shuffled list of all types, the rest are weighted towards
    logins and key activity); the first 24 events cycle through every actor
    shape (session over IPv4 and IPv6, user API key, service-account API key,
    null actor, absent actor), except that login/logout events always carry a
    session. Several events share a second. ``tenant.*``,
    ``role.bound_to_resource`` and ``role.unbound_from_resource`` events are
    included: the server returns them only under ``tenant_only=true``.

    Args:
        count: number of events.
        start: first Unix second (inclusive).
        end: last Unix second (exclusive).
        seed: same seed, same events.
        org_projects: number of projects in the simulated organization.
        types: restrict to these types (default: all 145).

    Returns:
        The events, oldest first (ties in random id order), each a fresh dict.

    Raises:
        ValueError: bad count, empty time range, or an unknown type.
    """
    return list(iter_events(count, start=start, end=end, seed=seed, org_projects=org_projects, types=types))
