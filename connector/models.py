"""Small frozen value types shared by the source, pipeline, sinks and checkpoint stores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from connector.errors import CheckpointError

CHECKPOINT_VERSION = 1

Event = dict[str, Any]
"""One audit-log object exactly as the API returned it (plain JSON)."""


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time range ``[start, end)`` in Unix seconds."""

    start: int
    end: int

    @property
    def seconds(self) -> int:
        return self.end - self.start


class OutputRecord(NamedTuple):
    """One normalized event, serialized, ready for a sink.

    A named tuple rather than a frozen dataclass: one is built per event in the main
    process, and a frozen dataclass's ``__init__`` (one ``object.__setattr__`` per
    field) cost 2.5 times as much.
    """

    key: str
    value: bytes
    event_type: str
    effective_at: int
    class_uid: int | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record the sink refuses for good (too large, bad data); it goes to the dead-letter file."""

    record: OutputRecord
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class BackfillPlan:
    """An operator backfill of ``[start, end)``; slices before ``next`` are committed."""

    start: int
    end: int
    next: int

    @property
    def done(self) -> bool:
        return self.next >= self.end


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Everything a stream needs to resume without loss.

    ``watermark``: every event with ``effective_at < watermark`` that was visible
    when its window was read has been durably published. ``recent_ids`` maps the id
    of each delivered event with ``effective_at >= watermark - overlap`` to its
    ``effective_at``; the next poll re-reads that overlap and skips those ids.
    """

    stream: str
    watermark: int
    recent_ids: Mapping[str, int] = field(default_factory=dict)
    backfill: BackfillPlan | None = None
    slice_seconds: int | None = None
    updated_at: float = 0.0
    version: int = CHECKPOINT_VERSION

    def to_json(self) -> bytes:
        body: dict[str, Any] = {
            "version": self.version,
            "stream": self.stream,
            "watermark": self.watermark,
            "recent_ids": dict(self.recent_ids),
            "slice_seconds": self.slice_seconds,
            "updated_at": self.updated_at,
            "backfill": None,
        }
        if self.backfill is not None:
            plan = self.backfill
            body["backfill"] = {"start": plan.start, "end": plan.end, "next": plan.next}
        return orjson.dumps(body)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Checkpoint:
        """Parse a stored checkpoint; any defect raises ``CheckpointError``."""
        try:
            body = orjson.loads(raw)
            version = body["version"]
            if version != CHECKPOINT_VERSION:
                raise CheckpointError(
                    f"checkpoint version {version} is not supported "
                    f"(this build reads version {CHECKPOINT_VERSION})"
                )
            plan = body.get("backfill")
            recent = body["recent_ids"]
            if not isinstance(recent, dict):
                raise TypeError("recent_ids is not an object")
            return cls(
                stream=str(body["stream"]),
                watermark=int(body["watermark"]),
                recent_ids={str(k): int(v) for k, v in recent.items()},
                backfill=(
                    BackfillPlan(int(plan["start"]), int(plan["end"]), int(plan["next"])) if plan else None
                ),
                slice_seconds=(int(body["slice_seconds"]) if body.get("slice_seconds") is not None else None),
                updated_at=float(body.get("updated_at") or 0.0),
            )
        except CheckpointError:
            raise
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"checkpoint is corrupt: {exc}") from exc
