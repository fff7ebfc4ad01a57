"""The language a file's path declares, from the names corpora are commonly shipped under.

File and folder names are written by strangers (DESIGN.md principle 7): only a code found in
`languages/codes.tsv` becomes a language, and a name that is not one leaves the file `und`
(its records' own labels, then language identification, decide). The forms, first match wins:

1. OSCAR's: `en_part_1.jsonl.zst`, `en_meta_part_1.jsonl.gz` (21.09, 22.01, 23.01). The `_part_N`
   ending says the prefix is a language, so any code or alias of the table is read, in any case,
   with a script (`zh_Hant_part_1`, `eng_part_1` → `en`).
2. The plain name, up to its first dot: `en.jsonl`, `en.jsonl.gz`, `pt_BR.json.zst`.
3. Hugging Face shards: `en-00001-of-00010.jsonl`.
4. The folder holding the file: `…/en/part-0.jsonl`.

Forms 2 to 4 say nothing but the name, so they read only a two-letter ISO 639-1 code in lower
case, optionally with a script (`zh_Hant`, `sr-Cyrl`) or a region, which is dropped (`en_US`,
`pt-BR`, `es_419`). Nearly every three-letter word is an ISO 639-3 code (`raw`, `new`, `old`,
`dev`, `val`, `all`, `src`, `bin`, `log`, `tar` are Rawang, Newari, Mochi, Gwere, Vehes, …), and
two upper-case letters usually name a country (`CA`, `CH`, `SE` are also Catalan, Chamorro and
Northern Sami), so `dev.jsonl`, `data/raw/part-0.jsonl` and `CA.jsonl` stay `und`. A language
with only a three-letter code is named by OSCAR's form or the recipe's `lang`.
"""

from __future__ import annotations

import re

from roots_pipeline.lang.codes import canonical_language

_OSCAR = re.compile(r"([A-Za-z]{2,3}(?:_[A-Z][a-z]{3})?)(?:_meta)?_part_\d+(?:\.|$)")
# A two-letter code, then an optional script and an optional region (ISO 3166 or UN M.49).
_CODE = re.compile(r"[a-z]{2}(?:[-_][A-Za-z]{4})?(?:[-_](?:[A-Za-z]{2}|\d{3}))?")
_HUB_SHARD = re.compile(r"(.+)-\d+-of-\d+")


def file_language(path: str) -> str | None:
    """Return the language a file's path declares (`…/fr_meta_part_1.jsonl.gz`, `…/fr.jsonl`,
    `…/fr/part-0.jsonl` → `fr`), or None when its name and folder declare none."""
    *folders, name = [part for part in path.split("/") if part not in ("", ".")] or [""]
    oscar = _OSCAR.match(name)
    stem = name.split(".", 1)[0]
    shard = _HUB_SHARD.fullmatch(stem)
    candidates = (canonical_language(oscar.group(1)) if oscar else None, _named_code(stem),
                  _named_code(shard.group(1)) if shard else None, _named_code(folders[-1] if folders else ""))
    return next((code for code in candidates if code), None)


def _named_code(name: str) -> str | None:
    """Return the language of a bare name that is a lower-case two-letter code (with script or
    region), else None."""
    return canonical_language(name) if _CODE.fullmatch(name) else None
