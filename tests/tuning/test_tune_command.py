"""`roots tune`: the notebooks' tables on the command line, candidates, and --write to a copy."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from roots_pipeline.cli import tune as tune_command
from roots_pipeline.errors import RootsError
from roots_pipeline.lang.config import read_language_file


def roots(*argv: str, beam_args: tuple[str, ...] = ()) -> int:
    """Run `roots tune` as cli.main would, from a parser holding only that command."""
    parser = argparse.ArgumentParser(prog="roots")
    tune_command.add_parser(parser.add_subparsers(dest="command")).set_defaults(handler=tune_command.run)
    args = parser.parse_args(argv)
    return args.handler(args, list(beam_args))


def test_prints_summary_tables_and_margins_of_every_filter(demo_run, capsys):
    assert roots("tune", str(demo_run), "es") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"es in {demo_run}: ")
    assert "the same documents the run removed" in out
    # The language's size as the summary table and the cards count it: the crawl's Spanish pages
    # were read as `und` and identified as es by language_id.
    entries = [e for e in json.loads((demo_run / "stats.json").read_text())["entries"] if e["lang"] == "es"]
    read, moved = (sum(e[field]["docs"] for e in entries) for field in ("in", "relabelled_in"))
    documents = sum(e[o]["docs"] for e in entries for o in ("kept", "rejected", "duplicate"))
    assert moved > 0 and documents == read + moved
    assert (f"\nthe ledger: {documents:,} es documents = {read:,} read as es + {moved:,} identified as es "
            f"({moved:,} by language_id) - 0 identified as another language - 0 malformed; ") in out
    for table in ("number_words.min", "number_words.max", "character_repetition.max", "word_repetition.max",
                  "special_characters.max", "closed_class_words.min", "flagged_words.max", "lang_id.min",
                  "perplexity.max"):
        assert f"\n{table} (removes scores" in out
    assert "documents at the margin of closed_class_words.min = 0.4:" in out
    assert "---------- closed_class_words.min 0.4 ----------" in out


def test_one_filter_with_a_candidate(demo_run, capsys):
    assert roots("tune", str(demo_run), "spa", "--filter", "lang_id", "--set", "lang_id.min=0.5",
                 "--examples", "1") == 0
    out = capsys.readouterr().out
    assert "with lang_id.min=0.5: quality_filter removes" in out and "documents decided otherwise" in out
    assert "closed_class_words.min (" not in out
    table = out[out.index("\nlang_id.min ("):]
    assert re.search(r"\n  current +0\.8 ", table) and re.search(r"\n  --set +0\.5 ", table)
    assert "documents at the margin of lang_id.min = 0.5:" in out


def test_write_exports_into_the_language_file_and_prints_the_diff(demo_run, es_copy, capsys):
    assert roots("tune", str(demo_run), "es", "--set", "closed_class_words.min=0.3", "--examples", "0",
                 "--write", "--language-file", str(es_copy)) == 0
    captured = capsys.readouterr()
    assert "-  closed_class_words: {min: 0.4}\n+  closed_class_words: {min: 0.3}\n" in captured.out
    assert f"written to {es_copy}; runs read languages/es.yaml" in captured.out
    assert "scripts/build_languages.py rewrites es.yaml" in captured.err
    assert read_language_file(es_copy).filters.closed_class_words.min == 0.3
    # Read back from the copy, the new cutoff is now the current one.
    assert roots("tune", str(demo_run), "es", "--filter", "closed_class_words", "--examples", "0",
                 "--language-file", str(es_copy)) == 0
    assert re.search(r"\n  current +0\.3 ", capsys.readouterr().out)


@pytest.mark.parametrize(("argv", "message"), [
    (("--set", "closed_class_words.min"), "--set closed_class_words.min: write FILTER.SIDE=VALUE"),
    (("--set", "closed_class_words.min=many"), "write FILTER.SIDE=VALUE"),
    (("--set", "closed_class_words.max=0.5"), "--set closed_class_words.max: not a cutoff"),
    (("--set", "lang_id.min=7"), "--set lang_id.min: must be a ratio between 0 and 1"),
    (("--filter", "words"), "words: no such filter"),
    (("--write",), "--write writes the --set cutoffs"),
    (("--examples", "-1"), "--examples -1: must be 0 or more"),
])
def test_errors_name_the_argument_and_the_fix(demo_run, argv, message):
    with pytest.raises(RootsError, match=message):
        roots("tune", str(demo_run), "es", *argv)


def test_errors_about_the_run_and_the_language(demo_run, tmp_path, es_copy):
    with pytest.raises(RootsError, match="Beam options apply to `roots run`"):
        roots("tune", str(demo_run), "es", beam_args=("--runner=DirectRunner",))
    with pytest.raises(RootsError, match="no such run folder"):
        roots("tune", str(tmp_path / "missing"), "es")
    with pytest.raises(RootsError, match="no bn document was scored by quality_filter"):
        roots("tune", str(demo_run), "bn")
    with pytest.raises(RootsError, match="is the file of es, not of fr"):
        roots("tune", str(demo_run), "fr", "--language-file", str(es_copy))
