"""`roots languages`: the configured languages, or one language's configuration as YAML."""

from __future__ import annotations

import argparse

from roots_pipeline.errors import RootsError
from roots_pipeline.runner.beam_args import refuse_beam_args

_EPILOG = """\
Each language is a file languages/<code>.yaml (see languages/README.md): origin `roots` = ROOTS's
hand-tuned cutoffs and lists; `fineweb2` = ROOTS's default cutoffs with FineWeb-2 stopwords.

examples:
  roots languages                             every configured language, one line each
  roots languages --origin roots              the 13 languages ROOTS tuned
  roots languages sw                          Swahili's configuration, as YAML
  roots languages swh                         the same (a macrolanguage member reads as `sw`)
  roots languages ha --fallback               default.yaml's cutoffs, as a language without a file gets them
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `roots languages` to the `roots` subparsers; return its parser."""
    parser = commands.add_parser(
        "languages", help="list the configured languages, or show one language's configuration",
        description="List the languages that have a configuration in languages/, or print one as YAML.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("code", nargs="?", metavar="CODE",
                        help="a language code (fr, fra, sw, hi_Latn): print its resolved configuration")
    parser.add_argument("--origin", choices=("roots", "fineweb2"),
                        help="list only languages of this origin")
    parser.add_argument("--fallback", action="store_true",
                        help="with CODE: show default.yaml's cutoffs when the language has no file")
    return parser


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Print one language's configuration, or the table of configured languages."""
    from roots_pipeline.lang.config import known_languages, load_language, to_yaml, word_list

    refuse_beam_args(beam_args)
    if args.code:
        if args.origin:
            raise RootsError("give either CODE or --origin, not both")
        config = load_language(args.code, fallback=args.fallback)
        counts = [f"{len(word_list(path, config.root))} {what}" for what, path in
                  (("stopwords", config.stopwords), ("flagged words", config.flagged_words)) if path]
        source = "default.yaml (no file of its own)" if config.origin == "default" else f"{config.code}.yaml"
        print(to_yaml(config.to_dict(), [f"{config.code}: languages/{source}; "
                                         f"{', '.join(counts) or 'no word lists'}"]), end="")
        return 0
    if args.fallback:
        raise RootsError("--fallback applies to a CODE")
    rows = known_languages(args.origin)
    header = ("code", "name", "script", "origin", "word split", "stopwords", "flagged")
    table = [header] + [(r.code, r.name if len(r.name) <= 32 else r.name[:31] + "…", r.script or "-",
                         r.origin, r.word_split, str(r.stopwords), str(r.flagged_words)) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        cells = [cell.rjust(w) if i >= 5 else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        print("  ".join(cells).rstrip())
    by_origin = {o: sum(r.origin == o for r in rows) for o in ("roots", "fineweb2")}
    print(f"{len(rows)} languages ({by_origin['roots']} roots, {by_origin['fineweb2']} fineweb2); "
          "`roots languages CODE` shows one")
    return 0
