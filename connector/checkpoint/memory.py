"""An in-memory checkpoint store for unit tests."""

from __future__ import annotations

from connector.models import Checkpoint


class MemoryCheckpointStore:
    """Keeps checkpoints in a dict; ``saves`` records every commit in order."""

    def __init__(self) -> None:
        self._data: dict[str, Checkpoint] = {}
        self.saves: list[Checkpoint] = []

    def load(self, stream: str) -> Checkpoint | None:
        return self._data.get(stream)

    def save(self, checkpoint: Checkpoint) -> None:
        self._data[checkpoint.stream] = checkpoint
        self.saves.append(checkpoint)

    def delete(self, stream: str) -> None:
        self._data.pop(stream, None)

    def close(self) -> None:
        pass
