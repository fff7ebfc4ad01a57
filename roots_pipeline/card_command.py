"""`roots card` and `roots fertility`: documents written from a finished run folder, no Beam involved."""

from __future__ import annotations

import argparse
import logging
import os

from roots_pipeline.errors import RootsError

_CARD_EPILOG = """\
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

_FERTILITY_EPILOG = """\
Trains a byte-level BPE tokenizer configured as BLOOM's (no normaliser, BLOOM's pre-tokenizer regex,
special tokens <unk> <s> </s> <pad>) on the run's kept documents, and one monolingual tokenizer
per language with the same settings; reports subword tokens per word on held-out documents
(monolingual, multilingual, difference; BLOOM's objective: at most +10%) and vocabulary entries
that look like URLs, e-mail fragments, digit runs, markup or repeated characters.
Writes <run>/fertility/: tokenizer.json, monolingual/<lang>.json, report.md, report.json,
fertility.png. `roots card <run>` then links the report from the corpus card.

examples:
  roots fertility out/demo --vocab-size 4000          a small vocabulary for a small corpus
  roots fertility out/big --sample-mb 500             at most 500 MB of training text per language
  roots fertility out/demo --compare bloom/tokenizer.json   also measure another tokenizer
"""


def add_card_parsers(commands: argparse._SubParsersAction) -> None:
    """Add the `card` and `fertility` subcommands to `roots`."""
    card_parser = commands.add_parser(
        "card", help="write the data cards of a finished run (Markdown + JSON + figures)",
        description="Write the corpus card, one card per language and one per source × dataset × language "
                    "from a run folder's ledger, run record and shards.",
        epilog=_CARD_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    card_parser.add_argument("run", metavar="RUN", help="a run folder written by `roots run`")
    card_parser.add_argument("--into", metavar="DIR",
                             help="write the cards into DIR instead of RUN/cards (replaced if it holds "
                                  "cards)")
    card_parser.add_argument("--tokens", metavar="FILE",
                             help="token counts: a binarize blend.json or a JSON object {lang: tokens} "
                                  "(default: RUN/megatron/blend.json when present)")
    card_parser.add_argument("--samples", type=int, default=3, metavar="N",
                             help="removed documents shown per filter (default 3)")
    card_parser.set_defaults(handler=card)
    fertility_parser = commands.add_parser(
        "fertility", help="train BLOOM-style tokenizers on a run's corpus and report fertility per language",
        description="Train a multilingual byte-level BPE tokenizer with BLOOM's settings and monolingual "
                    "ones on a run's kept documents, and report subword tokens per word per language.",
        epilog=_FERTILITY_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    fertility_parser.add_argument("run", metavar="RUN", help="a run folder written by `roots run`")
    fertility_parser.add_argument("--vocab-size", type=int, default=250_680, metavar="N",
                                  help="vocabulary of every tokenizer (default 250680, BLOOM's)")
    fertility_parser.add_argument("--sample-mb", type=float, metavar="MB",
                                  help="train on at most MB of text per language (default: all of it)")
    fertility_parser.add_argument("--eval-share", type=float, default=0.1, metavar="F",
                                  help="share of documents held out to measure fertility (default 0.1)")
    fertility_parser.add_argument("--compare", action="append", default=[], metavar="TOKENIZER_JSON",
                                  help="also measure this tokenizer.json (repeatable)")
    fertility_parser.add_argument("--models", metavar="DIR",
                                  help="folder with <lang>.sp.model to split words of SentencePiece "
                                       "languages (zh) (default: the run's quality_filter models)")
    fertility_parser.add_argument("--out", metavar="DIR", help="output folder (default RUN/fertility)")
    fertility_parser.set_defaults(handler=fertility)


def cards_after_run(run_dir: str, skipped: bool) -> str:
    """Write a finished run's cards, as `roots run` does last, and return the line to print.

    A run skipped as current keeps the cards it already has; a remote run folder (gs://…) gets
    none, since cards are drawn from local files: the line says how to make them.
    """
    from roots_pipeline.cards import write_cards
    from roots_pipeline.cards.write import CARDS

    if "://" in run_dir:
        return f"cards: not written for {run_dir}; copy the run folder here and run `roots card` on it"
    folder = os.path.join(run_dir, CARDS)
    if skipped and os.path.isfile(os.path.join(folder, "corpus.json")):
        return f"cards: {folder}/ (current)"
    written = write_cards(run_dir)
    return f"cards: {written.folder}/README.md and {written.cards - 1} more; Hub card {written.hub_readme}"


def _no_beam(beam_args: list[str]) -> None:
    if beam_args:
        raise RootsError(f"{' '.join(beam_args)}: Beam options apply to `roots run`")


def card(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Handle `roots card`: write the cards and say where they are."""
    from roots_pipeline.cards import read_token_counts, write_cards

    _no_beam(beam_args)
    if args.samples < 0:
        raise RootsError(f"--samples {args.samples}: must be 0 or more")
    tokens = read_token_counts(args.tokens) if args.tokens else None
    written = write_cards(args.run, into=args.into, tokens=tokens, per_reason=args.samples)
    print(f"{written.cards} cards and {written.figures} figures in {written.folder}/ "
          f"(corpus card: {os.path.join(written.folder, 'README.md')})")
    if written.hub_readme:
        print(f"Hugging Face dataset card of the run folder: {written.hub_readme}")
    return 0


def fertility(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Handle `roots fertility`: train, measure, write the report and print its table's verdict."""
    from roots_pipeline.fertility import run_fertility

    _no_beam(beam_args)
    logging.getLogger("roots_pipeline").setLevel(logging.INFO)
    result = run_fertility(args.run, out=args.out, vocab_size=args.vocab_size, sample_mb=args.sample_mb,
                           eval_share=args.eval_share, compare=args.compare, models=args.models)
    for row in result.report["languages"]:
        if row["difference"] is None:
            print(f"{row['lang']:>8}  {row['status']}")
        else:
            flag = "  over the +10% objective" if row["over_objective"] else ""
            print(f"{row['lang']:>8}  monolingual {row['monolingual']:.3f}  "
                  f"multilingual {row['multilingual']:.3f}  {100 * row['difference']:+.1f}%{flag}")
    print(f"report: {result.folder}/report.md (tokenizer: {result.folder}/tokenizer.json); "
          f"`roots card {args.run}` links it from the corpus card")
    return 0
