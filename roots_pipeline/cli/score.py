"""`roots score`: the quality filter's scores and decisions for JSON lines, outside any pipeline.

Each input line is a JSON object with a string `text`; it is written back with every field
unchanged plus `scores` (ROOTS's eight scores by name, computed exactly as the `quality_filter`
stage computes them, on the stage-A text) and `rejected_by` (every filter it fails, in ROOTS's
order). Lines are scored in batches so the models are called once per batch.

A line that cannot be scored (not UTF-8, not JSON, no string `text`) either stops the command —
after every line before it has been written, so the output is a complete prefix — or, when the
caller passes `on_bad`, is reported to it and skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from roots_pipeline.errors import RootsError
from roots_pipeline.runner.beam_args import refuse_beam_args
from roots_pipeline.sources.json_line import decode_json_line

if TYPE_CHECKING:
    from roots_pipeline.filters.quality import QualityScorer

BATCH_LINES = 256

_EPILOG = """\
Output: each input line with `scores` (number_words, character_repetition, word_repetition,
special_characters, closed_class_words, flagged_words, lang_id, perplexity — a score is absent
when it cannot be computed: no model, no word list) and `rejected_by` (every failed filter).
A bad line (not UTF-8, not JSON, no string `text`) stops the command with its line number, after
every line before it has been written; --skip-bad names it on stderr and goes on.

examples:
  roots score --lang fr docs.jsonl > scored.jsonl
  cat docs.jsonl | roots score --lang zh --models models/   SentencePiece + KenLM from models/
  roots score --lang en --character-repetition fixed docs.jsonl
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `roots score` to the `roots` subparsers; return its parser."""
    parser = commands.add_parser(
        "score", help="score JSON lines with a language's ROOTS filters (text in, scores out)",
        description="Read JSON lines with a `text` field (FILE or stdin) and write them back with the "
                    "quality filter's scores and the filters each fails, as the quality_filter stage does.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", metavar="FILE", help="JSON lines file (default: stdin)")
    parser.add_argument("--lang", required=True, metavar="CODE",
                        help="the documents' language (its languages/ file gives cutoffs and word lists)")
    parser.add_argument("--models", metavar="DIR",
                        help="folder with <lang>.sp.model and <lang>.arpa[.bin] (perplexity; zh words)")
    parser.add_argument("--lid-model", metavar="PATH",
                        help="fastText lid.176 model (default: the packaged one)")
    parser.add_argument("--character-repetition", choices=("production", "fixed"), default="production",
                        help="which ROOTS formula (default: production, the one ROOTS ran)")
    parser.add_argument("--skip-bad", action="store_true",
                        help="skip lines that are not UTF-8 JSON objects with a string `text` (each is "
                             "named on stderr) instead of stopping at the first one")
    return parser


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Score the lines of FILE (or stdin) to stdout; say on stderr what cannot be scored."""
    from roots_pipeline.filters.quality import QualityScorer
    from roots_pipeline.lang.config import DEFAULT, load_language

    refuse_beam_args(beam_args)
    if args.lang == DEFAULT:
        raise RootsError("--lang default: give the documents' language; one without a languages/ file "
                         "gets default.yaml's cutoffs")
    config = load_language(args.lang, fallback=True)
    lang = config.code
    if config.origin == DEFAULT:
        print(f"roots score: {lang}: no languages/ file; default.yaml's cutoffs apply", file=sys.stderr)
    if args.models and not os.path.isdir(args.models):
        raise RootsError(f"--models {args.models}: not a folder")
    scorer = QualityScorer(args.character_repetition, args.lid_model, args.models)
    scorer.check()
    unscored = scorer.unscored(lang)
    no_model = (f"no {lang}.sp.model + {lang}.arpa[.bin] in {args.models}" if args.models
                else "no model: give --models")
    for absent, what in ((unscored.no_perplexity_model, f"perplexity ({no_model})"),
                         (unscored.no_sentencepiece_model, "word-based scores (no SentencePiece model)"),
                         (unscored.no_lid_label, "lang_id (lid.176 has no label for it)")):
        if absent:
            print(f"roots score: {lang}: no {what}", file=sys.stderr)
    name = args.file or "<stdin>"
    try:
        handle = open(args.file, "rb") if args.file else sys.stdin.buffer  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise RootsError(f"{name}: {exc.strerror}") from exc
    skipped: list[RootsError] = []

    def skip(error: RootsError) -> None:
        skipped.append(error)
        print(f"roots score: skipped {error}", file=sys.stderr)

    with handle:
        for line in score_lines(handle, lang, scorer, name, on_bad=skip if args.skip_bad else None):
            sys.stdout.write(line + "\n")
    if skipped:
        print(f"roots score: {len(skipped)} line(s) skipped", file=sys.stderr)
    return 0


def _parse(line: bytes, where: str, first: bool) -> dict:
    try:
        record = decode_json_line(line, first)
    except UnicodeDecodeError as exc:
        raise RootsError(f"{where}: not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise RootsError(f"{where}: not JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise RootsError(f"{where}: not JSON (nested too deeply)") from exc
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise RootsError(f"{where}: expected a JSON object with a string `text` field")
    return record


def score_lines(lines: Iterable[bytes], lang: str, scorer: QualityScorer, name: str = "<stdin>",
                on_bad: Callable[[RootsError], None] | None = None) -> Iterator[str]:
    """Yield one output line per scorable non-blank input line, in order.

    A bad line raises RootsError naming `name` and its line number once the lines before it are
    yielded; with `on_bad`, the error is passed to it instead and the line is skipped.
    """
    batch: list[dict] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            batch.append(_parse(line, f"{name}:{number}", first=number == 1))
        except RootsError as exc:
            if on_bad is None:
                yield from _score_batch(batch, lang, scorer)
                raise
            on_bad(exc)
            continue
        if len(batch) >= BATCH_LINES:
            yield from _score_batch(batch, lang, scorer)
            batch = []
    yield from _score_batch(batch, lang, scorer)


def _score_batch(records: list[dict], lang: str, scorer: QualityScorer) -> Iterator[str]:
    if not records:
        return
    results = scorer.score([record["text"] for record in records], lang)
    for record, (_, scores, failed) in zip(records, results, strict=True):
        record["scores"] = scores
        record["rejected_by"] = failed
        yield json.dumps(record, ensure_ascii=False)
