"""Splunk HEC wire format: event envelopes, and what each HEC answer means for the sink (sinks.md §1.4)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import orjson

from connector.config import SinkSettings
from connector.models import OutputRecord

SOURCETYPES = {"ocsf": "ocsf:openai:audit", "raw": "openai:audit", "ecs": "openai:audit:ecs"}

# HEC codes by meaning (Splunk's "Possible error codes"; sinks.md §1.4 and §1.6).
CONFIG_CODES = frozenset({1, 2, 3, 4, 7, 10, 11, 14, 16, 21, 22})
DATA_CODES = frozenset({6, 12, 13, 15})
BUSY_CODES = frozenset({8, 9, 18, 19, 20})


class Verdict(enum.Enum):
    """What to do with a HEC answer."""

    OK = "ok"
    RETRY = "retry"  # busy, 5xx, 429, network: back off and send again
    SPLIT = "split"  # 413: the request is too big, halve it
    BAD_DATA = "bad_data"  # an event is refused: find it, dead-letter it, send the rest
    CONFIG = "config"  # token, index, channel, ack settings: an operator must act


@dataclass(frozen=True, slots=True)
class HecAnswer:
    """One HEC response, decoded."""

    status: int
    code: int | None
    text: str
    ack_id: int | None = None
    bad_event: int | None = None

    @property
    def verdict(self) -> Verdict:
        if self.status == 200 and self.code in (0, None):
            return Verdict.OK
        if self.status == 413:
            return Verdict.SPLIT
        if self.code in DATA_CODES:
            return Verdict.BAD_DATA
        if self.code in CONFIG_CODES or self.status in (401, 403):
            return Verdict.CONFIG
        if self.code in BUSY_CODES or self.status in (408, 429) or self.status >= 500:
            return Verdict.RETRY
        if self.status == 404:
            return (
                Verdict.RETRY
            )  # a wrong URL or an indexer in detention: retried, and alerted on if it lasts
        return Verdict.CONFIG

    def describe(self) -> str:
        code = f" code {self.code}" if self.code is not None else ""
        return f"HTTP {self.status}{code}: {self.text}"

    @classmethod
    def parse(cls, status: int, body: bytes) -> HecAnswer:
        try:
            doc = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            return cls(status, None, body[:200].decode("utf-8", "replace").strip())
        if not isinstance(doc, dict):
            return cls(status, None, str(doc)[:200])
        code = doc.get("code")
        ack_id = doc.get("ackId")
        bad = doc.get("invalid-event-number")
        return cls(
            status,
            code if isinstance(code, int) else None,
            str(doc.get("text", "")),
            ack_id if isinstance(ack_id, int) else None,
            bad if isinstance(bad, int) else None,
        )


class EnvelopeBuilder:
    """Wraps serialized events in HEC ``/event`` envelopes without re-encoding the event itself."""

    def __init__(self, settings: SinkSettings, *, output_format: str, org_id: str | None) -> None:
        meta: dict[str, str] = {
            "host": settings.host,
            "source": settings.source,
            "sourcetype": settings.sourcetype or SOURCETYPES.get(output_format, "openai:audit"),
        }
        if settings.index:
            meta["index"] = settings.index
        # '{"host":…,"sourcetype":…' without its closing brace: time, fields and event follow.
        self._meta = orjson.dumps(meta)[:-1]
        self._org = org_id if settings.indexed_fields else None
        self._fields = settings.indexed_fields
        self._fields_cache: dict[str, bytes] = {}

    def envelope(self, record: OutputRecord) -> bytes:
        """``{"host":…,"time":<effective_at>,"fields":{…},"event":<the record>}``."""
        time_part = b',"time":' + str(record.effective_at).encode()
        return b"".join((self._meta, time_part, self._fields_part(record), b',"event":', record.value, b"}"))

    def _fields_part(self, record: OutputRecord) -> bytes:
        if not self._fields:
            return b""
        part = self._fields_cache.get(record.event_type)
        if part is None:
            fields = {"openai_event_type": record.event_type}
            if self._org:
                fields["openai_org_id"] = self._org
            part = b',"fields":' + orjson.dumps(fields)
            if len(self._fields_cache) < 1024:
                self._fields_cache[record.event_type] = part
        return part
