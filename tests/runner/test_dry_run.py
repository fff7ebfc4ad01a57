"""`--dry_run`: the pipeline a runner would receive, written and summarised, nothing else touched.

DataflowRunner cannot be reached from here; its dry run builds the exact Runner API pipeline
Dataflow would receive, offline. Running that same pipeline on Beam's FnApiRunner, with its Docker
environment swapped for EXTERNAL workers in separate processes, gives the DirectRunner's outputs
byte for byte: what Dataflow would be sent is a pipeline that computes the right thing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability.api import beam_runner_api_pb2
from apache_beam.runners.pipeline_context import PipelineContext
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.transforms.environments import ExternalEnvironment

from roots_pipeline.cli.main import main
from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.direct_runner_fixes import apply_direct_runner_fixes
from roots_pipeline.runner.pipeline import write_ledger
from roots_pipeline.runner.translate import summarize
from tests.conftest import REPO
from tests.runner.conftest import DEMO_RECIPE, every_file, outputs

DATAFLOW = ["--runner", "DataflowRunner", "--project", "my-project", "--region", "us-central1",
            "--temp_location", "gs://my-bucket/tmp"]


def test_dataflow_dry_run_is_offline_keeps_outputs_and_its_pipeline_matches_the_direct_runner(
        tmp_path, reference, pool, wheel, no_hang):
    run_dir = tmp_path / "demo"
    shutil.copytree(reference, run_dir)
    before = every_file(run_dir)
    done = subprocess.run(
        [sys.executable, "-c", "from tests.runner.workers import main_offline; main_offline()",
         "run", DEMO_RECIPE, "--out", str(run_dir), *DATAFLOW, "--dry_run=True", "--force", "--shared-out",
         "--extra_package", str(wheel)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "dry run on DataflowRunner" in done.stdout

    after = every_file(run_dir)  # the finished run is untouched; the translation is beside it
    assert set(after) - set(before) == {"pipeline.pb", "pipeline.json"}
    assert {name: after[name] for name in before} == before
    proto = beam_runner_api_pb2.Pipeline.FromString((run_dir / "pipeline.pb").read_bytes())
    summary = json.loads((run_dir / "pipeline.json").read_text())
    counted = summarize(proto, "DataflowRunner")
    assert {key: summary[key] for key in counted} == counted
    (environment,) = summary["environments"]
    assert environment["type"] == "DOCKER" and environment["config"].endswith(f"_sdk:{beam.__version__}")
    assert wheel.name in environment["artifacts"]
    assert summary["shuffles"] > 0 and summary["side_inputs"] > 0 and summary["transforms"] > 100

    # The same pipeline, its environment swapped for workers in another process, on the FnApiRunner.
    for name in ("data", "rejects", "stats.json", "malformed.jsonl", "_SUCCESS", "run.json"):
        path = run_dir / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    external = ExternalEnvironment(pool).to_runner_api(PipelineContext())
    for env in proto.components.environments.values():
        env.urn, env.payload = external.urn, external.payload
        del env.dependencies[:]  # the pool's workers have the package installed
    apply_direct_runner_fixes()
    assert FnApiRunner().run_via_runner_api(proto, PipelineOptions([])).state == "DONE"
    write_ledger(load_recipe(DEMO_RECIPE).with_output(str(run_dir)))
    assert outputs(run_dir) == outputs(reference)


def test_dry_run_on_the_direct_runner_writes_the_proto_and_nothing_else(tmp_path, reference, capsys):
    run_dir = tmp_path / "demo"
    shutil.copytree(reference, run_dir)
    before = every_file(run_dir)
    assert main(["run", DEMO_RECIPE, "--out", str(run_dir), "--dry_run", "--force"]) == 0
    printed = capsys.readouterr().out
    assert "dry run on DirectRunner" in printed and "shuffles" in printed and "pipeline.pb" in printed
    after = every_file(run_dir)
    assert set(after) - set(before) == {"pipeline.pb", "pipeline.json"}
    assert {name: after[name] for name in before} == before
    summary = json.loads((run_dir / "pipeline.json").read_text())
    assert summary["runner"] == "DirectRunner" and summary["environments"][0]["type"] == "EMBEDDED"


def test_a_dry_run_into_a_new_folder_leaves_a_folder_a_run_may_use(tmp_path, capsys):
    run_dir = tmp_path / "new"
    source = f"oscar={REPO}/tests/data/demo/oscar/en_part_1.jsonl.gz"
    assert main(["run", "--source", source, "--out", str(run_dir), "--dry_run", "true", "--quiet"]) == 0
    assert sorted(p.name for p in run_dir.iterdir()) == ["pipeline.json", "pipeline.pb"]
    assert "dry run on DirectRunner" in capsys.readouterr().out
    # --dry_run=False (which Beam itself would read as true) is a run, and replaces the dry run's files.
    assert main(["run", "--source", source, "--out", str(run_dir), "--quiet", "--dry_run=False"]) == 0
    assert "dry run" not in capsys.readouterr().out
    names = {p.name for p in run_dir.iterdir()}
    assert {"data", "stats.json", "_SUCCESS"} <= names and not names & {"pipeline.pb", "pipeline.json"}
