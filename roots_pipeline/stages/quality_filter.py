"""ROOTS's OSCAR quality filter as a stage: stage-A modifications, the eight scores, every failure.

Documents are grouped by language within a batch and scored together (one call per model per
language per batch). Every score is stored on the document (`scores`, a column of the shards and
rejects), and a rejected document carries one reason per failed filter, `quality_filter:<score>`.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from roots_pipeline.document import Document
from roots_pipeline.errors import OptionError, RootsError
from roots_pipeline.filters.quality import QualityScorer
from roots_pipeline.lang.codes import UNDETERMINED, canonical_language
from roots_pipeline.lm.perplexity import check_models, find_models
from roots_pipeline.stages.base import DocumentStage, register
from roots_pipeline.worker.fs import file_names, is_remote

VERSIONS = ("production", "fixed")


@register
@dataclass(frozen=True)
class QualityFilter(DocumentStage):
    """Modify, score and filter documents with their language's ROOTS cutoffs (`languages/`).

    ROOTS filtered only OSCAR, hence the default `sources`. A document whose language is unknown
    (`und`) is identified first; one whose language has no file gets `default.yaml`'s cutoffs.
    `character_repetition_version`: `production` (the formula ROOTS ran) or `fixed` (the later
    fix, ROOTS.md §1). `lid_model`: a lid.176 file, default the packaged one. `models`: a folder of
    `<lang>.sp.model` + `<lang>.arpa.bin`/`.arpa` (from `roots train-lm` or ROOTS's own); without
    a model a language's perplexity filter is skipped, and so are the word filters of a language
    whose words are SentencePiece pieces (zh): each such document adds a note saying so.
    """

    name = "quality_filter"
    PATH_OPTIONS: ClassVar[tuple[str, ...]] = ("lid_model", "models")
    sources: tuple[str, ...] = ("oscar",)
    character_repetition_version: str = "production"
    lid_model: str | None = None
    models: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.character_repetition_version not in VERSIONS:
            raise OptionError("character_repetition_version", f"must be one of {', '.join(VERSIONS)}, "
                                                              f"got {self.character_repetition_version!r}")
        try:
            self.scorer.check()
        except RootsError as exc:
            raise OptionError("lid_model", str(exc)) from exc
        if self.models is not None:
            self._check_models(self.models)

    @staticmethod
    def _check_models(folder: str) -> None:
        """Refuse, before the run, a folder with no models, half a pair, or a file that is not a
        model (local files only: remote ones are checked where a worker copies them)."""
        if not is_remote(folder) and not os.path.isdir(folder):
            raise OptionError("models", f"{folder} is not a folder")
        try:
            names = file_names(folder)
        except RootsError as exc:
            raise OptionError("models", str(exc)) from exc
        langs = {name.split(".")[0] for name in names if name.endswith((".sp.model", ".arpa", ".arpa.bin"))}
        if not langs:
            raise OptionError("models", f"{folder} holds no <lang>.sp.model / <lang>.arpa[.bin] models")
        for lang in sorted(langs):
            if canonical_language(lang):
                try:
                    pair = find_models(folder, lang)
                    if pair is not None and not is_remote(folder):
                        check_models(*pair)
                except RootsError as exc:
                    raise OptionError("models", str(exc)) from exc

    @property
    def scorer(self) -> QualityScorer:
        return QualityScorer(self.character_repetition_version, self.lid_model, self.models)  # type: ignore[arg-type]

    def apply(self, doc: Document) -> None:
        self.apply_batch([doc])

    def apply_batch(self, docs: Sequence[Document]) -> None:
        scorer = self.scorer
        unknown = [doc for doc in docs if doc.lang == UNDETERMINED]
        for doc, (code, _) in zip(unknown, scorer.identify([d.text for d in unknown]), strict=True):
            if code is not None:
                doc.lang = code
                doc.notes.append(f"{self.name}:language_identified")
        by_language: dict[str, list[Document]] = defaultdict(list)
        for doc in docs:
            by_language[doc.lang].append(doc)
        for lang, group in by_language.items():
            unscored = scorer.unscored(lang)
            missing = [f"{self.name}:{reason}" for reason, absent in (
                ("no_perplexity_model", unscored.no_perplexity_model),
                ("no_sentencepiece_model", unscored.no_sentencepiece_model),
                ("no_lid_label", unscored.no_lid_label)) if absent]
            results = scorer.score([d.text for d in group], lang)
            for doc, (text, scores, failed) in zip(group, results, strict=True):
                doc.text = text
                doc.scores.update(scores)
                doc.reasons.extend(f"{self.name}:{name}" for name in failed)
                doc.notes.extend(missing)
