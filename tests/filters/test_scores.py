"""ROOTS scores on hand-counted examples; expected values are worked out in the comments."""

from __future__ import annotations

import pytest

from roots_pipeline.filters.scores import (
    character_repetition,
    closed_class_words_ratio,
    flagged_words_ratio,
    number_words,
    word_repetition,
)
from roots_pipeline.filters.words import augment_words, words_from_text
from roots_pipeline.lang.characters import SPECIAL_CHARACTERS_DEFAULT as SPECIAL


def test_number_words() -> None:
    # "Hello, World!! 42" -> "Hello" "World" ("42" strips to nothing)
    assert number_words(words_from_text("Hello, World!! 42", SPECIAL, lower_case=False)) == 2
    assert number_words([]) == 0


def test_character_repetition_versions_differ() -> None:
    # "abcabcabcx", n=3: 3-grams abc bca cab abc bca cab abc bcx (8)
    # counts abc 3, bca 2, cab 2, bcx 1 -> d=4, singletons s=1, isqrt(4)=2
    # production k=min(2, s=1)=1 -> 3/8; fixed k=min(2, d-s=3)=2 -> (3+2)/8
    assert character_repetition("abcabcabcx", 3, "production") == pytest.approx(3 / 8)
    assert character_repetition("abcabcabcx", 3, "fixed") == pytest.approx(5 / 8)


def test_character_repetition_all_repeated() -> None:
    # 12 "a", n=10: 3 n-grams, all "aaaaaaaaaa": d=1, s=0
    # production k=min(1, 0)=0 -> 0.0 (the pure repetition passes!); fixed k=min(1, 1)=1 -> 3/3
    assert character_repetition("a" * 12, 10, "production") == 0.0
    assert character_repetition("a" * 12, 10, "fixed") == 1.0


def test_character_repetition_all_distinct() -> None:
    # "abcdefghij", n=1: 10 distinct, each once: d=10, s=10, isqrt(10)=3
    # production k=min(3, 10)=3 -> 3/10; fixed k=min(3, 0)=0 -> 0.0
    assert character_repetition("abcdefghij", 1, "production") == pytest.approx(0.3)
    assert character_repetition("abcdefghij", 1, "fixed") == 0.0
    # exactly n characters: one n-gram, d=1, s=1 -> production k=1 -> 1/1; fixed k=0 -> 0.0
    assert character_repetition("abcdefghij", 10, "production") == 1.0
    assert character_repetition("abcdefghij", 10, "fixed") == 0.0


def test_character_repetition_edge_cases() -> None:
    # no n-gram at all -> 0.0 (ROOTS returns 0)
    assert character_repetition("", 10) == 0.0
    assert character_repetition("short", 10) == 0.0
    # only spaces, n=3, 5 spaces: 3 n-grams all "   ": like the "aaaa" case
    assert character_repetition("     ", 3, "production") == 0.0
    assert character_repetition("     ", 3, "fixed") == 1.0
    with pytest.raises(ValueError, match="version"):
        character_repetition("abc", 1, "sqrt")  # type: ignore[arg-type]


def test_word_repetition() -> None:
    # the cat sat the cat ran, n=2: (the cat) (cat sat) (sat the) (the cat) (cat ran) = 5
    # "the cat" occurs twice -> 2/5
    assert word_repetition(["the", "cat", "sat", "the", "cat", "ran"], 2) == pytest.approx(0.4)
    # a b a b a, n=2: ab ba ab ba = 4, both repeated -> 4/4
    assert word_repetition(["a", "b", "a", "b", "a"], 2) == 1.0
    # fewer words than n, and no words: 0.0
    assert word_repetition(["a", "b"], 5) == 0.0
    assert word_repetition([], 5) == 0.0


def test_closed_class_and_flagged_ratios() -> None:
    words = ["the", "cat", "and", "the", "dog"]
    # stopwords the, and, the -> 3/5
    assert closed_class_words_ratio(words, {"the", "and"}) == pytest.approx(0.6)
    # flagged dog -> 1/5
    assert flagged_words_ratio(words, {"dog"}) == pytest.approx(0.2)
    # no words -> 0.0 for both
    assert closed_class_words_ratio([], {"the"}) == 0.0
    assert flagged_words_ratio([], {"dog"}) == 0.0


def test_ratio_is_capped_at_one() -> None:
    # words a a, augmentation "a a": hits 2 + 1 = 3 over 2 words = 1.5 -> capped to 1.0
    assert closed_class_words_ratio(["a", "a"], {"a", "a a"}, ["a a"]) == 1.0


def test_vi_two_gram_augmentation_matches_a_multi_word_stopword() -> None:
    # words: anh em là người (4); 2-grams: "anh em" "em là" "là người"
    # stopwords "anh em", "là": without augmentation only "là" -> 1/4;
    # with it "là" + "anh em" -> 2/4
    words = words_from_text("Anh em là người.", SPECIAL, lower_case=True)
    assert words == ["anh", "em", "là", "người"]
    stopwords = {"anh em", "là"}
    assert closed_class_words_ratio(words, stopwords) == pytest.approx(0.25)
    assert closed_class_words_ratio(words, stopwords, augment_words(words, [2], " ")) == pytest.approx(0.5)


def test_zh_without_spaces() -> None:
    # one piece per character: 我 们 的 世 界 (5 words; 。 becomes "." and is stripped)
    # ""-joined 2-grams: 我们 们的 的世 世界; stopwords 我们, 的: "的" + "我们" -> 2/5
    words = words_from_text("我们的世界。", SPECIAL, lower_case=True, encode=list)
    assert number_words(words) == 5
    augmentation = augment_words(words, [2], "")
    assert closed_class_words_ratio(words, {"我们", "的"}, augmentation) == pytest.approx(0.4)
    # character repetition, zh n=3: 我们的 们的世 的世界 -> 3 distinct singletons, isqrt(3)=1
    # production k=min(1, 3)=1 -> 1/3
    assert character_repetition("我们的世界", 3) == pytest.approx(1 / 3)
