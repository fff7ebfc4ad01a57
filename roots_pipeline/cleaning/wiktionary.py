"""ROOTS's `strip_substrings_en_wiktionary`: the editorial sentences Wiktionary pages carry.

The 17 sentences are those of DP 01a `clean_helpers` (`en_wiktionary_stripper`), in its order;
some are two notices glued together by the page extraction ("…add some!This entry needs audio
files"). They are removed wherever they occur, not only as whole lines, and nothing else changes.
"""

from __future__ import annotations

import re

EN_WIKTIONARY_BOILERPLATE = (
    "This entry needs pronunciation information",
    "Please try to find a suitable image on Wikimedia Commons or upload one there yourself!"
    "This entry needs pronunciation information",
    "You may continue to edit this entry while the discussion proceeds, but please mention significant "
    "edits at the RFD discussion and ensure that the intention of votes already cast is not left unclear",
    "This entry is part of the phrasebook project, which presents criteria for inclusion based on "
    "utility, simplicity and commonality",
    "If you are a native speaker with a microphone, please record some and upload them",
    "If you are familiar with the IPA then please add some!",
    "Feel free to edit this entry as normal, but do not remove {{rfv}} until the request has been resolved",
    "This entry needs quotations to illustrate usage",
    "If you are familiar with the IPA then please add some!This entry needs audio files",
    "Please see that page for discussion and justifications",
    "If you are familiar with the IPA or enPR then please add some!A user has added this entry to "
    "requests for verification(+) If it cannot be verified that this term meets our attestation "
    "criteria, it will be deleted",
    "This entry needs a photograph or drawing for illustration",
    "A user has added this entry to requests for deletion(+)",
    "Do not remove the {{rfd}} until the debate has finished",
    "This entry needs audio files",
    "If you come across any interesting, durably archived quotes then please add them!This entry is "
    "part of the phrasebook project, which presents criteria for inclusion based on utility, "
    "simplicity and commonality",
    "(For audio required quickly, visit WT:APR)",
)

# One alternation in ROOTS's order: where two sentences start at the same place the earlier one
# wins, as in ROOTS (the longer glued variants then lose their tail to a later match).
_BOILERPLATE = re.compile("|".join(map(re.escape, EN_WIKTIONARY_BOILERPLATE)))


def strip_wiktionary_boilerplate(text: str) -> tuple[str, int]:
    """Return `text` without Wiktionary's boilerplate sentences, and how many were removed."""
    # 17 substring searches (C speed) spare most texts the regex, which tries every alternative
    # at every position.
    if not any(sentence in text for sentence in EN_WIKTIONARY_BOILERPLATE):
        return text, 0
    return _BOILERPLATE.subn("", text)
