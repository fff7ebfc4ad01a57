"""ROOTS word extraction and words augmentation, on hand-worked texts."""

from __future__ import annotations

from roots_pipeline.filters.words import (
    augment_words,
    split_on_whitespace,
    strip_characters,
    words_from_text,
)
from roots_pipeline.lang.characters import SPECIAL_CHARACTERS_DEFAULT as SPECIAL


def split_characters(text: str) -> list[str]:
    """A stand-in for SentencePiece: one piece per character."""
    return list(text)


def test_split_only_on_space_newline_tab() -> None:
    # "\r" is not a separator: it stays in the token.
    assert split_on_whitespace("a  b\nc\t\td\re ") == ["a", "b", "c", "d\re"]
    assert split_on_whitespace("") == []
    assert split_on_whitespace(" \n\t ") == []


def test_strip_characters_both_ends_only() -> None:
    assert strip_characters("«l'homme»,", SPECIAL) == "l'homme"
    assert strip_characters("e-mail.", SPECIAL) == "e-mail"
    assert strip_characters("!!!", SPECIAL) == ""
    assert strip_characters("", SPECIAL) == ""


def test_words_of_an_english_text() -> None:
    # tokens: "Hello," "World!!" "(test)" "--" "42"
    # stripped: "Hello" "World" "test" "" (dropped) "" (digits are special, dropped)
    text = "Hello, World!! (test) -- 42"
    assert words_from_text(text, SPECIAL, lower_case=False) == ["Hello", "World", "test"]
    assert words_from_text(text, SPECIAL, lower_case=True) == ["hello", "world", "test"]


def test_edge_texts_have_no_words() -> None:
    for text in ("", "    ", "123 456\n7", "!!! ... ---"):
        assert words_from_text(text, SPECIAL, lower_case=True) == []


def test_one_very_long_word_is_one_word() -> None:
    assert words_from_text("x" * 10_000, SPECIAL, lower_case=False) == ["x" * 10_000]


def test_mixed_scripts_and_the_special_cjk_quirk() -> None:
    # 上 and 一 are in the ROOTS special set, so they are stripped from word ends:
    # "上海" -> "海", "一个" -> "个"; Cyrillic and Latin are untouched.
    text = "Hello мир 世界 上海 一个"
    assert words_from_text(text, SPECIAL, lower_case=True) == ["hello", "мир", "世界", "海", "个"]


def test_lowercase_happens_before_strip() -> None:
    # Cyrillic capital "Г" is special, its lowercase "г" is not.
    assert words_from_text("Г", SPECIAL, lower_case=False) == []
    assert words_from_text("Г", SPECIAL, lower_case=True) == ["г"]


def test_sentencepiece_words_zh_without_spaces() -> None:
    # normalise: "\n" deleted -> "我们的世界。１２"; digits -> "我们的世界。00";
    # punctuation: 。 -> "." -> "我们的世界.00"; one piece per character:
    # 我 们 的 世 界 . 0 0 -> "." and "0" strip to "" -> 5 words.
    words = words_from_text("我们的\n世界。１２", SPECIAL, lower_case=False, encode=split_characters)
    assert words == ["我", "们", "的", "世", "界"]


def test_sentencepiece_marker_is_not_stripped() -> None:
    # A real model prefixes the first piece with "▁", which is not special: "▁我" stays as is.
    def with_marker(text: str) -> list[str]:
        return ["▁" + text[0], *text[1:]]

    assert words_from_text("我们", SPECIAL, lower_case=True, encode=with_marker) == ["▁我", "们"]


def test_words_augmentation() -> None:
    # vi: 2-grams joined by " "
    assert augment_words(["anh", "em", "là"], [2], " ") == ["anh em", "em là"]
    # zh: joined by ""
    assert augment_words(["我", "们", "的"], [2], "") == ["我们", "们的"]
    # several sizes, in order; too few words gives nothing
    assert augment_words(["a", "b", "c"], [2, 3], " ") == ["a b", "b c", "a b c"]
    assert augment_words(["a"], [2], " ") == []
