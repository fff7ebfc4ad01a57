"""The ROOTS quality filter across languages: models found and loaded once, texts scored per language.

`QualityScorer` is what both the `quality_filter` stage and `roots score` use, so a document gets
the same scores and the same decision in a run and on the command line. It is built from plain
options (paths, version) and loads lazily, so a Beam stage can carry it to workers by pickling.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from roots_pipeline.filters.scorer import LanguageScorer, score_texts
from roots_pipeline.filters.scores import CharacterRepetitionVersion
from roots_pipeline.lang.config import LanguageConfig, load_language
from roots_pipeline.lang.identify import load_identifier, probability_of, resolve_model, top_language
from roots_pipeline.lm.perplexity import PerplexityModel, find_models
from roots_pipeline.worker.fs import local_file

Result = tuple[str, dict[str, float], list[str]]  # modified text, scores, failed filters


@dataclass(frozen=True)
class Unscored:
    """Why some scores of a language are missing: said once per document in the ledger notes."""

    no_perplexity_model: bool
    no_sentencepiece_model: bool
    no_lid_label: bool


@dataclass(frozen=True)
class QualityScorer:
    """Scores texts of any language with ROOTS's filters and that language's cutoffs.

    `lid_model`: a lid.176 file (None: the packaged one). `models`: a folder holding
    `<lang>.sp.model` and `<lang>.arpa.bin` or `<lang>.arpa` (None: no perplexity anywhere).
    Both may be URLs (`gs://…`): files are copied to local disk where they are loaded.
    """

    character_repetition_version: CharacterRepetitionVersion = "production"
    lid_model: str | None = None
    models: str | None = None

    def check(self) -> None:
        """Raise RootsError now if the language-id model cannot be found (before any work)."""
        resolve_model(self.lid_model)

    def identify(self, texts: Sequence[str]) -> list[tuple[str | None, float]]:
        """Return, per text, our code of fastText's most likely language and its probability."""
        identifier = load_identifier(resolve_model(self.lid_model))
        return [top_language(pairs) for pairs in identifier.predict(texts)]

    def config(self, lang: str) -> LanguageConfig:
        """Return the language's configuration; a language without a file gets default.yaml's."""
        return load_language(lang, fallback=True)

    def unscored(self, lang: str) -> Unscored:
        """Return which model-based scores a language cannot have with these options."""
        config = self.config(lang)
        pieces = config.word_split == "sentencepiece"
        has_models = self._model_paths(lang) is not None
        return Unscored(not has_models, pieces and not has_models, not config.lid_labels)

    def score(self, texts: Sequence[str], lang: str) -> list[Result]:
        """Return (modified text, scores, failed filters) for texts of one language."""
        config = self.config(lang)
        paths = self._model_paths(lang)
        perplexity = _perplexity_model(*paths) if paths else None
        encode = perplexity.pieces if perplexity and config.word_split == "sentencepiece" else None
        scorer = LanguageScorer(config, self.character_repetition_version, encode)
        identifier = load_identifier(resolve_model(self.lid_model))
        labels = config.lid_labels

        def lang_id(modified: Sequence[str]) -> list[float]:
            return [probability_of(pairs, labels) for pairs in identifier.predict(modified)]

        return score_texts(texts, scorer, lang_id if labels else None,
                           perplexity.perplexities if perplexity else None)

    def _model_paths(self, lang: str) -> tuple[str, str] | None:
        # Models are named by the configuration's code: `fr_Latn` documents use `fr.*` models.
        return None if self.models is None else _find_models(self.models, self.config(lang).code)


# Loaded once per process (a Beam worker, the CLI): models are large and read-only.
@functools.cache
def _perplexity_model(sp_model: str, lm_model: str) -> PerplexityModel:
    return PerplexityModel(local_file(sp_model), local_file(lm_model))


@functools.cache
def _find_models(folder: str, lang: str) -> tuple[str, str] | None:
    return find_models(folder, lang)
