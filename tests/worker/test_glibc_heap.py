"""`glibc_heap`: two heap arenas for local runs (`limit_malloc_arenas`, unless the user chose), and
the heap's free pages given back before a big step (`release_free_heap`) and while it runs
(`free_heap_released`)."""

import os
import subprocess
import sys

import pytest

ARENAS = ("import os; from roots_pipeline.worker.glibc_heap import limit_malloc_arenas; "
          "limit_malloc_arenas(); print(os.environ['MALLOC_ARENA_MAX'])")

# 256 MiB in 64 KiB blocks (under glibc's mmap threshold, so in the heap), all freed but the last,
# which keeps glibc from trimming the heap's top on its own; prints the RSS given back (MiB)
# without and then with `release_free_heap`.
FREED = """
import os
from roots_pipeline.worker.glibc_heap import release_free_heap
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
blocks = [bytearray(64 * 1024) for _ in range(4096)]
last = blocks.pop()
before = rss()
del blocks
after_free = rss()
assert release_free_heap()
print(before - after_free, after_free - rss())
"""

# The same heap freed inside `free_heap_released`, which keeps releasing while a step runs;
# prints the RSS given back (MiB) within a second, without any call of its own.
FREED_WHILE = """
import os, time
from roots_pipeline.worker.glibc_heap import free_heap_released
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
with free_heap_released(every_s=0.1):
    blocks = [bytearray(64 * 1024) for _ in range(4096)]
    last = blocks.pop()
    before = rss()  # measured before the free: the releasing thread may act at once
    del blocks
    time.sleep(1.0)
    print(before - rss())
"""


def run_python(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def test_two_arenas_by_default_for_processes_started_later():
    assert run_python(ARENAS) == "2"


def test_a_value_the_user_set_wins():
    assert run_python(ARENAS, MALLOC_ARENA_MAX="4") == "4"
    assert run_python(ARENAS, MALLOC_ARENA_MAX="not a number") == "not a number"  # left to glibc, no crash


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc are Linux's")
def test_freed_heap_stays_resident_until_released():
    by_free, by_release = map(int, run_python(FREED).split())
    assert by_free < 32  # freeing alone leaves the 255 MiB resident
    assert by_release > 200


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc are Linux's")
def test_heap_freed_during_a_step_is_released_while_it_runs():
    assert int(run_python(FREED_WHILE)) > 200
