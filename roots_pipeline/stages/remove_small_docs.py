"""ROOTS's `filter_remove_empty_docs` and `filter_small_docs_bytes_<N>` as one stage."""

from __future__ import annotations

from dataclasses import dataclass

from roots_pipeline.document import Document
from roots_pipeline.errors import require_positive
from roots_pipeline.stages.base import DocumentStage, register


@register
@dataclass(frozen=True)
class RemoveSmallDocs(DocumentStage):
    """Reject documents whose UTF-8 text is shorter than `min_bytes` (1 = only empty ones).

    ROOTS used 300 or 1024 bytes for catalogue data depending on the language (ROOTS.md §3).
    """

    name = "remove_small_docs"
    min_bytes: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "min_bytes")

    def apply(self, doc: Document) -> None:
        # A character is at least one UTF-8 byte: only short texts need encoding to decide.
        if len(doc.text) < self.min_bytes and doc.nbytes < self.min_bytes:
            doc.reasons.append(f"{self.name}:under_{self.min_bytes}_bytes" if self.min_bytes > 1
                               else f"{self.name}:empty")
