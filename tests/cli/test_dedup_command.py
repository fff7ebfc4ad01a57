"""`roots dedup`: one dedup stage on JSON lines or a run folder, survivors and duplicates out."""

from __future__ import annotations

import gzip
import json

import pytest

from roots_pipeline.cli.main import main
from tests.conftest import DEMO


def english_documents() -> list[str]:
    with gzip.open(DEMO / "oscar" / "en_part_1.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """30 real documents with their own ids and a field to keep, and 4 copies that differ only
    in whitespace and digits (what ROOTS's normalised hash ignores)."""
    texts = english_documents()[:30]
    path = tmp_path_factory.mktemp("dedup") / "en.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            out.write(json.dumps({"id": f"doc{i}", "content": text, "tag": i % 3}) + "\n")
        for i in range(4):
            copy = texts[i].replace(" ", "  ") + " 2024"
            out.write(json.dumps({"id": f"copy{i}", "content": copy, "tag": "copy"}) + "\n")
    return path


def read_lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def exact_run(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "exact"
    code = main(["dedup", "--method", "exact", "--lang", "en", "--text-field", "content", "--quiet",
                 str(corpus), str(out)])
    assert code == 0
    return out


def test_exact_copies_are_listed_with_their_survivor_and_survivors_keep_every_field(corpus, exact_run):
    survivors = read_lines(exact_run / "survivors.jsonl")
    duplicates = read_lines(exact_run / "duplicates.jsonl")
    assert len(survivors) == 30 and len(duplicates) == 4
    pairs = {frozenset((d["id"], d["duplicate_of"])) for d in duplicates}
    assert pairs == {frozenset((f"doc{i}", f"copy{i}")) for i in range(4)}
    originals = {record["id"]: record for record in read_lines(corpus)}
    for record in survivors:
        assert record == originals[record["id"]]  # every field, unchanged
    stats = json.loads((exact_run / "stats.json").read_text())
    (entry,) = stats["entries"]
    assert entry["in"]["docs"] == 34 and entry["duplicate"]["docs"] == 4


def test_a_run_folder_is_an_input_too(exact_run, tmp_path, capsys):
    out = tmp_path / "lines"
    code = main(["dedup", "--method", "lines", "--min-occurrences", "3", "--quiet", str(exact_run), str(out)])
    assert code == 0
    changed = read_lines(out / "duplicates.jsonl")
    assert changed and all(entry["lines_removed"] >= 1 for entry in changed)
    survivors = read_lines(out / "survivors.jsonl")
    assert len(survivors) == 30 and {record["lang"] for record in survivors} == {"en"}
    before = {record["id"]: record["content"] for record in read_lines(exact_run / "survivors.jsonl")}
    removed = {entry["id"]: entry["lines_removed"] for entry in changed}
    for record in survivors:  # a shard row: the first run's id, its metadata with the user's id
        original = before[json.loads(record["meta"])["id"]]
        lost = removed.get(record["id"], 0)
        assert len(record["text"].split("\n")) == len(original.split("\n")) - lost
    assert "removed or changed" in capsys.readouterr().out


def test_empty_input_has_a_ledger_and_a_warning(tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code = main(["dedup", "--method", "exact", "--lang", "fr", "--quiet", str(empty), str(tmp_path / "out")])
    assert code == 0
    assert "warning: no document was read" in capsys.readouterr().err
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert [(e["source"], e["dataset"], e["lang"], e["in"]["docs"]) for e in stats["entries"]] == [
        ("catalogue", "empty", "fr", 0)]
    assert (tmp_path / "out" / "survivors.jsonl").read_text() == ""


@pytest.mark.parametrize("args, problem", [
    (["--method", "exact", "--threshold", "0.5", "--lang", "en"], "--threshold applies to --method minhash"),
])
def test_bad_arguments(corpus, tmp_path, capsys, args, problem):
    code = main(["dedup", *args, str(corpus), str(tmp_path / "out")])
    assert code == 2 and problem in capsys.readouterr().err


def test_output_must_not_be_the_input(exact_run, capsys):
    code = main(["dedup", "--method", "exact", str(exact_run), str(exact_run)])
    assert code == 2 and "must not be the input" in capsys.readouterr().err


def test_near_duplicates_and_repeated_substrings(tmp_path):
    """Near-copies (one word changed in a long text) go with minhash; a paragraph shared by three
    documents is cut by the suffix array from all but one of them."""
    texts = english_documents()
    long = [text for text in texts if len(text.split()) > 200][:6]
    others = [text for text in texts if text not in long][:3]
    shared = next(line for line in texts[-1].split("\n") if len(line.encode()) > 80)
    path = tmp_path / "docs.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i, text in enumerate(long):
            out.write(json.dumps({"id": f"doc{i}", "text": text}) + "\n")
        for i, text in enumerate(long[:3]):
            words = text.split(" ")
            words[len(words) // 2] = "changed"
            out.write(json.dumps({"id": f"near{i}", "text": " ".join(words)}) + "\n")
        for i, text in enumerate(others):
            out.write(json.dumps({"id": f"quote{i}", "text": f"{text}\n{shared}"}) + "\n")
    near = tmp_path / "near"
    assert main(["dedup", "--method", "minhash", "--lang", "en", "--quiet", str(path), str(near)]) == 0
    removed = read_lines(near / "duplicates.jsonl")
    assert {frozenset((d["id"], d["duplicate_of"])) for d in removed} == {
        frozenset((f"doc{i}", f"near{i}")) for i in range(3)}
    assert all(d["cluster"] == d["duplicate_of"] for d in removed)
    cut = tmp_path / "cut"
    assert main(["dedup", "--method", "suffix-array", "--lang", "en", "--quiet", str(path), str(cut)]) == 0
    changed = {d["id"]: d for d in read_lines(cut / "duplicates.jsonl")}
    for i in range(3):  # of a text and its near-copy, the one read later loses what they share
        cut_chars = [sum(end - start for start, end in changed.get(name, {}).get("removed_spans", []))
                     for name in (f"doc{i}", f"near{i}")]
        assert max(cut_chars) > 0.9 * len(long[i])
    survivors = {r["id"]: r["text"] for r in read_lines(cut / "survivors.jsonl")}
    quotes = [f"quote{i}" for i in range(3)]
    assert sum(shared in survivors.get(q, "") for q in quotes) == 1
    assert sum("removed_spans" in changed.get(q, {}) for q in quotes) == 2


def test_without_lang_each_document_is_deduplicated_under_its_identified_language(tmp_path):
    # English and Indonesian real documents, and a copy of each of the first three of each,
    # written *before* its original: the first in line order survives, and copies are only
    # looked for within a language.
    with gzip.open(DEMO / "oscar" / "id_part_1.jsonl.gz", "rt", encoding="utf-8") as lines:
        indonesian = [json.loads(line)["text"] for line in lines][:10]
    english = english_documents()[:10]
    path = tmp_path / "mixed.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for lang, texts in (("en", english), ("id", indonesian)):
            for i in range(3):
                out.write(json.dumps({"id": f"{lang}-copy{i}", "text": texts[i] + " 2025"}) + "\n")
        for lang, texts in (("en", english), ("id", indonesian)):
            for i, text in enumerate(texts):
                out.write(json.dumps({"id": f"{lang}{i}", "text": text}) + "\n")
    out_dir = tmp_path / "out"
    assert main(["dedup", "--method", "exact", "--quiet", str(path), str(out_dir)]) == 0
    duplicates = {d["id"]: d["duplicate_of"] for d in read_lines(out_dir / "duplicates.jsonl")}
    assert duplicates == {f"{lang}{i}": f"{lang}-copy{i}" for lang in ("en", "id") for i in range(3)}
    stats = json.loads((out_dir / "stats.json").read_text())
    kept = {e["lang"]: e["kept"]["docs"] for e in stats["entries"] if e["kept"]["docs"]}
    assert kept == {"en": 10, "id": 10}
