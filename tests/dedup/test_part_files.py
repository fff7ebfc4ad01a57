"""Part files: texts written by several writers come back joined in id order, and damage is reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roots_pipeline.dedup.part_files import PartFileWriter, read_job
from roots_pipeline.dedup.suffix_array import SEPARATOR, duplicate_spans, joined_duplicate_spans
from roots_pipeline.document import document_id
from roots_pipeline.errors import RootsError

TEXTS = ["Le chat dort sur le canapé.", "", "猫が寝ている", "The cat sleeps on the sofa, the cat sleeps.",
         "Le chat dort sur le canapé. Encore.", "x" * 300]


def write(folder, groups: list[list[int]]) -> list[str]:
    """Write TEXTS[i] for each i of each group to its own file; batch id = id of the group's first."""
    paths = []
    for number, group in enumerate(groups):
        writer = PartFileWriter(str(folder / f"part-{number}.bin"))
        batch = document_id("oscar", "d", "f", group[0]) if group else "0" * 16
        for i in group:
            writer.add(document_id("oscar", "d", "f", i), batch, TEXTS[i].encode("utf-8"))
        assert len(writer) == len(group)
        writer.close()
        paths.append(writer.path)
    return paths


def test_texts_from_several_files_come_back_joined_in_id_order(tmp_path):
    paths = write(tmp_path, [[4, 0, 5], [], [2, 1, 3]])
    job = read_job(reversed(paths))  # the order of the paths does not matter
    ids = [document_id("oscar", "d", "f", i) for i in range(len(TEXTS))]
    order = sorted(range(len(TEXTS)), key=lambda i: ids[i])
    assert [job.doc_id(k) for k in range(len(order))] == [ids[i] for i in order]
    assert bytes(job.corpus) == SEPARATOR.join([TEXTS[i].encode("utf-8") for i in order] + [b""])
    assert job.lengths.tolist() == [len(TEXTS[i].encode("utf-8")) for i in order]
    first_of = {i: ids[group[0]] for group in ([4, 0, 5], [2, 1, 3]) for i in group}
    assert [job.batch_id(k) for k in range(len(order))] == [first_of[i] for i in order]
    # The joined corpus gives the spans that the separate texts give.
    texts = [TEXTS[i].encode("utf-8") for i in order]
    assert joined_duplicate_spans(job.corpus, job.lengths, 10) == duplicate_spans(texts, 10)


def test_no_files_make_an_empty_job(tmp_path):
    job = read_job([])
    assert len(job.corpus) == 0 and len(job.ids) == 0
    assert joined_duplicate_spans(job.corpus, job.lengths, 50) == []
    assert read_job(write(tmp_path, [[]])).corpus.size == 0


def test_a_truncated_file_is_reported_with_its_path(tmp_path):
    (path,) = write(tmp_path, [[0, 3, 5]])
    data = Path(path).read_bytes()
    for cut in (len(data) - 1, 5, 0):
        damaged = tmp_path / f"cut-{cut}.bin"
        damaged.write_bytes(data[:cut])
        with pytest.raises(RootsError, match=f"part file {damaged}"):
            read_job([str(damaged)])


def test_an_index_that_does_not_match_the_texts_is_reported(tmp_path):
    (path,) = write(tmp_path, [[0, 3]])
    data = bytearray(Path(path).read_bytes())
    data[:0] = b"extra"  # five more bytes of text than the index counts
    damaged = tmp_path / "longer.bin"
    damaged.write_bytes(bytes(data))
    with pytest.raises(RootsError, match="corrupt"):
        read_job([str(damaged)])


def test_ids_are_the_documents_sixteen_hex_digits(tmp_path):
    writer = PartFileWriter(str(tmp_path / "high.bin"))
    writer.add("ffffffffffffffff", "8000000000000000", b"text")
    writer.add("0000000000000001", "8000000000000000", b"other")
    writer.close()
    job = read_job([writer.path])
    assert [job.doc_id(0), job.doc_id(1)] == ["0000000000000001", "ffffffffffffffff"]
    assert job.ids.dtype == np.dtype("<u8") and job.batch_id(1) == "8000000000000000"
