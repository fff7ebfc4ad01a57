"""Scoring throughput: the quality filter's batched scoring against a straightforward per-document
implementation of the same formulas, on the same documents, in one process pinned to one core.

The baseline is written the way ROOTS's filtering code is (DP:01b/filtering.py): per document,
lists and dicts built in Python loops, `str.strip` with the special-character string, one
fastText `predict` call through the Python wrapper per document, one KenLM `score` per document.
Both sides must produce identical scores (checked on every document before timing). The target
from the issue: the pipeline's scoring at least 3 x the baseline's documents per second.

    python bench/filters.py [--docs 3000] [--repeat 3] [--models DIR | --no-perplexity] [--json F]

Documents: the demo OSCAR files (en es fr hi id pt zh), cycled to `--docs`. Perplexity is part of
the full scoring stage: by default each language's SentencePiece + KenLM models are trained first
with `train_language_model` on the same demo text into a temporary folder (a few seconds; the
models' quality does not matter for speed); `--models DIR` uses existing ones instead and
`--no-perplexity` measures the seven other scores only.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import os
import platform
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import zstandard

from roots_pipeline.filters.quality import QualityScorer
from roots_pipeline.lang.config import LanguageConfig, character_set, load_language
from roots_pipeline.lang.identify import lid_input, resolve_model
from roots_pipeline.lm.normalization import UNICODE_PUNCTUATION, UNIFORM_WHITESPACE_CHARACTERS
from roots_pipeline.lm.train import train_language_model

DEMO = Path(__file__).resolve().parent.parent / "tests" / "data" / "demo" / "oscar"
TARGET = 3.0


def load_documents(count: int) -> list[tuple[str, str]]:
    """Return `count` (lang, text) pairs from the demo OSCAR files, cycled."""
    found: list[tuple[str, str]] = []
    for path in sorted(DEMO.glob("*.jsonl.*")):
        lang = path.name.split("_")[0]
        raw = path.read_bytes()
        data = gzip.decompress(raw) if path.suffix == ".gz" else zstandard.ZstdDecompressor().stream_reader(
            io.BytesIO(raw)).read()
        for line in data.decode("utf-8").splitlines():
            record = json.loads(line)
            found.append((lang, record.get("text") or record.get("content")))
    return [found[i % len(found)] for i in range(count)]


_NON_PRINTING_RE = re.compile(f"[{''.join(map(chr, [*range(0, 32), *range(127, 160)]))}]")
_UNIFORM_SPACES = set(UNIFORM_WHITESPACE_CHARACTERS)
_DIGITS_RE = re.compile(r"\d")


def roots_normalize(text: str, *, remove_non_printing: bool = True, strip: bool = True,
                    lower_case: bool = False, uniform_spaces: bool = True, digits_to_zero: bool = True,
                    unicode_punctuation: bool = True) -> str:
    """ROOTS's normalisation as DP:01b/normalization.py writes it: joins over characters."""
    if remove_non_printing:
        text = _NON_PRINTING_RE.sub("", text)
    if strip:
        text = text.strip()
    if not text:
        return text
    if lower_case:
        text = text.lower()
    if uniform_spaces:
        text = "".join([" " if char in _UNIFORM_SPACES else char for char in text])
    if digits_to_zero:
        text = _DIGITS_RE.sub("0", text)
    if unicode_punctuation:
        text = "".join(UNICODE_PUNCTUATION.get(char, char) for char in text)
    return text


