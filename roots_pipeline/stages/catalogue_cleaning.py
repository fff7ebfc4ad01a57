"""ROOTS's catalogue text edits (DP 01a `clean.py` MAPS) and the pseudo-crawl within-document line
dedup, as document stages named after the ROOTS functions they reproduce.

None of them rejects a document. A text that an edit leaves empty stays in the flow, as in ROOTS,
where `filter_remove_empty_docs` (listed after the edits in every recipe that needed it) removed
it; put that stage after these ones to do the same.

Notes, for the data card: every stage that changed a document adds `<stage>:docs_changed` once;
line removers also add `<stage>:lines_removed` once per removed line, and
`strip_substrings_en_wiktionary` adds `<stage>:substrings_removed` once per removed sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from roots_pipeline.cleaning.lines import (
    CODE_MARKERS,
    HTML_SPAN_MARKERS,
    SANAD_MARKERS,
    WIKI_MOJIBAKE_MARKERS,
    remove_lines_containing,
    remove_repeated_lines,
    replace_newlines,
)
from roots_pipeline.cleaning.references import remove_references
from roots_pipeline.cleaning.wiktionary import strip_wiktionary_boilerplate
from roots_pipeline.document import Document
from roots_pipeline.lang.config import character_set, load_language
from roots_pipeline.stages.base import DocumentStage, register


def _record_edit(stage: str, doc: Document, text: str, count: int, unit: str) -> None:
    """Give `doc` its edited text and note `count` removed `unit`s (e.g. lines) and one changed doc."""
    if count:
        doc.text = text
        doc.notes.append(f"{stage}:docs_changed")
        doc.notes.extend([f"{stage}:{unit}_removed"] * count)


@register
@dataclass(frozen=True)
class ReplaceNewlineWithSpace(DocumentStage):
    """Join all lines with spaces (ROOTS `replace_newline_with_space`, run after sentence splitting)."""

    name = "replace_newline_with_space"

    def apply(self, doc: Document) -> None:
        if "\n" in doc.text:
            doc.text = replace_newlines(doc.text)
            doc.notes.append(f"{self.name}:docs_changed")


@dataclass(frozen=True)
class _RemoveLinesContaining(DocumentStage):
    """Drop every line containing one of `markers` (ROOTS `build_line_with_substring_remover`).

    The markers belong to the ROOTS name, so they are not options: a different list is a
    different stage.
    """

    markers: ClassVar[tuple[str, ...]]

    def apply(self, doc: Document) -> None:
        text, removed = remove_lines_containing(doc.text, self.markers)
        _record_edit(self.name, doc, text, removed, "lines")


@register
@dataclass(frozen=True)
class RemoveLinesWithCode(_RemoveLinesContaining):
    """ROOTS `remove_lines_with_code`: lines with `{`, `}`, `[if` or `<script` (pseudo-crawl recipe)."""

    name = "remove_lines_with_code"
    markers = CODE_MARKERS


@register
@dataclass(frozen=True)
class RemoveHtmlSpans(_RemoveLinesContaining):
    """ROOTS `remove_html_spans`: lines with leftover `<span`, `<div`, `<a` tags or `br>`."""

    name = "remove_html_spans"
    markers = HTML_SPAN_MARKERS


@register
@dataclass(frozen=True)
class RemoveHtmlSpansSanad(_RemoveLinesContaining):
    """ROOTS `remove_html_spans_sanad`: image tags, CDATA, inline JavaScript and the "To view this
    video please enable JavaScript" notice, left in the SANAD Arabic news corpus."""

    name = "remove_html_spans_sanad"
    markers = SANAD_MARKERS


@register
@dataclass(frozen=True)
class RemoveWikiMojibake(_RemoveLinesContaining):
    """ROOTS `remove_wiki_mojibake`: lines with "À À", debris of a broken Wikipedia table dump."""

    name = "remove_wiki_mojibake"
    markers = WIKI_MOJIBAKE_MARKERS


@register
@dataclass(frozen=True)
class StripSubstringsEnWiktionary(DocumentStage):
    """ROOTS `strip_substrings_en_wiktionary`: remove Wiktionary's 17 editorial notices."""

    name = "strip_substrings_en_wiktionary"

    def apply(self, doc: Document) -> None:
        text, removed = strip_wiktionary_boilerplate(doc.text)
        _record_edit(self.name, doc, text, removed, "substrings")


@register
@dataclass(frozen=True)
class RemoveReferences(DocumentStage):
    """ROOTS `remove_references_<lang>` as one stage: the language is each document's own.

    Cuts the trailing run of lines whose stopword share is at most the language's
    `filters.closed_class_words.min` (the OSCAR cutoff ROOTS reused), with its stopword list;
    see `cleaning.references` for how words are counted. Languages without a default file get
    `default.yaml`'s values. A language with no stopword list or no cutoff is left untouched
    with the note `remove_references:no_stopwords`; one whose words are SentencePiece pieces
    (zh), which ROOTS did not support either, with `remove_references:no_whitespace_words`.
    """

    name = "remove_references"

    def apply(self, doc: Document) -> None:
        config = load_language(doc.lang, fallback=True)  # cached per language
        stopwords = config.stopword_set()
        cutoff = config.filters.closed_class_words
        if stopwords is None or cutoff is None:
            doc.notes.append(f"{self.name}:no_stopwords")
            return
        if config.word_split != "whitespace":
            doc.notes.append(f"{self.name}:no_whitespace_words")
            return
        strip = character_set(config.strip_characters)
        text, removed = remove_references(doc.text, stopwords, cutoff.min, strip, config.words_augmentation)
        _record_edit(self.name, doc, text, removed, "lines")


@register
@dataclass(frozen=True)
class DedupLinesInDocument(DocumentStage):
    """Keep the first occurrence of each line of a document (DP pseudo-crawl `doc_by_doc_line_dedup.py`).

    Lines compare exactly; empty lines are always kept.
    """

    name = "dedup_lines_in_document"

    def apply(self, doc: Document) -> None:
        text, removed = remove_repeated_lines(doc.text)
        _record_edit(self.name, doc, text, removed, "lines")
