"""Which runners `roots run` accepts, where their workers are, and what it refuses before anything
runs: a local run folder the workers would not share, unsupported runners, bad Beam values."""

from __future__ import annotations

import shutil

import pytest

from roots_pipeline.cli.main import main
from roots_pipeline.errors import RootsError
from roots_pipeline.runner import job_server
from roots_pipeline.runner.pipeline import _explained
from roots_pipeline.runner.runners import beam_options, describe_runner, staging_warning
from roots_pipeline.runner.start_gate import StartGate
from tests.runner.conftest import DEMO_RECIPE, every_file


def runner(*args: str):
    return describe_runner(beam_options(list(args)))


@pytest.mark.parametrize("args, in_process, environment, local_files", [
    ([], True, "EMBEDDED", True),
    (["--runner", "direct"], True, "EMBEDDED", True),
    (["--runner", "PortableRunner", "--job_endpoint", "embed", "--environment_type", "EXTERNAL"],
     True, "EXTERNAL", True),
    (["--runner", "PortableRunner", "--job_endpoint", "embed"], True, "DOCKER", False),
    (["--runner", "PortableRunner", "--job_endpoint", "localhost:8099"], False, "DOCKER", False),
    (["--runner", "PortableRunner", "--job_endpoint", "localhost:8099", "--environment_type", "LOOPBACK"],
     False, "LOOPBACK", True),
    (["--runner", "FlinkRunner"], False, "LOOPBACK", True),  # [auto]: a local Flink, workers in this process
    (["--runner", "FlinkRunner", "--flink_master", "host:8081"], False, "DOCKER", False),
    (["--runner", "SparkRunner", "--spark_master_url", "spark://host:7077", "--environment_type", "EXTERNAL"],
     False, "EXTERNAL", False),
    (["--runner", "DataflowRunner"], False, "DOCKER", False),
])
def test_where_each_runner_runs_its_workers(args, in_process, environment, local_files):
    found = runner(*args)
    assert (found.in_process, found.environment, found.local_files) == (in_process, environment, local_files)


@pytest.mark.parametrize("name, reason", [
    ("DaskRunner", "drops the outputs of multi-output ParDos and of finish_bundle"),
    ("TestDataflowRunner", "waits for the job inside run()"),
    ("BundleBasedDirectRunner", "not supported by roots run"),
    ("NoSuchRunner", "no such runner; roots run supports DirectRunner"),
    ("InteractiveRunner", "--runner InteractiveRunner"),  # its module fails to import here
])
def test_unsupported_runners_are_refused_with_their_reason(name, reason):
    with pytest.raises(RootsError, match=reason):
        runner("--runner", name)


@pytest.mark.parametrize("args", [
    ["--runner", "DataflowRunner", "--project", "p", "--region", "r", "--temp_location", "gs://my-bucket/t"],
    ["--runner", "PortableRunner", "--job_endpoint", "localhost:8099", "--environment_type", "EXTERNAL",
     "--environment_config", "localhost:50000"],
    ["--runner", "FlinkRunner", "--flink_master", "host:8081", "--dry_run"],
])
def test_remote_runners_refuse_a_local_run_folder_in_one_line_and_touch_nothing(tmp_path, capsys, args):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("{}")
    assert main(["run", DEMO_RECIPE, "--out", str(run_dir), "--force", *args]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "is a local folder" in error and "--shared-out" in error
    assert every_file(run_dir) == {"run.json": every_file(run_dir)["run.json"]}


def test_a_failed_start_keeps_the_previous_outputs(tmp_path, reference, capsys):
    run_dir = tmp_path / "demo"
    shutil.copytree(reference, run_dir)
    before = every_file(run_dir)
    for args in (["--runner", "DaskRunner"], ["--runner", "InteractiveRunner"],
                 ["--direct_num_workers=two"], ["--runner", "DataflowRunner", "--shared-out"]):
        assert main(["run", DEMO_RECIPE, "--out", str(run_dir), "--force", *args]) == 2
        assert capsys.readouterr().err.splitlines()[-1].startswith("roots: error:")
    assert every_file(run_dir) == before


def test_beam_values_it_cannot_parse_are_one_line_errors():
    with pytest.raises(RootsError, match="Beam options: .*--direct_num_workers.*invalid int value"):
        beam_options(["--direct_num_workers=two"])


def test_remote_workers_without_the_package_get_a_warning_saying_how_to_stage_it():
    dataflow = ["--runner", "DataflowRunner"]
    warning = staging_warning(runner(*dataflow), beam_options(dataflow))
    assert "pip wheel --no-deps . -w dist" in warning and "--extra_package dist/roots_pipeline-" in warning
    staged = [*dataflow, "--extra_package", "dist/roots_pipeline-0.1.0-py3-none-any.whl"]
    assert staging_warning(runner(*staged), beam_options(staged)) is None
    for local in ([], ["--runner", "FlinkRunner"]):
        assert staging_warning(runner(*local), beam_options(local)) is None


def test_workers_that_cannot_import_the_package_are_named_as_the_cause():
    failure = RuntimeError("Pipeline job-1 failed: ModuleNotFoundError: No module named 'roots_pipeline'")
    explained = _explained(failure, StartGate(lambda: None), beam_options([]))
    assert isinstance(explained, RootsError) and "--extra_package" in str(explained)
    in_job_server = RuntimeError(
        "Pipeline job-2 failed in state FAILED: Traceback …\nroots_pipeline.runner.start_gate."
        "WorkersDidNotStart: no worker connected to the runner within 120 s: the worker pool at h:50000 "
        "accepted the request but its worker never started.")
    explained = _explained(in_job_server, StartGate(lambda: None), beam_options([]))
    assert str(explained).startswith("no worker connected") and str(explained).endswith("never started.")
    other = RuntimeError("something else")
    assert _explained(other, StartGate(lambda: None), beam_options([])) is other


def test_the_separate_job_server_applies_the_fixes_before_serving(monkeypatch):
    from apache_beam.runners.portability.fn_api_runner.worker_handlers import WorkerHandlerManager
    from apache_beam.runners.worker.data_plane import TimeBasedBufferingClosableOutputStream

    served = []
    monkeypatch.setattr(job_server.local_job_service_main, "run", served.append)
    job_server.main(["--port", "0"])
    assert served == [["--port", "0"]]
    assert TimeBasedBufferingClosableOutputStream._roots_fixed and WorkerHandlerManager._roots_gate
    with pytest.raises(SystemExit, match="--background"):
        job_server.main(["--background"])


def test_the_direct_runner_runs_on_the_fn_api_runner_without_trying_prism(tmp_path, monkeypatch):
    """Beam's DirectRunner would first submit this pipeline to Prism (a download from GitHub)."""
    from apache_beam.runners.portability import prism_runner

    tried = []

    def refuse(*args, **kwargs):
        tried.append(True)
        raise RuntimeError("no Prism here")  # Beam's DirectRunner would fall back after this

    monkeypatch.setattr(prism_runner.PrismRunner, "run_pipeline", refuse)
    records = tmp_path / "records.jsonl"
    records.write_text('{"text": "the same words"}\n' * 3 + '{"text": "other words"}\n')
    out = tmp_path / "out"
    assert main(["dedup", "--method", "exact", "--lang", "en", str(records), str(out), "--quiet"]) == 0
    assert len((out / "survivors.jsonl").read_text().splitlines()) == 2
    assert not tried
