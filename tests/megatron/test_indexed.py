"""The `.bin`/`.idx` writer against the byte layout of reference/MEGATRON_FORMAT.md, by hand."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from roots_pipeline.errors import RootsError
from roots_pipeline.megatron.indexed import (
    IndexedDatasetWriter,
    dtype_for_vocabulary,
    read_index,
)

# Three documents of 3, 1 and 2 tokens.
DOCUMENTS = [[5, 6, 7], [65_000], [9, 10]]


def write(prefix, dtype, documents=DOCUMENTS) -> None:
    with IndexedDatasetWriter(str(prefix), np.dtype(dtype)) as writer:
        tokens = np.array([t for document in documents for t in document], dtype=dtype)
        writer.add_documents(tokens, np.array([len(d) for d in documents]))
        writer.finish()


def expected_idx(code: int, itemsize: int) -> bytes:
    """The index of DOCUMENTS, field by field, as the table in MEGATRON_FORMAT.md lays it out."""
    return b"".join([
        b"MMIDIDX\x00\x00",                      # 0: magic
        (1).to_bytes(8, "little"),               # 9: version
        bytes([code]),                           # 17: dtype code
        (3).to_bytes(8, "little"),               # 18: S = 3 sequences
        (4).to_bytes(8, "little"),               # 26: D = 3 documents + 1
        struct.pack("<3i", 3, 1, 2),             # 34: lengths, int32
        struct.pack("<3q", 0, 3 * itemsize, 4 * itemsize),  # 46: byte offsets in .bin, int64
        struct.pack("<4q", 0, 1, 2, 3),          # 70: document indices, int64
    ])


def test_three_documents_uint16_match_the_documented_bytes(tmp_path):
    write(tmp_path / "d", "uint16")
    idx = (tmp_path / "d.idx").read_bytes()
    assert idx == expected_idx(code=8, itemsize=2)
    assert len(idx) == 34 + 12 * 3 + 8 * 4
    assert (tmp_path / "d.bin").read_bytes() == bytes.fromhex("0500 0600 0700 e8fd 0900 0a00")


def test_three_documents_int32_match_the_documented_bytes(tmp_path):
    write(tmp_path / "d", "int32")
    assert (tmp_path / "d.idx").read_bytes() == expected_idx(code=4, itemsize=4)
    assert (tmp_path / "d.bin").read_bytes() == struct.pack("<6i", 5, 6, 7, 65_000, 9, 10)


def test_documents_added_in_several_calls_give_the_same_files(tmp_path):
    write(tmp_path / "once", "uint16")
    with IndexedDatasetWriter(str(tmp_path / "parts"), np.dtype("uint16")) as writer:
        for document in DOCUMENTS:
            writer.add_documents(np.array(document, dtype="uint16"), np.array([len(document)]))
        writer.finish()
    for suffix in (".bin", ".idx"):
        assert (tmp_path / f"parts{suffix}").read_bytes() == (tmp_path / f"once{suffix}").read_bytes()


def test_reader_returns_the_written_arrays(tmp_path):
    write(tmp_path / "d", "uint16")
    index = read_index(str(tmp_path / "d.idx"))
    assert index.dtype == np.uint16
    assert index.sequence_lengths.tolist() == [3, 1, 2]
    assert index.sequence_pointers.tolist() == [0, 6, 8]
    assert index.document_indices.tolist() == [0, 1, 2, 3]


def test_appending_datasets_concatenates_them(tmp_path):
    write(tmp_path / "a", "uint16")
    write(tmp_path / "b", "uint16", [[1, 2], [3]])
    with IndexedDatasetWriter(str(tmp_path / "ab"), np.dtype("uint16")) as writer:
        writer.add_dataset(str(tmp_path / "a"))
        writer.add_dataset(str(tmp_path / "b"))
        writer.finish()
    assert (writer.documents, writer.tokens) == (5, 9)
    write(tmp_path / "direct", "uint16", DOCUMENTS + [[1, 2], [3]])
    for suffix in (".bin", ".idx"):
        assert (tmp_path / f"ab{suffix}").read_bytes() == (tmp_path / f"direct{suffix}").read_bytes()


def test_an_unfinished_dataset_leaves_no_file(tmp_path):
    with pytest.raises(RuntimeError), IndexedDatasetWriter(str(tmp_path / "d"), np.dtype("uint16")) as writer:
        writer.add_documents(np.array([1, 2], dtype="uint16"), np.array([2]))
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_dtype_rule_switches_to_int32_at_65500():
    assert dtype_for_vocabulary(65_499) == np.uint16
    assert dtype_for_vocabulary(65_500) == np.int32
    assert dtype_for_vocabulary(250_680) == np.int32  # BLOOM


def test_a_file_that_is_not_an_index_is_named(tmp_path):
    bad = tmp_path / "x.idx"
    bad.write_bytes(b"MMIDIDX\x00\x00" + bytes(30))
    with pytest.raises(RootsError, match="x.idx: not a Megatron index version 1"):
        read_index(str(bad))
    write(tmp_path / "d", "uint16")
    (tmp_path / "d.idx").write_bytes((tmp_path / "d.idx").read_bytes()[:-8])
    with pytest.raises(RootsError, match="d.idx: truncated"):
        read_index(str(tmp_path / "d.idx"))
