"""Train the perplexity models of a language offline, following ROOTS's recipe.

ROOTS scored OSCAR with per-language SentencePiece + KenLM models trained by DT
`kenlm_training/train_all.sh` (a cc_net fork; reference/ROOTS.md §1): text normalised keeping accents
and case, digits to 0, Unicode punctuation replaced; a SentencePiece unigram model of 65,536 pieces
(`--hard_vocab_limit`, character coverage 0.9995); every line encoded into pieces; `lmplz -o 5
--discount_fallback` without pruning; `build_binary`. Here the normalisation is ROOTS's own
`normalize(lower_case=False)`, the one the perplexity score applies, so training and scoring see
the same text; the n-gram model is estimated by `roots_pipeline.lm.arpa`, which reproduces lmplz.
KenLM's `build_binary` cannot be installed offline (no package ships it), so the ARPA text file is
the model: `kenlm.Model` loads it directly, only more slowly than a binary.

Where ROOTS fell back to a soft 40,000-piece vocabulary when the text was too small for 65,536, we
retry with the largest size SentencePiece accepts for the text (it names it in its error), and
say so in the result. Lines are held in memory, normalised, together with the n-gram tables
(`arpa.py` states their cost): this is meant for the tens of MB of text a language model needs,
not for a whole corpus.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.metadata
import io
import json
import logging
import os
import platform
import re
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

import sentencepiece

from roots_pipeline import __version__
from roots_pipeline.errors import RootsError
from roots_pipeline.lang.codes import canonical_language
from roots_pipeline.lang.config import load_language
from roots_pipeline.lm.arpa import MAX_ORDER, MIN_ORDER, Discount, estimate, write_arpa
from roots_pipeline.lm.normalization import normalize

logger = logging.getLogger(__name__)

CHARACTER_COVERAGE = 0.9995
# SentencePiece skips training lines longer than this many bytes; its default (4,192) would leave
# one-document-per-line input out of the vocabulary training. Lines of any length reach the LM.
MAX_SENTENCE_BYTES = 1 << 20
_PROGRESS_EVERY = 100_000
_ENCODE_BATCH = 10_000
# "Vocabulary size too high (65536). Please set it to a value <= 2819." (SentencePiece 0.2)
_VOCABULARY_LIMIT = re.compile(r"Vocabulary size too high.*value <= (\d+)", re.DOTALL)
# "Vocabulary size is smaller than required_chars. 50 vs 86." (SentencePiece 0.2)
_REQUIRED_CHARACTERS = re.compile(r"smaller than required_chars\. \d+ vs (\d+)")
_JSON_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".json.gz", ".jsonl.zst")
# Fewer used lines than this give n-gram statistics too thin to rank documents; said, not refused.
FEW_LINES = 1000


@dataclass(frozen=True)
class TrainResult:
    """What `train_language_model` wrote and from what, for the CLI to print and tests to check."""

    lang: str
    sentencepiece_model: str
    sentencepiece_vocab: str
    arpa: str
    info: str
    files: tuple[str, ...]
    lines_read: int
    lines_used: int
    tokens: int
    vocab_size_requested: int
    vocab_size: int
    order: int
    ngrams: tuple[int, ...]
    discounts: tuple[Discount, ...]
    seconds: float

    def summary(self) -> str:
        """Return a few lines of human-readable text: the outputs, the inputs and what was reduced."""
        vocabulary = f"{self.vocab_size:,} pieces"
        if self.vocab_size != self.vocab_size_requested:
            vocabulary += f" ({self.vocab_size_requested:,} requested: the most this text allows)"
        discounts = "; ".join(
            f"{order}: {d.d1:.3f} {d.d2:.3f} {d.d3:.3f}" + (" (fallback)" if d.fallback else "")
            for order, d in enumerate(self.discounts, 1)
        )
        return "\n".join(
            [
                f"Trained the {self.lang} perplexity models in {self.seconds:.1f} s",
                f"  input:         {len(self.files)} file(s), {self.lines_read:,} lines read, "
                f"{self.lines_used:,} used, {self.tokens:,} pieces",
                f"  SentencePiece: {self.sentencepiece_model} (pieces listed in {self.sentencepiece_vocab}), "
                f"{vocabulary}",
                f"  KenLM (ARPA):  {self.arpa}, order {self.order}, n-grams "
                + " / ".join(f"{count:,}" for count in self.ngrams),
                f"  discounts:     {discounts}",
                f"  details:       {self.info}",
            ]
        )


def train_language_model(
    lang: str,
    text_files: Sequence[str],
    out_dir: str,
    *,
    vocab_size: int = 65536,
    order: int = 5,
    max_sentences: int | None = None,
) -> TrainResult:
    """Train `<lang>.sp.model`/`.sp.vocab` and `<lang>.arpa` in `out_dir` from plain or .gz text.

    Each line of the files (UTF-8, one document or sentence per line) is normalised; empty lines
    are skipped, and reading stops after `max_sentences` used lines (ROOTS took the first million
    Wikipedia article openings). Also writes `<lang>.lm.json`, the record of what was trained.
    Every file is written under a temporary name and renamed, so a rerun replaces them whole.
    """
    started = time.monotonic()
    if canonical_language(lang) is None:
        raise RootsError(f"unknown language code {lang!r}: use an ISO 639 code such as 'fr' or 'zh'")
    # Named as the quality filter looks models up: by the configuration's code (`fr_Latn` → `fr`).
    code = load_language(lang, fallback=True).code
    _check_options(text_files, vocab_size, order, max_sentences)
    _check_writable(out_dir)
    lines, counts = read_training_lines(text_files, max_sentences)
    if len(lines) < FEW_LINES:
        logger.warning("only %d lines of text: perplexities from so small a model rank documents poorly "
                       "(ROOTS trained on up to a million sentences)", len(lines))
    stem = os.path.join(out_dir, code)

    logger.info("sentencepiece: training a unigram model of %d pieces on %d lines", vocab_size, len(lines))
    serialized, used_vocab_size = _train_sentencepiece(lines, vocab_size, text_files)
    processor = sentencepiece.SentencePieceProcessor(model_proto=serialized)

    logger.info("counting: order-%d n-grams of the SentencePiece pieces", order)
    model = estimate(_encode(processor, lines), order)
    for number, discount in enumerate(model.discounts, 1):
        if discount.fallback:
            logger.warning("order %d: Kneser-Ney discounts not computable, using lmplz's fallback", number)

    logger.info("writing: %s.sp.model, .sp.vocab, .arpa, .lm.json", stem)
    with _Replacement() as files:
        files.write_bytes(stem + ".sp.model", serialized)
        files.write_text(stem + ".sp.vocab", lambda out: out.write(_vocabulary_text(processor)))
        files.write_text(stem + ".arpa", lambda out: write_arpa(model, out))
        result = TrainResult(
            lang=code,
            sentencepiece_model=stem + ".sp.model",
            sentencepiece_vocab=stem + ".sp.vocab",
            arpa=stem + ".arpa",
            info=stem + ".lm.json",
            files=tuple(text_files),
            lines_read=sum(read for _, read, _ in counts),
            lines_used=len(lines),
            tokens=model.tokens,
            vocab_size_requested=vocab_size,
            vocab_size=used_vocab_size,
            order=order,
            ngrams=tuple(model.ngram_counts()),
            discounts=tuple(model.discounts),
            seconds=time.monotonic() - started,
        )
        record = _record(result, counts, max_sentences)
        files.write_text(result.info, lambda out: json.dump(record, out, indent=2))
    logger.info("done in %.1f s", result.seconds)
    return result


def _check_writable(out_dir: str) -> None:
    """Create `out_dir` and raise RootsError now, not after training, if files cannot go there."""
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise RootsError(f"{out_dir}: cannot create the output folder ({exc.strerror})") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise RootsError(f"{out_dir}: the output folder is not writable")


def _check_options(text_files: Sequence[str], vocab_size: int, order: int, max_sentences: int | None) -> None:
    """Raise RootsError for options that cannot work, before any file is read."""
    if not text_files:
        raise RootsError("no training text: give at least one .txt or .txt.gz file")
    for path in text_files:
        if os.path.isdir(path):
            raise RootsError(f"{path}: a folder; give the text files in it")
        if not os.path.isfile(path):
            raise RootsError(f"{path}: training text not found")
        if path.endswith(_JSON_SUFFIXES):  # JSON syntax would become pieces and n-grams of the model
            raise RootsError(f"{path}: JSON lines, not plain text; extract the text first, one document "
                             "per line (e.g. jq -r '.text | gsub(\"\\n\"; \" \")')")
    if vocab_size < 1:
        raise RootsError(f"vocabulary size must be at least 1, got {vocab_size}")
    if not MIN_ORDER <= order <= MAX_ORDER:
        raise RootsError(
            f"n-gram order must be between {MIN_ORDER} and {MAX_ORDER} (what KenLM loads), got {order}"
        )
    if max_sentences is not None and max_sentences < 1:
        raise RootsError(f"the number of lines to use must be at least 1, got {max_sentences}")


def read_training_lines(
    text_files: Sequence[str], max_sentences: int | None = None
) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Return the normalised non-empty lines of the files, and (path, lines read, used) per file read.

    RootsError names the file (and line) that cannot be read: not UTF-8, a broken gzip stream,
    or no text at all. Files after the one where `max_sentences` is reached are not opened.
    """
    lines: list[str] = []
    counts: list[tuple[str, int, int]] = []
    for path in text_files:
        if max_sentences is not None and len(lines) >= max_sentences:
            logger.info("%s: not read, %d lines already", path, max_sentences)
            continue
        before = len(lines)
        read = 0
        for read, line in enumerate(_read(path), 1):
            # ROOTS's training normalisation: accents and case kept, digits to 0, punctuation mapped.
            text = normalize(line, lower_case=False)
            if text:
                lines.append(text)
                if len(lines) == max_sentences:
                    break
            if read % _PROGRESS_EVERY == 0:
                logger.info("%s: %d lines read", path, read)
        if len(lines) == before:
            raise RootsError(f"{path}: no text in it (empty, or only blank lines)")
        counts.append((path, read, len(lines) - before))
        logger.info("%s: %d lines read, %d used", path, read, len(lines) - before)
    return lines, counts


