"""ROOTS text normalisation (DP:01b/normalization.py and `ModifyingDocuments.normalization`).

Used by stage A (strip + uniform whitespace only), by the word extraction of SentencePiece
languages (zh) and before perplexity scoring. The steps and their order follow ROOTS:
remove non-printing characters, strip, [lowercase], uniform whitespace, digits to "0",
unicode punctuation to ASCII.
"""

from __future__ import annotations

import re

# U+0000-U+001F and U+007F-U+009F, deleted outright. This includes "\n" and "\t", which
# ROOTS deletes without putting a space in their place: "one\ntwo" becomes "onetwo". Kept on
# purpose (reference/ROOTS.md section 9), because the perplexity models were scored that way.
_NON_PRINTING = dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0)])

# The exotic spaces of ROOTS's `uniform_whitespace` list, mapped to " ". ROOTS wrote them as
# literal invisible characters; the code points are our reading of that list, cross-checked
# against the spaces that also appear in its special-character set: the EN/EM/four-per-em/
# punctuation/thin/hair spaces, NBSP and narrow NBSP, the ideographic space U+3000, the
# object-replacement character U+FFFC and the C1 control U+0084 (the list's invisible last
# entry). Tab, newline and the other ASCII whitespace are NOT in it: they survive untouched.
UNIFORM_WHITESPACE_CHARACTERS = "\u00a0\u2002\u2003\u2005\u2008\u2009\u200a\u202f\u3000\ufffc\x84"
_UNIFORM_WHITESPACE = dict.fromkeys(map(ord, UNIFORM_WHITESPACE_CHARACTERS), " ")

# ROOTS's 34-entry `unicode_punctuation` table. Fullwidth "１" maps to '"' (a slip in the
# original table); it is harmless in `normalize` because digits are zeroed first.
UNICODE_PUNCTUATION: dict[str, str] = {
    "，": ",", "。": ".", "、": ",", "„": '"', "”": '"', "“": '"', "«": '"', "»": '"', "１": '"',
    "」": '"', "「": '"', "《": '"', "》": '"', "´": "'", "∶": ":", "：": ":", "？": "?", "！": "!",
    "（": "(", "）": ")", "；": ";", "–": "-", "—": " - ", "．": ". ", "～": "~", "’": "'",
    "…": "...", "━": "-", "〈": "<", "〉": ">", "【": "[", "】": "]", "％": "%", "►": "-",
}  # fmt: skip
_UNICODE_PUNCTUATION = {ord(key): value for key, value in UNICODE_PUNCTUATION.items()}

# The three tables as character classes: a regex scan (and a regex substitution where every
# character maps to the same thing) is much faster than `str.translate`, which looks every
# character up in a dict.
def _class_of(table: dict[int, object]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(table)) + "]")


_NON_PRINTING_CLASS = _class_of(_NON_PRINTING)
_UNIFORM_WHITESPACE_CLASS = _class_of(_UNIFORM_WHITESPACE)
_UNICODE_PUNCTUATION_CLASS = _class_of(_UNICODE_PUNCTUATION)

# Python's \d: every Unicode decimal digit (Arabic-Indic, Devanagari, fullwidth...), as in ROOTS.
_DIGITS = re.compile(r"\d")
# In ASCII text the only digits are 0-9, and str.translate has a fast path for ASCII to ASCII.
_ASCII_DIGITS = str.maketrans("123456789", "000000000")


def _punctuation_of(found: re.Match[str]) -> str:
    return UNICODE_PUNCTUATION[found.group()]


def uniform_whitespace(text: str) -> str:
    """Return `text` with each exotic space of ROOTS's list replaced by one ASCII space.

    One character in, one character out: runs are not collapsed and nothing is stripped, so a
    document that starts with U+3000 starts with " " afterwards (ROOTS strips before this step).
    """
    return text.translate(_UNIFORM_WHITESPACE)


def remove_non_printing_characters(text: str) -> str:
    """Return `text` without U+0000-U+001F and U+007F-U+009F (newlines and tabs included)."""
    return text.translate(_NON_PRINTING)


def replace_unicode_punctuation(text: str) -> str:
    """Return `text` with ROOTS's unicode punctuation table applied (em-dash becomes " - ")."""
    return text.translate(_UNICODE_PUNCTUATION)


def normalize(
    text: str,
    *,
    remove_non_printing: bool = True,
    strip: bool = True,
    lower_case: bool = False,
    uniform_spaces: bool = True,
    digits_to_zero: bool = True,
    unicode_punctuation: bool = True,
) -> str:
    """Return `text` normalised the ROOTS way, each step switchable as in ROOTS.

    Order: non-printing removal, `str.strip()`, lowercase, uniform whitespace, every `\\d` to
    "0", punctuation table. As in ROOTS, a text that is empty after stripping is returned at
    once. The defaults are the perplexity/SentencePiece setting; stage A uses
    `remove_non_printing=False, digits_to_zero=False, unicode_punctuation=False`.
    """
    if remove_non_printing:
        text = _NON_PRINTING_CLASS.sub("", text)
    if strip:
        text = text.strip()
    if not text:
        return text
    if lower_case:
        text = text.lower()
    # Every exotic space and every key of the punctuation table is outside ASCII.
    ascii = text.isascii()
    if uniform_spaces and not ascii:
        text = _UNIFORM_WHITESPACE_CLASS.sub(" ", text)
    if digits_to_zero:
        text = text.translate(_ASCII_DIGITS) if ascii else _DIGITS.sub("0", text)
    if unicode_punctuation and not ascii:
        # A regex substitution calling a function per match: str.translate with a dict looks
        # up every character and was 8x slower on French text.
        text = _UNICODE_PUNCTUATION_CLASS.sub(_punctuation_of, text)
    return text
