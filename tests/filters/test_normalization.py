"""ROOTS normalisation: step order and its quirks, on hand-worked texts."""

from __future__ import annotations

from roots_pipeline.lm.normalization import (
    UNICODE_PUNCTUATION,
    normalize,
    remove_non_printing_characters,
    replace_unicode_punctuation,
    uniform_whitespace,
)


def test_full_normalisation_in_roots_order() -> None:
    # "  Ab\tC\n１２３ — «x»…  "
    # non-printing removed (\t, \n deleted, no space): "  AbC１２３ — «x»…  "
    # strip: "AbC１２３ — «x»…"; fullwidth digits are \d: "AbC000 — «x»…"
    # punctuation: — -> " - ", « » -> '"', … -> "...": 'AbC000  -  "x"...'
    text = "  Ab\tC\n１２３ — «x»…  "
    assert normalize(text) == 'AbC000  -  "x"...'
    assert normalize(text, lower_case=True) == 'abc000  -  "x"...'


def test_newlines_are_deleted_not_spaced() -> None:
    assert remove_non_printing_characters("one\ntwo\tthree\x85four") == "onetwothreefour"
    assert normalize("one\ntwo") == "onetwo"


def test_digits_are_zeroed_before_the_punctuation_table() -> None:
    # The table maps fullwidth "１" to '"', but \d has already made it "0".
    assert UNICODE_PUNCTUATION["１"] == '"'
    assert replace_unicode_punctuation("１") == '"'
    assert normalize("１") == "0"
    # Arabic-Indic three is a \d too.
    assert normalize("٣") == "0"


def test_uniform_whitespace_keeps_newlines_and_tabs() -> None:
    assert uniform_whitespace("a\u00a0b\u3000c\n\td\u2009e") == "a b c\n\td e"
    # One for one: runs are not collapsed.
    assert uniform_whitespace("a\u2002\u2003b") == "a  b"


def test_strip_happens_before_uniform_whitespace() -> None:
    # U+3000 is str.isspace(), so strip removes it; U+FFFC is not, so it becomes a leading space.
    assert normalize("\u3000x") == "x"
    assert normalize("\ufffcx") == " x"


def test_empty_and_blank_texts() -> None:
    assert normalize("") == ""
    assert normalize("\n\t  ") == ""
    assert normalize("   ", remove_non_printing=False) == ""


def test_switches_off() -> None:
    text = " A１—\n"
    assert (
        normalize(
            text,
            remove_non_printing=False,
            strip=False,
            uniform_spaces=False,
            digits_to_zero=False,
            unicode_punctuation=False,
        )
        == text
    )
