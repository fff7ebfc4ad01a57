"""The ROOTS OSCAR quality scores: their names, meaning, and which side of a cutoff is bad.

The text logic lives in pure functions (`special_characters`, `normalization`, `words`,
`modifications`, `scores`), one document at a time as ROOTS computes it; `batch` and `ngrams` give
the same scores for many documents at once with numpy, which is what the pipeline runs. Lang-id and
perplexity need models and are computed elsewhere.
`SCORES` lists every score under its stable name in ROOTS's evaluation order (the filters
short-circuit in that order). A score whose meaning changes gets a new name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScoreSpec:
    """One ROOTS score: what it measures and whether its cutoffs are minima, maxima or both."""

    name: str
    description: str
    has_min_cutoff: bool  # low values are bad: keep if score >= cutoff
    has_max_cutoff: bool  # high values are bad: keep if score <= cutoff
    computed_here: bool  # False: needs a model (fastText, KenLM) and lives in another module


SCORES: dict[str, ScoreSpec] = {
    spec.name: spec
    for spec in (
        ScoreSpec(
            "number_words", "number of words (SentencePiece pieces for zh); too few or too many is bad",
            has_min_cutoff=True, has_max_cutoff=True, computed_here=True,
        ),
        ScoreSpec(
            "character_repetition", "share of character n-grams taken by the most frequent ones",
            has_min_cutoff=False, has_max_cutoff=True, computed_here=True,
        ),
        ScoreSpec(
            "word_repetition", "share of word n-gram occurrences that are repeated",
            has_min_cutoff=False, has_max_cutoff=True, computed_here=True,
        ),
        ScoreSpec(
            "special_characters", "share of characters that are punctuation, digits, spaces, symbols, emoji",
            has_min_cutoff=False, has_max_cutoff=True, computed_here=True,
        ),
        ScoreSpec(
            "closed_class_words", "share of words in the language's stopword list (too few = not prose)",
            has_min_cutoff=True, has_max_cutoff=False, computed_here=True,
        ),
        ScoreSpec(
            "flagged_words", "share of words in the language's flagged (porn keyword) list",
            has_min_cutoff=False, has_max_cutoff=True, computed_here=True,
        ),
        ScoreSpec(
            "lang_id", "fastText lid.176 probability of the expected language (must also be top-1)",
            has_min_cutoff=True, has_max_cutoff=False, computed_here=False,
        ),
        ScoreSpec(
            "perplexity", "KenLM perplexity under the language's Wikipedia model",
            has_min_cutoff=False, has_max_cutoff=True, computed_here=False,
        ),
    )
}  # fmt: skip

__all__ = ["SCORES", "ScoreSpec"]
