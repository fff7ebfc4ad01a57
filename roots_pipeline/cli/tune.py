"""`roots tune`: the filter-tuning notebooks' tables for people without Jupyter, from a finished run."""

from __future__ import annotations

import argparse
import sys

from roots_pipeline.errors import RootsError
from roots_pipeline.runner.beam_args import refuse_beam_args

_EPILOG = """\
Reads the scores the run stored for LANG's documents that the quality_filter stage saw, kept and
rejected (nothing is scored again), and prints, for each filter: its cutoff, what it removes alone
and together with the other filters, the same for the scores at a few quantiles (each a candidate
cutoff), and the documents just inside and just outside the cutoff. --set shows a candidate
cutoff instead; --write puts it into languages/<lang>.yaml and prints the diff, and the next run
of the same recipe (a run's fingerprint includes the language files, so it is redone) removes
exactly the documents predicted here. The notebooks in filters/ show the same with histograms.

examples:
  roots tune out/demo es                                   every filter of Spanish
  roots tune out/demo es --filter lang_id --examples 5     one filter, five documents each side
  roots tune out/demo es --set closed_class_words.min=0.3  the effect of a candidate cutoff
  roots tune out/demo es --set closed_class_words.min=0.3 --write
                                                           ... written into languages/es.yaml
  roots tune out/demo es --language-file my/es.yaml --set lang_id.min=0.7 --write
                                                           read and write a copy under review
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `roots tune` to the `roots` subparsers; return its parser."""
    parser = commands.add_parser(
        "tune", help="show what each filter's cutoff removes in a run, try candidates, write them",
        description="Show a language's filter scores in a finished run: the share each cutoff and each "
                    "candidate cutoff removes, and the documents at its margin; write new cutoffs.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", metavar="RUN", help="a run folder written by `roots run`")
    parser.add_argument("lang", metavar="LANG", help="the language to tune (es, fr, zh…)")
    parser.add_argument("--filter", metavar="NAME",
                        help="show this filter only (number_words, character_repetition, "
                             "word_repetition, special_characters, closed_class_words, flagged_words, "
                             "lang_id, perplexity)")
    parser.add_argument("--set", action="append", default=[], metavar="FILTER.SIDE=VALUE",
                        dest="changes",
                        help="a candidate cutoff, e.g. closed_class_words.min=0.3 or "
                             "number_words.max=50000; repeatable")
    parser.add_argument("--write", action="store_true",
                        help="write the --set cutoffs into the language file and print the diff")
    parser.add_argument("--language-file", metavar="PATH",
                        help="read the cutoffs from (and --write to) this file instead of "
                             "languages/<lang>.yaml")
    parser.add_argument("--examples", type=int, default=2, metavar="N",
                        help="documents shown on each side of every cutoff (default 2; 0: none)")
    return parser


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Handle `roots tune`: print the summary, the cutoff tables, the margins and any export's diff."""
    from roots_pipeline.lang.config import load_language, read_language_file
    from roots_pipeline.tuning import export_cutoffs, load_scores, sides, with_cutoffs
    from roots_pipeline.tuning.report import tuning_report

    refuse_beam_args(beam_args)
    if args.examples < 0:
        raise RootsError(f"--examples {args.examples}: must be 0 or more")
    if args.write and not args.changes:
        raise RootsError("--write writes the --set cutoffs: give at least one --set FILTER.SIDE=VALUE")
    if args.filter:
        sides(args.filter)
    changes = dict(_parse_change(text) for text in args.changes)
    scores = load_scores(args.run, args.lang)
    config = (read_language_file(args.language_file) if args.language_file
              else load_language(scores.lang, fallback=True))
    if args.language_file and config.code != scores.lang:
        raise RootsError(f"{args.language_file}: is the file of {config.code}, not of {scores.lang}")
    try:
        candidate = with_cutoffs(config, changes)
    except RootsError as exc:
        raise RootsError(f"--set {exc}") from exc
    # With --set and no --filter, the tables of the changed filters only.
    changed = list(dict.fromkeys(key.partition(".")[0] for key in changes))
    names = [args.filter] if args.filter else changed or None
    print(tuning_report(scores, config, changes, names, args.examples))
    if args.write:
        export = export_cutoffs(candidate, args.language_file, tuned_on=args.run)
        print()
        print(export.diff, end="")
        if export.warning:
            print(f"roots tune: warning: {export.warning}", file=sys.stderr)
        if args.language_file:
            applied = f"runs read languages/{scores.lang}.yaml: copy it there to apply it"
        else:
            applied = f"`roots run {scores.recipe or 'RECIPE'} --out {args.run}` applies it"
        print(f"written to {export.path}; {applied}")
    return 0


def _parse_change(text: str) -> tuple[str, float]:
    """Return (`filter.side`, value) from `--set filter.side=value`."""
    key, equals, value = text.partition("=")
    try:
        if not equals or "." not in key:
            raise ValueError
        return key.strip(), float(value)
    except ValueError:
        raise RootsError(f"--set {text}: write FILTER.SIDE=VALUE, e.g. closed_class_words.min=0.3") from None
