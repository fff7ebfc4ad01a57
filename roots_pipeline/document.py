"""The one record type every stage exchanges, and the ids that make re-runs reproducible.

Documents travel between Beam stages in batches (lists) rather than one by one: the DirectRunner
spends a few microseconds per element per transform, which is more than parsing a JSON line costs,
so batching is what keeps cheap sources cheap.

Reading order (DESIGN.md, principle 9): sources in recipe order, files in sorted path order,
records by byte offset, line or row within a file. Every dedup stage keeps the first document (or
the first copy of a substring) in that order. A document carries its place as one integer,
`order`, that sorts that way on every runner: (source index << 96) | (file index << 64) |
position. Ids are hashes and say nothing about order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

SOURCE_KINDS = ("catalogue", "oscar", "pseudo_crawl")

# Batches are cut by count and by text length, whichever comes first, so one batch of huge
# documents cannot exhaust a worker.
BATCH_DOCS = 1000
BATCH_CHARS = 8 * 1024 * 1024


@dataclass(slots=True)
class Document:
    """One text with its provenance; scores and reasons are filled in by later stages."""

    id: str
    text: str
    source: str
    dataset: str
    lang: str
    url: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # events for the ledger, e.g. "pii:EMAIL"
    order: int = 0  # the reading-order key (`reading_order`); documents sort by it as they were read

    @property
    def nbytes(self) -> int:
        """UTF-8 size of the text: the unit of every byte count in the ledger."""
        return len(self.text.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Malformed:
    """An input record that could not become a document: where it was and what was wrong.

    `offset` is the byte offset of the record in the (decompressed) file for jsonl and WARC, the
    row number for Arrow/parquet rows, or the first batch/row group of a split that cannot be
    read; `detail` adds the line or row number and the parser's own message.
    """

    source: str
    dataset: str
    lang: str
    file: str
    offset: int
    reason: str
    detail: str
    nbytes: int = 0


@dataclass(frozen=True, slots=True)
class Note:
    """Something counted but not a document outcome: a skipped WARC record, an unknown label."""

    source: str
    dataset: str
    lang: str
    reason: str


def document_id(source: str, dataset: str, file: str, position: int) -> str:
    """Return a 16-hex-digit id that depends only on where the record was read from.

    `file` is the path relative to the folder the user named, and `position` a line number,
    row number or byte offset, so the same input gives the same ids on every run and runner.
    """
    key = f"{source}\0{dataset}\0{file}\0{position}".encode()
    return hashlib.blake2b(key, digest_size=8).hexdigest()


_POSITION_BITS = 64
_FILE_BITS = 32


def file_order(source_index: int, file_index: int) -> int:
    """Return a file's place in reading order: its source's index in the recipe, then its index
    in the source's files sorted by path."""
    assert 0 <= file_index < 1 << _FILE_BITS, file_index
    return (source_index << _FILE_BITS) | file_index


def reading_order(file_place: int, position: int) -> int:
    """Return the `order` of the record at `position` (byte offset, line or row; increasing
    through the file) of the file whose place is `file_place` (`file_order`)."""
    assert 0 <= position < 1 << _POSITION_BITS, position
    return (file_place << _POSITION_BITS) | position


class BatchBuilder:
    """Accumulates documents and hands out batches bounded in count and characters."""

    def __init__(self) -> None:
        self._docs: list[Document] = []
        self._chars = 0

    def add(self, doc: Document) -> list[Document] | None:
        """Add a document; return a full batch when one is ready, else None."""
        self._docs.append(doc)
        self._chars += len(doc.text)
        if len(self._docs) >= BATCH_DOCS or self._chars >= BATCH_CHARS:
            return self.flush()
        return None

    def flush(self) -> list[Document] | None:
        """Return what is accumulated (None when empty) and start a new batch."""
        if not self._docs:
            return None
        docs, self._docs, self._chars = self._docs, [], 0
        return docs
