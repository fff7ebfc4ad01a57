"""ROOTS's PII redaction (ROOTS.md §5) as a stage: regex-detected KEY, EMAIL, USER, IP_ADDRESS
become `PI:<TAG>` in the text, and each replaced occurrence is counted as a ledger note."""

from __future__ import annotations

from dataclasses import dataclass

from roots_pipeline.cleaning.pii import TAGS, redact
from roots_pipeline.document import Document
from roots_pipeline.errors import OptionError
from roots_pipeline.stages.base import DocumentStage, register


@register
@dataclass(frozen=True)
class PiiRedaction(DocumentStage):
    """Redact personal information in documents from `sources`; others pass untouched.

    ROOTS redacted only its OSCAR subsets, hence the default `sources` (`[]` = every source).
    Never rejects a document; each replaced occurrence adds the note `pii_redaction:<TAG>`.
    """

    name = "pii_redaction"
    sources: tuple[str, ...] = ("oscar",)
    tags: tuple[str, ...] = TAGS

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choices("tags", self.tags, TAGS)

    def apply(self, doc: Document) -> None:
        text, counts = redact(doc.text, self.tags)
        if counts:
            doc.text = text
            for tag, count in counts.items():
                doc.notes.extend([f"{self.name}:{tag}"] * count)


def _check_choices(field: str, values: tuple[str, ...], known: tuple[str, ...]) -> None:
    """Raise OptionError unless `values` is a non-empty selection from `known`."""
    if not values:
        raise OptionError(field, f"needs at least one of {', '.join(known)}")
    unknown = [v for v in values if v not in known]
    if unknown:
        raise OptionError(field, f"unknown {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
