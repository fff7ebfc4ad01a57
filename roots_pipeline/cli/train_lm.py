"""`roots train-lm`: the SentencePiece + KenLM models of ROOTS's perplexity filter, trained offline."""

from __future__ import annotations

import argparse
import logging

from roots_pipeline.runner.beam_args import refuse_beam_args

_EPILOG = """\
Trains what ROOTS's perplexity filter needs, offline, from text you give (one document or sentence
per line; .txt or .txt.gz): a SentencePiece unigram model (<lang>.sp.model) and a KenLM 5-gram
ARPA model (<lang>.arpa) estimated with modified Kneser-Ney by this package. Point a recipe's
quality_filter `models:` (or `roots score --models`) at the output folder.

examples:
  roots train-lm sw wiki_sw.txt news_sw.txt.gz --out models/
  roots train-lm zh corpus_zh.txt --out models/ --vocab-size 32000
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `roots train-lm` to the `roots` subparsers; return its parser."""
    parser = commands.add_parser(
        "train-lm", help="train a language's SentencePiece + KenLM models for the perplexity filter",
        description="Train <lang>.sp.model and <lang>.arpa from text files, offline, as ROOTS trained its "
                    "perplexity models.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lang", metavar="LANG", help="language code (fr, sw, zh…)")
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="text files, one document or sentence per line")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the models (created)")
    parser.add_argument("--vocab-size", type=int, default=65536,
                        help="SentencePiece vocabulary (default 65536 as ROOTS; lowered when the text is "
                             "too small)")
    parser.add_argument("--order", type=int, default=5, help="n-gram order (default 5 as ROOTS)")
    parser.add_argument("--max-lines", type=int, metavar="N",
                        help="use at most N lines (ROOTS: the first 1,000,000 Wikipedia article openings)")
    return parser


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Train the models and print what was trained."""
    from roots_pipeline.lm.train import train_language_model

    refuse_beam_args(beam_args)
    logging.getLogger("roots_pipeline").setLevel(logging.INFO)
    result = train_language_model(args.lang, args.files, args.out, vocab_size=args.vocab_size,
                                  order=args.order, max_sentences=args.max_lines)
    print(result.summary())
    return 0