def _read(path: str) -> Iterator[str]:
    """Yield the lines of a UTF-8 text file, gzip-compressed when its name ends in .gz.

    Lines end at "\\n" only, as for lmplz; a stray "\\r" is deleted by the normalisation.
    """
    number = 0
    try:
        with _open(path) as handle:
            for line in handle:
                number += 1
                yield line
    except UnicodeDecodeError:
        raise RootsError(f"{path}: line {number + 1}: not valid UTF-8") from None
    except (OSError, EOFError, zlib.error) as error:
        raise RootsError(f"{path}: cannot read it after line {number} ({error})") from None


def _open(path: str) -> TextIO:
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


def _train_sentencepiece(lines: list[str], vocab_size: int, text_files: Sequence[str]) -> tuple[bytes, int]:
    """Return the serialised SentencePiece model and the vocabulary size it was trained with.

    If the text is too small for `vocab_size` pieces, SentencePiece says how many it can give and
    the training is run again with that many.
    """
    try:
        return _train_sentencepiece_once(lines, vocab_size), vocab_size
    except RuntimeError as error:
        required = _REQUIRED_CHARACTERS.search(str(error))
        if required is not None:
            raise RootsError(f"a vocabulary of {vocab_size} pieces is too small for this text: it needs at "
                             f"least {required.group(1)} (one per character, plus the special pieces)"
                             ) from None
        limit = _VOCABULARY_LIMIT.search(str(error))
        if limit is None or int(limit.group(1)) >= vocab_size:
            raise RootsError(f"SentencePiece training on {', '.join(text_files)} failed: {error}") from None
        smaller = int(limit.group(1))
    logger.warning(
        "sentencepiece: the text is too small for %d pieces; training %d, the most it allows",
        vocab_size,
        smaller,
    )
    try:
        return _train_sentencepiece_once(lines, smaller), smaller
    except RuntimeError as error:
        raise RootsError(f"SentencePiece training on {', '.join(text_files)} failed: {error}") from None


