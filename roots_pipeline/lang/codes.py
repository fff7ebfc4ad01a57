"""Checks language labels from untrusted input against the ISO table in `languages/codes.tsv`.

Language codes end up in output paths (`data/<lang>/`), so a label from a web page or a dump's
metadata is only used once it is found here; anything else becomes `und` (undetermined).
Canonical form: ISO 639-1 where it exists, else ISO 639-3, plus `_Script` when one is given
(`zh`, `sw`, `yue_Hant`).
"""

from __future__ import annotations

import functools
import re
from importlib import resources

UNDETERMINED = "und"

_LABEL = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_](?:[A-Za-z]{2}|\d{3}))?")


@functools.cache
def _table() -> tuple[dict[str, str], frozenset[str], dict[str, str]]:
    """Return (alias → code, scripts, code → name), read once per process."""
    aliases: dict[str, str] = {}
    names: dict[str, str] = {}
    scripts: frozenset[str] = frozenset()
    text = resources.files("roots_pipeline.languages").joinpath("codes.tsv").read_text("utf-8")
    for line in text.splitlines():
        if line.startswith("# scripts\t"):
            scripts = frozenset(line.split("\t", 1)[1].split(","))
        elif line and not line.startswith("#"):
            code, alpha3, more, name = line.split("\t")
            names[code] = name
            for alias in (code, alpha3, *filter(None, more.split(","))):
                aliases.setdefault(alias, code)
    return aliases, scripts, names


def canonical_language(label: str | None) -> str | None:
    """Return the canonical code for a label such as `fr`, `fra`, `fr-FR` or `zh_Hans`, else None."""
    if not label:
        return None
    match = _LABEL.fullmatch(label.strip())
    if not match:
        return None
    aliases, scripts, _ = _table()
    code = aliases.get(match.group(1).lower())
    if code is None:
        return None
    script = match.group(2)
    if script is None:
        return code
    script = script.title()
    return f"{code}_{script}" if script in scripts else None


def language_name(code: str) -> str:
    """Return the English name of a canonical code (script suffix ignored), or the code itself."""
    return _table()[2].get(code.split("_")[0], code)
