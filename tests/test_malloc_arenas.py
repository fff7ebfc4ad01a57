"""`limit_malloc_arenas`, which local runs call: two glibc heap arenas for the process and the
DirectRunner workers it starts, unless the user chose."""

import os
import subprocess
import sys

CHECK = ("import os; from roots_pipeline.malloc_arenas import limit_malloc_arenas; limit_malloc_arenas(); "
         "print(os.environ['MALLOC_ARENA_MAX'])")


def run_check(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", CHECK], env={**base, **env}, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def test_two_arenas_by_default_for_processes_started_later():
    assert run_check() == "2"


def test_a_value_the_user_set_wins():
    assert run_check(MALLOC_ARENA_MAX="4") == "4"
    assert run_check(MALLOC_ARENA_MAX="not a number") == "not a number"  # left to glibc, no crash
