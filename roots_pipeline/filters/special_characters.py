"""The ROOTS default special-character set and the share of a text made of it.

ROOTS (DP:01b/parameters_filtering.py, `special_characters_default`) used one set for two jobs:
the characters stripped from both ends of every word, and the characters counted by the
special-characters filter. It is `string.punctuation + string.digits + string.whitespace`, the
189 extra symbols below, and every key of `emoji==1.6.1` `UNICODE_EMOJI["en"]`.
"""

from __future__ import annotations

import string
from collections.abc import Collection

# The 189 extra characters, copied from shared/reference/special_characters.txt (the set
# ROOTS's parameters_filtering.py built), sorted by code point. Invisible ones are escaped:
# C1 controls U+0081-U+009D, NBSP, soft hyphen, the space family U+2002-U+200B, U+202F,
# U+3000, BOM, U+FFFC, U+FFFD, and four Devanagari/Bengali vowel signs. Several are ordinary
# letters (Chinese 一 上 士, katakana ー ン ッ ツ シ, Cyrillic capital Г, Latin ı ɪ ø, Arabic
# ه): ROOTS counts and strips them too, a quirk we keep (reference/ROOTS.md section 9).
ROOTS_EXTRA_SPECIAL_CHARACTERS = (
    "\x81\x82\x83\x84\x85\x91\x92\x93\x95\x96\x97\x98\x99\x9c\x9d\xa0¡¢£¤¥¦§¨©ª«\xad®¯°±²³´·¸¹º»¼½¾¿×"
    "÷øıɪʺʻʼˈˌː˘˚˜πГ،ه٪٬۩\u093e\u0940\u0947\u094dॽ\u09be๑\u2002\u2003\u2005\u2008\u2009\u200a\u200b‐‑"
    "–—―‖‘’‚“”„‟†•․…\u202f‰′″‹›‿⁃⁄₨₪€℃™←↑→↓⇓∆∈−√∞∟∼≈≖≤≥⊕⋅═■▬▲▴▷►▻▼◆●◦★☆☛☻♡♥♫✓✦✱❖➤➩\u2800\u3000、。《》「」【"
    "】゜シッツン・ー一上士﴾﴿\ufeff！（），．１：；？＾～\ufffc\ufffd"
)

