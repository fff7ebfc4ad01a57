"""Two glibc heap arenas for local runs, so that the memory a finished stage frees serves the next.

glibc gives threads that allocate at the same time their own heap arenas, up to eight per core,
and memory freed in an arena stays with that arena. The DirectRunner moves each stage's data
through thread pools (gRPC, data channels, bundle threads) in the runner's process and in each
worker process, so stage after stage landed in other arenas and the processes kept the sum of
their high-water marks. Measured with `bench/scale.py`'s 100 MB corpus (pipelines/oscar.yaml,
2 workers), the largest RSS seen at the end of a Beam stage: runner's process 1,116 -> 697 MiB,
largest worker 1,010 -> 771 MiB with two arenas, at the same speed; between stages the memory
is now given back.
"""

from __future__ import annotations

import ctypes
import os

ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h


def limit_malloc_arenas() -> None:
    """Set `MALLOC_ARENA_MAX` (a value the user set wins) for the processes started from now on,
    the DirectRunner's workers, and apply it to this process when its C library is glibc."""
    value = os.environ.setdefault("MALLOC_ARENA_MAX", str(ARENAS))
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, Windows, musl): nothing to do
        return
    if value.isdigit() and hasattr(libc, "mallopt"):
        libc.mallopt(_M_ARENA_MAX, int(value))
