"""The `roots` command: its entry point and exit codes.

Each subcommand is one module of this package exposing `add_parser(commands)`, which adds its
parser to the `roots` subparsers, and `run(args, beam_args)`, which returns the exit code. The
modules import what they run inside `run`; Apache Beam itself is imported by every command, to
tell Beam's options apart from ours and to build `roots dedup`'s flags from its stages.

Exit codes: 0 done; 1 the ledger or the written shards do not balance (the outputs are not
trustworthy); 2 the user's error (bad option, recipe, input), with one line saying what to fix;
130 interrupted.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys

from roots_pipeline import __version__
from roots_pipeline.cli import binarize, card, dedup, fertility, languages, run, score, train_lm, tune
from roots_pipeline.errors import LedgerImbalance, RootsError

_GC_THRESHOLD = 100_000  # allocations between young-generation collections (Python's default: 700)
# In the order `roots --help` lists them.
COMMANDS = (run, languages, score, binarize, card, fertility, tune, dedup, train_lm)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `roots`; returns the process exit code."""
    # Beam logs hints about optional cloud modules at WARNING on import; errors still show.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    # Building a Beam pipeline allocates hundreds of thousands of small objects: with Python's
    # default thresholds the collector walks them again and again (0.5 s of a 3.5 s start-up).
    # What is imported by now lives as long as the process: frozen, it is never walked again.
    gc.set_threshold(_GC_THRESHOLD, 50, 100)
    gc.freeze()
    from roots_pipeline.runner.beam_args import split_beam_args, suggest

    parser = build_parser()
    try:
        ours, beam_args = split_beam_args(sys.argv[1:] if argv is None else argv, option_strings(parser))
    except RootsError as exc:
        parser.error(str(exc))
    args, unknown = parser.parse_known_args(ours)
    if unknown:
        described = [f"{token}: {suggest(token)}" if token.startswith("--") else token for token in unknown]
        parser.error(f"unrecognized arguments: {'; '.join(described)}")
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args, beam_args)
    except KeyboardInterrupt:
        print("roots: interrupted; outputs may be incomplete (the next run redoes them)", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `roots run | head`: the reader left, nothing more to say
        sys.stderr.close()
        return 0
    except LedgerImbalance as exc:
        print(f"roots: {exc}", file=sys.stderr)
        return 1
    except RootsError as exc:
        print(f"roots: error: {exc}", file=sys.stderr)
        return 2


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Return every option string of `parser` and of its subcommands' parsers."""
    found = set(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= option_strings(sub)
    return found


def build_parser() -> argparse.ArgumentParser:
    """Return the `roots` parser with every subcommand's parser added."""
    parser = argparse.ArgumentParser(
        prog="roots", description="Turn raw multilingual text into training-ready data (ROOTS-style).")
    parser.add_argument("--version", action="version", version=f"roots-pipeline {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands).set_defaults(handler=command.run)
    return parser
