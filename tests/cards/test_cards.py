"""Data cards of a small real run: every number matches the ledger, figures are PNG images, the
Hugging Face headers parse, and a language without documents is shown, not left out."""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import struct
from collections import defaultdict
from pathlib import Path

import datasets
import matplotlib.image
import pytest
import yaml
from huggingface_hub import DatasetCard

from roots_pipeline.cards import read_token_counts, write_cards
from roots_pipeline.cards.facts import corpus_facts, stage_of, steps
from roots_pipeline.cards.hub import hub_license, size_category
from roots_pipeline.cli import card as card_command
from roots_pipeline.cli.card import cards_after_run
from roots_pipeline.cli.card import run as card
from roots_pipeline.errors import RootsError
from roots_pipeline.lang.identify import resolve_model
from roots_pipeline.ledger import is_duplicate
from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import run_recipe
from tests.conftest import DEMO

OUTCOMES = ("in", "relabelled_in", "kept", "rejected", "duplicate", "malformed", "relabelled_out")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def recipe_text(folder: Path) -> dict:
    """A recipe on real demo files: a catalogue dataset, an empty one (sw), OSCAR en and hi (hi loses
    every document to the word-count filter) and a WARC file whose pages language_id relabels."""
    return {
        "name": "cardtest",
        "output": str(folder / "run"),
        "sources": [
            {"kind": "catalogue", "dataset": "chatterbot_bn", "lang": "bn",
             "paths": [str(DEMO / "catalogue" / "chatterbot_bn")], "license": "BSD-3-Clause",
             "speaker_locations": ["Bangladesh", "India"],
             "description": "Bengali ChatterBot conversations | one file per document"},
            {"kind": "catalogue", "dataset": "empty_sw", "lang": "sw",
             "paths": [str(folder / "empty.jsonl")]},
            {"kind": "oscar", "paths": [str(DEMO / "oscar" / "en_part_1.jsonl.gz"),
                                        str(DEMO / "oscar" / "hi_part_1.jsonl.gz")],
             "license": "GPL-2.0-or-later"},
            {"kind": "pseudo_crawl", "paths": [str(DEMO / "pseudo_crawl" / "crawl-00001.warc.gz")],
             "seeds": str(DEMO / "pseudo_crawl" / "seeds.txt")},
        ],
        "stages": ["clean_text", {"remove_small_docs": {"min_bytes": 64}},
                   {"dedup_document": {"sources": ["catalogue"]}},
                   {"language_id": {"sources": ["catalogue", "pseudo_crawl"]}},
                   {"quality_filter": {"sources": ["oscar"]}}, {"pii_redaction": {"sources": ["oscar"]}}],
    }


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cards")
    (folder / "empty.jsonl").write_bytes(b"")
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe_text(folder)), encoding="utf-8")
    run = folder / "run"
    run_recipe(load_recipe(str(folder / "recipe.yaml")), [], show_progress=False)
    stale = run / "cards" / "zz"  # cards of an earlier run: a rewrite must not leave them behind
    stale.mkdir(parents=True)
    (run / "cards" / "corpus.json").write_text("{}")
    parser = argparse.ArgumentParser()
    card_command.add_parser(parser.add_subparsers())
    assert card(parser.parse_args(["card", str(run)]), []) == 0
    stats = json.loads((run / "stats.json").read_text())
    return run, stats


def corpus(run: Path) -> dict:
    return json.loads((run / "cards" / "corpus.json").read_text())


def by_language(stats: dict) -> dict[str, list[dict]]:
    groups = defaultdict(list)
    for entry in stats["entries"]:
        groups[entry["lang"]].append(entry)
    return groups


def total(entries: list[dict], outcome: str, unit: str = "docs") -> int:
    return sum(entry[outcome][unit] for entry in entries)


def test_language_rows_match_the_ledger(cards):
    run, stats = cards
    rows = {row["lang"]: row for row in corpus(run)["languages"]}
    assert set(rows) == set(by_language(stats)) | {"sw"}
    for lang, entries in by_language(stats).items():
        row = rows[lang]
        for outcome in OUTCOMES:
            expected = {"docs": total(entries, outcome), "bytes": total(entries, outcome, "bytes")}
            assert row[outcome] == expected
        documents = sum(total(entries, outcome) for outcome in ("kept", "rejected", "duplicate"))
        assert row["documents"] == documents == (row["in"]["docs"] + row["relabelled_in"]["docs"]
                                                 - row["relabelled_out"]["docs"] - row["malformed"]["docs"])
        removed = total(entries, "rejected") + total(entries, "duplicate")
        assert row["removed_share"] == (round(removed / documents, 6) if documents else None)
    assert rows["hi"]["kept"]["docs"] == 0 and rows["hi"]["removed_share"] == 1.0
    # The crawl's pages are read as `und` and end where language_id put them.
    moved_in = sum(row["relabelled_in"]["docs"] for row in rows.values())
    assert rows["und"]["relabelled_out"]["docs"] == moved_in > 0
    assert rows["en"]["relabelled_in"]["docs"] > 0 and rows["und"]["relabelled_in"]["docs"] == 0


