"""ROOTS stage A: the edits made to every OSCAR document before it is scored.

`ModifyingDocuments.modifying_documents` in DP:01b/filtering.py: strip, uniform whitespace,
then, where the language enables them, drop words containing URL-like substrings and words
that are too long. The word edits split the text on "\\n", then "\\t", then " " and rejoin it,
which also collapses runs of spaces and drops empty lines and empty tab-separated cells.

`modify_document` does it the way ROOTS does, word by word. `modify_documents` gives the same
texts for a batch several times faster: it finds the few words that could be dropped and the
texts that the re-join changes with numpy over the batch's code points, and touches only those.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Sequence

import numpy as np

from roots_pipeline.filters.ngrams import chunks
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


_SEPARATORS = " \n\t"
_SEPARATOR_RUN = re.compile("[ \n\t]{2,}")


def rejoin(text: str) -> str:
    """Return `remove_words(text, drop=nothing)`: the ROOTS re-join alone, one regex pass.

    Between two words, a run of separators holding a newline becomes one newline (the lines in
    between were empty), else one holding a tab becomes one tab (empty cells), else one space;
    runs at either end go.
    """
    return _SEPARATOR_RUN.sub(_one_separator, text).strip(_SEPARATORS)


def _one_separator(run: re.Match[str]) -> str:
    found = run.group()
    return "\n" if "\n" in found else "\t" if "\t" in found else " "


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
    text = _normalize(text, uniform_whitespace, replace_unicode_punctuation)
    if not text or (incorrect_substrings is None and max_word_length is None):
        return text
    return remove_words(text, _dropper(chars, incorrect_substrings, max_word_length))


def _normalize(text: str, uniform_whitespace: bool, replace_unicode_punctuation: bool) -> str:
    return normalize(
        text,
        remove_non_printing=False,
        strip=True,
        lower_case=False,
        uniform_spaces=uniform_whitespace,
        digits_to_zero=False,
        unicode_punctuation=replace_unicode_punctuation,
    )


def _dropper(
    chars: Collection[str], incorrect_substrings: Sequence[str] | None, max_word_length: int | None
) -> Callable[[str], bool]:
    """Return ROOTS's test of whether stage A drops a word."""
    # A word stripped of `chars` is a substring of the word, so a word without any of the
    # substrings cannot hold one once stripped: one regex search spares most words the strip.
    search = _substring_search(tuple(incorrect_substrings)) if incorrect_substrings else None

    def drop(word: str) -> bool:
        if search is not None and search(word) and has_incorrect_substring(word, chars, incorrect_substrings):
            return True
        return max_word_length is not None and is_long_word(word, chars, max_word_length)

    return drop


def modify_documents(
    texts: Sequence[str],
    chars: Collection[str],
    *,
    uniform_whitespace: bool = True,
    replace_unicode_punctuation: bool = False,
    incorrect_substrings: Sequence[str] | None = None,
    max_word_length: int | None = None,
) -> list[str]:
    """Return `modify_document(text, ...)` for each of `texts`, the same strings, computed faster.

    Most texts lose no word and are already in re-joined form. With the batch's code points in
    numpy, the separators give every word's span: the candidates for a drop are the words longer
    than `max_word_length` and those around an occurrence of a substring (found by `str.find`
    over the batch); only they are tested with ROOTS's rule. A text is rebuilt only when it loses
    a word or has separators next to each other or at an end, and then re-joined by `rejoin`.
    """
    normalized = [_normalize(text, uniform_whitespace, replace_unicode_punctuation) for text in texts]
    if incorrect_substrings is None and max_word_length is None:
        return normalized
    if incorrect_substrings is not None and "" in incorrect_substrings:  # every word holds ""
        return [remove_words(text, bool) for text in normalized]
    drop = _dropper(chars, incorrect_substrings, max_word_length)
    # A substring holding a separator is never inside a word.
    searched = [s for s in incorrect_substrings or () if not any(c in s for c in _SEPARATORS)]
    modified: list[str] = []
    for first, last in chunks([len(text) + 1 for text in normalized]):
        modified += _modify_chunk(normalized[first:last], drop, searched, max_word_length)
    return modified


def _modify_chunk(
    texts: list[str], drop: Callable[[str], bool], searched: list[str], max_word_length: int | None
) -> list[str]:
    # One "\n" before, between and after the texts: it ends their first and last words.
    joined = "\n" + "\n".join(texts) + "\n"
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
    separators = np.flatnonzero((codes == 32) | (codes == 10) | (codes == 9))
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    # Text i occupies joined[starts[i]:starts[i] + lengths[i]], between two of the added "\n".
    starts = np.cumsum(lengths + 1) - lengths
    # Words lie between consecutive separators; none between two means adjacent separators,
    # which the re-join changes (at a text's ends too, thanks to the added "\n").
    word_starts, word_ends = separators[:-1] + 1, separators[1:]
    adjacent = word_starts[word_starts == word_ends] - 1
    owner = np.searchsorted(starts - 1, adjacent, side="right") - 1
    changed = np.zeros(len(texts), np.bool_)
    changed[owner[lengths[owner] > 0]] = True
    candidates = []
    if max_word_length is not None:
        candidates.append(np.flatnonzero(word_ends - word_starts > max_word_length))
    for substring in searched:
        found = []
        at = joined.find(substring)
        while at >= 0:
            found.append(at)
            at = joined.find(substring, at + 1)
        if found:
            candidates.append(np.searchsorted(separators, found) - 1)
    dropped: dict[int, list[tuple[int, int]]] = {}
    if candidates:
        words = np.unique(np.concatenate(candidates))
        for begin, end in zip(word_starts[words].tolist(), word_ends[words].tolist(), strict=True):
            if begin < end and drop(joined[begin:end]):
                text = int(np.searchsorted(starts, begin, side="right")) - 1
                dropped.setdefault(text, []).append((begin - int(starts[text]), end - int(starts[text])))
    for index in sorted({*np.flatnonzero(changed).tolist(), *dropped}):
        text = texts[index]
        if index in dropped:
            kept, at = [], 0
            for begin, end in dropped[index]:
                kept.append(text[at:begin])
                at = end
            kept.append(text[at:])
            text = "".join(kept)
        texts[index] = rejoin(text)
    return texts
