"""Cyclic garbage collector settings for a process that decodes and builds many JSON trees.

Decoded events and the documents built from them are trees of dicts and lists: reference
counting frees them, and they hold no cycles. With CPython's default first threshold
(700 more containers allocated than freed), the collector ran several times per decoded
page while its objects were still alive, promoted them, and the in-flight slices then set
off full collections over everything the process held.

Freezing what start-up imported keeps the modules out of every collection, and a first
threshold of 10,000 lets a page's objects die by refcount before a collection sees them.
It is not higher because the count is of containers *kept*: httpx leaves each response
(with its ~56 KB body) in a reference cycle, and at 100,000 about 2,500 of them piled up
between collections, 140 MB more peak memory. At 10,000 that is at most ~250 (~14 MB),
and a 100,000-event backfill still ran about 10 % faster than with the defaults, in
alternating runs (docs/performance.md, "Where the time goes").
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000
"""Containers allocated and not freed between two young collections (CPython's default is 700)."""

OLDER_THRESHOLDS = (20, 10)


def tune_gc() -> None:
    """Freeze what exists now (imports) and raise the young-generation threshold.

    Call it once, after start-up imports and before the hot path.
    """
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, *OLDER_THRESHOLDS)
