"""How the processes of a run use glibc's heap: two arenas for local runs, and free heap pages
given back around steps that map large blocks.

Arenas. glibc gives threads that allocate at the same time their own heap arenas, up to eight
per core, and memory freed in an arena stays with that arena. The DirectRunner moves each stage's
data through thread pools (gRPC, data channels, bundle threads) in the runner's process and in
each worker process, so stage after stage landed in other arenas and the processes kept the sum
of their high-water marks. With two arenas (`limit_malloc_arenas`) the memory a stage frees
serves the next one, at the same speed.

Free heap. Even in one arena, what a step frees in the middle of the heap stays resident: glibc
returns only the heap's top on its own. Blocks above its mmap threshold (at most 32 MiB), such as
a suffix array, are mapped afresh and never reuse those pages, so a worker held them on top of
the big step's own memory. `release_free_heap` (glibc's `malloc_trim`) returns such pages;
`free_heap_released` keeps doing so while a step runs. The measurements behind both are in
`bench/README.md` ("glibc heap").
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
