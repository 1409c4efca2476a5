"""Normalize and serialize whole slices, optionally in child processes (the second core).

Mapping and encoding cost far more CPU than fetching a page, and one Python process
runs them on one core at a time. With ``processes`` > 0 a slice is handed, as the page
bodies it was read from, to a child process as soon as it has been fetched; the child
returns the encoded records while the main process fetches and publishes other slices. Small
slices (steady-state polls) stay in the main process, where the round trip would
cost more than it saves. If a child dies, the slice is normalized in the main
process and the pool is not used again: slower, never lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import NamedTuple

from connector.drift import Finding, find_drift
from connector.gc_tuning import tune_gc
from connector.malloc import tune_malloc
from connector.models import Event
from connector.normalize import Normalizer
from connector.serialize import dumps
from connector.source.page import pick_events

log = logging.getLogger(__name__)

Outcome = tuple[bytes, int | None] | str
"""``(encoded document, OCSF class_uid)``, or why the event could not be normalized."""


class Normalized(NamedTuple):
    """What normalizing a slice gave, wherever it ran."""

    outcomes: list[Outcome]
    """One per event, in order."""
    drift: list[Finding]
    """The schema drift among the events."""
    lenient: list[str]
    """Why each page body read leniently was not strict JSON (for the main process to log)."""


MIN_CHILD_BATCH = 500
"""Slices smaller than this are normalized in the main process."""


def normalize_all(normalizer: Normalizer, events: Sequence[Event]) -> list[Outcome]:
    """Normalize and encode ``events``, one outcome per event, in order. Never raises."""
    outcomes: list[Outcome] = []
    normalize = normalizer.normalize
    for event in events:
        try:
            doc = normalize(event)
            outcomes.append((dumps(doc), doc.get("class_uid")))
        except Exception as exc:
            outcomes.append(f"{type(exc).__name__}: {exc}")
    return outcomes


def normalize_pages(normalizer: Normalizer, bodies: Sequence[bytes], ids: Sequence[str]) -> Normalized:
    """Decode ``bodies``, normalize the events ``ids`` names in that order, and look for drift."""
    lenient: list[str] = []
    events = pick_events(bodies, ids, lenient=lenient)
    return Normalized(normalize_all(normalizer, events), find_drift(events), lenient)


class Batches:
    """Where slices are normalized: in the main process, or in ``processes`` children."""

    def __init__(self, normalizer: Normalizer, *, processes: int = 0) -> None:
        self._normalizer = normalizer
        self._pool: ProcessPoolExecutor | None = None
        self._warm = False
        if processes > 0:
            self._pool = ProcessPoolExecutor(
                max_workers=processes,
                # spawn: forking a process that runs threads can copy a held lock.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                initargs=(normalizer, os.getpid()),
            )
            _widen_pipes(self._pool)

    def warm_up(self) -> None:
        """Start the children now (a backfill is coming), so their start-up overlaps the first fetches."""
        if self._pool is not None and not self._warm:
            self._warm = True
            with contextlib.suppress(RuntimeError):  # broken or shut down: submit() says so later
                self._pool.submit(int)

    def submit(self, ids: Sequence[str], bodies: Sequence[bytes]) -> Future[Normalized] | None:
        """Start normalizing the events ``ids`` names in a child; ``None`` when they stay in this process.

        ``bodies`` are the page bodies the events were read from. The child decodes
        them and picks the events by id (the first of each, as the pipeline does):
        this process never builds the events' objects.
        """
        pool = self._pool
        if pool is None or len(ids) < MIN_CHILD_BATCH:
            return None
        try:
            return pool.submit(_normalize_pages, bodies, ids)
        except RuntimeError:  # broken or shut down
            return None

    def normalized(
        self, ids: Sequence[str], bodies: Sequence[bytes], pending: Future[Normalized] | None
    ) -> Normalized:
        """The outcomes and drift for the events ``ids`` names: the child's, or computed here."""
        if pending is not None:
            try:
                result = pending.result()
                if len(result.outcomes) == len(ids):
                    return result
                log.error(
                    "a normalizer process returned %d records for %d events", len(result.outcomes), len(ids)
                )
            except Exception as exc:
                log.error(
                    "the normalizer process failed (%s); normalizing in the main process from now on", exc
                )
                self.close()
        return normalize_pages(self._normalizer, bodies, ids)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


PIPE_BYTES = 1 << 20
"""Buffer of the pipes to and from the normalizer processes (Linux; the default is 64 KiB)."""


def _widen_pipes(pool: ProcessPoolExecutor) -> None:
    """Give the pool's call and result pipes a ``PIPE_BYTES`` buffer, where the OS allows it.

    A slice's encoded records (~2.4 MB for 1,000 OCSF events) crossed a 64 KiB pipe in
    about 40 reads, each a GIL hand-off in the busy main process; a 1 MiB pipe takes a
    few, and a 100,000-event run took about a tenth less wall time (alternating runs).
    The pipes are the executor's private queues: anything missing or refused (another
    OS, a lower ``/proc/sys/fs/pipe-max-size``) leaves the default.
    """
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is None:
        return
    for queue in (getattr(pool, "_call_queue", None), getattr(pool, "_result_queue", None)):
        reader = getattr(queue, "_reader", None)
        with contextlib.suppress(AttributeError, OSError, ValueError):
            fcntl.fcntl(reader.fileno(), set_size, PIPE_BYTES)  # type: ignore[union-attr]


_child: dict[str, Normalizer] = {}
"""The normalizer of this child process, set once by its initializer."""


def _start_child(normalizer: Normalizer, parent: int) -> None:
    tune_malloc()
    tune_gc()
    _child["normalizer"] = normalizer
    # A parent killed with SIGKILL cannot stop its children: they notice and leave.
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _normalize_pages(bodies: Sequence[bytes], ids: Sequence[str]) -> Normalized:
    return normalize_pages(_child["normalizer"], bodies, ids)
