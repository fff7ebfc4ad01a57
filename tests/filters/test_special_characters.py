"""The ROOTS special-character set and ratio, on hand-counted texts."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from roots_pipeline.filters.special_characters import special_characters_ratio
from roots_pipeline.lang.characters import (
    EMOJI_1_6_1_SINGLE_CODE_POINT_RANGES,
    ROOTS_EXTRA_SPECIAL_CHARACTERS,
    SPECIAL_CHARACTERS_DEFAULT,
)

# The byte-for-byte copy of ROOTS's reference file that scripts/build_languages.py ships.
REFERENCE = Path(__file__).resolve().parents[2] / "languages" / "special_characters.txt"


def test_extra_characters_are_the_189_of_the_reference() -> None:
    assert len(ROOTS_EXTRA_SPECIAL_CHARACTERS) == len(set(ROOTS_EXTRA_SPECIAL_CHARACTERS)) == 189
    # reference/ROOTS.md: 237 single characters before the emoji.
    base = set(string.punctuation + string.digits + string.whitespace)
    assert len(base | set(ROOTS_EXTRA_SPECIAL_CHARACTERS)) == 237


def test_extra_characters_match_the_reference_file() -> None:
    # The file's third line holds the extra characters, with no separators.
    line = REFERENCE.read_text(encoding="utf-8").split("\n")[2]
    assert set(ROOTS_EXTRA_SPECIAL_CHARACTERS) == set(line)


def test_emoji_part_is_the_1366_single_code_point_keys() -> None:
    # emoji==1.6.1 UNICODE_EMOJI["en"] has 4,702 keys of which 1,366 are one code point.
    assert sum(last - first + 1 for first, last in EMOJI_1_6_1_SINGLE_CODE_POINT_RANGES) == 1366
    assert "👍" in SPECIAL_CHARACTERS_DEFAULT and "©" in SPECIAL_CHARACTERS_DEFAULT
    assert "a" not in SPECIAL_CHARACTERS_DEFAULT and "é" not in SPECIAL_CHARACTERS_DEFAULT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a b , ␣ c !  -> 6 characters, special: "," " " "!" = 3 -> 3/6
        ("ab, c!", 0.5),
        # empty: ROOTS returns 0 (and the document passes this filter)
        ("", 0.0),
        # only spaces: 3/3
        ("   ", 1.0),
        # only digits: 4/4
        ("2022", 1.0),
        # one long word of letters: 0/1000
        ("x" * 1000, 0.0),
        # П р и в е т ␣ 世 界 ␣ 上 = 11 characters; special: 2 spaces + 上 (in the ROOTS set) = 3
        ("Привет 世界 上", 3 / 11),
        # o k 👍 -> 👍 is a single-code-point emoji: 1/3
        ("ok👍", 1 / 3),
        # a ❤ U+FE0F -> ❤ (U+2764) is special, the variation selector is not: 1/3
        ("a\u2764\ufe0f", 1 / 3),
    ],
)
def test_special_characters_ratio(text: str, expected: float) -> None:
    assert special_characters_ratio(text) == pytest.approx(expected)


def test_ratio_with_a_custom_set() -> None:
    # "aXbX": X is the only special character, 2 of 4
    assert special_characters_ratio("aXbX", {"X"}) == 0.5
