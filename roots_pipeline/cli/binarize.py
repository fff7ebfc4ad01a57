"""`roots binarize`: a run's shards tokenized into Megatron datasets (the work is in `megatron/`)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from roots_pipeline.errors import RootsError
from roots_pipeline.runner.beam_args import refuse_beam_args

DEFAULT_EOD_TOKEN = "</s>"  # BLOOM's end of document

_BINARIZE_EPILOG = """\
RUN is a run folder (its data/<lang>/ shards), a folder of <lang>/ shard folders, or one of them.
For each language, OUT (default RUN/megatron) gets <lang>_text_document.{bin,idx}, the indexed
dataset Megatron-LM and Megatron-DeepSpeed read (uint16 tokens for a vocabulary below 65,500,
else int32), under train/ and valid/ with --valid-fraction; data_path.txt, the --data-path value
(weight prefix pairs; train/ and valid/ each get one); and blend.json, the counts and weights.
Documents that encode to no token are skipped and counted. A language whose shards, tokenizer and
options have not changed is not redone; --force redoes it.

examples:
  roots binarize out/demo --tokenizer out/demo/fertility/tokenizer.json --append-eod
  roots binarize out/demo --tokenizer out/demo/fertility --append-eod --valid-fraction 0.05 --merge
  roots binarize out/demo --tokenizer tok.json --append-eod --alpha 0.3     small languages upsampled
  roots binarize out/demo/data/fr --tokenizer tok.json --append-eod --out out/fr_megatron
then, for Megatron:  --data-path $(cat out/demo/megatron/data_path.txt)
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `roots binarize` to the `roots` subparsers; return its parser."""
    parser = commands.add_parser(
        "binarize", help="tokenize a run's shards into Megatron .bin/.idx datasets with blend weights",
        description="Tokenize curated shards into the indexed datasets Megatron-LM / Megatron-DeepSpeed "
                    "train from, one per language, and write the blend weights to train on them.",
        epilog=_BINARIZE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", metavar="RUN",
                        help="run folder (out/<run>), a folder of <lang>/ shard folders, or one of them")
    parser.add_argument("--tokenizer", required=True, metavar="PATH",
                        help="`tokenizers` file (tokenizer.json, or a folder holding one), e.g. the one "
                             "`roots fertility` trained")
    parser.add_argument("--out", metavar="DIR", help="output folder (default RUN/megatron; required for "
                                                     "other inputs)")
    parser.add_argument("--lang", metavar="CODE[,CODE…]", help="only these languages (default: all found)")
    parser.add_argument("--text-field", default="text", metavar="NAME",
                        help="column to tokenize (default: text); it names the files <lang>_NAME_document")
    parser.add_argument("--append-eod", action="store_true",
                        help="end every document with the end-of-document token, as BLOOM was trained")
    parser.add_argument("--eod-token", metavar="TOKEN",
                        help=f"with --append-eod: its name in the vocabulary (default {DEFAULT_EOD_TOKEN}); "
                             "a tokenizer without it is an error")
    parser.add_argument("--valid-fraction", type=float, default=0.0, metavar="F",
                        help="hold out this fraction of each language's documents as valid/ datasets, "
                             "chosen by a hash of the document id (BLOOM: 0.05; default 0: no split)")
    parser.add_argument("--alpha", type=float, default=1.0, metavar="A",
                        help="blend weights ∝ (tokens share)^A: 1 (default) in proportion to tokens, "
                             "0.3 upsamples small languages, 0 weighs all equally")
    parser.add_argument("--merge", action="store_true",
                        help="also write merged_text_document: every language in one dataset")
    parser.add_argument("--force", action="store_true", help="redo languages whose outputs are current")
    parser.add_argument("--quiet", action="store_true", help="no live progress line")
    return parser


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Run `roots binarize` with parsed arguments; print a summary table and return the exit code."""
    from roots_pipeline.megatron import binarize as binarizer
    from roots_pipeline.megatron.tokenizer import load_tokenizer

    refuse_beam_args(beam_args)
    if args.eod_token is not None and not args.append_eod:
        raise RootsError("--eod-token names the token --append-eod appends: add --append-eod")
    languages = tuple(code.strip() for code in args.lang.split(",") if code.strip()) if args.lang else ()
    options = binarizer.BinarizeOptions(text_field=args.text_field, valid_fraction=args.valid_fraction,
                                        alpha=args.alpha, merge=args.merge, languages=languages,
                                        force=args.force)
    options.check()  # before loading the tokenizer: a typo should not wait for a large file
    eod_token = (args.eod_token or DEFAULT_EOD_TOKEN) if args.append_eod else None
    tokenizer = load_tokenizer(args.tokenizer, eod_token)
    result = binarizer.binarize(args.input, args.out, tokenizer, options, show_progress=not args.quiet)
    print(summary_table(result.report))
    done = f"{len(result.written)} written"
    if result.skipped:
        done += f", {len(result.skipped)} current and kept ({', '.join(result.skipped)}; --force redoes them)"
    print(f"{done} in {result.wall_seconds:.1f} s; datasets and blend.json in {result.out}/")
    for split, line in result.report["data_path"].items():
        flag = "--data-path" if split == "all" else f"--{split}-data-path"
        folder = result.out if split == "all" else os.path.join(result.out, split)
        if line:
            print(f"{flag}: {os.path.join(folder, 'data_path.txt')}")
        else:
            print(f"warning: no document has a token in split {split!r}: nothing to train on",
                  file=sys.stderr)
    return 0


def summary_table(report: dict[str, Any]) -> str:
    """Return blend.json's languages as a table: documents, empty, tokens, tokens per byte, weight."""
    splits = report["splits"]
    header = ["lang", "documents", "empty", "tokens", "tokens/KB", "weight"]
    if splits != ["all"]:
        header += [f"{split} docs" for split in splits]
    rows = [header]
    entries = list(report["languages"].items()) + [("total", {**report["totals"], "weight": None})]
    for lang, entry in entries:
        per_kb = f"{1000 * entry['tokens'] / entry['text_bytes']:.1f}" if entry["text_bytes"] else "-"
        weight = f"{entry['weight']:.4f}" if entry["weight"] is not None else ""
        row = [lang, f"{entry['documents']:,}", f"{entry['empty_documents']:,}", f"{entry['tokens']:,}",
               per_kb, weight]
        if splits != ["all"]:
            row += ["" if lang == "total" else f"{entry['splits'][split]['documents']:,}" for split in splits]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
                     for row in rows)
