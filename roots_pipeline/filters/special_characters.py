"""The special-characters score: the share of a text made of a language's special characters."""

from __future__ import annotations

from collections.abc import Collection

from roots_pipeline.lang.characters import SPECIAL_CHARACTERS_DEFAULT


def special_characters_ratio(text: str, chars: Collection[str] = SPECIAL_CHARACTERS_DEFAULT) -> float:
    """Return the share of the characters of `text` that are in `chars` (0.0 for an empty text).

    This is ROOTS's special-characters score (keep if <= cutoff), computed on the stage-A output
    with its original case. Every code point counts once, so a multi-code-point emoji
    contributes only those of its code points that are single-code-point emoji. ROOTS returns 0
    for an empty text, which therefore passes this filter; we do the same.
    """
    if not text:
        return 0.0
    return sum(map(chars.__contains__, text)) / len(text)
