"""ROOTS's regex PII detection and redaction (ROOTS.md §5): KEY, EMAIL, USER and IP_ADDRESS.

Regex-only and language-independent, like ROOTS. Each tag has a candidate regex (precompiled
here) and, where a regex alone would be fragile, a small check in Python. CJK characters (Han,
kana, Hangul, full-width forms) count as separators for every tag, because Chinese, Japanese and
Korean text writes addresses flush against words: `联系zhang@example.com谢谢` redacts only the
address. Redaction follows ROOTS: every occurrence of a matched string anywhere in the document
becomes `PI:<TAG>`, and nothing else changes.

The rules, and why:

- EMAIL: `local@domain.tld`. The local part is letters, digits, `_ % + -` and inner dots; the
  domain is dot-separated labels of letters, digits and inner hyphens; the top-level domain is
  two or more letters. Letters may be any non-CJK Unicode letters (`josé@exemple.fr`).
- USER: `@` followed by 3 or more handle characters (letters, digits, `_`, inner `.`/`-`), at
  least one a letter (`@100` is a price), and not preceded by a letter or digit, so the domain
  half of an e-mail address is never a user.
- IP_ADDRESS: IPv4 (four dot-separated groups, each 0-255) or IPv6 (validated by the stdlib
  `ipaddress` module, IPv4 tail and `::` compression included), containing a digit. Dates never
  match: they have three groups, and a four-digit year exceeds 255 (`2021.10.05`, `05.10.2021`).
  Version numbers: three-part ones never match; a four-part one does not match when glued to a
  word (`v1.2.3.4`, `1.2.3.4.5`), written after `v`, `ver`, `version`, `release`, `build` or
  `firmware`, or made of single digits only (`1.2.3.4`, also section numbers like `6.2.4.1`;
  addresses like 8.8.8.8 belong to infrastructure, not people). A dotted quad opening a line and
  followed by `. ` is a numbered heading (`12.6.2.1. Compiling`). Compressed IPv6 with at most
  two short groups (`1::2`, `a::2`) reads as slicing syntax and is skipped, except `::1`.
- KEY: an ASCII token of 8 or more characters (letters, digits, `_ + / -`, final `=` padding)
  with at least four runs of letters and four runs of digits, symbols removed, within one
  `/`-separated piece (`d41d8cd98f00b204…`, UUIDs, most API tokens). This excludes words, years,
  `COVID-19`, `x86_64-linux-gnu`, `mp3-128kbps-44khz-v2` and paths; chemical formulas
  (`C8H10N4O2`) are excluded by shape. Also product keys: three or more dash-separated groups of
  4-8 uppercase letters or digits, at least two of them mixing both (`VK7JG-NPHTM-C97JM-9MPGT`).
  Unlike ROOTS, symbols do not count as digits, so `mother-in-law-to-be` is not a key.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter

TAGS = ("KEY", "EMAIL", "USER", "IP_ADDRESS")

# Han (with radicals and extensions), kana, Bopomofo, Hangul, full-width forms.
_CJK = ("\u1100-\u11ff\u2e80-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff"
        "\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff")
# A letter, digit or underscore that is not CJK: what may not touch the start or end of a match.
_W = f"[^\\W{_CJK}]"
_LETTER = f"[^\\W\\d_{_CJK}]"

_LOCAL_CHAR = f"(?:{_W}|[%+\\-])"  # `_` is in _W
_LABEL = f"[^\\W_{_CJK}]+(?:-+[^\\W_{_CJK}]+)*"
_EMAIL = re.compile(
    # Never start inside a longer local part: besides being wrong, it would make a long run of
    # `a.a.a…` or `a-a-a…` quadratic.
    f"(?<!{_W})(?<![%+\\-])(?<!{_W}\\.)"
    f"{_W}{_LOCAL_CHAR}*(?:\\.{_LOCAL_CHAR}+)*"          # local part: no leading, trailing or double dot
    f"@(?:{_LABEL}\\.)+{_LETTER}{{2,}}"              # domain labels and a letters-only TLD
    f"(?!{_W})")                                     # a TLD glued to digits is no TLD
_USER = re.compile(f"(?<!{_W})(?<![%+\\-])@(?:{_W}[.\\-]*){{2,}}{_W}")

_IPV4 = re.compile(f"(?<!{_W})(?<!{_W}\\.)[0-9]{{1,3}}(?:\\.[0-9]{{1,3}}){{3}}(?!{_W}|\\.[0-9])")
_IPV6 = re.compile(f"(?<![^\\W{_CJK}]|[:.])(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}"
                   f"(?:[0-9]{{1,3}}(?:\\.[0-9]{{1,3}}){{3}}|[0-9A-Fa-f]{{1,4}})?(?!{_W}|:)")
# A four-part version number is written after one of these words (checked on the 16 characters
# before the match; the adjacent `v1.2.3.4` is already excluded by the boundary).
_VERSION_BEFORE = re.compile(r"(?:\bv|\bver|\bversion|\brelease|\bbuild|\bfirmware)\.?\s*$", re.IGNORECASE)

_KEY_CHAR = f"(?:{_W}|[+/\\-])"
# Within a token: anything but an ASCII digit, anything but an ASCII letter.
_NOT_DIGIT = f"(?:[^\\W0-9{_CJK}]|[+/\\-])"
_NOT_LETTER = f"(?:[^\\Wa-zA-Z{_CJK}]|[+/\\-])"
_KEY = re.compile(
    f"(?<!{_W})(?<![+/\\-])"
    f"(?={_NOT_DIGIT}*[0-9]+(?:{_NOT_DIGIT}+[0-9]+){{3}})"      # four runs of digits…
    f"(?={_NOT_LETTER}*[A-Za-z]+(?:{_NOT_LETTER}+[A-Za-z]+){{3}})"  # …and four of ASCII letters
    # From a letter or digit to a letter or digit, then base64 padding: `=` elsewhere is the
    # `name=value` of a URL or a config line, not part of the key.
    f"{_W}{_KEY_CHAR}{{6,}}{_W}={{0,2}}")
_PRODUCT_KEY = re.compile(f"(?<!{_W})(?<![+/\\-])[A-Z0-9]{{4,8}}(?:-[A-Z0-9]{{4,8}}){{2,}}(?!{_W}|-)")
# Element symbols with counts of 1-99 (`C8H10N4O2`); an uppercase hash almost always has a
# digit run of three or more or one starting with 0, so it does not fit.
_CHEMICAL_FORMULA = re.compile(r"(?:[A-Z][a-z]?(?:[1-9][0-9]?)?)+")
_SYMBOL = re.compile(r"[^A-Za-z0-9]")
_ALNUM_RUN = re.compile(r"[A-Za-z]+|[0-9]+")


def find_pii(text: str, tags: tuple[str, ...] | list[str] = TAGS) -> list[tuple[str, str]]:
    """Return the (tag, matched string) pairs found in `text`, in text order.

    A match lying inside a longer match of another tag (a hash in an e-mail's local part, the
    IPv4 tail of an IPv6 address) is dropped: only the outer one is personal information.
    """
    unknown = [tag for tag in tags if tag not in TAGS]
    if unknown:
        raise ValueError(f"unknown PII tag(s) {', '.join(unknown)} (known: {', '.join(TAGS)})")
    spans: list[tuple[int, int, str]] = []
    if "@" in text:  # most documents have none: skip both @-regexes
        if "EMAIL" in tags:
            spans += [(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]
        if "USER" in tags:
            spans += [(m.start(), m.end(), "USER") for m in _USER.finditer(text)
                      if any(c.isalpha() for c in m.group())]
    if "IP_ADDRESS" in tags:
        spans += [(m.start(), m.end(), "IP_ADDRESS") for m in _IPV4.finditer(text) if _is_ipv4(text, m)]
        if "::" in text or text.count(":") >= 7:  # every IPv6 address has one or the other
            spans += [(m.start(), m.end(), "IP_ADDRESS") for m in _IPV6.finditer(text) if _is_ipv6(m[0])]
    if "KEY" in tags:
        spans += [(m.start(), m.end(), "KEY") for m in _KEY.finditer(text) if _is_key(m[0])]
        spans += [(m.start(), m.end(), "KEY") for m in _PRODUCT_KEY.finditer(text) if _is_product_key(m[0])]
    spans.sort(key=lambda span: (span[0], -span[1]))
    found: list[tuple[str, str]] = []
    outer_end = -1
    for start, end, tag in spans:
        if end <= outer_end:  # inside (or equal to) the previous outer match
            continue
        found.append((tag, text[start:end]))
        outer_end = end
    return found


def redact(text: str, tags: tuple[str, ...] | list[str] = TAGS) -> tuple[str, Counter[str]]:
    """Return `text` with every occurrence of each PII match replaced by `PI:<TAG>`, and how
    many occurrences of each tag were replaced.

    All strings are replaced in one left-to-right pass, longest first where two start at the same
    place, so a replacement never lands inside another one or inside a `PI:` marker.
    """
    tag_of: dict[str, str] = {}
    for tag, matched in find_pii(text, tags):
        tag_of.setdefault(matched, tag)
    counts: Counter[str] = Counter()
    if not tag_of:
        return text, counts
    pattern = re.compile("|".join(re.escape(s) for s in sorted(tag_of, key=len, reverse=True)))

    def replace(match: re.Match[str]) -> str:
        tag = tag_of[match[0]]
        counts[tag] += 1
        return f"PI:{tag}"

    return pattern.sub(replace, text), counts


def _is_ipv4(text: str, match: re.Match[str]) -> bool:
    """Return whether a dotted quad is an address and not a version, section or heading number."""
    groups = match[0].split(".")
    if any(int(group) > 255 for group in groups):
        return False
    # All single digits (`6.2.4.1`, `1.2.3.4`) is how sections and versions are numbered; the
    # few such addresses belong to infrastructure (1.1.1.1, 8.8.8.8), not to people.
    if all(len(group) == 1 for group in groups):
        return False
    start, end = match.span()
    if (start == 0 or text[start - 1] == "\n") and text[end:end + 2] in (". ", ".\n"):
        return False  # a numbered heading: `12.6.2.1. Compiling`
    return not _VERSION_BEFORE.search(text, max(0, start - 16), start)


def _is_ipv6(candidate: str) -> bool:
    """Return whether a colon-separated candidate is a valid IPv6 address that is not slicing
    syntax like `1::2`."""
    if not any(c.isdigit() for c in candidate):
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    groups = [g for g in candidate.split(":") if g]
    return candidate == "::1" or len(groups) > 2 or any(len(g) > 2 for g in groups)


def _is_key(token: str) -> bool:
    """Return whether a token alternates letters and digits four times each, symbols aside, and
    is not a chemical formula.

    The regex counts runs split by symbols too (a cheap superset); here `mp3-128kbps-44khz-v2`
    reads as `mp3128kbps44khzv2`, three runs of each, which is a file name, not a key.
    """
    if not token.isascii() or _CHEMICAL_FORMULA.fullmatch(token):
        return False
    # Each `/` piece on its own: `5.0.3/amd64/iso-cd/debian-503-amd64-netinst` is a path whose
    # pieces are words, while a base64 key alternates within its pieces too.
    for piece in token.split("/"):
        runs = _ALNUM_RUN.findall(_SYMBOL.sub("", piece))
        digit_runs = sum(run[0].isdigit() for run in runs)
        if digit_runs >= 4 and len(runs) - digit_runs >= 4:
            return True
    return False


def _is_product_key(token: str) -> bool:
    """Return whether dash-separated uppercase groups mix letters and digits in two groups or more
    (`ISO-IEC-27001` mixes them in none)."""
    mixed = [chunk for chunk in token.split("-")
             if any(c.isdigit() for c in chunk) and any(c.isalpha() for c in chunk)]
    return len(mixed) >= 2
