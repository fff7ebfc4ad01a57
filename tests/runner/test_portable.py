"""`roots run` on Beam's portable runner with EXTERNAL workers: DoFns pickled into fresh processes
over the Fn API, as Flink, Spark and Dataflow Runner v2 run them; and a failed start that keeps
the previous outputs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from roots_pipeline.errors import RootsError
from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import run_recipe
from roots_pipeline.runner.start_gate import WorkersDidNotStart
from tests.runner.conftest import DEMO_RECIPE, every_file, outputs
from tests.runner.workers import closed_port, python_on_path, wait_for_file, worker_pool

pytestmark = pytest.mark.usefixtures("no_hang")


def demo(run_dir, *beam_args: str, **options):
    """Run the demo recipe into `run_dir` as `roots run` does, without its cards."""
    recipe = load_recipe(DEMO_RECIPE).with_output(str(run_dir))
    return run_recipe(recipe, list(beam_args), show_progress=False, **options)


def test_portable_runner_with_external_workers_matches_the_direct_runner(tmp_path, reference, pool):
    run_dir = tmp_path / "demo"
    demo(run_dir, "--runner", "PortableRunner", "--job_endpoint", "embed", "--environment_type", "EXTERNAL",
         "--environment_config", pool)
    assert outputs(run_dir) == outputs(reference)
    assert json.loads((run_dir / "run.json").read_text())["runner"] == "PortableRunner"


def test_a_separate_python_job_server_matches_and_replaces_the_previous_outputs(tmp_path, reference, pool):
    """The job server outside this process: the previous outputs are deleted once it accepted the job."""
    run_dir = tmp_path / "demo"
    shutil.copytree(reference, run_dir)
    (run_dir / "data" / "xx").mkdir()  # a language of the previous run that this one does not have
    (run_dir / "data" / "xx" / "state.json").write_text("{}")
    port_file = tmp_path / "job.port"
    server = subprocess.Popen([sys.executable, "-m", "roots_pipeline.runner.job_server", "--port", "0",
                               "--port_file", str(port_file)], cwd=tmp_path, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port = wait_for_file(port_file, server)
        demo(run_dir, "--runner", "PortableRunner", "--job_endpoint", f"localhost:{port}",
             "--environment_type", "EXTERNAL", "--environment_config", pool, force=True, shared_out=True)
    finally:
        server.kill()
        server.wait(timeout=30)
    assert outputs(run_dir) == outputs(reference)


def test_a_job_server_that_cannot_be_reached_keeps_the_previous_outputs(tmp_path, reference):
    run_dir = tmp_path / "demo"
    shutil.copytree(reference, run_dir)
    before = every_file(run_dir)
    with pytest.raises(RootsError, match="no job server answered at 127.0.0.1:.* within 2 s"):
        demo(run_dir, "--runner", "PortableRunner", "--job_endpoint", f"127.0.0.1:{closed_port()}",
             "--job_server_timeout", "2", "--environment_type", "EXTERNAL",
             "--environment_config", "127.0.0.1:1", force=True, shared_out=True)
    assert every_file(run_dir) == before


def test_workers_that_cannot_start_end_the_run_in_bounded_time_and_keep_the_outputs(tmp_path, reference):
    """A worker pool whose `python` lacks the packages: Beam would wait for its workers forever."""
    run_dir = tmp_path / "demo"
    shutil.copytree(reference, run_dir)
    before = every_file(run_dir)
    without_packages = python_on_path(tmp_path / "bin", "-I", "-S")  # no site-packages: no Beam
    with worker_pool(without_packages, tmp_path) as address:
        started = time.monotonic()
        with pytest.raises(WorkersDidNotStart, match=f"worker pool at {address}.*`python` from its own PATH"):
            demo(run_dir, "--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=EXTERNAL",
                 f"--environment_config={address}", force=True, worker_start_seconds=3)
        assert time.monotonic() - started < 60
    assert every_file(run_dir) == before
