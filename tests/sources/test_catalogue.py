"""Catalogue datasets: save_to_disk folders, parquet, jsonl; parallel splits; bad input."""

from __future__ import annotations

import json

import datasets
import pyarrow as pa
import pytest

from roots_pipeline.document import Document, Malformed
from roots_pipeline.errors import RootsError
from roots_pipeline.sources import catalogue
from roots_pipeline.sources.catalogue import dataset_files, plan_splits
from roots_pipeline.sources.files import Limits
from tests.conftest import BAD, DEMO


def read_all(paths, lang="fr", text_column="text", url_column=None, limits=None):
    files = dataset_files([str(p) for p in paths], None, None, "train", "test")
    splits = plan_splits(files, "ds", lang, text_column, url_column, limits or Limits(), "test")
    return splits, [item for split in splits for item in split.read()]


def test_save_to_disk_folder_reads_every_row_with_metadata():
    folder = DEMO / "catalogue" / "manpages_fr"
    expected = datasets.load_from_disk(str(folder))
    _, items = read_all([folder])
    assert all(isinstance(i, Document) for i in items)
    assert [d.text for d in items] == expected["text"]
    first = items[0]
    assert first.lang == "fr" and first.source == "catalogue" and first.dataset == "ds"
    assert first.meta["title"] == expected[0]["title"] and first.meta["row"] == 0
    assert first.meta["file"] == "data-00000-of-00002.arrow"


def test_splits_cover_the_dataset_exactly_once(monkeypatch, tmp_path):
    # save_to_disk writes 1,000-row batches; rewrite the demo rows in 10-row batches so a small
    # split size cuts the file in many places.
    table = datasets.load_from_disk(str(DEMO / "catalogue" / "manpages_fr")).data.table
    path = tmp_path / "small_batches.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=10):
            writer.write_batch(batch)
    _, whole = read_all([path])
    monkeypatch.setattr(catalogue, "SPLIT_ROWS", 25)
    splits, parts = read_all([path])
    assert len(splits) == 6  # 157 rows in 16 batches, cut after every 25+ rows
    assert [d.id for d in parts] == [d.id for d in whole]
    assert [d.meta["row"] for d in parts] == list(range(table.num_rows))


def test_parquet_files():
    _, items = read_all(sorted((DEMO / "catalogue_files" / "manpages_es").glob("*.parquet")), lang="es")
    assert len(items) == 147 and all(isinstance(i, Document) for i in items)
    assert {d.meta["file"] for d in items} == {"part-0.parquet", "part-1.parquet"}


def test_jsonl_with_another_text_column_and_byte_range_splits(monkeypatch):
    path = DEMO / "catalogue_files" / "chatterbot_zh" / "data.jsonl"
    _, whole = read_all([path], lang="zh", text_column="content")
    assert len(whole) == 78 and all(isinstance(i, Document) for i in whole)
    monkeypatch.setattr(catalogue, "SPLIT_BYTES", 5000)
    splits, parts = read_all([path], lang="zh", text_column="content")
    assert len(splits) > 3
    assert [d.id for d in parts] == [d.id for d in whole]


def test_missing_text_column_is_a_clear_error_before_the_run():
    with pytest.raises(RootsError, match="no column 'body'.*columns: text, title"):
        read_all([DEMO / "catalogue" / "manpages_fr"], text_column="body")


def test_url_column_is_used(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"text": "un texte", "link": "https://example.org/a"}) + "\n")
    _, (doc,) = read_all([path], url_column="link")
    assert doc.url == "https://example.org/a" and "link" not in doc.meta


def test_bad_jsonl_rows_are_malformed_and_the_rest_survives():
    _, items = read_all([BAD / "invalid_json.jsonl"])
    reasons = [i.reason for i in items if isinstance(i, Malformed)]
    assert sorted(reasons) == ["invalid_json", "missing_text", "not_an_object"]
    assert sum(isinstance(i, Document) for i in items) >= 4