def _train_sentencepiece_once(lines: list[str], vocab_size: int) -> bytes:
    """Train in memory: a model written through `model_prefix` would embed that (temporary) path."""
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        model_type="unigram",
        vocab_size=vocab_size,
        hard_vocab_limit=True,
        character_coverage=CHARACTER_COVERAGE,
        max_sentence_length=MAX_SENTENCE_BYTES,
        minloglevel=1,
    )
    return model.getvalue()


def _vocabulary_text(processor: sentencepiece.SentencePieceProcessor) -> str:
    """Return the `.vocab` file `spm_train` writes beside a model: piece, tab, score ("%g")."""
    return "".join(
        f"{processor.id_to_piece(piece)}\t{processor.get_score(piece):g}\n"
        for piece in range(processor.get_piece_size())
    )


def _encode(processor: sentencepiece.SentencePieceProcessor, lines: list[str]) -> Iterator[list[str]]:
    """Yield the pieces of each line, encoded in batches (one C++ call per batch, not per line)."""
    for start in range(0, len(lines), _ENCODE_BATCH):
        yield from processor.encode(lines[start : start + _ENCODE_BATCH], out_type=str)
        if (start + _ENCODE_BATCH) % _PROGRESS_EVERY == 0:
            logger.info("counting: %d of %d lines encoded", start + _ENCODE_BATCH, len(lines))


