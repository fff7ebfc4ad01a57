"""How the processes of a run use glibc's heap: two arenas for local runs, and free heap pages
given back around steps that map large blocks.

Arenas. glibc gives threads that allocate at the same time their own heap arenas, up to eight
per core, and memory freed in an arena stays with that arena. The DirectRunner moves each stage's
data through thread pools (gRPC, data channels, bundle threads) in the runner's process and in
each worker process, so stage after stage landed in other arenas and the processes kept the sum
of their high-water marks. Measured with `bench/scale.py`'s 100 MB corpus (pipelines/oscar.yaml,
2 workers), the largest RSS seen at the end of a Beam stage: runner's process 1,116 -> 697 MiB,
largest worker 1,010 -> 771 MiB with two arenas, at the same speed; between stages the memory
is now given back.

Free heap. Even in one arena, what a step frees in the middle of the heap stays resident: glibc
returns only the heap's top on its own. Blocks above its mmap threshold (at most 32 MiB), such as
a suffix array, are mapped afresh and never reuse those pages, so a worker held them on top of
the big step's own memory: on a 1 GB corpus, 650-900 MiB of free heap per worker, left by the
MinHash join, sat under each suffix-array job, and heap allocated and freed while a job ran (free
again when the next job started) added up to 500 MiB more. `release_free_heap` (glibc's
`malloc_trim`) returns such pages; `free_heap_released` keeps doing so while a step runs.
Measured on that corpus (MinHash, PII and suffix-array stages, 2 workers), the largest worker's
peak: 3,038 MiB as it was, 2,820 MiB released before each job, 2,409 MiB released throughout
each job (its suffix array 1.7 GB).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import threading
from collections.abc import Iterator

ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """Return the C library when it is glibc (it has `mallopt` and `malloc_trim`), else None."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, Windows, musl)
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas() -> None:
    """Set `MALLOC_ARENA_MAX` (a value the user set wins) for the processes started from now on,
    the DirectRunner's workers, and apply it to this process when its C library is glibc."""
    value = os.environ.setdefault("MALLOC_ARENA_MAX", str(ARENAS))
    libc = _glibc()
    if libc is not None and value.isdigit():
        libc.mallopt(_M_ARENA_MAX, int(value))


def release_free_heap() -> bool:
    """Return the pages of the heap's free chunks to the system, in every arena; False where the
    C library is not glibc. Costs a walk of the free chunks and the system calls that drop their
    pages (0.1 s for 1 GiB just freed, well under a millisecond when little is), so callers do it
    around large allocations, not per element."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


@contextlib.contextmanager
def free_heap_released(every_s: float = 1.0) -> Iterator[None]:
    """Release the free heap now and every `every_s` seconds until the block ends.

    For a long step whose own memory is mapped blocks: heap that the process allocates and
    frees meanwhile, in any thread, would otherwise stay resident on top of it."""
    release_free_heap()
    done = threading.Event()

    def keep_releasing() -> None:
        while not done.wait(every_s):
            release_free_heap()

    thread = threading.Thread(target=keep_releasing, name="release-free-heap", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