def test_cards_show_each_language_read_relabelled_and_ended(cards):
    run, stats = cards
    text = (run / "cards" / "README.md").read_text()
    en = corpus(run)["languages"][[row["lang"] for row in corpus(run)["languages"]].index("en")]
    read, moved = en["in"]["docs"], en["relabelled_in"]["docs"]
    assert f"| en | English | roots | {read:,} | +{moved:,} | 0 | {read + moved:,} | " in text
    card = (run / "cards" / "en" / "README.md").read_text()
    assert f"| + relabelled in (identified as this language after reading) | {moved:,} |" in card
    assert f"| = documents (kept + rejected + duplicate) | {read + moved:,} |" in card
    crawl = json.loads((run / "cards" / "en" / "pseudo_crawl-pseudo_crawl.json").read_text())
    step = next(row for row in crawl["steps"] if row["step"] == "language_id")
    assert step["before"] == 0 and step["relabelled_in"] == moved and step["after"] == moved
    assert crawl["steps"][0]["before"] == 0 and crawl["steps"][-1]["after"] == crawl["sizes"]["kept"]["docs"]


def test_ledger_steps_filters_dedup_and_pii_match_the_ledger(cards):
    run, stats = cards
    facts = corpus(run)
    assert facts["ledger"] == stats["entries"] and facts["balance"] == stats["balance"]
    for outcome in OUTCOMES:
        assert facts["sizes"][outcome]["docs"] == total(stats["entries"], outcome)
    removed = defaultdict(int)
    for entry in stats["entries"]:
        for outcome in ("rejected", "duplicate"):
            for reason, count in entry[outcome].get("by_reason", {}).items():
                removed[stage_of(reason)] += count["docs"]
        removed["read"] += entry["malformed"]["docs"]
    funnel = {row["step"]: row for row in facts["steps"]}
    assert {step: row["rejected"]["docs"] + row["duplicate"]["docs"] for step, row in funnel.items()
            if row["rejected"]["docs"] + row["duplicate"]["docs"]} == {k: v for k, v in removed.items() if v}
    assert facts["steps"][-1]["after"] == facts["sizes"]["kept"]["docs"]
    for before, after in zip(facts["steps"], facts["steps"][1:], strict=False):
        assert after["before"] == before["after"]
    for lang, entries in by_language(stats).items():
        fails = defaultdict(int)
        for entry in entries:
            for reason, count in entry["fails"].items():
                if not is_duplicate(reason):
                    fails[reason] += count["docs"]
        assert {row["reason"]: row["docs"] for row in facts["removed_by_filter_by_language"][lang]} == fails
    # quality_filter saw the OSCAR documents that remove_small_docs left: each filter's share is over them
    en_oscar = next(e for e in stats["entries"] if (e["source"], e["lang"]) == ("oscar", "en"))
    seen = en_oscar["in"]["docs"] - en_oscar["rejected"].get("by_reason", {}).get(
        "remove_small_docs:under_64_bytes", {"docs": 0})["docs"]
    en_rows = facts["removed_by_filter_by_language"]["en"]
    assert all(row["seen"] == seen for row in en_rows if row["step"] == "quality_filter")
    pii = defaultdict(int)
    for entry in stats["entries"]:
        for note, count in entry["notes"].items():
            if note.startswith("pii_redaction:"):
                pii[note.split(":")[1]] += count
    assert facts["pii"] == pii and pii
    dedup = {row["step"]: row["duplicate"]["docs"] for row in facts["dedup"]}
    assert dedup == {"dedup_document": total(stats["entries"], "duplicate")}


def test_markdown_prints_the_ledger_numbers(cards):
    run, stats = cards
    text = (run / "cards" / "README.md").read_text()
    for entry in stats["entries"]:
        cells = [entry["source"], entry["dataset"], entry["lang"],
                 *(f"{entry[o]['docs']:,}" for o in OUTCOMES)]
        assert "| " + " | ".join(cells) + " |" in text
    for lang, entries in by_language(stats).items():
        kept = total(entries, "kept")
        megabytes = total(entries, "kept", "bytes") / 1e6
        assert f"| {lang} | " in text and f"| {kept:,} | {megabytes:,.2f} |" in text
    assert "| sw | Swahili (macrolanguage) | fineweb2 | 0 | 0 | 0 | no documents | 0 |" in text
    assert (run / "README.md").read_text().count("](cards/") >= len(by_language(stats))  # Hub copy links in