class _Replacement:
    """Files written under temporary names and renamed into place together when the block succeeds.

    A model is a pair (pieces and n-grams must come from the same training): a rerun that fails
    halfway leaves the previous pair whole, never a new SentencePiece model beside an old ARPA.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[str, str]] = []

    def __enter__(self) -> _Replacement:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        for temporary, path in self._pending:
            if kind is None:
                os.replace(temporary, path)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(temporary)

    def write_text(self, path: str, write: Callable[[TextIO], None]) -> None:
        """Write a UTF-8 text file through `write`, to appear at `path` at the end of the block."""
        with open(self._temporary(path), "w", encoding="utf-8", newline="\n") as out:
            write(out)

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write `data`, to appear at `path` at the end of the block."""
        with open(self._temporary(path), "wb") as out:
            out.write(data)

    def _temporary(self, path: str) -> str:
        folder, name = os.path.split(path)
        temporary = os.path.join(folder, f".{name}.tmp")
        self._pending.append((temporary, path))
        return temporary


def _record(
    result: TrainResult, counts: list[tuple[str, int, int]], max_sentences: int | None
) -> dict[str, object]:
    """Return the content of `<lang>.lm.json`: inputs, settings, sizes and versions, no timings.

    Without timings or dates, training twice on the same text writes the same file.
    """
    return {
        "lang": result.lang,
        "files": [{"path": path, "lines_read": read, "lines_used": used} for path, read, used in counts],
        "max_sentences": max_sentences,
        "lines_used": result.lines_used,
        "tokens": result.tokens,
        "normalization": "roots_pipeline.lm.normalization.normalize(lower_case=False)",
        "sentencepiece": {
            "file": os.path.basename(result.sentencepiece_model),
            "model_type": "unigram",
            "vocab_size_requested": result.vocab_size_requested,
            "vocab_size": result.vocab_size,
            "hard_vocab_limit": True,
            "character_coverage": CHARACTER_COVERAGE,
            "max_sentence_length": MAX_SENTENCE_BYTES,
        },
        "kenlm": {
            "file": os.path.basename(result.arpa),
            "format": "ARPA",
            "estimator": "roots_pipeline.lm.arpa: interpolated modified Kneser-Ney as lmplz "
            "--discount_fallback, no pruning",
            "order": result.order,
            "ngrams": list(result.ngrams),
            "discounts": [
                {"d1": d.d1, "d2": d.d2, "d3+": d.d3, "fallback": d.fallback} for d in result.discounts
            ],
        },
        "versions": {
            "roots_pipeline": __version__,
            "sentencepiece": importlib.metadata.version("sentencepiece"),
            "python": platform.python_version(),
        },
    }
