"""The demo recipe, end to end on the DirectRunner: shards, ledger, ids, determinism, re-runs."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pyarrow as pa
import pytest

from roots_pipeline.errors import LedgerImbalance
from roots_pipeline.output.shards import arrow_dataset
from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import assert_shards_match_ledger, run_recipe
from tests.conftest import REPO

DEMO_RECIPE = str(REPO / "pipelines" / "demo.yaml")


def digests(run_dir: Path) -> dict[str, str]:
    """sha256 of every output that must be identical across runs: run.json holds the wall time,
    and the cards `roots run` writes hold the date."""
    files = [p for p in run_dir.rglob("*") if p.is_file() and p.name not in ("run.json", "README.md")
             and "cards" not in p.relative_to(run_dir).parts]
    return {str(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    result = run_recipe(load_recipe(DEMO_RECIPE).with_output(str(out)), [], show_progress=False)
    return out, result


def test_every_language_loads_with_datasets_and_pyarrow(demo_run):
    out, result = demo_run
    langs = sorted(p.name for p in (out / "data").iterdir())
    # Hindi's OSCAR sample is short chatbot lines: all fail ROOTS's 38-word minimum.
    assert {"bn", "en", "es", "fr", "id", "pt", "vi", "zh"} <= set(langs) and "hi" not in langs
    kept = {e["lang"]: 0 for e in result.stats["entries"]}
    for entry in result.stats["entries"]:
        kept[entry["lang"]] += entry["kept"]["docs"]
    for lang in langs:
        ds = datasets.load_from_disk(str(out / "data" / lang))
        assert len(ds) == kept[lang]
        assert set(ds.column_names) == {"id", "text", "source", "dataset", "lang", "url", "meta", "scores"}
        assert set(ds["lang"]) == {lang}
        assert arrow_dataset(str(out / "data" / lang)).count_rows() == len(ds)
        json.loads(ds[0]["meta"])


def test_the_scratch_folder_is_gone_once_the_run_ends(demo_run):
    out, result = demo_run
    # The demo recipe runs suffix_array_dedup, which passes texts to its jobs in scratch files.
    changed = sum(e["notes"].get("suffix_array_dedup:docs_changed", 0) for e in result.stats["entries"])
    assert changed > 0
    assert not (out / "scratch").exists()


def test_larger_languages_are_split_into_several_shards(demo_run):
    out, _ = demo_run
    fr = sorted(p.name for p in (out / "data" / "fr").glob("data-*.arrow"))
    assert len(fr) >= 2 and fr[0].endswith(f"-of-{len(fr):05d}.arrow")
    assert not list(out.rglob("*.tmp"))


def test_ledger_balances_for_every_source(demo_run):
    out, result = demo_run
    stats = json.loads((out / "stats.json").read_text())
    assert stats == result.stats
    assert {row["source"] for row in stats["balance"]} == {"catalogue", "oscar", "pseudo_crawl"}
    for row in stats["balance"]:
        out_total = row["kept"] + row["rejected"] + row["duplicate"] + row["malformed"]
        assert row["balanced"] and row["in"] == out_total
    crawl = [e for e in stats["entries"] if e["source"] == "pseudo_crawl"]
    reasons = {r for e in crawl for r in e["rejected"].get("by_reason", {})}
    assert {"read:not_html", "read:not_seed_domain"} <= reasons
    assert sum(e["notes"].get("skipped_request_record", 0) for e in crawl) > 0


def test_ledger_balances_for_every_language_row(demo_run):
    """Each source × dataset × language row balances on its own: the crawl's pages are read as `und`
    and counted out of it and into the language language_id gives them, where they end."""
    _, result = demo_run
    for entry in result.stats["entries"]:
        came = entry["in"]["docs"] + entry["relabelled_in"]["docs"]
        went = sum(entry[o]["docs"] for o in ("kept", "rejected", "duplicate", "malformed", "relabelled_out"))
        assert entry["balanced"] and came == went, entry
    crawl = {e["lang"]: e for e in result.stats["entries"] if e["source"] == "pseudo_crawl"}
    und = crawl.pop("und")
    assert und["relabelled_in"]["docs"] == 0 and und["kept"]["docs"] == 0
    assert sum(e["relabelled_in"]["docs"] for e in crawl.values()) == und["relabelled_out"]["docs"] > 0
    for lang, entry in crawl.items():
        moved = {"docs": entry["relabelled_in"]["docs"], "bytes": entry["relabelled_in"]["bytes"]}
        assert entry["in"]["docs"] == 0 and entry["relabelled_in"]["by_reason"] == {"language_id:und": moved}
        assert und["relabelled_out"]["by_reason"][f"language_id:{lang}"] == moved
    # Languages read from a file's name or a recipe's `lang` are never relabelled.
    assert all(e["relabelled_in"]["docs"] == e["relabelled_out"]["docs"] == 0
               for e in result.stats["entries"] if e["source"] != "pseudo_crawl")


def test_shards_that_lost_a_document_fail_the_check_against_the_ledger(demo_run, tmp_path):
    out, result = demo_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    assert_shards_match_ledger(str(copy), result.stats)  # as written: every document is there
    shard = sorted((copy / "data" / "fr").glob("data-*.arrow"))[0]
    table = pa.ipc.open_stream(shard.read_bytes()).read_all()  # in memory: the file is rewritten
    with pa.OSFile(str(shard), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.slice(1))  # what a runner dropping one element would leave
    kept = sum(e["kept"]["docs"] for e in result.stats["entries"] if e["lang"] == "fr")
    expected = f"data/fr holds {kept - 1:,} documents, the ledger counted {kept:,}"
    with pytest.raises(LedgerImbalance, match=expected):
        assert_shards_match_ledger(str(copy), result.stats)


def test_rejects_are_written_with_their_reasons(demo_run):
    out, result = demo_run
    rejected = sum(e["rejected"]["docs"] for e in result.stats["entries"])
    duplicates = sum(e["duplicate"]["docs"] for e in result.stats["entries"])
    rows = [row for lang in (out / "rejects").iterdir()
            for row in datasets.load_from_disk(str(lang))]
    assert len(rows) == rejected + duplicates and rejected > 0 and duplicates > 0
    assert all(row["reasons"] for row in rows)
    copies = [row for row in rows if row["reasons"][0].endswith(":duplicate")]
    kept = {row["id"] for lang in (out / "data").iterdir() for row in datasets.load_from_disk(str(lang))}
    assert len(copies) == duplicates and all(json.loads(row["meta"])["duplicate_of"] in kept
                                             for row in copies)  # the survivor is kept


def test_quality_filter_removal_per_language_and_per_filter(demo_run):
    out, result = demo_run
    oscar = {e["lang"]: e for e in result.stats["entries"] if e["source"] == "oscar"}
    assert set(oscar) == {"en", "es", "fr", "hi", "id", "pt", "zh"}
    for lang, entry in oscar.items():
        rate = entry["rejected"]["docs"] / entry["in"]["docs"]
        assert 0 < rate <= 1, lang
        # Rejected rows carry every filter they failed; the ledger's `fails` counts each of them.
        rows = datasets.load_from_disk(str(out / "rejects" / lang))
        counted = {}
        for row in rows:
            if row["source"] == "oscar":
                for reason in row["reasons"]:
                    counted[reason] = counted.get(reason, 0) + 1
                # Scored unless a stage before quality_filter removed it (dedups after it keep scores).
                scored = row["reasons"][0].split(":")[0] not in ("clean_text", "remove_small_docs")
                assert (row["scores"]["special_characters"] is not None) == scored
        assert counted == {reason: n["docs"] for reason, n in entry["fails"].items()}, lang
        assert entry["notes"]["quality_filter:no_perplexity_model"] > 0  # the demo has no KenLM models
    assert any(len(row["reasons"]) > 1 for row in datasets.load_from_disk(str(out / "rejects" / "en")))
    assert 0 < oscar["en"]["rejected"]["docs"] < oscar["en"]["in"]["docs"]
    kept = datasets.load_from_disk(str(out / "data" / "en"))
    oscar_rows = [row for row in kept if row["source"] == "oscar"]
    assert oscar_rows and all(row["scores"]["lang_id"] >= 0.8 and row["scores"]["number_words"] >= 20
                              for row in oscar_rows)
    catalogue = {e["dataset"]: e for e in result.stats["entries"] if e["source"] == "catalogue"}
    assert catalogue["manpages_fr"]["notes"]["language_id:disagrees"] > 0  # LID disagreement, counted


def test_a_second_run_is_skipped_and_a_forced_one_is_identical(demo_run):
    out, first = demo_run
    before = digests(out)
    recipe = load_recipe(DEMO_RECIPE).with_output(str(out))
    assert run_recipe(recipe, [], show_progress=False).skipped
    again = run_recipe(recipe, [], force=True, show_progress=False)
    assert not again.skipped
    assert digests(out) == before


def test_multi_processing_runner_gives_the_same_bytes(demo_run, tmp_path):
    out, _ = demo_run
    other = tmp_path / "mp"
    cmd = [sys.executable, "-m", "roots_pipeline.cli", "run", DEMO_RECIPE, "--out", str(other), "--quiet",
           "--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "total" in done.stdout
    assert digests(other) == digests(out)


def test_local_runs_make_beam_writes_wait_for_timed_flushes(demo_run):
    from apache_beam.runners.worker.data_plane import TimeBasedBufferingClosableOutputStream

    assert getattr(TimeBasedBufferingClosableOutputStream, "_roots_fixed", False)


def test_malformed_input_is_counted_with_file_and_offset(tmp_path):
    from roots_pipeline.recipe import adhoc_recipe
    from roots_pipeline.stages import DEFAULT_STAGES
    from tests.conftest import BAD

    inputs = f"oscar={BAD}/invalid_json.jsonl,{BAD}/truncated.jsonl.gz,{BAD}/not_gzip.jsonl.gz"
    recipe = adhoc_recipe([inputs], "en", str(tmp_path / "bad"), list(DEFAULT_STAGES))
    result = run_recipe(recipe, [], show_progress=False)
    (row,) = result.stats["balance"]
    assert row["balanced"] and row["malformed"] == 5 and row["kept"] > 0
    lines = [json.loads(line) for line in (tmp_path / "bad" / "malformed.jsonl").read_text().splitlines()]
    assert sorted(r["reason"] for r in lines) == sorted(
        ["invalid_json", "not_an_object", "missing_text", "truncated_file", "corrupt_compression"])
    assert all(r["file"] and isinstance(r["offset"], int) for r in lines)


def test_a_folder_holding_other_files_is_never_cleared(tmp_path):
    from roots_pipeline.errors import RootsError
    from roots_pipeline.recipe import adhoc_recipe

    mine = tmp_path / "data" / "mine.txt"
    mine.parent.mkdir()
    mine.write_text("precious")
    recipe = adhoc_recipe([f"oscar={REPO}/tests/data/demo/oscar/en_part_1.jsonl.gz"], None, str(tmp_path), [])
    with pytest.raises(RootsError, match="not empty and holds no earlier run"):
        run_recipe(recipe, [], show_progress=False)
    assert mine.read_text() == "precious"


def test_bad_beam_options_leave_the_previous_run_intact(demo_run):
    from roots_pipeline.errors import RootsError

    out, _ = demo_run
    before = digests(out)
    recipe = load_recipe(DEMO_RECIPE).with_output(str(out))
    with pytest.raises(RootsError, match="Beam options"):
        run_recipe(recipe, ["--runner", "NoSuchRunner"], force=True, show_progress=False)
    assert digests(out) == before


def test_an_input_changed_in_place_is_not_skipped(tmp_path):
    import os

    from roots_pipeline.recipe import adhoc_recipe

    data = tmp_path / "in" / "en_part_1.jsonl"
    data.parent.mkdir()
    data.write_text('{"text": "first version"}\n')
    recipe = adhoc_recipe([f"oscar={data}"], None, str(tmp_path / "out"), [])
    run_recipe(recipe, [], show_progress=False)
    data.write_text('{"text": "other version"}\n')  # same size
    os.utime(data, (1, 2_000_000_000))
    assert not run_recipe(recipe, [], show_progress=False).skipped


def test_rejects_can_be_counted_without_being_written(tmp_path):
    import dataclasses

    from roots_pipeline.recipe import Shards

    recipe = load_recipe(DEMO_RECIPE).with_output(str(tmp_path / "run"))
    recipe = dataclasses.replace(recipe, shards=Shards(size_mb=1, write_rejects=False))
    result = run_recipe(recipe, [], show_progress=False)
    assert sum(e["rejected"]["docs"] for e in result.stats["entries"]) > 0
    assert not (tmp_path / "run" / "rejects").exists()
