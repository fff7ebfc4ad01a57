"""ROOTS's perplexity score: normalise, cut into SentencePiece pieces, score with KenLM.

The computation is DP:01b/filtering.py `compute_perplexity_score` step for step (reference/ROOTS.md
§1): `normalize(text)` with ROOTS's perplexity settings (the defaults of
`roots_pipeline.lm.normalization.normalize`: non-printing characters removed, stripped, case
kept, uniform whitespace, digits to 0, punctuation table), `encode_as_pieces`, pieces joined by
" ", then for every line `log10 += model.score(line)` (with <s> and </s>) and
`length += len(line.split()) + 1`, and `round(10 ** (-log10 / length), 1)`. Normalisation deletes
"\\n", so a document is always scored as one line.

An empty document (or one that normalises to "") is one empty line: KenLM scores only `</s>` after
`<s>` and the length is 1, so its perplexity is 1 / p(</s> | <s>), never a division by zero.

Models are the files ROOTS used (`<lang>.sp.model` plus `<lang>.arpa.bin`, HF `edugp/kenlm`) or the
ones `roots_pipeline.lm.train` writes (`<lang>.sp.model` plus `<lang>.arpa`). They must be local
files: KenLM and SentencePiece open paths themselves.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import kenlm
import sentencepiece

from roots_pipeline.errors import RootsError
from roots_pipeline.lang.codes import canonical_language
from roots_pipeline.lm.normalization import normalize
from roots_pipeline.worker.fs import file_names, join

SENTENCEPIECE_SUFFIX = ".sp.model"
# Searched in this order: KenLM's binary format loads faster than the ARPA text it was built from.
LANGUAGE_MODEL_SUFFIXES = (".arpa.bin", ".arpa")


class PerplexityModel:
    """A SentencePiece + KenLM pair, loaded on first use so that it can be built and pickled cheaply.

    Pickling keeps only the two paths (cc_net's `Transformer` pattern): a Beam `DoFn` holds one,
    and each worker loads the models once, in `DoFn.setup` via `load()` or on the first call.
    """

    def __init__(self, sentencepiece_path: str, kenlm_path: str) -> None:
        self.sentencepiece_path = sentencepiece_path
        self.kenlm_path = kenlm_path
        self._pieces: sentencepiece.SentencePieceProcessor | None = None
        self._model: kenlm.Model | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"sentencepiece_path": self.sentencepiece_path, "kenlm_path": self.kenlm_path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["sentencepiece_path"], state["kenlm_path"])

    def __repr__(self) -> str:
        return f"PerplexityModel({self.sentencepiece_path!r}, {self.kenlm_path!r})"

    def load(self) -> None:
        """Load both models now (a no-op once loaded); RootsError names a missing or corrupt file."""
        if self._pieces is None:
            self._pieces = load_sentencepiece(self.sentencepiece_path)
        if self._model is None:
            self._model = load_kenlm(self.kenlm_path)

    def _loaded(self) -> tuple[sentencepiece.SentencePieceProcessor, kenlm.Model]:
        self.load()
        assert self._pieces is not None and self._model is not None
        return self._pieces, self._model

    def perplexity(self, text: str) -> float:
        """Return ROOTS's perplexity of `text`, rounded to 0.1 (lower is closer to the training text)."""
        pieces, model = self._loaded()
        return _perplexity(model, " ".join(pieces.encode_as_pieces(normalize(text))))

    def perplexities(self, texts: Sequence[str]) -> list[float]:
        """Return `perplexity(text)` for each of `texts`, encoding them in one SentencePiece call.

        Measured on 2 KB English documents: about 2,100 a second on one core either way, because
        per-call overhead is small next to the work (normalisation ~50 %, SentencePiece ~25 %,
        KenLM ~13 %); the batch call only gains where SentencePiece finds idle cores for its threads.
        """
        pieces, model = self._loaded()
        encoded = pieces.encode([normalize(text) for text in texts], out_type=str)
        return [_perplexity(model, " ".join(document)) for document in encoded]

    def pieces(self, text: str) -> list[str]:
        """Return the SentencePiece pieces of `text` as given (callers normalise, e.g. for zh words)."""
        return self._loaded()[0].encode_as_pieces(text)


def _perplexity(model: kenlm.Model, document: str) -> float:
    """Return ROOTS's perplexity of a document already normalised and joined into pieces."""
    log_score, length = 0.0, 0
    for line in document.split("\n"):
        log_score += model.score(line)
        # str.split (Unicode whitespace) as in ROOTS, even where KenLM splits on ASCII only.
        length += len(line.split()) + 1
    return round(10.0 ** (-log_score / length), 1)


def load_sentencepiece(path: str) -> sentencepiece.SentencePieceProcessor:
    """Return the SentencePiece model at `path`; RootsError if it is missing or not a model."""
    _require_file(path, "SentencePiece model")
    try:
        return sentencepiece.SentencePieceProcessor(model_file=path)
    except (OSError, RuntimeError) as error:
        raise RootsError(f"{path}: not a SentencePiece model ({error})") from None


def load_kenlm(path: str) -> kenlm.Model:
    """Return the KenLM model (ARPA or binary) at `path`; RootsError if it is missing or corrupt.

    KenLM reports a bad file as OSError, or as UnicodeDecodeError when its message quotes
    binary garbage; neither aborts the process.
    """
    _require_file(path, "KenLM model")
    config = kenlm.Config()
    config.show_progress = False
    try:
        return kenlm.Model(path, config)
    except (OSError, RuntimeError, UnicodeDecodeError) as error:
        raise RootsError(f"{path}: not a KenLM model ({error})") from None


# What a KenLM file starts with: an ARPA file's `\data\` section, or the binary format's magic.
_ARPA_START = b"\\data\\"
_BINARY_MAGIC = b"mmap lm http://kheafield.com/code"


def check_models(sentencepiece_path: str, kenlm_path: str) -> None:
    """Raise RootsError if either file of a pair is not what its name says.

    Cheap enough for recipe validation: the SentencePiece model (a few MB) is loaded, the KenLM
    file (up to gigabytes) only has its first bytes read, so a wrong or truncated-at-the-start
    file fails before the run instead of on a worker mid-run.
    """
    load_sentencepiece(sentencepiece_path)
    _require_file(kenlm_path, "KenLM model")
    with open(kenlm_path, "rb") as handle:
        start = handle.read(4096)
    if not (start.lstrip().startswith(_ARPA_START) or start.startswith(_BINARY_MAGIC)):
        raise RootsError(f"{kenlm_path}: not a KenLM model (neither an ARPA file nor KenLM's binary format)")


def _require_file(path: str, what: str) -> None:
    if not os.path.isfile(path):
        raise RootsError(f"{path}: {what} not found")


def find_models(folder: str, lang: str) -> tuple[str, str] | None:
    """Return (SentencePiece, KenLM) paths for `lang` in `folder`, or None when it has neither.

    Looks for `<lang>.sp.model` and `<lang>.arpa.bin`, else `<lang>.arpa`, where `<lang>` is the
    canonical code (`fra` finds `fr.*`). Half a pair is a RootsError: a user who put one file
    there meant to use it. `folder` may be a URL (`gs://…`); `worker.fs.local_file` then gives the
    files a local path where they are loaded.
    """
    code = canonical_language(lang)
    if code is None:
        raise RootsError(f"unknown language code {lang!r}: cannot look for its perplexity models")
    names = set(file_names(folder))
    sentencepiece_path = join(folder, code + SENTENCEPIECE_SUFFIX)
    candidates = [code + suffix for suffix in LANGUAGE_MODEL_SUFFIXES]
    kenlm_name = next((name for name in candidates if name in names), None)
    has_sentencepiece = code + SENTENCEPIECE_SUFFIX in names
    if has_sentencepiece and kenlm_name is not None:
        return sentencepiece_path, join(folder, kenlm_name)
    if has_sentencepiece:
        expected = " or ".join(join(folder, name) for name in candidates)
        raise RootsError(f"{sentencepiece_path} has no KenLM model beside it: expected {expected}")
    if kenlm_name is not None:
        raise RootsError(f"{join(folder, kenlm_name)} has no SentencePiece model beside it: "
                         f"expected {sentencepiece_path}")
    return None
