"""`roots fertility`: BLOOM-style tokenizers trained on a finished run's corpus, and their fertility."""

from __future__ import annotations

import argparse
import logging

from roots_pipeline.runner.beam_args import refuse_beam_args

_EPILOG = """\
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


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `roots fertility` to the `roots` subparsers; return its parser."""
    parser = commands.add_parser(
        "fertility", help="train BLOOM-style tokenizers on a run's corpus and report fertility per language",
        description="Train a multilingual byte-level BPE tokenizer with BLOOM's settings and monolingual "
                    "ones on a run's kept documents, and report subword tokens per word per language.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", metavar="RUN", help="a run folder written by `roots run`")
    parser.add_argument("--vocab-size", type=int, default=250_680, metavar="N",
                        help="vocabulary of every tokenizer (default 250680, BLOOM's)")
    parser.add_argument("--sample-mb", type=float, metavar="MB",
                        help="train on at most MB of text per language (default: all of it)")
    parser.add_argument("--eval-share", type=float, default=0.1, metavar="F",
                        help="share of documents held out to measure fertility (default 0.1)")
    parser.add_argument("--compare", action="append", default=[], metavar="TOKENIZER_JSON",
                        help="also measure this tokenizer.json (repeatable)")
    parser.add_argument("--models", metavar="DIR",
                        help="folder with <lang>.sp.model to split words of SentencePiece "
                             "languages (zh) (default: the run's quality_filter models)")
    parser.add_argument("--out", metavar="DIR", help="output folder (default RUN/fertility)")
    return parser


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Handle `roots fertility`: train, measure, write the report and print its table's verdict."""
    from roots_pipeline.fertility import run_fertility

    refuse_beam_args(beam_args)
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
