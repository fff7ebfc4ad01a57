"""OSCAR dumps: both layouts, every compression, and every kind of damage seen in the wild."""

from __future__ import annotations

import json

import pytest

from roots_pipeline.document import Document, Malformed, Note
from roots_pipeline.sources.files import Limits, match_files
from roots_pipeline.sources.oscar import OscarSplit, parse_record
from tests.conftest import BAD, DEMO


def read(path, lang=None, limits=None):
    (file,) = match_files([str(path)], "test")
    return list(OscarSplit(file, "oscar", lang, limits or Limits()).read())


def docs_of(items):
    return [i for i in items if isinstance(i, Document)]


def malformed_of(items):
    return [i for i in items if isinstance(i, Malformed)]


def test_2109_layout_keeps_url_language_and_ids():
    items = read(DEMO / "oscar" / "en_part_1.jsonl.gz")
    docs = docs_of(items)
    assert docs and not malformed_of(items)
    first = docs[0]
    assert first.lang == "en" and first.source == "oscar"
    assert first.url.startswith("http")
    assert first.meta["file"] == "en_part_1.jsonl.gz" and first.meta["line"] == 1
    assert len({d.id for d in docs}) == len(docs)
    assert [d.id for d in docs_of(read(DEMO / "oscar" / "en_part_1.jsonl.gz"))] == [d.id for d in docs]


@pytest.mark.parametrize("name, lang", [("es_meta_part_1.jsonl.gz", "es"),
                                        ("fr_meta_part_1.jsonl.zst", "fr")])
def test_2201_layout_gz_and_zst(name, lang):
    items = read(DEMO / "oscar" / name)
    docs = docs_of(items)
    assert docs and not malformed_of(items)
    assert {d.lang for d in docs} == {lang}
    assert all(d.url and d.text for d in docs)
    assert all("lang_prob" in d.meta for d in docs)


def test_language_from_metadata_when_the_file_name_has_none(tmp_path):
    line = (DEMO / "oscar" / "es_meta_part_1.jsonl.gz")
    import gzip

    with gzip.open(line, "rt", encoding="utf-8") as handle:
        record = json.loads(handle.readline())
    target = tmp_path / "dump.jsonl"
    record["metadata"]["identification"]["label"] = "pt"
    target.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (doc,) = docs_of(read(target))
    assert doc.lang == "pt"
    assert docs_of(read(target, lang="ca"))[0].lang == "ca"


def test_unknown_language_label_becomes_und_with_a_note(tmp_path):
    target = tmp_path / "dump.jsonl"
    target.write_text(json.dumps({"content": "texte", "warc_headers": {},
                                  "metadata": {"identification": {"label": "../../etc", "prob": 1}}}) + "\n")
    items = read(target)
    assert docs_of(items)[0].lang == "und"
    assert [n.reason for n in items if isinstance(n, Note)] == ["unknown_language_label"]


def test_invalid_json_lines_are_malformed_with_offsets_and_the_rest_is_read():
    items = read(BAD / "invalid_json.jsonl")
    reasons = [m.reason for m in malformed_of(items)]
    assert reasons == ["invalid_json", "not_an_object", "missing_text"]
    raw = (BAD / "invalid_json.jsonl").read_bytes()
    for record in malformed_of(items):
        assert record.offset == 0 or raw[record.offset - 1:record.offset] == b"\n"
        assert record.file == "invalid_json.jsonl" and "line" in record.detail
    assert len(docs_of(items)) == raw.count(b"\n") - 3


def test_invalid_utf8_line():
    items = read(BAD / "invalid_utf8.jsonl")
    (bad,) = malformed_of(items)
    assert bad.reason == "invalid_utf8"
    assert len(docs_of(items)) >= 2


def test_truncated_gzip_keeps_the_complete_lines_before_the_damage():
    items = read(BAD / "truncated.jsonl.gz")
    assert docs_of(items), "lines before the truncation must survive"
    assert malformed_of(items)[-1].reason == "truncated_file"
    assert isinstance(items[-1], Malformed)


