"""`roots fertility`: train BLOOM-style tokenizers on a run's corpus and measure their fertility.

One multilingual tokenizer is trained on every language's training text (saved as
`tokenizer.json`), and one monolingual tokenizer per language with the same settings and
vocabulary size (`monolingual/<lang>.json`). Each language's held-out documents are encoded by
its monolingual tokenizer, the multilingual one and any tokenizer the user names, and the report
gives the fertilities and the difference, as BLOOM's table did, with the weird-tokens check of the
multilingual vocabulary. Outputs go to `<run>/fertility/` (or `out`).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tokenizers import Tokenizer

from roots_pipeline.cards.facts import languages
from roots_pipeline.cards.provenance import sha256_of
from roots_pipeline.errors import RootsError
from roots_pipeline.fertility.chart import fertility_chart
from roots_pipeline.fertility.corpus import LanguageText
from roots_pipeline.fertility.measure import OBJECTIVE, measure, relative_difference
from roots_pipeline.fertility.report import write_report
from roots_pipeline.fertility.tokenizer import (
    BLOOM_SPLIT_PATTERN,
    BLOOM_VOCAB_SIZE,
    SPECIAL_TOKENS,
    train_tokenizer,
)
from roots_pipeline.fertility.weird_tokens import weird_tokens
from roots_pipeline.fertility.words import word_counter
from roots_pipeline.lang.codes import UNDETERMINED, language_name
from roots_pipeline.output.run_folder import DATA, FERTILITY, open_run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FertilityResult:
    """Where the report is and what it says, for the command's summary."""

    folder: str
    report: dict[str, Any]


def load_tokenizer(path: str) -> Tokenizer:
    """Return a tokenizer from a `tokenizer.json`, or raise RootsError naming the file."""
    try:
        return Tokenizer.from_file(path)
    except Exception as exc:  # tokenizers raises bare Exceptions for missing and malformed files
        raise RootsError(f"{path}: not a tokenizers `tokenizer.json` ({exc}); give the file a Hugging Face "
                         "tokenizer was saved to (tokenizer.save / save_pretrained)") from exc


def _unique_names(paths: Sequence[str]) -> list[str]:
    """Name compared tokenizers by file, or by folder when the file is the usual `tokenizer.json`."""
    names = []
    for path in paths:
        stem = os.path.basename(os.path.abspath(path))
        name = os.path.basename(os.path.dirname(os.path.abspath(path))) if stem == "tokenizer.json" else stem
        name = name.removesuffix(".json") or "tokenizer"
        while name in names or name in ("monolingual", "multilingual"):
            name += "'"
        names.append(name)
    return names


