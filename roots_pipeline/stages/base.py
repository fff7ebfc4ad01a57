"""The contract every document stage follows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from roots_pipeline.document import Document


@dataclass(frozen=True)
class DocumentStage(ABC):
    """A per-document step; its dataclass fields are its recipe options.

    Subclasses load models in `setup`, which Beam calls once per worker, never in `__init__`,
    so a stage pickles as just its options.
    """

    name: ClassVar[str]

    def setup(self) -> None:
        """Load whatever the stage needs once per worker (models, word lists)."""

    @abstractmethod
    def apply(self, doc: Document) -> None:
        """Change `doc` in place; reject it by appending `"<name>:<reason>"` to `doc.reasons`.

        Events worth counting without rejecting (a redaction, a repaired encoding) are appended
        to `doc.notes` and end in the ledger as notes.
        """
