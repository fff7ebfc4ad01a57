"""Megatron indexed datasets (`P.bin` + `P.idx`, version 1): a streaming writer and an index reader.

The format megatron-core's `IndexedDataset` (and Megatron-DeepSpeed, which trained BLOOM) reads,
byte for byte as `IndexedDatasetBuilder` writes it. All integers are little-endian.

`P.bin` — every token id of every sequence, concatenated, in the dtype the index names; no
header, no padding, no separators (an end-of-document token is an ordinary last id).

`P.idx`, with S sequences and D document-index entries:

    offset        size  field
    0                9  magic b"MMIDIDX\\x00\\x00"
    9                8  version, uint64 = 1
    17               1  dtype code, uint8: 1 uint8, 2 int8, 3 int16, 4 int32, 5 int64,
                        6 float64, 7 float32, 8 uint16
    18               8  S, sequence count, uint64
    26               8  D, document-index count, uint64 (documents + 1)
    34             4·S  sequence lengths in tokens, int32
    34+4S          8·S  sequence pointers: byte offset of each sequence in P.bin, int64
                        (0, then cumulative length × itemsize)
    34+12S         8·D  document indices, int64: 0, then after each document the number of
                        sequences so far
    34+12S+8D        S  sequence modes, int8 — multimodal datasets only, never written here

Here each document is one sequence (no sentence splitting, as BLOOM), so S is the number of
documents and the document indices are 0, 1, …, S.

Memory: the writer holds nothing per document. Lengths go straight into the temporary `.idx`
after a placeholder header; `finish()` reads them back in chunks to append the pointers and the
document indices, then fills in the header. Both files are written under hidden temporary names
and renamed only when complete, `.bin` first, so a present `.idx` means a complete dataset.
"""

from __future__ import annotations

import os
import shutil
import struct
from dataclasses import dataclass
from types import TracebackType

import numpy as np

from roots_pipeline.errors import RootsError

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
HEADER = struct.Struct("<9sQBQQ")  # magic, version, dtype code, S, D: 34 bytes
DTYPE_CODES: dict[np.dtype, int] = {
    np.dtype(np.uint8): 1, np.dtype(np.int8): 2, np.dtype(np.int16): 3, np.dtype(np.int32): 4,
    np.dtype(np.int64): 5, np.dtype(np.float64): 6, np.dtype(np.float32): 7, np.dtype(np.uint16): 8,
}
# Megatron's rule (DType.optimal_dtype): uint16 leaves 36 ids of headroom below 65,536.
UINT16_VOCABULARY_LIMIT = 65_500
_LENGTH = np.dtype("<i4")
_POINTER = np.dtype("<i8")
_CHUNK = 1 << 20  # sequences per read-back chunk when finishing or merging: 12 MB of arrays


def dtype_for_vocabulary(vocab_size: int) -> np.dtype:
    """Return the token dtype Megatron expects for a vocabulary: uint16 below 65,500 ids, else int32."""
    return np.dtype(np.uint16) if vocab_size < UINT16_VOCABULARY_LIMIT else np.dtype(np.int32)


def bin_path(prefix: str) -> str:
    return prefix + ".bin"


def idx_path(prefix: str) -> str:
    return prefix + ".idx"


