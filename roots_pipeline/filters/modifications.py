"""ROOTS stage A: the edits made to every OSCAR document before it is scored.

`ModifyingDocuments.modifying_documents` in DP:01b/filtering.py: strip, uniform whitespace,
then, where the language enables them, drop words containing URL-like substrings and words
that are too long. The word edits split the text on "\\n", then "\\t", then " " and rejoin it,
which also collapses runs of spaces and drops empty lines and empty tab-separated cells.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Sequence

from roots_pipeline.filters.words import strip_characters
from roots_pipeline.lm.normalization import normalize

# ROOTS's `incorrect_word_substrings`, the same for every language. Matching is case-sensitive,
# so "HTTP://EXAMPLE.ORG" survives, as it did in ROOTS.
INCORRECT_WORD_SUBSTRINGS: tuple[str, ...] = ("http", "www", ".com", "href", "//")


@functools.cache
def _substring_search(substrings: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """Return a function finding any of `substrings` in a word (a regex alternation)."""
    return re.compile("|".join(map(re.escape, substrings))).search


def has_incorrect_substring(word: str, chars: Collection[str], substrings: Sequence[str]) -> bool:
    """Return True if `word`, stripped of `chars` at both ends, contains one of `substrings`."""
    stripped = strip_characters(word, chars)
    return any(substring in stripped for substring in substrings)


def is_long_word(word: str, chars: Collection[str], max_length: int) -> bool:
    """Return True if `word` is longer than `max_length` once stripped of `chars` at both ends.

    A word of `max_length` characters or fewer is never long, whatever it is made of; a longer
    one made only of special characters strips to "" and is long (ROOTS drops it).
    """
    if len(word) <= max_length:
        return False
    stripped = strip_characters(word, chars)
    return not stripped or len(stripped) > max_length


def remove_words(text: str, drop: Callable[[str], bool]) -> str:
    """Return `text` without the words for which `drop` is true, re-joined the ROOTS way.

    Lines ("\\n"), then cells ("\\t"), then words (" ", empties dropped); afterwards a cell left
    with no word disappears with its tab, a line left with no cell disappears with its newline,
    and words are re-joined by single spaces. So "a  b\\n\\n\\tc" becomes "a b\\nc" even when
    nothing is dropped. A text left with nothing is "".
    """
    lines = []
    for line in text.split("\n"):
        cells = []
        for cell in line.split("\t"):
            words = [word for word in cell.split(" ") if word and not drop(word)]
            if words:
                cells.append(" ".join(words))
        if cells:
            lines.append("\t".join(cells))
    return "\n".join(lines)


def modify_document(
    text: str,
    chars: Collection[str],
    *,
    uniform_whitespace: bool = True,
    replace_unicode_punctuation: bool = False,
    incorrect_substrings: Sequence[str] | None = None,
    max_word_length: int | None = None,
) -> str:
    """Return the stage-A version of `text`, which every later ROOTS score reads.

    `str.strip()`, then (if on) uniform whitespace and the punctuation table; newlines, tabs
    and control characters are kept. `incorrect_substrings` (None = off) drops words holding
    one of them; `max_word_length` (None = off) drops longer words, both judged on the word
    stripped of `chars`. ROOTS runs both or neither (on for every language but its default
    and zh). The split and re-join happen only when at least one is on; running them in one
    pass gives the same text as ROOTS's two passes, because the re-join is idempotent.
    """
    text = normalize(
        text,
        remove_non_printing=False,
        strip=True,
        lower_case=False,
        uniform_spaces=uniform_whitespace,
        digits_to_zero=False,
        unicode_punctuation=replace_unicode_punctuation,
    )
    if not text or (incorrect_substrings is None and max_word_length is None):
        return text
    # A word stripped of `chars` is a substring of the word, so a word without any of the
    # substrings cannot hold one once stripped: one regex search spares most words the strip.
    search = _substring_search(tuple(incorrect_substrings)) if incorrect_substrings else None

    def drop(word: str) -> bool:
        if search is not None and search(word) and has_incorrect_substring(word, chars, incorrect_substrings):
            return True
        return max_word_length is not None and is_long_word(word, chars, max_word_length)

    return remove_words(text, drop)
