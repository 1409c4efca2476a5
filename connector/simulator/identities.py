"""A simulated organization: projects, users, sessions, API keys and service accounts."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Any

_ALNUM = string.ascii_letters + string.digits
# Maps every byte to a letter or digit (slightly uneven, which no consumer can notice):
# randbytes + translate is an order of magnitude faster than choices() per character.
_TO_ALNUM = bytes.maketrans(bytes(range(256)), (_ALNUM * 5)[:256].encode("ascii"))

# (ip, country, city, region, region_code, asn, latitude, longitude). Addresses come from
# the documentation ranges (RFC 5737 / RFC 3849); the API sends asn/lat/long as strings.
_GEO: tuple[tuple[str, str, str, str, str, str, str, str], ...] = (
    ("198.51.100.23", "US", "San Francisco", "California", "CA", "1234", "37.77490", "-122.41940"),
    ("203.0.113.77", "BR", "São Paulo", "São Paulo", "SP", "28573", "-23.55052", "-46.63331"),
    ("192.0.2.14", "CH", "Zürich", "Zürich", "ZH", "3303", "47.37689", "8.54169"),
    ("2001:db8:85a3::8a2e:370:7334", "JP", "東京", "東京都", "13", "2516", "35.68950", "139.69171"),
    ("2001:db8:4f2a:1::1f", "DE", "München", "Bayern", "BY", "3320", "48.13743", "11.57549"),
    ("198.51.100.201", "PL", "Kraków", "Małopolskie", "12", "5617", "50.06465", "19.94498"),
    (
        "2001:db8:c0de::2",
        "IS",
        "Reykjavík",
        "Höfuðborgarsvæðið",
        "1",
        "12969",
        "64.14660",
        "-21.94260",
    ),
    ("203.0.113.5", "RU", "Москва", "Москва", "MOW", "8359", "55.75580", "37.61730"),
)

_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/127.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
)

_EMAIL_LOCALS = (
    "alice",
    "bob.smith",
    "zoë.müller",
    "françois",
    "søren.kierkegaard",
    "李雷",
    "ユーザー",
    "δοκιμή",
    "ops+audit",
    "józef.nowak",
    "carol",
    "dmitri.иванов",
)
_EMAIL_DOMAINS = ("example.com", "example.org", "exemple.fr", "example.co.jp")

PROJECT_NAMES = (
    "Default project",
    "Données clients",
    "研究开发",
    "Платформа",
    "Customer support bot",
    "Ñandú analytics",
    "Internal tools",
    "Évaluation modèles",
)


def rand_id(rng: random.Random, prefix: str, length: int = 24) -> str:
    """Return ``prefix`` followed by ``length`` random letters and digits."""
    return prefix + rng.randbytes(length).translate(_TO_ALNUM).decode("ascii")


def rand_hex(rng: random.Random, length: int) -> str:
    """Return ``length`` random lowercase hex digits."""
    return f"{rng.getrandbits(4 * length):0{length}x}"


@dataclass(frozen=True, slots=True)
class User:
    """A member of the organization."""

    id: str
    email: str


@dataclass(frozen=True, slots=True)
class Session:
    """One browser session of a user; ``enriched`` adds the example-only fields."""

    user: User
    geo: tuple[str, str, str, str, str, str, str, str]
    user_agent: str
    ja3: str
    ja4: str
    enriched: bool


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key owned by a user or by a service account."""

    id: str
    user: User | None
    service_account_id: str | None


class Organization:
    """A deterministic pool of identities that generated events refer to."""

    def __init__(self, rng: random.Random, *, projects: int, users: int = 24) -> None:
        """Build the pools.

        Args:
            rng: the generator's random source (consumed here, so pools are seeded too).
            projects: number of projects (0 means no event carries a project).
            users: number of users.
        """
        self.org_id = rand_id(rng, "org-")
        self.tenant_id = rand_id(rng, "tenant_")
        self.projects: list[dict[str, str]] = [
            {"id": rand_id(rng, "proj_"), "name": PROJECT_NAMES[i % len(PROJECT_NAMES)]}
            for i in range(projects)
        ]
        self.users: list[User] = []
        for i in range(users):
            local = _EMAIL_LOCALS[i % len(_EMAIL_LOCALS)]
            if i >= len(_EMAIL_LOCALS):
                local = f"{local}{i}"
            domain = _EMAIL_DOMAINS[i % len(_EMAIL_DOMAINS)]
            self.users.append(User(rand_id(rng, "user-"), f"{local}@{domain}"))
        self.sessions: list[Session] = []
        for i, user in enumerate(self.users):
            for j in range(2):
                self.sessions.append(
                    Session(
                        user=user,
                        geo=_GEO[(i + 3 * j) % len(_GEO)],
                        user_agent=_USER_AGENTS[(i + j) % len(_USER_AGENTS)],
                        ja3=rand_hex(rng, 32),
                        ja4=f"t13d{rng.randint(1000, 1999)}h2_{rand_hex(rng, 12)}_{rand_hex(rng, 12)}",
                        enriched=(i + j) % 4 != 3,
                    )
                )
        self.service_accounts = [rand_id(rng, "svc_acct_") for _ in range(6)]
        self.user_keys = [ApiKey(rand_id(rng, "key_", 16), u, None) for u in self.users[:8]]
        self.service_keys = [ApiKey(rand_id(rng, "key_", 16), None, sa) for sa in self.service_accounts]


def session_actor(session: Session) -> dict[str, Any]:
    """Build an ``actor`` object of type ``session`` (IPv4 or IPv6, maybe enriched)."""
    ip, country, city, region, region_code, asn, lat, lon = session.geo
    body: dict[str, Any] = {
        "user": {"id": session.user.id, "email": session.user.email},
        "ip_address": ip,
    }
    if session.enriched:
        body["user_agent"] = session.user_agent
        body["ja3"] = session.ja3
        body["ja4"] = session.ja4
        body["ip_address_details"] = {
            "country": country,
            "city": city,
            "region": region,
            "region_code": region_code,
            "asn": asn,
            "latitude": lat,
            "longitude": lon,
        }
    return {"type": "session", "session": body}


def api_key_actor(key: ApiKey) -> dict[str, Any]:
    """Build an ``actor`` object of type ``api_key`` (user-owned or service account)."""
    if key.user is not None:
        body: dict[str, Any] = {
            "id": key.id,
            "type": "user",
            "user": {"id": key.user.id, "email": key.user.email},
        }
    else:
        body = {
            "id": key.id,
            "type": "service_account",
            "service_account": {"id": key.service_account_id},
        }
    return {"type": "api_key", "api_key": body}
