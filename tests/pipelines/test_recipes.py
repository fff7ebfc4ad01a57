"""The shipped ROOTS recipes run as written once `--input` points them at real data."""

from __future__ import annotations

import gzip
import json

import pytest

from roots_pipeline.cli.main import main
from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import run_recipe
from tests.conftest import DEMO, REPO

RECIPES = {
    "oscar": ([f"{DEMO}/oscar/*.jsonl.*"], {"quality_filter", "minhash_dedup", "pii_redaction",
                                             "suffix_array_dedup"}),
    "catalogue": ([f"my_dataset={DEMO}/catalogue/manpages_fr"], {"dedup_document", "dedup_template_soft",
                                                                 "filter_small_docs_bytes_1024"}),
    "pseudo_crawl": ([f"{DEMO}/pseudo_crawl/*.warc.gz"],
                     {"remove_domain_boilerplate", "dedup_document_on_url", "language_id"}),
}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_runs_on_the_demo_data(name, tmp_path):
    inputs, stages = RECIPES[name]
    recipe = load_recipe(str(REPO / "pipelines" / f"{name}.yaml"), inputs).with_output(str(tmp_path / name))
    assert stages <= {stage.name for stage in recipe.stages}
    result = run_recipe(recipe, [], show_progress=False)
    assert all(row["balanced"] for row in result.stats["balance"])
    kept = sum(row["kept"] for row in result.stats["balance"])
    removed = sum(row["rejected"] + row["duplicate"] for row in result.stats["balance"])
    assert kept > 0 and removed > 0


def test_the_whole_corpus_recipe_loads_with_every_source_replaced(tmp_path):
    recipe = load_recipe(str(REPO / "pipelines" / "roots.yaml"), [
        f"oscar_en={DEMO}/oscar/en_part_1.jsonl.gz", f"oscar={DEMO}/oscar/fr_meta_part_1.jsonl.zst",
        f"wiki_fr={DEMO}/catalogue/manpages_fr", f"pseudo_crawl={DEMO}/pseudo_crawl/*.warc.gz"])
    oscar_en = next(spec for spec in recipe.sources if spec.dataset == "oscar_en")
    assert oscar_en.sample == 0.1345
    result = run_recipe(recipe.with_output(str(tmp_path / "roots")), [], show_progress=False)
    entries = {(e["dataset"], e["lang"]): e for e in result.stats["entries"]}
    en = entries[("oscar_en", "en")]
    assert en["in"]["docs"] + en["notes"]["sample:skipped"] == 97 and en["in"]["docs"] < 30
    assert all(row["balanced"] for row in result.stats["balance"])


def copy_unlabelled(source, target):
    """Copy an OSCAR 21.09 demo file to `target` (gzip when it ends .gz) without the records' WARC
    language headers, so that only the file's name can say its language."""
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    for record in records:
        record["meta"]["headers"].pop("warc-identified-content-language", None)
    data = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()
    target.write_bytes(gzip.compress(data, mtime=0) if target.suffix == ".gz" else data)
    return len(records)


def test_oscar_recipe_on_files_named_by_language(tmp_path, capsys):
    """`roots run pipelines/oscar.yaml --input 'corpus/*'` on `<lang>.jsonl` files: each is read under
    its language; a file whose name is no code (`part-0.jsonl`) is read as `und`, and the quality
    filter's identification moves its documents to their languages, where they are rejected; every
    row of the ledger balances, and the summary table and the cards give the same numbers."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    read = {lang: copy_unlabelled(DEMO / "oscar" / f"{lang}_part_1.jsonl.gz", corpus / name)
            for lang, name in (("en", "en.jsonl"), ("zh", "zh.jsonl"), ("id", "id.jsonl.gz"))}
    with (corpus / "en.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"text": "a broken line\n')  # malformed, counted under the file's language
    hindi = copy_unlabelled(DEMO / "oscar" / "hi_part_1.jsonl.gz", corpus / "part-0.jsonl")
    out = tmp_path / "out"
    assert main(["run", str(REPO / "pipelines" / "oscar.yaml"), "--input", f"{corpus}/*", "--out", str(out),
                 "--quiet"]) == 0
    stats = json.loads((out / "stats.json").read_text())
    rows = {e["lang"]: e for e in stats["entries"]}
    assert all(e["balanced"] for e in stats["entries"]) and all(r["balanced"] for r in stats["balance"])
    for lang, count in read.items():
        assert rows[lang]["in"]["docs"] == count + (lang == "en")
        assert rows[lang]["relabelled_out"]["docs"] == 0
    assert rows["en"]["malformed"]["docs"] == 1
    # part-0.jsonl: read as und, every document identified by quality_filter and moved out of und
    und = rows.pop("und")
    assert und["in"]["docs"] == und["relabelled_out"]["docs"] == hindi
    assert {reason.split(":")[0] for reason in und["relabelled_out"]["by_reason"]} == {"quality_filter"}
    assert sum(e["relabelled_in"]["docs"] for e in rows.values()) == hindi
    # ... then rejected (too few words) under the language it was identified as
    assert rows["hi"]["in"]["docs"] == 0 and rows["hi"]["relabelled_in"]["by_reason"]["quality_filter:und"]
    assert rows["hi"]["rejected"]["docs"] == rows["hi"]["relabelled_in"]["docs"] > 0
    # The summary table: the languages read have their documents in `docs in`.
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:9] == ["source", "lang", "docs", "in", "relabelled", "in", "relabelled", "out",
                                    "malformed"]
    printed = {line.split()[1]: [int(cell.replace(",", "")) for cell in line.split()[2:10]]
               for line in table[2:] if line.startswith("oscar ")}
    for lang, entry in [*rows.items(), ("und", und)]:
        documents = sum(entry[o]["docs"] for o in ("kept", "rejected", "duplicate"))
        assert printed[lang] == [entry["in"]["docs"], entry["relabelled_in"]["docs"],
                                 entry["relabelled_out"]["docs"], entry["malformed"]["docs"], documents,
                                 entry["kept"]["docs"], entry["rejected"]["docs"], entry["duplicate"]["docs"]]
    # The cards count each language the same way.
    card = json.loads((out / "cards" / "corpus.json").read_text())
    languages = {row["lang"]: row for row in card["languages"]}
    for lang, numbers in printed.items():
        row = languages[lang]
        assert [row["in"]["docs"], row["relabelled_in"]["docs"], row["relabelled_out"]["docs"],
                row["malformed"]["docs"], row["documents"]] == numbers[:5]
