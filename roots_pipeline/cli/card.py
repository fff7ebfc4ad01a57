"""`roots card`: the data cards of a finished run folder, written from its ledger and shards."""

from __future__ import annotations

import argparse
import os

from roots_pipeline.errors import RootsError
from roots_pipeline.runner.beam_args import refuse_beam_args
from roots_pipeline.worker.fs import is_remote

_EPILOG = """\
Writes, from the run's ledger (stats.json), run record (run.json) and shards, nothing typed by hand:
  cards/README.md, corpus.json, figures/     the corpus card (a Hugging Face dataset card)
  cards/<lang>/README.md, card.json          one card per language (a Hugging Face dataset card)
  cards/<lang>/<source>-<dataset>.md, .json  one card per source × dataset × language
and <run>/README.md, the corpus card again with links into cards/, so that the run folder can be
pushed to the Hugging Face Hub as it is. A report of `roots fertility` is copied in and linked.
Token counts per language come from <run>/megatron/blend.json when `roots binarize` wrote it.

examples:
  roots card out/demo                         (re)write out/demo/cards/ and out/demo/README.md
  roots card out/demo --into data_cards/demo  write the cards elsewhere (no README.md in the run)
  roots card out/fr --tokens counts.json      token counts from a file: {"fr": 123456}
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `roots card` to the `roots` subparsers; return its parser."""
    parser = commands.add_parser(
        "card", help="write the data cards of a finished run (Markdown + JSON + figures)",
        description="Write the corpus card, one card per language and one per source × dataset × language "
                    "from a run folder's ledger, run record and shards.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", metavar="RUN", help="a run folder written by `roots run`")
    parser.add_argument("--into", metavar="DIR",
                        help="write the cards into DIR instead of RUN/cards (replaced if it holds "
                             "cards)")
    parser.add_argument("--tokens", metavar="FILE",
                        help="token counts: a binarize blend.json or a JSON object {lang: tokens} "
                             "(default: RUN/megatron/blend.json when present)")
    parser.add_argument("--samples", type=int, default=3, metavar="N",
                        help="removed documents shown per filter (default 3)")
    return parser


def cards_after_run(run_dir: str, skipped: bool) -> str:
    """Write a finished run's cards, as `roots run` does last, and return the line to print.

    A run skipped as current keeps the cards it already has; a remote run folder (gs://…) gets
    none, since cards are drawn from local files: the line says how to make them.
    """
    from roots_pipeline.cards import write_cards
    from roots_pipeline.output.run_folder import CARDS

    if is_remote(run_dir):
        return f"cards: not written for {run_dir}; copy the run folder here and run `roots card` on it"
    folder = os.path.join(run_dir, CARDS)
    if skipped and os.path.isfile(os.path.join(folder, "corpus.json")):
        return f"cards: {folder}/ (current)"
    written = write_cards(run_dir)
    return f"cards: {written.folder}/README.md and {written.cards - 1} more; Hub card {written.hub_readme}"


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Handle `roots card`: write the cards and say where they are."""
    from roots_pipeline.cards import read_token_counts, write_cards

    refuse_beam_args(beam_args)
    if args.samples < 0:
        raise RootsError(f"--samples {args.samples}: must be 0 or more")
    tokens = read_token_counts(args.tokens) if args.tokens else None
    written = write_cards(args.run, into=args.into, tokens=tokens, per_reason=args.samples)
    print(f"{written.cards} cards and {written.figures} figures in {written.folder}/ "
          f"(corpus card: {os.path.join(written.folder, 'README.md')})")
    if written.hub_readme:
        print(f"Hugging Face dataset card of the run folder: {written.hub_readme}")
    return 0
