"""The shipped ROOTS recipes run as written once `--input` points them at real data."""

from __future__ import annotations

import pytest

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
