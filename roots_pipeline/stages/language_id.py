"""Language identification as a stage: every document gets a `lang_id` score, unknown ones a language.

A source that declares its language (a catalogue dataset, an OSCAR file) keeps it: fastText only
scores it, and each document on which its top label is another language adds the ledger note
`language_id:disagrees`, so the ledger gives each dataset's disagreement rate. A document of
unknown language (`und`, e.g. a web page without `<html lang>`) takes fastText's top language:
the ledger counts it `relabelled_out` under `und` and `relabelled_in` under that language
(reason `language_id:<the other language>`, counted by `stages.apply`), and every later outcome
under the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from roots_pipeline.document import Document
from roots_pipeline.errors import OptionError, RootsError
from roots_pipeline.lang.codes import UNDETERMINED
from roots_pipeline.lang.config import load_language
from roots_pipeline.lang.identify import load_identifier, probability_of, resolve_model, top_language
from roots_pipeline.stages.base import DocumentStage, register


@register
@dataclass(frozen=True)
class LanguageId(DocumentStage):
    """Score each document's language with lid.176 (`model`: a file; default the packaged one).

    Never rejects: the `lang_id` cutoff is the quality filter's job. Notes: `disagrees`,
    `identified` (an `und` document got a language), `unidentified` (fastText's top label has no
    language code), `not_in_model` (lid.176 has no label for the declared language).
    """

    name = "language_id"
    PATH_OPTIONS: ClassVar[tuple[str, ...]] = ("model",)
    model: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            resolve_model(self.model)
        except RootsError as exc:
            raise OptionError("model", str(exc)) from exc

    def apply(self, doc: Document) -> None:
        self.apply_batch([doc])

    def apply_batch(self, docs: Sequence[Document]) -> None:
        identifier = load_identifier(resolve_model(self.model))
        for doc, pairs in zip(docs, identifier.predict([d.text for d in docs]), strict=True):
            top, probability = top_language(pairs)
            if doc.lang == UNDETERMINED:
                if top is None:
                    doc.notes.append(f"{self.name}:unidentified")
                    continue
                doc.lang = top
                doc.scores["lang_id"] = probability
                doc.notes.append(f"{self.name}:identified")
                continue
            labels = load_language(doc.lang, fallback=True).lid_labels
            if not labels:
                doc.notes.append(f"{self.name}:not_in_model")
                continue
            doc.scores["lang_id"] = probability_of(pairs, labels)
            if not pairs or pairs[0][0] not in labels:
                doc.notes.append(f"{self.name}:disagrees")
