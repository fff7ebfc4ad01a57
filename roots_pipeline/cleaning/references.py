"""ROOTS's `remove_references_<lang>`: cut the trailing run of lines that have too few stopwords.

Designed for academic datasets, whose bibliographies, affiliations and tables at the end have
almost no closed-class words. A line passes when its stopword share is strictly above the
language's ratio (ROOTS: `count > len(words) * ratio`); the lines after the last passing one go.

Deviation, on purpose: ROOTS split lines with `str.split()` and looked the raw tokens up, so
"The" or "the," never matched a lowercase list. Words here are those of the OSCAR stopword score
(`filters.words.words_from_text`: lowercased, stripped of special characters, plus Vietnamese
2-gram augmentation), which is what the ratios (the OSCAR cutoffs) were tuned on.
"""

from __future__ import annotations

import functools
from collections.abc import Collection

from roots_pipeline.cleaning.lines import cut_trailing_lines
from roots_pipeline.filters.scores import closed_class_words_ratio
from roots_pipeline.filters.words import augment_words, words_from_text
from roots_pipeline.lang.config import WordsAugmentation


def has_enough_stopwords(line: str, stopwords: Collection[str], ratio: float, strip_chars: Collection[str],
                         augmentation: WordsAugmentation | None = None) -> bool:
    """Return whether the line's stopword share is above `ratio`; a line without words fails."""
    words = words_from_text(line, strip_chars, lower_case=True)
    if not words:
        return False
    extra = augment_words(words, augmentation.group_sizes, augmentation.join_char) if augmentation else []
    return closed_class_words_ratio(words, stopwords, extra) > ratio


def remove_references(text: str, stopwords: Collection[str], ratio: float, strip_chars: Collection[str],
                      augmentation: WordsAugmentation | None = None) -> tuple[str, int]:
    """Return `text` without its trailing run of low-stopword lines, and how many lines went."""
    keeps = functools.partial(has_enough_stopwords, stopwords=stopwords, ratio=ratio,
                              strip_chars=strip_chars, augmentation=augmentation)
    return cut_trailing_lines(text, keeps)