def test_not_gzip_and_corrupt_zstd_are_malformed_not_crashes():
    (bad,) = malformed_of(read(BAD / "not_gzip.jsonl.gz"))
    assert bad.reason == "corrupt_compression" and bad.offset == 0
    items = read(BAD / "corrupt.jsonl.zst")
    assert isinstance(items[-1], Malformed)
    assert items[-1].reason in ("corrupt_compression", "truncated_file")


def test_missing_file_is_malformed(tmp_path):
    path = tmp_path / "gone.jsonl"
    path.write_text("{}\n")
    (file,) = match_files([str(path)], "test")
    path.unlink()
    (bad,) = OscarSplit(file, "oscar", None, Limits()).read()
    assert bad.reason == "unreadable_file"


def test_oversized_record_is_counted_without_being_loaded():
    items = read(BAD / "huge_line.jsonl.gz", limits=Limits(max_record_mb=1))
    (big,) = malformed_of(items)
    assert big.reason == "record_too_large"
    assert len(docs_of(items)) == 2  # the lines on either side survive


def test_decompression_bomb_stops_the_file():
    items = read(BAD / "bomb.jsonl.gz", limits=Limits(decompression_check_mb=8))
    last = items[-1]
    assert isinstance(last, Malformed) and last.reason == "decompression_limit"
    assert last.offset < 64 * 1024 * 1024  # far short of the 210 MB it would expand to


def test_parse_record_rejects_non_string_text():
    from roots_pipeline.sources.files import InputFile

    result = parse_record(b'{"text": 12}', InputFile("f", "f", 1), 1, 0, "oscar", "fr")
    assert isinstance(result, Malformed) and result.reason == "missing_text"


def test_inputs_are_named_relative_to_their_common_folder(tmp_path):
    source = (DEMO / "oscar" / "en_part_1.jsonl.gz").read_bytes()
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "en_part_1.jsonl.gz").write_bytes(source)
    files = match_files([f"{tmp_path}/a/*.gz", f"{tmp_path}/b/*.gz"], "test")
    assert [f.name for f in files] == ["a/en_part_1.jsonl.gz", "b/en_part_1.jsonl.gz"]
    ids = [d.id for f in files for d in docs_of(OscarSplit(f, "oscar", None, Limits()).read())]
    assert len(set(ids)) == len(ids)


def test_folders_and_wrong_kinds_of_file_are_refused_before_the_run():
    from roots_pipeline.errors import RootsError

    with pytest.raises(RootsError, match="is a folder"):
        match_files([str(DEMO / "oscar")], "test")
    with pytest.raises(RootsError, match="is not a .jsonl"):
        match_files([str(DEMO / "pseudo_crawl" / "seeds.txt")], "test", (".jsonl", ".jsonl.gz"))


@pytest.mark.parametrize("line", [
    '{"content": "x", "warc_headers": "s"}',
    '{"content": "x", "metadata": {"identification": {"label": 5, "prob": "high"}}}',
    '{"content": "x", "metadata": [], "warc_headers": {"warc-target-uri": 123}}',
    '{"text": "x", "meta": {"headers": ["a"]}}',
])
def test_metadata_of_the_wrong_type_is_ignored_not_fatal(tmp_path, line):
    path = tmp_path / "dump.jsonl"
    path.write_text(line + "\n")
    (doc,) = read(path)
    assert isinstance(doc, Document) and doc.text == "x" and doc.url is None and doc.lang == "und"


def test_deeply_nested_json_is_malformed(tmp_path):
    path = tmp_path / "dump.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n" + '{"text": "ok"}\n')
    bad, good = read(path)
    assert isinstance(bad, Malformed) and bad.reason == "invalid_json" and good.text == "ok"


def test_escaped_lone_surrogate_is_invalid_utf8_and_a_surrogate_pair_is_text():
    items = read(BAD / "lone_surrogate.jsonl", lang="es")
    (bad,) = malformed_of(items)
    assert bad.reason == "invalid_utf8" and "line 2" in bad.detail and "surrogate" in bad.detail
    docs = docs_of(items)
    assert len(docs) == 2 and docs[1].text.startswith("\U0001F600 1.2.")
    assert all(doc.nbytes for doc in docs)  # every kept text encodes as UTF-8
