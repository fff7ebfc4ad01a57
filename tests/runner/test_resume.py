"""A run killed midway, then run again: the second run finishes it and the result is the same."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import run_recipe
from tests.conftest import REPO
from tests.test_end_to_end import DEMO_RECIPE, digests


def wait_for_running(run_dir, process, timeout=120.0):
    """Return once the run has started writing (its run.json says running)."""
    deadline = time.monotonic() + timeout
    marker = run_dir / "run.json"
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be interrupted"
        if marker.exists() and json.loads(marker.read_text() or "{}").get("status") == "running":
            return
        time.sleep(0.05)
    raise AssertionError("the run never started")


def test_a_killed_run_is_redone_by_the_next_run_with_identical_outputs(tmp_path):
    reference = tmp_path / "reference"
    run_recipe(load_recipe(DEMO_RECIPE).with_output(str(reference)), [], show_progress=False)

    interrupted = tmp_path / "interrupted"
    process = subprocess.Popen(
        [sys.executable, "-m", "roots_pipeline.cli", "run", DEMO_RECIPE, "--out", str(interrupted),
         "--quiet"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    wait_for_running(interrupted, process)
    time.sleep(1.0)  # into the pipeline: sources read, stages running
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert not (interrupted / "_SUCCESS").exists() and not (interrupted / "stats.json").exists()

    resumed = run_recipe(load_recipe(DEMO_RECIPE).with_output(str(interrupted)), [], show_progress=False)
    assert not resumed.skipped
    assert digests(interrupted) == digests(reference)
    assert run_recipe(load_recipe(DEMO_RECIPE).with_output(str(interrupted)), [], show_progress=False).skipped


def test_a_changed_language_file_makes_the_next_run_redo_its_work(tmp_path, monkeypatch):
    from roots_pipeline.recipe import adhoc_recipe
    from roots_pipeline.runner import pipeline

    recipe = adhoc_recipe([f"oscar={REPO}/tests/data/demo/oscar/en_part_1.jsonl.gz"], None,
                          str(tmp_path / "run"), [("quality_filter", {})])
    assert not run_recipe(recipe, [], show_progress=False).skipped
    assert run_recipe(recipe, [], show_progress=False).skipped
    state = pipeline.languages_state()
    path = next(entry[0] for entry in state if entry[0].endswith("en.yaml"))
    edited = [(p, s, m + 1) if p == path else (p, s, m) for p, s, m in state]  # as `roots tune --write`
    monkeypatch.setattr(pipeline, "languages_state", lambda: edited)
    assert not run_recipe(recipe, [], show_progress=False).skipped
