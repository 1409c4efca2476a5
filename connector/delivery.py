"""How a batch and its checkpoint become durable: the one step the pipeline delegates.

``PublishThenCommit`` (at-least-once, any sink and store): the sink confirms every
record, then the checkpoint is saved; a crash between the two re-delivers the
batch. The Kafka exactly-once mode writes both in one transaction instead
(``connector.sinks.kafka_txn``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from connector.checkpoint import CheckpointStore
from connector.models import Checkpoint, OutputRecord, Rejection
from connector.sinks import Sink

RejectionHandler = Callable[[list[Rejection]], None]


class Delivery(Protocol):
    """Makes a batch durable in the sink and then commits the stream's checkpoint."""

    sink_name: str

    def prepare(self, stream: str) -> None:
        """Called before the stream's checkpoint is loaded (fences older writers where it can)."""
        ...

    def deliver(
        self, records: Sequence[OutputRecord], checkpoint: Checkpoint, *, rejected: RejectionHandler
    ) -> None:
        """Publish ``records`` and commit ``checkpoint``.

        Records the sink refuses for good are handed to ``rejected`` before the
        commit, so they are stored elsewhere before the checkpoint passes them.
        """
        ...

    def close(self) -> None:
        """Release the sink and any producers."""
        ...


class PublishThenCommit:
    """At-least-once: publish, check, then save the checkpoint."""

    def __init__(self, sink: Sink, store: CheckpointStore) -> None:
        self._sink = sink
        self._store = store
        self.sink_name = sink.name

    def prepare(self, stream: str) -> None:
        pass

    def deliver(
        self, records: Sequence[OutputRecord], checkpoint: Checkpoint, *, rejected: RejectionHandler
    ) -> None:
        if records:
            refused = self._sink.publish(records)
            if refused:
                rejected(refused)
        self._store.save(checkpoint)

    def close(self) -> None:
        self._sink.close()
