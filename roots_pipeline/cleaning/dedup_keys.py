"""The keys of ROOTS's exact-duplicate removals (`dedup_document`, `dedup_document_on_url`)."""

from __future__ import annotations

import hashlib
import re
import string

# DP 01a clean_helpers `remove_non_character_regex`: whitespace, digits (Unicode \d) and ASCII
# punctuation go, so copies that differ only in spacing, numbering or quoting share a key.
_NOT_LETTERS = re.compile(rf"\s+|\d+|[{re.escape(string.punctuation)}]")


def document_key(text: str) -> bytes:
    """Return the md5 digest of the text without whitespace, digits and ASCII punctuation."""
    return hashlib.md5(_NOT_LETTERS.sub("", text).encode("utf-8")).digest()


def url_key(url: str) -> str:
    """Return the URL up to its first "?" (ROOTS's `url_host_and_path_batch_normalizer`).

    The query goes, so tracking parameters (`?utm_source=…`) no longer tell copies apart; the
    scheme, host, path and any `#fragment` before a "?" stay, as in ROOTS.
    """
    return url.partition("?")[0]