class Baseline:
    """ROOTS's scoring, one document at a time, written plainly (the reference for the ratio)."""

    def __init__(self, lid_model: str, models: str | None) -> None:
        import fasttext

        self.lid = fasttext.load_model(lid_model)
        self.models = models
        self._lm: dict[str, tuple] = {}

    def _models(self, lang: str):
        if lang not in self._lm:
            import kenlm
            import sentencepiece

            base = f"{self.models}/{lang}" if self.models else None
            if base and os.path.exists(f"{base}.sp.model"):
                sp = sentencepiece.SentencePieceProcessor()
                sp.load(f"{base}.sp.model")
                lm_path = f"{base}.arpa.bin" if os.path.exists(f"{base}.arpa.bin") else f"{base}.arpa"
                self._lm[lang] = (sp, kenlm.Model(lm_path))
            else:
                self._lm[lang] = (None, None)
        return self._lm[lang]

    def score(self, text: str, config: LanguageConfig, version: str) -> dict[str, float]:
        special = "".join(sorted(character_set(config.special_characters)))
        strip = "".join(sorted(character_set(config.strip_characters)))
        text = self.modify(text, config, strip)
        f = config.filters
        sp, lm = self._models(config.code)
        scores: dict[str, float] = {}
        n_chars = f.character_repetition.length if f.character_repetition else 10
        scores["character_repetition"] = self.character_repetition(text, n_chars, version)
        scores["special_characters"] = (len([c for c in text if c in special]) / len(text)) if text else 0.0
        pieces = sp if config.word_split == "sentencepiece" else None
        if config.word_split == "sentencepiece" and sp is None:
            pass
        else:
            cased = self.words(text, strip, False, pieces)
            lower = self.words(text, strip, True, pieces)
            scores["number_words"] = len(cased)
            n_words = f.word_repetition.length if f.word_repetition else 5
            scores["word_repetition"] = self.word_repetition(lower, n_words)
            augmented = []
            if config.words_augmentation:
                for size in config.words_augmentation.group_sizes:
                    join = config.words_augmentation.join_char
                    augmented += [join.join(lower[i:i + size]) for i in range(len(lower) - size + 1)]
            for name, listed in (("closed_class_words", config.stopword_set()),
                                 ("flagged_words", config.flagged_word_set())):
                if listed is not None:
                    hits = len([w for w in lower if w in listed]) + len([w for w in augmented if w in listed])
                    scores[name] = min(hits / len(lower), 1.0) if lower else 0.0
        if config.lid_labels:
            labels, probabilities = self.lid.predict(lid_input(text), k=-1, threshold=0.001)
            scores["lang_id"] = min(sum(float(p) for label, p in zip(labels, probabilities, strict=True)
                                        if label[len("__label__"):] in config.lid_labels), 1.0)
        if lm is not None:
            pieces = " ".join(sp.encode_as_pieces(roots_normalize(text, lower_case=False)))
            log_score = lm.score(pieces)
            length = len(pieces.split()) + 1
            scores["perplexity"] = round(10.0 ** (-log_score / length), 1)
        return scores

    @staticmethod
    def modify(text: str, config: LanguageConfig, strip: str) -> str:
        m = config.modifications
        text = roots_normalize(text, remove_non_printing=False, strip=True, lower_case=False,
                         uniform_spaces=m.uniform_whitespace, digits_to_zero=False,
                         unicode_punctuation=m.replace_unicode_punctuation)
        if not (m.remove_words_with_incorrect_substrings or m.remove_long_words):
            return text

        def keep(word: str) -> bool:
            stripped = word.strip(strip)
            bad = m.incorrect_word_substrings
            if m.remove_words_with_incorrect_substrings and any(s in stripped for s in bad):
                return False
            return not (m.remove_long_words and len(word) > m.length_word_max_cutoff
                        and (not stripped or len(stripped) > m.length_word_max_cutoff))

        lines = []
        for line in text.split("\n"):
            cells = [" ".join(w for w in cell.split(" ") if w and keep(w)) for cell in line.split("\t")]
            cells = [c for c in cells if c]
            if cells:
                lines.append("\t".join(cells))
        return "\n".join(lines)

    @staticmethod
    def words(text: str, strip: str, lower: bool, sp) -> list[str]:
        if sp is not None:
            tokens = sp.encode_as_pieces(roots_normalize(text, lower_case=True))
        else:
            tokens = [t for t in re.split(" |\n|\t", text) if t]
        if lower:
            tokens = [t.lower() for t in tokens]
        return [w for w in (t.strip(strip) for t in tokens) if w]

    @staticmethod
    def character_repetition(text: str, n: int, version: str) -> float:
        grams = [text[i:i + n] for i in range(len(text) - n + 1)]
        if not grams:
            return 0.0
        freq: dict[str, int] = {}
        for gram in grams:
            freq[gram] = freq.get(gram, 0) + 1
        values = sorted(freq.values(), reverse=True)
        singletons = len([v for v in values if v == 1])
        second = singletons if version == "production" else len(values) - singletons
        k = min(int(math.sqrt(len(values))), second)
        return sum(values[:k]) / sum(values)

    @staticmethod
    def word_repetition(words: list[str], n: int) -> float:
        grams = [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
        if not grams:
            return 0.0
        freq: dict[str, int] = {}
        for gram in grams:
            freq[gram] = freq.get(gram, 0) + 1
        return sum(v for v in freq.values() if v > 1) / len(grams)


def train_models(docs: list[tuple[str, str]], folder: str) -> None:
    """Train each language's models on its documents, one document per line."""
    by_lang: dict[str, list[str]] = defaultdict(list)
    for lang, text in docs:
        by_lang[lang].append(" ".join(text.split()))
    for lang, texts in sorted(by_lang.items()):
        path = os.path.join(folder, f"{lang}.txt")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(dict.fromkeys(texts)) + "\n")
        train_language_model(lang, [path], folder, order=5)