def test_escaped_lone_surrogate_is_invalid_utf8():
    _, items = read_all([BAD / "lone_surrogate.jsonl"], lang="es")
    (bad,) = [i for i in items if isinstance(i, Malformed)]
    assert bad.reason == "invalid_utf8" and "surrogate" in bad.detail
    docs = [i for i in items if isinstance(i, Document)]
    assert len(docs) == 2 and all(doc.nbytes for doc in docs)


def test_not_a_dataset_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(RootsError, match="not a dataset file"):
        dataset_files([str(tmp_path / "notes.txt")], None, None, "train", "test")


def test_corrupt_arrow_file_is_an_error_naming_it(tmp_path):
    (tmp_path / "broken.arrow").write_bytes(b"\xff\xff\xff\xff garbage")
    with pytest.raises(RootsError, match="broken.arrow"):
        read_all([tmp_path / "broken.arrow"])


def test_oversized_text_is_malformed(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"text": "x" * 3000}) + "\n" + json.dumps({"text": "court"}) + "\n")
    _, items = read_all([path], limits=Limits(max_record_mb=0.001))
    assert [type(i).__name__ for i in items] == ["Malformed", "Document"]
    assert items[0].reason == "record_too_large"


def test_hub_name_reads_the_cached_arrow_files(monkeypatch):
    """Offline stand-in for the hub: `load_dataset` returns a dataset whose cache files are local."""
    calls = []

    def fake_load_dataset(name, config, split):
        calls.append((name, config, split))
        return datasets.load_from_disk(str(DEMO / "catalogue" / "manpages_vi"))

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    files = dataset_files([], "someone/manpages", "vi", "train", "test")
    assert calls == [("someone/manpages", "vi", "train")]
    splits = plan_splits(files, "manpages", "vi", "text", None, Limits(), "test")
    assert sum(1 for s in splits for _ in s.read()) == 117


def test_hub_failure_is_one_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach the hub")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(RootsError, match="cannot load hub dataset 'x/y'.*Couldn't reach"):
        dataset_files([], "x/y", None, "train", "test")


def test_compressed_jsonl_bom_and_wrong_text_field(tmp_path):
    import gzip

    rows = (DEMO / "catalogue_files" / "chatterbot_zh" / "data.jsonl").read_bytes()
    (tmp_path / "zh.jsonl.gz").write_bytes(gzip.compress(b"\xef\xbb\xbf" + rows, mtime=0))
    _, items = read_all([tmp_path / "zh.jsonl.gz"], lang="zh", text_column="content")
    assert len(items) == 78 and all(isinstance(i, Document) for i in items)
    with pytest.raises(RootsError, match=r"text_column: .* no field 'text' \(first record has: content"):
        read_all([tmp_path / "zh.jsonl.gz"], lang="zh")
    (tmp_path / "array.json").write_text('[{"text": "a"}]')
    with pytest.raises(RootsError, match="JSON array"):
        read_all([tmp_path / "array.json"])


def test_same_file_names_in_two_folders_get_distinct_ids(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "data.jsonl").write_text(json.dumps({"text": f"texte {sub}"}) + "\n")
    _, docs = read_all([tmp_path / "a" / "data.jsonl", tmp_path / "b" / "data.jsonl"])
    assert [d.meta["file"] for d in docs] == ["a/data.jsonl", "b/data.jsonl"]
    assert docs[0].id != docs[1].id


def test_oversized_arrow_text_is_malformed_without_losing_its_neighbours(tmp_path):
    table = pa.table({"text": ["court", "x" * 5000, "aussi court"], "title": ["a", "b", "c"]})
    path = tmp_path / "t.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    _, items = read_all([path], limits=Limits(max_record_mb=0.001))
    assert [type(i).__name__ for i in items] == ["Document", "Malformed", "Document"]
    assert items[2].meta == {"file": "t.arrow", "row": 2, "title": "c"}


def test_unreadable_compressed_jsonl_is_one_clear_error(tmp_path):
    (tmp_path / "x.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd garbage")
    with pytest.raises(RootsError, match="cannot read .*x.jsonl.zst"):
        read_all([tmp_path / "x.jsonl.zst"])
