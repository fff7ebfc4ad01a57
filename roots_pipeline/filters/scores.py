"""The ROOTS document scores computed from text and words (DP:01b/filtering.py, `Filtering`).

Each function returns the score only; the keep/drop decision against a per-language cutoff
belongs to the caller (see `roots_pipeline.filters.SCORES` for which way each cutoff points).
Edge cases follow ROOTS: a text with no n-gram or no word scores 0.0.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Literal

CharacterRepetitionVersion = Literal["production", "fixed"]


def number_words(words: Sequence[str]) -> int:
    """Return the number of words, ROOTS's word-count score (keep if min <= n <= max).

    ROOTS counts words extracted with `lower_case=False` (see `words.words_from_text`); for zh
    they are SentencePiece pieces, hence its much larger maximum.
    """
    return len(words)


def character_repetition(text: str, n: int, version: CharacterRepetitionVersion = "production") -> float:
    """Return the share of character n-gram occurrences taken by the k most frequent n-grams.

    n-grams are all `text[i:i + n]`, overlapping, over the whole document, newlines included.
    With d distinct n-grams of which s occur once, k is the integer square root of d capped by:
    - "production": s, as in the Feb-2022 code ROOTS ran (still in DT ac_dc). A text whose
      n-grams all repeat (s = 0) gets k = 0 and scores 0.0, e.g. "aaaaaaaaaaaa" with n = 10.
    - "fixed": d - s, the number of repeated n-grams (DP commit cf1ce94, July 2022, after
      production), so only repeated n-grams can count.
    The square root keeps short documents from being over-penalised and long books from being
    removed (ROOTS filtering PDF). A text shorter than n (the empty text included) has no
    n-gram and scores 0.0, as in ROOTS.
    """
    assert n >= 1, n
    total = len(text) - n + 1
    if total <= 0:
        return 0.0
    counts = Counter(text[i : i + n] for i in range(total))
    frequencies = list(counts.values())
    distinct = len(frequencies)
    singletons = frequencies.count(1)
    if version == "production":
        k = min(math.isqrt(distinct), singletons)
    elif version == "fixed":
        k = min(math.isqrt(distinct), distinct - singletons)
    else:
        raise ValueError(f"character_repetition version must be 'production' or 'fixed', got {version!r}")
    return sum(heapq.nlargest(k, frequencies)) / total


def word_repetition(words: Sequence[str], n: int) -> float:
    """Return the share of word n-gram occurrences whose n-gram occurs more than once.

    ROOTS's word-repetition score (keep if <= cutoff), on lowercased stripped words. Fewer
    than n words means no n-gram and a score of 0.0, as in ROOTS. n-grams are compared as
    tuples; ROOTS joined them with " ", the same thing for words, which never contain " ".
    """
    assert n >= 1, n
    total = len(words) - n + 1
    if total <= 0:
        return 0.0
    counts = Counter(zip(*(words[i:] for i in range(n)), strict=False))
    return sum(count for count in counts.values() if count > 1) / total


def _listed_ratio(words: Sequence[str], listed: Collection[str], augmentation: Sequence[str]) -> float:
    """Return (#words + #augmented n-grams in `listed`) / #words, capped at 1.0; 0.0 if no words."""
    if not words:
        return 0.0
    hits = sum(map(listed.__contains__, words)) + sum(map(listed.__contains__, augmentation))
    return min(hits / len(words), 1.0)


def closed_class_words_ratio(
    words: Sequence[str], stopwords: Collection[str], augmentation: Sequence[str] = ()
) -> float:
    """Return the stopword ratio: listed words and augmented n-grams per word, capped at 1.0.

    ROOTS's "stopwords" score (keep if >= cutoff), on lowercased stripped words, with
    `augmentation` from `words.augment_words` for vi (" "-joined 2-grams, the only way its
    multi-syllable entries match) and zh ("" -joined). The n-grams add to the numerator but
    not to the denominator, so the raw ratio can pass 1; ROOTS caps it. No words scores 0.0,
    which fails any positive cutoff. ROOTS skipped the check for a language without a list;
    the caller must do the same rather than call this with an empty list.
    """
    return _listed_ratio(words, stopwords, augmentation)


def flagged_words_ratio(
    words: Sequence[str], flagged_words: Collection[str], augmentation: Sequence[str] = ()
) -> float:
    """Return the flagged-word ratio, computed exactly as `closed_class_words_ratio`.

    ROOTS's porn keyword-spam score (keep if <= cutoff). No words scores 0.0, which passes.
    """
    return _listed_ratio(words, flagged_words, augmentation)
