"""The size measures of ROOTS's small-document filters (bytes are `Document.nbytes`)."""

from __future__ import annotations


def is_blank(text: str) -> bool:
    """Return whether the text is empty once whitespace is stripped (`filter_remove_empty_docs`)."""
    return not text.strip()


def space_split_words(text: str) -> int:
    """Return `len(text.split(" "))`, ROOTS's word count for `filter_small_docs`.

    Kept exactly, quirks included: only " " separates, so words on separate lines count as one,
    two spaces in a row count an extra (empty) word, and "" counts 1.
    """
    return len(text.split(" "))