def run_fertility(run_dir: str, out: str | None = None, vocab_size: int = BLOOM_VOCAB_SIZE,
                  sample_mb: float | None = None, eval_share: float = 0.1, compare: Sequence[str] = (),
                  models: str | None = None) -> FertilityResult:
    """Train the tokenizers, measure fertility per language, write the report; return where it is."""
    if vocab_size < 256 + len(SPECIAL_TOKENS):
        raise RootsError(f"--vocab-size {vocab_size}: must be at least {256 + len(SPECIAL_TOKENS)} "
                         "(the 256 bytes and the special tokens)")
    if not 0 < eval_share < 1:
        raise RootsError(f"--eval-share {eval_share}: must be between 0 and 1 (the share of documents "
                         "held out)")
    if sample_mb is not None and sample_mb <= 0:
        raise RootsError(f"--sample-mb {sample_mb}: must be greater than 0")
    run = open_run(run_dir)
    if models is None:  # the perplexity models of the run also hold SentencePiece models for words
        models = next((s["options"].get("models") for s in run.run.get("stages", [])
                       if s["name"] == "quality_filter" and s["options"].get("models")), None)
    if models is not None and not os.path.isdir(models):
        raise RootsError(f"--models {models}: not a folder (it should hold <lang>.sp.model files)")
    others = [(name, path, load_tokenizer(path))
              for name, path in zip(_unique_names(compare), compare, strict=True)]
    folder = out or os.path.join(run.path, FERTILITY)
    os.makedirs(os.path.join(folder, "monolingual"), exist_ok=True)
    sample = None if sample_mb is None else int(sample_mb * 1e6)
    texts = {lang: LanguageText(run, lang, eval_share, sample)
             for lang in languages(run.stats, run.run) if lang != UNDETERMINED}
    if not any(run.shard_folder(DATA, lang) for lang in texts):
        raise RootsError(f"{run.path}/data: no kept document in any language, nothing to train a "
                         "tokenizer on")

    def all_training() -> Iterator[list[str]]:
        for text in texts.values():
            yield from text.batches(evaluation=False)

    log.info("training the multilingual tokenizer")
    multilingual = train_tokenizer(all_training(), vocab_size)
    multilingual.save(os.path.join(folder, "tokenizer.json"))
    rows = []
    occurrences: Counter[int] = Counter()
    for lang, text in texts.items():
        log.info("%s: training its monolingual tokenizer", lang)
        rows.append(_language_row(lang, text, vocab_size, models, multilingual, others, folder, occurrences))
    report = {
        "vocab_size": vocab_size, "vocab_size_trained": multilingual.get_vocab_size(),
        "settings": {"model": "BPE (byte-level)", "normalizer": None,
                     "pre_tokenizer_split": BLOOM_SPLIT_PATTERN, "pre_tokenizer_split_behavior": "isolated",
                     "byte_level_add_prefix_space": False, "byte_level_use_regex": False,
                     "special_tokens": list(SPECIAL_TOKENS)},
        "objective": OBJECTIVE, "eval_share": eval_share, "sample_mb": sample_mb, "models": models,
        "tokenizer": "tokenizer.json",
        "compared": [{"name": name, "path": path, "sha256": sha256_of(path)} for name, path, _ in others],
        "languages": rows,
        "weird_tokens": weird_tokens(multilingual, occurrences),
    }
    report["chart"] = os.path.basename(fertility_chart(rows, [name for name, _, _ in others],
                                                       os.path.join(folder, "fertility.png")))
    write_report(report, folder)
    return FertilityResult(folder, report)


def _language_row(lang: str, text: LanguageText, vocab_size: int, models: str | None, multilingual: Tokenizer,
                  others: Sequence[tuple[str, str, Tokenizer]], folder: str,
                  occurrences: Counter[int]) -> dict[str, Any]:
    """Train one language's monolingual tokenizer and measure every tokenizer on its held-out text."""
    counter = word_counter(lang, models)
    train_docs, train_bytes = text.size(evaluation=False)
    eval_docs, eval_bytes = text.size(evaluation=True)
    row: dict[str, Any] = {"lang": lang, "name": language_name(lang), "words_by": counter.method,
                           "train_docs": train_docs, "train_bytes": train_bytes, "eval_docs": eval_docs,
                           "eval_bytes": eval_bytes, "words": None, "tokens_monolingual": None,
                           "tokens_multilingual": None, "monolingual": None, "multilingual": None,
                           "difference": None, "over_objective": False, "compared": {}, "status": "ok"}
    if not train_docs:
        row["status"] = "no documents"
        return row
    monolingual = train_tokenizer(text.batches(evaluation=False), vocab_size)
    monolingual.save(os.path.join(folder, "monolingual", f"{lang}.json"))
    row["vocab_size_monolingual"] = monolingual.get_vocab_size()
    if not eval_docs:
        row["status"] = "no held-out document"
        return row
    tallies = measure([monolingual, multilingual, *(t for _, _, t in others)], text.batches(evaluation=True),
                      counter.count, count_ids=[False, True])
    occurrences.update(tallies[1].occurrences)
    mono, multi = tallies[0], tallies[1]
    if not mono.words:
        row["status"] = "no words"
        return row
    difference = relative_difference(multi.fertility, mono.fertility)
    row.update(words=mono.words, tokens_monolingual=mono.tokens, tokens_multilingual=multi.tokens,
               monolingual=mono.fertility, multilingual=multi.fertility, difference=difference,
               over_objective=difference is not None and difference > OBJECTIVE)
    for (name, _, _), tally in zip(others, tallies[2:], strict=True):
        row["compared"][name] = {"tokens": tally.tokens, "fertility": tally.fertility,
                                 "difference": relative_difference(tally.fertility, mono.fertility)}
    return row
