"""Checkpoint stores: durable, atomic, one typed ``Checkpoint`` per stream.

Only the pipeline calls ``save``, and only after the sink confirmed the batch.
"""

from __future__ import annotations

from typing import Protocol

from connector.models import Checkpoint


class CheckpointStore(Protocol):
    """Loads and atomically saves the checkpoint of each stream."""

    def load(self, stream: str) -> Checkpoint | None:
        """The stream's last committed checkpoint, or None on a first run."""
        ...

    def save(self, checkpoint: Checkpoint) -> None:
        """Commit ``checkpoint`` atomically; on return it survives a crash."""
        ...

    def delete(self, stream: str) -> None:
        """Forget the stream's checkpoint (``connector state reset``)."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...
