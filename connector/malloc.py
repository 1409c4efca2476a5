"""glibc malloc settings for a threaded fetcher with bounded memory.

glibc gives each thread that allocates its own arena, up to eight per core, and raises
its mmap threshold each time a large block is freed. Slice workers decode ~150 KB pages
in several threads, so freed pages stay behind as fragments of many arenas and the
resident size creeps up with the length of a backfill. Two arenas and a fixed 128 KiB
threshold (page buffers then come from mmap and go back to the kernel when freed) keep
the peak flat: 1,000,000 events then peak within 1.2× of 100,000 (docs/performance.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD = 128 * 1024


def tune_malloc(libc: ctypes.CDLL | None = None) -> bool:
    """Apply the settings unless the operator set ``MALLOC_ARENA_MAX`` or ``MALLOC_MMAP_THRESHOLD_``.

    Call it before starting threads. Returns whether it applied them; ``False`` on a C
    library without ``mallopt`` (musl, macOS), which keep their own allocator's behaviour.
    """
    if "MALLOC_ARENA_MAX" in os.environ or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    if libc is None:
        name = ctypes.util.find_library("c")
        if name is None:
            return False
        try:
            libc = ctypes.CDLL(name)
        except OSError:
            return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(M_ARENA_MAX, ARENAS)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