def test_a_language_without_documents_has_its_card(cards):
    run, _ = cards
    sw = json.loads((run / "cards" / "sw" / "card.json").read_text())
    assert sw["sizes"]["documents"] == 0 and sw["datasets"][0]["dataset"] == "empty_sw"
    assert "This language has no documents in this run." in (run / "cards" / "sw" / "README.md").read_text()
    assert not (run / "cards" / "zz").exists()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", path
    return struct.unpack(">II", data[16:24])


def test_figures_exist_and_are_images(cards):
    run, _ = cards
    folder = run / "cards"
    cards_json = [folder / "corpus.json", *folder.glob("*/*.json")]
    referenced = set()
    for path in cards_json:
        for relative in json.loads(path.read_text())["figures"].values():
            if relative.endswith(".png"):
                referenced.add((path.parent / relative).resolve())
    assert referenced == {p.resolve() for p in folder.rglob("*.png")}
    names = {p.name for p in referenced}
    assert any("scores" in name for name in names) and any("removed_by_filter" in name for name in names)
    for path in referenced:
        width, height = png_size(path)
        assert width > 100 and height > 100
        assert matplotlib.image.imread(str(path)).shape[:2] == (height, width)


def test_hub_headers_parse_and_their_configs_load(cards):
    run, stats = cards
    readmes = [run / "README.md", run / "cards" / "README.md", *sorted((run / "cards").glob("*/README.md"))]
    for path in readmes:
        data = DatasetCard.load(path).data
        assert data.task_categories == ["text-generation"] and data.pretty_name and data.size_categories
        assert data.license and data.language is not None
        for config in data.to_dict().get("configs", []):
            for files in config["data_files"]:
                assert glob.glob(str(run / files["path"])), files
    corpus_card = DatasetCard.load(run / "README.md").data
    assert corpus_card.language == ["bn", "en", "es", "fr", "id", "pt"]  # kept data only; no und, sw, hi
    assert corpus_card.license == ["bsd-3-clause", "gpl-2.0", "unknown"]
    assert DatasetCard.load(run / "cards" / "sw" / "README.md").data.language == ["sw"]
    kept_en = sum(e["kept"]["docs"] for e in stats["entries"] if e["lang"] == "en")
    assert len(datasets.load_dataset(str(run), "en", split="train")) == kept_en


def test_dataset_card_has_roots_headings_and_its_steps(cards):
    run, stats = cards
    text = (run / "cards" / "bn" / "catalogue-chatterbot_bn.md").read_text()
    assert "- **Licence**: BSD-3-Clause" in text and "- **Speaker locations**: Bangladesh, India" in text
    assert "- **Homepage**: not given in the recipe" in text
    assert "ChatterBot conversations \\| one file" in text  # a | in a value cannot break the list
    steps_text = text.split("## Processing steps applied to this dataset")[1].split("##")[0]
    names = [line.split("`")[1] for line in steps_text.splitlines() if line[:1].isdigit()]
    assert names == ["clean_text", "remove_small_docs", "dedup_document", "language_id"]
    facts = json.loads((run / "cards" / "bn" / "catalogue-chatterbot_bn.json").read_text())
    entry = next(e for e in stats["entries"] if e["dataset"] == "chatterbot_bn")
    assert facts["ledger"] == [entry]


def test_removed_samples_show_what_each_filter_removed(cards):
    run, stats = cards
    en = json.loads((run / "cards" / "en" / "card.json").read_text())
    fails = {reason for e in stats["entries"] if e["lang"] == "en" for reason in e["fails"]}
    assert en["removed_samples"] and set(en["removed_samples"]) <= fails
    for reason, docs in en["removed_samples"].items():
        assert 1 <= len(docs) <= 3
        assert all(reason in doc["reasons"] and len(doc["text"]) <= 501 for doc in docs)
    assert en["cutoffs_drawn"] and en["language"]["origin"] == "roots"
    assert en["language"]["cutoffs"]["number_words"] == {"min": 20, "max": 100000}


