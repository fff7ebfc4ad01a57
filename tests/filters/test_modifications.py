"""ROOTS stage A: strip, uniform whitespace, URL-word and long-word removal with the re-join."""

from __future__ import annotations

from roots_pipeline.filters.modifications import INCORRECT_WORD_SUBSTRINGS, modify_document
from roots_pipeline.lang.characters import SPECIAL_CHARACTERS_DEFAULT as SPECIAL


def stage_a(text: str, max_word_length: int = 25) -> str:
    """Stage A as ROOTS ran it for every language but default and zh."""
    return modify_document(
        text, SPECIAL, incorrect_substrings=INCORRECT_WORD_SUBSTRINGS, max_word_length=max_word_length
    )


def test_rejoin_collapses_spaces_and_drops_empty_lines_and_cells() -> None:
    # strip -> "a  b\n\n\tc"; lines "a  b" -> "a b", "" -> dropped, "\tc" -> cells "", "c" -> "c"
    assert stage_a("  a  b\n\n\tc\t \n") == "a b\nc"


def test_without_word_edits_nothing_is_collapsed() -> None:
    # default and zh: only strip and uniform whitespace
    assert modify_document("  a  b\n\nc\u00a0d ", SPECIAL) == "a  b\n\nc d"


def test_words_with_incorrect_substrings() -> None:
    # "http://x.org" (http), "www.site.fr" (www), "(example.com)" stripped to "example.com" (.com)
    # are dropped; "WWW.UP.ORG" survives because matching is case-sensitive.
    text = "see http://x.org and www.site.fr or (example.com) ok WWW.UP.ORG"
    assert stage_a(text) == "see and or ok WWW.UP.ORG"


def test_long_words() -> None:
    # cutoff 5: "abcdef" (6) dropped; "abcde" kept; "(abcde)" is 7 but strips to 5: kept whole;
    # "!!!!!!" is 6 and strips to "": dropped; "!!!!!" is 5: never long, kept.
    assert stage_a("abcdef abcde (abcde) !!!!!! !!!!!", max_word_length=5) == "abcde (abcde) !!!!!"


def test_one_very_long_word() -> None:
    assert stage_a("x" * 1000) == ""
    assert modify_document("x" * 1000, SPECIAL) == "x" * 1000


def test_empty_and_blank() -> None:
    assert stage_a("") == ""
    assert stage_a("   \n\t ") == ""
    assert modify_document("   ", SPECIAL) == ""


def test_uniform_whitespace_and_controls_in_stage_a() -> None:
    # NBSP becomes a space, then the re-join splits on it; control characters are kept.
    assert stage_a("a\u00a0\u00a0b\x01c") == "a b\x01c"
    # strip runs before uniform whitespace: a leading U+FFFC becomes a leading space when the
    # word edits are off, and disappears in the re-join when they are on.
    assert modify_document("\ufffca", SPECIAL) == " a"
    assert stage_a("\ufffca") == "a"
