"""Line and page fingerprints for the corpus-level repeated-line removals.

ROOTS identified a line by the md5 of its stripped text (`dedup_template_soft`,
`dedup_pseudocrawl_newspapers`) or by the stripped text itself (pseudo-crawl boilerplate); both
are md5 of the stripped line here. Digests are 16 raw bytes, not hex: they are shuffled and held
in side inputs, where half the size matters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator


def line_hash(line: str) -> bytes:
    """Return the md5 digest of the line without surrounding whitespace."""
    return hashlib.md5(line.strip().encode("utf-8")).digest()


def counted_line_hashes(text: str, min_chars: int) -> Iterator[bytes]:
    """Yield the hash of every line whose stripped length is at least `min_chars`, repeats included.

    ROOTS counted occurrences, not documents: a line printed ten times in one document counts ten.
    """
    for line in text.split("\n"):
        stripped = line.strip()
        if len(stripped) >= min_chars:
            yield hashlib.md5(stripped.encode("utf-8")).digest()


def distinct_line_hashes(text: str) -> frozenset[bytes]:
    """Return the hashes of the distinct lines of a page, so a line counts once per page."""
    return frozenset(line_hash(line) for line in text.split("\n"))


def page_hash(text: str) -> bytes:
    """Return the md5 digest of a whole text: identical pages count once in a domain's sample."""
    return hashlib.md5(text.encode("utf-8")).digest()


def sample_key(doc_id: str) -> int:
    """Return a 64-bit number that orders documents pseudo-randomly but the same on every run.

    A domain's sample is its pages with the smallest keys: a deterministic stand-in for ROOTS's
    seeded random choice that needs no global view of the domain.
    """
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "big")


def remove_lines_with_hashes(text: str, hashes: Collection[bytes]) -> tuple[str, int]:
    """Return `text` without the lines whose `line_hash` is in `hashes`, and how many went.

    Kept lines are left as they are. (ROOTS also stripped every kept line, a side effect of how
    it hashed; that would flatten indentation in code and verse, so it is not reproduced.)
    """
    lines = text.split("\n")
    kept = [line for line in lines if line_hash(line) not in hashes]
    if len(kept) == len(lines):
        return text, 0
    return "\n".join(kept), len(lines) - len(kept)