# Single-code-point keys of emoji==1.6.1 UNICODE_EMOJI["en"] (1,366 of its 4,702 keys), as
# inclusive code-point ranges, generated once from the 1.6.1 sdist so the project needs no
# `emoji` dependency (emoji>=2.0 removed UNICODE_EMOJI). Multi-code-point keys (ZWJ sequences,
# flags, keycaps, variation-selector forms) are left out: ROOTS tested one character at a time
# against the set, so they could never match.
EMOJI_1_6_1_SINGLE_CODE_POINT_RANGES: tuple[tuple[int, int], ...] = (
    (0x000A9, 0x000A9), (0x000AE, 0x000AE), (0x0203C, 0x0203C), (0x02049, 0x02049), (0x02122, 0x02122),
    (0x02139, 0x02139), (0x02194, 0x02199), (0x021A9, 0x021AA), (0x0231A, 0x0231B), (0x02328, 0x02328),
    (0x023CF, 0x023CF), (0x023E9, 0x023F3), (0x023F8, 0x023FA), (0x024C2, 0x024C2), (0x025AA, 0x025AB),
    (0x025B6, 0x025B6), (0x025C0, 0x025C0), (0x025FB, 0x025FE), (0x02600, 0x02604), (0x0260E, 0x0260E),
    (0x02611, 0x02611), (0x02614, 0x02615), (0x02618, 0x02618), (0x0261D, 0x0261D), (0x02620, 0x02620),
    (0x02622, 0x02623), (0x02626, 0x02626), (0x0262A, 0x0262A), (0x0262E, 0x0262F), (0x02638, 0x0263A),
    (0x02640, 0x02640), (0x02642, 0x02642), (0x02648, 0x02653), (0x0265F, 0x02660), (0x02663, 0x02663),
    (0x02665, 0x02666), (0x02668, 0x02668), (0x0267B, 0x0267B), (0x0267E, 0x0267F), (0x02692, 0x02697),
    (0x02699, 0x02699), (0x0269B, 0x0269C), (0x026A0, 0x026A1), (0x026A7, 0x026A7), (0x026AA, 0x026AB),
    (0x026B0, 0x026B1), (0x026BD, 0x026BE), (0x026C4, 0x026C5), (0x026C8, 0x026C8), (0x026CE, 0x026CF),
    (0x026D1, 0x026D1), (0x026D3, 0x026D4), (0x026E9, 0x026EA), (0x026F0, 0x026F5), (0x026F7, 0x026FA),
    (0x026FD, 0x026FD), (0x02702, 0x02702), (0x02705, 0x02705), (0x02708, 0x0270D), (0x0270F, 0x0270F),
    (0x02712, 0x02712), (0x02714, 0x02714), (0x02716, 0x02716), (0x0271D, 0x0271D), (0x02721, 0x02721),
    (0x02728, 0x02728), (0x02733, 0x02734), (0x02744, 0x02744), (0x02747, 0x02747), (0x0274C, 0x0274C),
    (0x0274E, 0x0274E), (0x02753, 0x02755), (0x02757, 0x02757), (0x02763, 0x02764), (0x02795, 0x02797),
    (0x027A1, 0x027A1), (0x027B0, 0x027B0), (0x027BF, 0x027BF), (0x02934, 0x02935), (0x02B05, 0x02B07),
    (0x02B1B, 0x02B1C), (0x02B50, 0x02B50), (0x02B55, 0x02B55), (0x03030, 0x03030), (0x0303D, 0x0303D),
    (0x03297, 0x03297), (0x03299, 0x03299), (0x1F004, 0x1F004), (0x1F0CF, 0x1F0CF), (0x1F170, 0x1F171),
    (0x1F17E, 0x1F17F), (0x1F18E, 0x1F18E), (0x1F191, 0x1F19A), (0x1F201, 0x1F202), (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F), (0x1F232, 0x1F23A), (0x1F250, 0x1F251), (0x1F300, 0x1F321), (0x1F324, 0x1F393),
    (0x1F396, 0x1F397), (0x1F399, 0x1F39B), (0x1F39E, 0x1F3F0), (0x1F3F3, 0x1F3F5), (0x1F3F7, 0x1F4FD),
    (0x1F4FF, 0x1F53D), (0x1F549, 0x1F54E), (0x1F550, 0x1F567), (0x1F56F, 0x1F570), (0x1F573, 0x1F57A),
    (0x1F587, 0x1F587), (0x1F58A, 0x1F58D), (0x1F590, 0x1F590), (0x1F595, 0x1F596), (0x1F5A4, 0x1F5A5),
    (0x1F5A8, 0x1F5A8), (0x1F5B1, 0x1F5B2), (0x1F5BC, 0x1F5BC), (0x1F5C2, 0x1F5C4), (0x1F5D1, 0x1F5D3),
    (0x1F5DC, 0x1F5DE), (0x1F5E1, 0x1F5E1), (0x1F5E3, 0x1F5E3), (0x1F5E8, 0x1F5E8), (0x1F5EF, 0x1F5EF),
    (0x1F5F3, 0x1F5F3), (0x1F5FA, 0x1F64F), (0x1F680, 0x1F6C5), (0x1F6CB, 0x1F6D2), (0x1F6D5, 0x1F6D7),
    (0x1F6DD, 0x1F6E5), (0x1F6E9, 0x1F6E9), (0x1F6EB, 0x1F6EC), (0x1F6F0, 0x1F6F0), (0x1F6F3, 0x1F6FC),
    (0x1F7E0, 0x1F7EB), (0x1F7F0, 0x1F7F0), (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945), (0x1F947, 0x1F9FF),
    (0x1FA70, 0x1FA74), (0x1FA78, 0x1FA7C), (0x1FA80, 0x1FA86), (0x1FA90, 0x1FAAC), (0x1FAB0, 0x1FABA),
    (0x1FAC0, 0x1FAC5), (0x1FAD0, 0x1FAD9), (0x1FAE0, 0x1FAE7), (0x1FAF0, 0x1FAF6),
)  # fmt: skip


def _emoji_characters() -> frozenset[str]:
    """Return the single-code-point emoji of emoji==1.6.1 as a set of one-character strings."""
    return frozenset(
        chr(code) for first, last in EMOJI_1_6_1_SINGLE_CODE_POINT_RANGES for code in range(first, last + 1)
    )


# What ROOTS called `special_characters_default`, for every language.
SPECIAL_CHARACTERS_DEFAULT: frozenset[str] = (
    frozenset(string.punctuation + string.digits + string.whitespace + ROOTS_EXTRA_SPECIAL_CHARACTERS)
    | _emoji_characters()
)

# The character sets a language file may name (`strip_characters`, `special_characters`).
CHARACTER_SETS: dict[str, frozenset[str]] = {"special_characters_default": SPECIAL_CHARACTERS_DEFAULT}


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
