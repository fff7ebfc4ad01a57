"""The registry of ROOTS score names."""

from __future__ import annotations

from roots_pipeline.filters import SCORES


def test_names_and_order_are_rootss() -> None:
    assert list(SCORES) == [
        "number_words",
        "character_repetition",
        "word_repetition",
        "special_characters",
        "closed_class_words",
        "flagged_words",
        "lang_id",
        "perplexity",
    ]


def test_cutoff_directions() -> None:
    minima = {name for name, spec in SCORES.items() if spec.has_min_cutoff}
    maxima = {name for name, spec in SCORES.items() if spec.has_max_cutoff}
    assert minima == {"number_words", "closed_class_words", "lang_id"}
    assert maxima == {
        "number_words",
        "character_repetition",
        "word_repetition",
        "special_characters",
        "flagged_words",
        "perplexity",
    }
    assert {name for name, spec in SCORES.items() if not spec.computed_here} == {"lang_id", "perplexity"}
    assert all(spec.description for spec in SCORES.values())
