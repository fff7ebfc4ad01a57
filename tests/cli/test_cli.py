"""The `roots` command line as a user meets it: help, errors, Beam options, ad-hoc sources."""

from __future__ import annotations

import subprocess
import sys

import pytest

from roots_pipeline.cli.main import main
from roots_pipeline.runner.beam_args import split_beam_args
from tests.conftest import BAD, DEMO, REPO


def roots(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "roots_pipeline.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"]])
def test_help(args, capsys):
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage: roots" in out


def test_run_help_documents_beam_passthrough(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "--direct_running_mode=multi_processing" in out and "DataflowRunner" in out
    assert "--source" in out and "--lang" in out and "--out" in out


def test_beam_options_are_separated_with_their_values():
    ours, beam = split_beam_args(["--runner", "DataflowRunner", "r.yaml", "--project", "p", "--out", "o",
                                  "--direct_num_workers=2", "--save_main_session"])
    assert ours == ["r.yaml", "--out", "o"]
    assert beam == ["--runner", "DataflowRunner", "--project", "p", "--direct_num_workers=2",
                    "--save_main_session"]


def test_bad_recipe_exits_2_with_one_line_naming_file_and_key(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: x\noutput: o\nsources:\n  - kind: oscar\n    paths: [{DEMO}/nothing/*.gz]\n")
    assert main(["run", str(recipe)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert str(recipe) in err and "sources[0].paths[0]" in err


def test_unknown_option_is_refused():
    done = roots("run", "--frobnicate")
    assert done.returncode == 2 and "unrecognized arguments: --frobnicate" in done.stderr


def test_source_without_out_and_catalogue_without_lang(capsys):
    assert main(["run", "--source", f"oscar={DEMO}/oscar/en_part_1.jsonl.gz"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["run", "--source", f"catalogue={DEMO}/catalogue/manpages_fr", "--out", "x"]) == 2
    assert "a catalogue source needs --lang CODE" in capsys.readouterr().err


def test_adhoc_run_prints_the_summary_table(tmp_path):
    done = roots("run", "--source", f"oscar={DEMO}/oscar/en_part_1.jsonl.gz,{BAD}/invalid_utf8.jsonl",
                 "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:4] == ["source", "lang", "docs", "in"]
    total = next(line for line in lines if line.startswith("total")).split()
    assert int(total[1]) == 97 + 4 + 1  # en docs + invalid_utf8's good lines + its bad line
    assert "malformed" in lines[0] and "wall time" in done.stdout
    assert (tmp_path / "o" / "data" / "en").is_dir()
    again = roots("run", "--source", f"oscar={DEMO}/oscar/en_part_1.jsonl.gz,{BAD}/invalid_utf8.jsonl",
                  "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert "complete and current" in again.stdout


def test_recipe_by_name_and_missing_recipe(tmp_path):
    from roots_pipeline.cli.run import recipe_path as _recipe_path

    assert _recipe_path(None) == "pipelines/demo.yaml"
    assert _recipe_path("demo") == "pipelines/demo.yaml"
    assert _recipe_path("x/y.yaml") == "x/y.yaml"
    done = roots("run", "nope")
    assert done.returncode == 2 and "nope" in done.stderr and "cannot read" in done.stderr


def test_lang_with_a_recipe_is_refused(capsys):
    assert main(["run", "demo", "--lang", "fr"]) == 2
    assert "--lang applies to --source" in capsys.readouterr().err