def test_provenance_names_recipe_and_model_checksums(cards):
    run, stats = cards
    prov = corpus(run)["provenance"]
    assert prov["recipe_sha256"] == stats["recipe_sha256"] and prov["recipe_changed_since_run"] is False
    (model,) = prov["model_files"]
    path = resolve_model(None)
    assert model["path"] == path and model["sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert "language_id" in model["role"] and "quality_filter" in model["role"]


def test_token_counts_are_shown_when_known(cards, tmp_path):
    run, stats = cards
    run_json = json.loads((run / "run.json").read_text())
    facts = corpus_facts(stats, run_json, tokens={"en": 1000, "bn": 50})
    rows = {row["lang"]: row for row in facts["languages"]}
    assert rows["en"]["tokens"] == 1000 and rows["hi"]["tokens"] is None and facts["sizes"]["tokens"] == 1050
    (tmp_path / "tokens.json").write_text('{"en": 1000}')
    assert read_token_counts(str(tmp_path / "tokens.json")) == {"en": 1000}
    blend = {"schema": "roots-pipeline/megatron-blend/1", "languages": {"en": {"tokens": 7, "documents": 2}}}
    (tmp_path / "blend.json").write_text(json.dumps(blend))
    assert read_token_counts(str(tmp_path / "blend.json")) == {"en": 7}
    (tmp_path / "bad.json").write_text('{"en": -1}')
    with pytest.raises(RootsError, match="bad.json"):
        read_token_counts(str(tmp_path / "bad.json"))


def test_a_relabelled_language_keeps_its_funnel_balanced():
    entry = {"source": "pseudo_crawl", "dataset": "pseudo_crawl", "lang": "en",
             "in": {"docs": 0, "bytes": 0}, "kept": {"docs": 3, "bytes": 30},
             "rejected": {"docs": 1, "bytes": 5,
                          "by_reason": {"quality_filter:lang_id": {"docs": 1, "bytes": 5}}},
             "duplicate": {"docs": 0, "bytes": 0}, "malformed": {"docs": 0, "bytes": 0}, "notes": {},
             "fails": {"quality_filter:lang_id": {"docs": 1, "bytes": 5}}}
    stages = [{"name": "clean_text", "options": {"sources": [], "datasets": []}},
              {"name": "quality_filter", "options": {"sources": ["oscar"], "datasets": []}}]
    rows = steps([entry], stages)
    assert [(r["step"], r["before"], r["after"]) for r in rows] == [
        ("read", 4, 4), ("clean_text", 4, 4), ("quality_filter", 4, 3)]


def test_refuses_what_is_not_a_run_or_not_a_cards_folder(cards, tmp_path):
    run, _ = cards
    with pytest.raises(RootsError, match="stats.json: missing"):
        write_cards(str(tmp_path))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(RootsError, match="holds no cards"):
        write_cards(str(run), into=str(mine))
    assert (mine / "notes.txt").read_text() == "keep me"
    parser = argparse.ArgumentParser()
    card_command.add_parser(parser.add_subparsers())
    with pytest.raises(RootsError, match="Beam options"):
        card(parser.parse_args(["card", str(run)]), ["--runner=DirectRunner"])


def test_roots_run_keeps_current_cards_and_skips_remote_runs(cards):
    run, _ = cards
    assert cards_after_run(str(run), skipped=True) == f"cards: {run / 'cards'}/ (current)"
    assert "copy the run folder here" in cards_after_run("gs://bucket/run", skipped=False)


def test_hub_values():
    assert [hub_license(x) for x in ("GPL-2+", "GPL-3.0-only", "BSD-3-Clause", "my licence", None)] == [
        "gpl-2.0", "gpl-3.0", "bsd-3-clause", "other", "unknown"]
    assert [size_category(n) for n in (0, 999, 1000, 54_321, 10**13)] == [
        "n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "n>1T"]


def test_cards_of_a_ledger_written_before_relabelled_counts(cards):
    """An older run folder's stats.json has no relabelled counts and rows that balance only per source
    (`pseudo_crawl/en: in 0, kept 2`): its cards are still written, with the documents it ended with."""
    run, stats = cards
    old = json.loads(json.dumps(stats))
    for entry in old["entries"]:
        for field in ("relabelled_in", "relabelled_out", "balanced"):
            del entry[field]
    facts = corpus_facts(old, json.loads((run / "run.json").read_text()))
    now = corpus_facts(stats, json.loads((run / "run.json").read_text()))
    rows = {row["lang"]: row for row in facts["languages"]}
    assert [row["documents"] for row in facts["languages"]] == [row["documents"] for row in now["languages"]]
    assert rows["en"]["relabelled_in"] == {"docs": 0, "bytes": 0}
    assert facts["steps"][-1]["after"] == now["steps"][-1]["after"] == facts["sizes"]["kept"]["docs"]
