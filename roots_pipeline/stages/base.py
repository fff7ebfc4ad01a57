"""The contracts every stage follows: which documents it applies to, and how it runs.

Two kinds of stage share one recipe syntax. A `DocumentStage` looks at one batch of documents at
a time (cleaning, scoring, redaction) and consecutive ones are fused into one Beam step. A
`CorpusStage` needs to see a whole dataset first (template-line removal, deduplication) and is its
own Beam sub-graph. Both may be limited to some sources and datasets (`sources:`, `datasets:`), as
ROOTS chose cleaning functions per dataset; documents outside the selection pass untouched.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple, TypeVar

import apache_beam as beam

from roots_pipeline.document import SOURCE_KINDS, Document
from roots_pipeline.errors import OptionError


@dataclass(frozen=True)
class Stage(ABC):
    """A step of a recipe; its dataclass fields are its recipe options.

    `sources` and `datasets` select the documents the stage applies to (empty = all). Subclasses
    load models in `setup`, which Beam calls once per worker, never in `__init__`, so a stage
    pickles as just its options.
    """

    name: ClassVar[str]
    # Options holding file or folder paths: the recipe resolves them relative to its own folder.
    PATH_OPTIONS: ClassVar[tuple[str, ...]] = ()
    sources: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [s for s in self.sources if s not in SOURCE_KINDS]
        if unknown:
            raise OptionError("sources", f"unknown {', '.join(map(repr, unknown))} "
                                         f"(known: {', '.join(SOURCE_KINDS)})")

    def applies_to(self, doc: Document) -> bool:
        """Return whether the document is in the stage's selection of sources and datasets."""
        return ((not self.sources or doc.source in self.sources)
                and (not self.datasets or doc.dataset in self.datasets))

    def setup(self) -> None:
        """Load whatever the stage needs once per worker (models, word lists)."""


@dataclass(frozen=True)
class DocumentStage(Stage):
    """A step that decides about each document on its own."""

    @abstractmethod
    def apply(self, doc: Document) -> None:
        """Change `doc` in place; reject it by appending `"<name>:<reason>"` to `doc.reasons`.

        Events worth counting without rejecting (a redaction, a repaired encoding) are appended
        to `doc.notes` and end in the ledger as notes. A stage may set `doc.lang` (to a code
        checked against the language table); the runner counts the move in the ledger.
        """

    def apply_batch(self, docs: Sequence[Document]) -> None:
        """Apply the stage to a batch of selected documents.

        Stages whose cost is per call (a model's predict, a regex over joined texts) override this
        to work on the whole batch at once; the result must equal `apply` on each document.
        """
        for doc in docs:
            self.apply(doc)


class CorpusOutputs(NamedTuple):
    """What a corpus stage produces: document batches kept and rejected, and ledger entries.

    Rejected documents carry their reasons; a reason whose part after the stage name starts with
    `duplicate` (`dedup_document:duplicate`) is counted as a duplicate in the ledger. `notes` holds
    `((source, dataset, lang, "note", reason), (docs, bytes))` entries.
    """

    kept: beam.PCollection
    rejected: beam.PCollection
    notes: beam.PCollection


@dataclass(frozen=True)
class CorpusStage(Stage):
    """A step that must see every selected document of a dataset before deciding about any."""

    @abstractmethod
    def expand_stage(self, batches: beam.PCollection, label: str, scratch: str) -> CorpusOutputs:
        """Add the stage to the pipeline; `batches` holds only selected documents, in batches.

        `label` is a unique prefix for the stage's transform names. `scratch` is a folder (any
        Beam filesystem) for files that only this run reads, deleted when the run ends; a stage
        writes under `<scratch>/<label>/`. Memory per worker must be bounded and stated in the
        stage's docstring: never gather a dataset in one worker. A corpus stage never changes a
        document's language: only document stages' relabels are counted, and an uncounted one
        makes the run's ledger fail to balance.
        """


# Every stage a recipe can name, by its `name`; filled by `register` as the stage modules load.
STAGES: dict[str, type[Stage]] = {}
S = TypeVar("S", bound=type[Stage])


def register(cls: S) -> S:
    """Class decorator listing a stage under its `name` for recipes and `roots dedup`."""
    assert cls.name not in STAGES, f"two stages are named {cls.name!r}"
    STAGES[cls.name] = cls
    return cls
