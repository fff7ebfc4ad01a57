"""Beam's options told apart from ours: values, `--dry_run`, the options of every runner, hints."""

from __future__ import annotations

import subprocess
import sys

import pytest

from roots_pipeline.cli.main import main
from roots_pipeline.errors import RootsError
from roots_pipeline.runner.beam_args import split_beam_args, suggest, take_dry_run
from tests.conftest import REPO


def test_an_option_is_never_another_options_value():
    ours, beam = split_beam_args(["r.yaml", "--runner", "DataflowRunner", "--dry_run", "--project",
                                  "my-project", "--region", "r", "--out", "o"], {"--out"})
    assert ours == ["r.yaml", "--out", "o"]
    assert beam == ["--runner", "DataflowRunner", "--dry_run", "--project", "my-project", "--region", "r"]


@pytest.mark.parametrize("args, dry", [
    (["--dry_run"], True), (["--dry_run=True"], True), (["--dry_run", "true"], True), (["--dry_run=1"], True),
    (["--dry_run=False"], False), (["--dry_run", "False"], False), (["--dry_run=no"], False), ([], False),
    (["--dry_run", "--dry_run=false"], False),  # the last one given wins
])
def test_dry_run_in_the_forms_beam_accepts(args, dry):
    ours, beam = split_beam_args(["recipe.yaml", *args, "--project", "p"])
    assert ours == ["recipe.yaml"]
    assert take_dry_run(beam) == (dry, ["--project", "p"])


def test_dry_run_takes_no_recipe_for_its_value_and_refuses_other_words():
    assert split_beam_args(["--dry_run", "pipelines/demo.yaml"]) == (["pipelines/demo.yaml"], ["--dry_run"])
    with pytest.raises(RootsError, match="--dry_run=maybe: give true or false"):
        take_dry_run(["--dry_run=maybe"])


def test_an_option_without_its_value_is_refused_in_one_line(capsys):
    for argv in (["run", "--project"], ["run", "--project", "--region", "r"]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 2
        assert "--project needs a value: --project VALUE or --project=VALUE" in capsys.readouterr().err


def test_options_of_runners_whose_option_class_beam_does_not_import():
    # DaskOptions lives in a module that needs `dask` (not installed): read from its source.
    ours, beam = split_beam_args(["--dask_client_address", "tcp://h:8786", "--render_port", "0", "x.yaml",
                                  "--flink_master", "h:8081", "--spark_master_url", "spark://h:7077"])
    assert ours == ["x.yaml"]
    assert beam[1::2] == ["tcp://h:8786", "0", "h:8081", "spark://h:7077"]


def test_our_own_options_win_over_a_beam_option_of_the_same_name():
    ours, beam = split_beam_args(["--job_endpoint", "embed"], {"--job_endpoint"})
    assert (ours, beam) == (["--job_endpoint", "embed"], [])


def test_an_unknown_option_says_which_runners_option_it_might_be():
    assert suggest("--flink_mastr") == "did you mean --flink_master (an option of FlinkRunner)?"
    assert "DaskRunner" in suggest("--dask_client_adress=x")
    assert suggest("--frobnicate") == "not an option of roots or of any runner Apache Beam ships"
    done = subprocess.run([sys.executable, "-m", "roots_pipeline.cli", "run", "--flink_mastr=h:8081"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 2
    assert ("roots: error: unrecognized arguments: --flink_mastr=h:8081: did you mean --flink_master "
            "(an option of FlinkRunner)?") in done.stderr


def test_no_option_of_roots_shadows_a_beam_option():
    from roots_pipeline.cli.main import build_parser, option_strings
    from roots_pipeline.runner.beam_args import beam_option

    assert [name for name in sorted(option_strings(build_parser())) if beam_option(name)] == []