def run_pipeline_side(scorer: QualityScorer, docs: list[tuple[str, str]], batch: int) -> list[dict]:
    """Score the way the quality_filter stage does: per batch, grouped by language."""
    results: list[dict] = [{}] * len(docs)
    for start in range(0, len(docs), batch):
        by_lang: dict[str, list[int]] = defaultdict(list)
        for index in range(start, min(start + batch, len(docs))):
            by_lang[docs[index][0]].append(index)
        for lang, indices in by_lang.items():
            for index, (_, scores, _) in zip(indices, scorer.score([docs[i][1] for i in indices], lang),
                                             strict=True):
                results[index] = scores
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", help="folder of <lang>.sp.model + <lang>.arpa (default: trained first)")
    parser.add_argument("--no-perplexity", action="store_true", help="leave perplexity out")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core: the unit

    docs = load_documents(args.docs)
    with tempfile.TemporaryDirectory(prefix="roots-bench-models-") as scratch:
        if not args.models and not args.no_perplexity:
            train_models(docs, scratch)
            args.models = scratch
        return measure(args, docs)


def measure(args: argparse.Namespace, docs: list[tuple[str, str]]) -> int:
    """Check both sides give the same scores, then time them alternately; print the figures."""
    scorer = QualityScorer(models=args.models)
    baseline = Baseline(resolve_model(None), args.models)
    configs = {lang: load_language(lang, fallback=True) for lang, _ in docs}

    def run_baseline() -> list[dict]:
        return [baseline.score(text, configs[lang], "production") for lang, text in docs]

    def run_ours() -> list[dict]:
        return run_pipeline_side(scorer, docs, 1000)

    ours, theirs = run_ours(), run_baseline()  # warm-up, and the identity check
    mismatched = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    if mismatched:
        i = mismatched[0]
        print(f"scores differ on {len(mismatched)} documents, e.g. #{i} ({docs[i][0]}):\n"
              f"  ours     {ours[i]}\n  baseline {theirs[i]}", file=sys.stderr)
        return 1
    timings: dict[str, float] = {"baseline": math.inf, "pipeline": math.inf}
    for _ in range(args.repeat):
        for name, side in (("baseline", run_baseline), ("pipeline", run_ours)):
            started = time.perf_counter()
            side()
            timings[name] = min(timings[name], time.perf_counter() - started)
    rates = {name: len(docs) / seconds for name, seconds in timings.items()}
    ratio = rates["pipeline"] / rates["baseline"]
    chars = sum(len(text) for _, text in docs)
    with_ppl = "with perplexity" if args.models else "without perplexity"
    print(f"{len(docs):,} documents, {chars / len(docs):,.0f} characters on average, "
          f"{len(set(configs))} languages, one core, {with_ppl}, identical scores")
    print(f"  baseline (per document, ROOTS-style)  {rates['baseline']:9,.0f} docs/s")
    print(f"  pipeline (quality_filter scoring)     {rates['pipeline']:9,.0f} docs/s")
    print(f"  speed-up {ratio:.2f}x (target >= {TARGET:.0f}x): {'met' if ratio >= TARGET else 'NOT met'}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "documents": len(docs), "mean_chars": chars / len(docs), "perplexity": bool(args.models),
            "docs_per_second": rates, "speedup": ratio, "target": TARGET,
            "python": platform.python_version()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
