"""ROOTS's catalogue filters (DP 01a `clean.py` FILTERS) as document stages with ROOTS's names.

Each rejects with `<stage>:<reason>`; none changes text. ROOTS ran filters as maps over batches;
here a rejected document is written to `rejects/` with its reason instead of disappearing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from roots_pipeline.cleaning.document_size import is_blank, space_split_words
from roots_pipeline.document import Document
from roots_pipeline.stages.base import DocumentStage, register
from roots_pipeline.stages.remove_small_docs import RemoveSmallDocs


def meta_field(meta: dict[str, Any], key: str) -> Any:
    """Return a Wikimedia metadata field: a column of its own, else a key of the `meta` column.

    ROOTS's catalogue datasets kept `title` and `type` inside a `meta` column, written as a
    Python dict repr that ROOTS `eval`-ed. Input is never evaluated here: `meta` is read when it
    is a mapping (an Arrow struct) or a JSON object string; anything else counts as absent.
    """
    if key in meta:
        return meta[key]
    nested = meta.get("meta")
    if isinstance(nested, str) and nested.lstrip().startswith("{"):
        try:
            nested = json.loads(nested)
        except (ValueError, RecursionError):
            return None
    return nested.get(key) if isinstance(nested, dict) else None


@register
@dataclass(frozen=True)
class FilterRemoveEmptyDocs(DocumentStage):
    """ROOTS `filter_remove_empty_docs`: reject texts that are empty once whitespace is stripped.

    Also the place where texts emptied by the editing stages leave, as in ROOTS.
    """

    name = "filter_remove_empty_docs"

    def apply(self, doc: Document) -> None:
        if is_blank(doc.text):
            doc.reasons.append(f"{self.name}:empty")


@register
@dataclass(frozen=True)
class FilterWikiUserTitles(DocumentStage):
    """ROOTS `filter_wiki_user_titles`: reject Wikimedia pages whose title starts with "User ".

    The title is the `title` column, else `title` inside the `meta` column (see `meta_field`).
    A document without a string title passes with the note `filter_wiki_user_titles:no_title`
    (ROOTS would have crashed).
    """

    name = "filter_wiki_user_titles"

    def apply(self, doc: Document) -> None:
        title = meta_field(doc.meta, "title")
        if not isinstance(title, str):
            doc.notes.append(f"{self.name}:no_title")
        elif title.startswith("User "):
            doc.reasons.append(f"{self.name}:user_title")


@register
@dataclass(frozen=True)
class FilterWikiNonTextType(DocumentStage):
    """ROOTS `filter_wiki_non_text_type`: reject Wikimedia records whose `type` is not "text".

    `type` is looked up like the title; without one the document passes with the note
    `filter_wiki_non_text_type:no_type`.
    """

    name = "filter_wiki_non_text_type"

    def apply(self, doc: Document) -> None:
        kind = meta_field(doc.meta, "type")
        if kind is None:
            doc.notes.append(f"{self.name}:no_type")
        elif kind != "text":
            doc.reasons.append(f"{self.name}:non_text_type")


@register
@dataclass(frozen=True)
class FilterSmallDocs(DocumentStage):
    """ROOTS `filter_small_docs`: reject texts of fewer than 15 space-separated words.

    The count is ROOTS's `len(text.split(" "))`, quirks included (`cleaning.document_size`).
    ROOTS defined it but no dataset used it. The threshold is part of the name, not an option.
    """

    name = "filter_small_docs"
    min_words: int = field(default=15, init=False)

    def apply(self, doc: Document) -> None:
        if space_split_words(doc.text) < self.min_words:
            doc.reasons.append(f"{self.name}:under_{self.min_words}_words")


@register
@dataclass(frozen=True)
class FilterSmallDocsBytes300(RemoveSmallDocs):
    """ROOTS `filter_small_docs_bytes_300`: reject texts under 300 UTF-8 bytes (ar, id, pt, vi, Indic).

    `remove_small_docs` with its threshold fixed by the name (not an option); reason
    `filter_small_docs_bytes_300:under_300_bytes`.
    """

    name = "filter_small_docs_bytes_300"
    min_bytes: int = field(default=300, init=False)


@register
@dataclass(frozen=True)
class FilterSmallDocsBytes1024(RemoveSmallDocs):
    """ROOTS `filter_small_docs_bytes_1024`: reject texts under 1024 UTF-8 bytes (en es fr ca zh, code)."""

    name = "filter_small_docs_bytes_1024"
    min_bytes: int = field(default=1024, init=False)