def _temporary(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.tmp")


@dataclass(frozen=True)
class Index:
    """The arrays of a `.idx` file, memory-mapped (read-only)."""

    dtype: np.dtype
    sequence_lengths: np.ndarray
    sequence_pointers: np.ndarray
    document_indices: np.ndarray


def read_index(path: str) -> Index:
    """Return the index of a `.idx` file after checking its header and size against the format."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(HEADER.size)
    except OSError as exc:
        raise RootsError(f"{path}: cannot read a Megatron index ({exc.strerror})") from exc
    if len(head) < HEADER.size:
        raise RootsError(f"{path}: not a Megatron index (shorter than its {HEADER.size}-byte header)")
    magic, version, code, sequences, documents = HEADER.unpack(head)
    if magic != MAGIC or version != VERSION:
        raise RootsError(f"{path}: not a Megatron index version {VERSION} "
                         f"(magic {magic!r}, version {version})")
    dtypes = {value: key for key, value in DTYPE_CODES.items()}
    if code not in dtypes:
        raise RootsError(f"{path}: unknown dtype code {code}")
    expected = HEADER.size + 12 * sequences + 8 * documents
    if size < expected:
        raise RootsError(f"{path}: truncated: {size} bytes where {sequences} sequences need {expected}")

    def section(offset: int, dtype: np.dtype, count: int) -> np.ndarray:
        if not count:  # np.memmap refuses empty sections
            return np.zeros(0, dtype)
        return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=(count,))

    return Index(dtypes[code],
                 section(HEADER.size, _LENGTH, sequences),
                 section(HEADER.size + 4 * sequences, _POINTER, sequences),
                 section(HEADER.size + 12 * sequences, _POINTER, documents))


class IndexedDatasetWriter:
    """Writes one dataset `prefix.{bin,idx}` of one-sequence documents, in bounded memory.

    Use as a context manager and call `finish()` at the end: leaving the block without it (an
    error, an interrupt) deletes the temporary files, so a half-written dataset never has the
    final names.
    """

    def __init__(self, prefix: str, dtype: np.dtype) -> None:
        dtype = np.dtype(dtype)
        if dtype not in DTYPE_CODES:
            raise ValueError(f"dtype {dtype} has no Megatron code")
        self.prefix = prefix
        self.dtype = dtype.newbyteorder("<")
        self._code = DTYPE_CODES[dtype]
        self._bin_temporary = _temporary(bin_path(prefix))
        self._idx_temporary = _temporary(idx_path(prefix))
        self._bin = open(self._bin_temporary, "wb")  # noqa: SIM115 (closed in finish/__exit__)
        self._idx = open(self._idx_temporary, "w+b")  # noqa: SIM115
        self._idx.write(bytes(HEADER.size))  # the header needs S and D: filled in by finish()
        self.documents = 0
        self.tokens = 0
        self._finished = False

    def __enter__(self) -> IndexedDatasetWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if not self._finished:
            self._bin.close()
            self._idx.close()
            for path in (self._bin_temporary, self._idx_temporary):
                if os.path.exists(path):
                    os.remove(path)

    def add_documents(self, tokens: np.ndarray, lengths: np.ndarray) -> None:
        """Append documents given as their concatenated token ids and their (non-zero) lengths."""
        assert tokens.dtype == self.dtype, (tokens.dtype, self.dtype)
        assert int(lengths.sum()) == tokens.size and (lengths > 0).all(), "empty documents are skipped"
        self._bin.write(tokens.tobytes())
        self._idx.write(lengths.astype(_LENGTH).tobytes())
        self.documents += lengths.size
        self.tokens += tokens.size

    def add_dataset(self, prefix: str) -> None:
        """Append a whole dataset written by this class with the same dtype (for merging)."""
        index = read_index(idx_path(prefix))
        assert index.dtype == self.dtype, (prefix, index.dtype, self.dtype)
        count = index.sequence_lengths.size
        for start in range(0, count, _CHUNK):
            self._idx.write(np.asarray(index.sequence_lengths[start:start + _CHUNK]).tobytes())
        with open(bin_path(prefix), "rb") as source:
            shutil.copyfileobj(source, self._bin, 1 << 20)
        self.documents += count
        self.tokens += int(index.sequence_lengths.sum(dtype=np.int64))

    def finish(self) -> None:
        """Complete the index, then give both files their final names (`.bin` first)."""
        self._bin.close()
        idx, count, itemsize = self._idx, self.documents, self.dtype.itemsize
        idx.flush()
        with open(self._idx_temporary, "rb") as lengths:
            lengths.seek(HEADER.size)
            offset = 0
            for start in range(0, count, _CHUNK):
                size = min(_CHUNK, count - start) * _LENGTH.itemsize  # the pointers follow: stop short
                chunk = np.frombuffer(lengths.read(size), _LENGTH).astype(_POINTER)
                ends = np.cumsum(chunk) * itemsize + offset
                idx.write((ends - chunk * itemsize).tobytes())
                offset = int(ends[-1])
        for start in range(0, count + 1, _CHUNK):
            idx.write(np.arange(start, min(start + _CHUNK, count + 1), dtype=_POINTER).tobytes())
        idx.seek(0)
        idx.write(HEADER.pack(MAGIC, VERSION, self._code, count, count + 1))
        idx.close()
        os.replace(self._bin_temporary, bin_path(self.prefix))
        os.replace(self._idx_temporary, idx_path(self.prefix))
        self._finished = True
