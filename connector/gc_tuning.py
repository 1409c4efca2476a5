"""Cyclic garbage collector settings for a process that decodes and builds many JSON trees.

Decoded events and the documents built from them are trees of dicts and lists: reference
counting frees them, and they hold no cycles. With CPython's default first threshold
(700 new containers), the collector ran several times per decoded page while its objects
were still alive, promoted them, and the in-flight slices then set off full collections
over everything the process held. In a 100,000-event run that cost the fetch threads
about a quarter of their CPU time (docs/performance.md, "Where the time goes").

A first threshold of 100,000 lets most objects die by refcount before any collection
sees them, and freezing what start-up imported keeps the modules out of every full
collection. Cycles (tracebacks, library internals) are still collected, just in larger
and rarer passes.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 100_000
"""New container objects between two young collections (CPython's default is 700)."""

OLDER_THRESHOLDS = (20, 10)


def tune_gc() -> None:
    """Freeze what exists now (imports) and raise the young-generation threshold.

    Call it once, after start-up imports and before the hot path.
    """
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, *OLDER_THRESHOLDS)
