"""A file's language from its path: OSCAR's names, plain `<lang>.jsonl`, Hub shards and `<lang>/`
folders; names that are not language codes, or only look like one, leave it undetermined."""

from __future__ import annotations

import gzip
import json

import pytest

from roots_pipeline.document import Document
from roots_pipeline.sources.file_language import file_language
from roots_pipeline.sources.files import Limits, match_files
from roots_pipeline.sources.oscar import OscarSplit
from tests.conftest import DEMO


@pytest.mark.parametrize("path, lang", [
    # OSCAR's forms, as before: any code of the table, aliases and scripts included
    ("fr_part_1.jsonl.gz", "fr"), ("fr_meta_part_12.jsonl.zst", "fr"), ("zh_Hant_part_1.jsonl", "zh_Hant"),
    ("eng_part_1.jsonl", "en"), ("en_meta/en_meta_part_3.jsonl.zst", "en"), ("es_meta.jsonl", None),
    ("xx_part_1.jsonl", None),
    # a plain name, up to its first dot
    ("en.jsonl", "en"), ("en.jsonl.gz", "en"), ("ar.json.zst", "ar"), ("corpus/fr.jsonl", "fr"),
    ("zh_Hant.jsonl", "zh_Hant"), ("sr-Cyrl.jsonl", "sr_Cyrl"),
    # a locale: the region is dropped
    ("en_US.jsonl", "en"), ("pt-BR.jsonl.gz", "pt"), ("es_419.jsonl", "es"), ("en_us.jsonl", "en"),
    # Hugging Face shards
    ("en-00001-of-00010.jsonl", "en"), ("pt_BR-00000-of-00002.jsonl.zst", "pt"),
    ("train-00000-of-00001.jsonl", None), ("val-00000-of-00001.jsonl", None),
    # the folder holding the file; the file's own name first
    ("/data/en/part-0.jsonl", "en"), ("gs://bucket/fr/part-0.jsonl.gz", "fr"), ("./en/./x.jsonl", "en"),
    ("/data/en/fr.jsonl", "fr"), ("/data/data/part-0.jsonl", None), ("part-0.jsonl", None),
    # not codes, or codes only by accident: three-letter words, country codes, words after a code
    ("dev.jsonl", None), ("val.jsonl", None), ("all.jsonl", None), ("/data/raw/part-0.jsonl", None),
    ("/data/new/part-0.jsonl", None), ("eng.jsonl", None), ("EN.jsonl", None), ("CA.jsonl", None),
    ("de_data.jsonl", None), ("und.jsonl", None), ("en", "en"), ("", None), ("xx.jsonl", None),
    ("../../etc.jsonl", None), ("/etc/passwd", None),
])
def test_file_language(path, lang):
    assert file_language(path) == lang


def write_lines(path, source):
    """Copy an OSCAR 21.09 demo file under another name, without the records' WARC language
    headers: only the path can then name the language."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    for record in records:
        record["meta"]["headers"].pop("warc-identified-content-language", None)
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")


def test_files_named_by_language_are_read_under_it(tmp_path):
    write_lines(tmp_path / "corpus" / "en.jsonl", DEMO / "oscar" / "en_part_1.jsonl.gz")
    write_lines(tmp_path / "corpus" / "zh" / "part-0.jsonl", DEMO / "oscar" / "zh_part_1.jsonl.gz")
    write_lines(tmp_path / "corpus" / "data" / "part-0.jsonl", DEMO / "oscar" / "id_part_1.jsonl.gz")
    files = match_files([str(tmp_path / "corpus" / "*.jsonl"), str(tmp_path / "corpus" / "*" / "*.jsonl")],
                        "test")
    langs = {}
    for file in files:
        docs = [d for d in OscarSplit(file, "oscar", None, Limits()).read() if isinstance(d, Document)]
        assert docs
        langs[file.name] = {d.lang for d in docs}
    assert langs == {"en.jsonl": {"en"}, "zh/part-0.jsonl": {"zh"}, "data/part-0.jsonl": {"und"}}
