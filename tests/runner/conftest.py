"""Fixtures of the runner tests: the demo run on the DirectRunner (the reference other runners must
match byte for byte), a worker pool for EXTERNAL environments, and the package's wheel."""

from __future__ import annotations

import faulthandler
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import run_recipe
from tests.conftest import REPO
from tests.runner.workers import python_on_path, worker_pool

DEMO_RECIPE = str(REPO / "pipelines" / "demo.yaml")
# What a run writes that must not depend on the runner (run.json holds the runner and the time,
# cards the date).
COMPARED = ("data", "rejects", "stats.json", "malformed.jsonl")


def outputs(run_dir: Path, names: tuple[str, ...] = COMPARED) -> dict[str, str]:
    """Return the sha256 of every file under `names` in a run folder, by relative path."""
    files = [p for name in names for p in ([run_dir / name] if (run_dir / name).is_file()
                                           else sorted((run_dir / name).rglob("*"))) if p.is_file()]
    return {str(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def every_file(run_dir: Path) -> dict[str, str]:
    """Return the sha256 of every file in a folder, by relative path."""
    return {str(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run_dir.rglob("*")) if p.is_file()}


@pytest.fixture
def no_hang():
    """Stop the test run, with every thread's traceback, if a test runs past 5 minutes: a job run
    in this process by a runner that waits on other processes has no timeout of its own."""
    faulthandler.dump_traceback_later(300, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Path:
    """The demo recipe's finished run folder, on the DirectRunner."""
    out = tmp_path_factory.mktemp("reference") / "demo"
    run_recipe(load_recipe(DEMO_RECIPE).with_output(str(out)), [], show_progress=False)
    return out


@pytest.fixture(scope="session")
def pool(tmp_path_factory) -> str:
    """The address of a worker pool whose workers run this interpreter (the package installed)."""
    home = tmp_path_factory.mktemp("pool")
    with worker_pool(python_on_path(home / "bin"), home) as address:
        yield address


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The package built as a wheel, without network (as tests/test_packaging.py builds it)."""
    folder = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--quiet", "-w", str(folder), str(REPO)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (built,) = folder.glob("roots_pipeline-*.whl")
    return built
