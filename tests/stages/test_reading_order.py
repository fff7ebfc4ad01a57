"""Every dedup stage keeps the first copy in reading order: sources in recipe order, files in sorted
path order, records by position in a file — never the smallest id, which is a hash.

The corpus is two OSCAR sources of real English text (the demo's), each of several files, with
copies planted so that for every group the first copy in reading order has a *larger* id than a
later one: a stage that kept the smallest id would keep the wrong one.
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from roots_pipeline.document import document_id, file_order, reading_order
from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import run_recipe
from roots_pipeline.sources.files import InputFile
from roots_pipeline.sources.oscar import parse_record
from tests.dedup.test_minhash import EN

# (source dataset, file name) in reading order: source `first` precedes `second` in the recipe.
FILES = [("first", "en_part_1.jsonl"), ("first", "en_part_2.jsonl"), ("second", "en_part_1.jsonl")]


def _oscar_id(dataset: str, name: str, line: int) -> str:
    return document_id("oscar", dataset, name, line)


def _plant(texts: list[str]) -> dict[tuple[str, str], list[str]]:
    """Return the lines of each file: every text once, then a copy of a text placed so that the
    copy read later has the smaller id."""
    lines: dict[tuple[str, str], list[str]] = {key: [] for key in FILES}
    for index, text in enumerate(texts):
        lines[FILES[index % len(FILES)]].append(text)
    return lines


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, str], list[tuple[str, str]]]:
    """Write the files; return (folder, text of every id, (first id, later id) of every planted pair)."""
    folder = tmp_path_factory.mktemp("order")
    unique = [text for text in EN if len(text) > 400][:24]
    lines = _plant(unique)
    pairs: list[tuple[str, str]] = []
    # For each unique text placed in an earlier file, copy it to a later position whose id is
    # smaller than the original's, trying later files and line numbers until one is.
    for (dataset, name), texts in list(lines.items()):
        for line_index, text in enumerate(list(texts)):
            first = _oscar_id(dataset, name, line_index + 1)
            later_files = FILES[FILES.index((dataset, name)):]
            for target in later_files:
                line = len(lines[target]) + 1
                if (target != (dataset, name) or line > line_index + 1) and \
                        _oscar_id(*target, line) < first:
                    lines[target].append(text)
                    pairs.append((first, _oscar_id(*target, line)))
                    break
    texts_of = {}
    for (dataset, name), texts in lines.items():
        path = folder / dataset / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
        texts_of.update({_oscar_id(dataset, name, i + 1): t for i, t in enumerate(texts)})
    assert len(pairs) >= 6, "the corpus must plant copies whose later id is smaller"
    return folder, texts_of, pairs


def run(folder: Path, out: Path, stage: str) -> Path:
    recipe = folder / f"{stage}.yaml"
    recipe.write_text(f"""\
name: order
output: {out}
sources:
  - {{kind: oscar, dataset: first, lang: en, paths: ["{folder}/first/*.jsonl"]}}
  - {{kind: oscar, dataset: second, lang: en, paths: ["{folder}/second/*.jsonl"]}}
stages:
  - {stage}
""", encoding="utf-8")
    run_recipe(load_recipe(str(recipe)), [], show_progress=False)
    return out


def rows(out: Path, kind: str) -> list[dict]:
    folder = out / kind / "en"
    return list(datasets.load_from_disk(str(folder))) if folder.is_dir() else []


def test_the_order_key_sorts_sources_then_files_then_positions():
    keys = [reading_order(file_order(s, f), p) for s, f, p in
            [(0, 0, 5), (0, 0, 900), (0, 1, 0), (0, 2**20, 7), (1, 0, 0), (3, 2, 2**40)]]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_documents_carry_their_reading_order(tmp_path):
    file = InputFile("x.jsonl", "x.jsonl", 10, order=file_order(2, 3))
    doc = parse_record(b'{"text": "a"}', file, 7, 0, "oscar", "en")
    assert doc.order == reading_order(file_order(2, 3), 7)


@pytest.mark.parametrize("stage", ["dedup_document", "minhash_dedup"])
def test_a_dedup_stage_keeps_the_first_copy_in_reading_order(corpus, tmp_path, stage):
    folder, _, pairs = corpus
    out = run(folder, tmp_path / stage, stage)
    kept = {row["id"] for row in rows(out, "data")}
    removed = {row["id"]: json.loads(row["meta"])["duplicate_of"] for row in rows(out, "rejects")}
    for first, later in pairs:
        assert first in kept and removed.get(later) == first, (first, later)


def test_the_url_dedup_keeps_the_first_copy_in_reading_order(corpus, tmp_path):
    folder, texts_of, pairs = corpus
    # The same URL on both copies of each pair: give every line a URL, shared by the pair.
    copy = tmp_path / "with_urls"
    for dataset, name in FILES:
        source = folder / dataset / name
        target = copy / dataset / name
        target.parent.mkdir(parents=True, exist_ok=True)
        url_of_text = {t: f"https://example.org/{n}" for n, t in enumerate(sorted(set(texts_of.values())))}
        lines = [json.loads(line)["text"] for line in source.read_text(encoding="utf-8").splitlines()]
        records = [{"content": t, "warc_headers": {"warc-target-uri": url_of_text[t]}} for t in lines]
        target.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    out = run(copy, tmp_path / "url", "dedup_document_on_url")
    removed = {row["id"]: json.loads(row["meta"])["duplicate_of"] for row in rows(out, "rejects")}
    for first, later in pairs:
        assert removed.get(later) == first


def test_the_substring_dedup_cuts_the_later_copy(corpus, tmp_path):
    folder, texts_of, pairs = corpus
    out = run(folder, tmp_path / "substrings", "suffix_array_dedup")
    kept = {row["id"]: row["text"] for row in rows(out, "data")}
    emptied = {row["id"] for row in rows(out, "rejects") if not row["text"].strip()}
    for first, later in pairs:
        # The later copy loses all of its text; the first keeps most of it (it may share a few
        # sentences with other texts read before it).
        assert later in emptied and len(kept[first]) > len(texts_of[first]) / 2, (first, later)
