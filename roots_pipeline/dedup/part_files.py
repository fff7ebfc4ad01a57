"""Files that carry a suffix-array part's texts to its jobs, instead of a shuffle.

Why files. Through a `GroupByKey`, a job's texts arrive as one element: while the job runs its
worker holds that element's encoded bytes in the runner's messages, the decoded texts and the
joined corpus, about 5 bytes of RAM per byte of text beyond the suffix array's own 6 (see
`bench/README.md`). Read from files, each text goes straight to its place in the job's corpus,
so the job holds the corpus and a small index, nothing else.

Files per worker bundle, language and part (more than one when a bundle's files are completed
early, see `stages.substring_dedup`), written and read through Beam `FileSystems` (a scratch
folder on `gs://` or `s3://` works as a local one does). Layout, little-endian:

    text 0 | text 1 | … | text m-1     UTF-8 bytes, back to back, in the order written
    ids       m × uint64               each text's document id (its 16 hex digits)
    batches   m × uint64               the id of the first document of the text's batch
    lengths   m × uint64               each text's length in bytes
    m         uint64

The index sits at the end, so a writer streams texts out and keeps only 24 bytes per text, and a
reader learns where every text belongs before it reads any.
"""

from __future__ import annotations

import io
import struct
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from roots_pipeline.dedup.suffix_array import SEPARATOR
from roots_pipeline.errors import RootsError
from roots_pipeline.worker.fs import create_raw, open_raw

_COUNT = struct.Struct("<Q")
_INDEX_COLUMNS = 3  # ids, batches, lengths
_WORD = np.dtype("<u8")


class PartFileWriter:
    """Streams texts into one part file; `close` writes the index that makes it readable."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._handle = create_raw(path)
        self._ids = array("Q")
        self._batches = array("Q")
        self._lengths = array("Q")

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, doc_id: str, batch_id: str, data: bytes) -> None:
        """Append one document's UTF-8 text; ids are 16 hex digits (`document.document_id`)."""
        self._handle.write(data)
        self._ids.append(int(doc_id, 16))
        self._batches.append(int(batch_id, 16))
        self._lengths.append(len(data))

    def close(self) -> None:
        for column in (self._ids, self._batches, self._lengths):
            self._handle.write(np.asarray(column, dtype=_WORD).tobytes())
        self._handle.write(_COUNT.pack(len(self._ids)))
        self._handle.close()


@dataclass(frozen=True)
class JobTexts:
    """A job's texts joined in ascending id order, each followed by SEPARATOR, with their index."""

    corpus: np.ndarray  # uint8
    ids: np.ndarray  # uint64, ascending
    batches: np.ndarray  # uint64
    lengths: np.ndarray  # int64

    def doc_id(self, index: int) -> str:
        return f"{int(self.ids[index]):016x}"

    def batch_id(self, index: int) -> str:
        return f"{int(self.batches[index]):016x}"


def read_job(paths: Iterable[str]) -> JobTexts:
    """Return the texts of the part files joined in ascending id order (ties: batch id), each
    followed by SEPARATOR: the corpus `suffix_array.joined_duplicate_spans` takes.

    Memory: the corpus (the texts plus one byte each) and about 100 bytes per text of index
    (the files' columns, their sorted copies and the placement arrays, at once).
    """
    paths = sorted(paths)
    indexes = [_read_index(path) for path in paths]
    ids, batches, lengths = (np.concatenate([index[column] for index in indexes]) if indexes
                             else np.empty(0, _WORD) for column in range(_INDEX_COLUMNS))
    lengths = lengths.astype(np.int64)
    order = np.lexsort((batches, ids))
    sorted_lengths = lengths[order]
    ends = np.cumsum(sorted_lengths + 1)
    destination = np.empty(len(order), dtype=np.int64)
    destination[order] = ends - 1 - sorted_lengths  # where each text, in file order, goes
    corpus = np.full(int(ends[-1]) if len(ends) else 0, SEPARATOR[0], dtype=np.uint8)
    view = memoryview(corpus)
    first = 0
    for path, (file_ids, _, _) in zip(paths, indexes, strict=True):
        with open_raw(path) as handle:
            for row in range(first, first + len(file_ids)):
                start = int(destination[row])
                _read_exactly(handle, view[start:start + int(lengths[row])], path)
        first += len(file_ids)
    return JobTexts(corpus, ids[order], batches[order], sorted_lengths)


def _read_index(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return a part file's (ids, batches, lengths), checking that they account for its size."""
    with open_raw(path) as handle:
        size = handle.seek(0, io.SEEK_END)
        if size < _COUNT.size:
            raise RootsError(f"part file {path} is truncated ({size} bytes)")
        handle.seek(size - _COUNT.size)
        (count,) = _COUNT.unpack(handle.read(_COUNT.size))
        index_bytes = _INDEX_COLUMNS * _WORD.itemsize * count
        if index_bytes + _COUNT.size > size:
            raise RootsError(f"part file {path} is truncated: {count} texts need a {index_bytes}-byte "
                             f"index, the file has {size} bytes")
        handle.seek(size - _COUNT.size - index_bytes)
        columns = np.frombuffer(handle.read(index_bytes), dtype=_WORD).reshape(_INDEX_COLUMNS, count)
    if int(columns[2].sum()) + index_bytes + _COUNT.size != size:
        raise RootsError(f"part file {path} is corrupt: its index counts {int(columns[2].sum())} bytes "
                         f"of text, the file holds {size - index_bytes - _COUNT.size}")
    return columns[0], columns[1], columns[2]


def _read_exactly(handle: io.IOBase, target: memoryview, path: str) -> None:
    """Fill `target` from the file's current position (a read may return less than asked)."""
    done = 0
    while done < len(target):
        got = handle.readinto(target[done:])
        if not got:
            raise RootsError(f"part file {path} ended early")
        done += got
