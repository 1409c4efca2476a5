"""glibc malloc settings for a threaded fetcher with bounded memory.

glibc gives each thread that allocates its own arena, up to eight per core. Slice
workers decode pages in several threads, so freed pages stayed behind as fragments of
many arenas and the resident size crept up with the length of a backfill. Two arenas
keep the peak flat: 1,000,000 events peak within 1.2× of 100,000 (docs/performance.md).

The mmap threshold stays glibc's own, which rises to the size of the large blocks a
process frees and reuses. A fixed 128 KiB threshold had made every buffer above it (a
slice's encoded records, the pipe reads from the normalizer process, the pickled page
bodies) a fresh mmap, page faults and munmap: about 0.8 s of system time per 100,000
events, and 10-15% of a backfill's wall time in alternating runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8
ARENAS = 2


def tune_malloc(libc: ctypes.CDLL | None = None) -> bool:
    """Set two arenas unless the operator set ``MALLOC_ARENA_MAX`` or ``MALLOC_MMAP_THRESHOLD_``.

    Call it before starting threads. Returns whether it applied it; ``False`` on a C
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
    return bool(mallopt(M_ARENA_MAX, ARENAS))
