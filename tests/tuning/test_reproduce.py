"""A cutoff tuned on stored scores and exported, then `roots run` again: the prediction is exact.

The export goes to a copy of languages/ and the run reads that copy: `lang.config._package`
(the one place the loader finds the packaged folder) is pointed at it for this test, and the
loader's caches are emptied around it. The pipeline runs in this process (DirectRunner, in
memory), so its stages load the copy exactly as a run after `--write` loads languages/.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

from roots_pipeline.cli.main import main
from roots_pipeline.lang import config as language_config
from roots_pipeline.output.shards import arrow_dataset
from roots_pipeline.tuning import cutoff_table, export_cutoffs, load_scores, removed, with_cutoffs
from tests.conftest import DEMO, REPO


@pytest.fixture
def languages_copy(tmp_path, monkeypatch):
    """Return a languages/ folder that the loader reads instead of the packaged one."""
    folder = tmp_path / "languages"
    folder.mkdir()
    for name in ("es.yaml", "default.yaml"):
        shutil.copyfile(REPO / "languages" / name, folder / name)
    shutil.copytree(REPO / "languages" / "es", folder / "es")
    caches = (language_config.load_language, language_config.word_list, language_config.word_set)
    for cache in caches:
        cache.cache_clear()
    monkeypatch.setattr(language_config, "_package", lambda: folder)
    yield folder
    for cache in caches:
        cache.cache_clear()


def test_a_tuned_cutoff_removes_exactly_the_predicted_documents(demo_run, languages_copy, tmp_path):
    scores = load_scores(str(demo_run), "es")
    config = language_config.read_language_file(languages_copy / "es.yaml")
    # The median stored score: one document sits exactly on the new cutoff (kept: min is inclusive).
    median = next(row for row in cutoff_table(scores, config, "closed_class_words", "min").rows
                  if row.label == "q0.5")
    candidate = with_cutoffs(config, {"closed_class_words.min": median.cutoff})
    predicted = set(scores.ids[removed(scores, candidate)])
    assert len(predicted) == median.removed_together != int(scores.removed_in_run.sum())

    export = export_cutoffs(candidate, str(languages_copy / "es.yaml"), tuned_on=str(demo_run))
    assert f"+  closed_class_words: {{min: {median.cutoff!r}}}" in export.diff

    # The demo's stages up to quality_filter, on its Spanish OSCAR file only; stages limited to other
    # sources or datasets are left out (the recipe refuses them, and they never see OSCAR documents).
    demo = yaml.safe_load((REPO / "pipelines" / "demo.yaml").read_text(encoding="utf-8"))
    stages = []
    for stage in demo["stages"]:
        name, options = (stage, {}) if isinstance(stage, str) else next(iter(stage.items()))
        if "datasets" not in options and "oscar" in options.get("sources", ["oscar"]):
            stages.append(stage)
        if name == "quality_filter":
            break
    recipe = tmp_path / "rerun.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "rerun", "output": str(tmp_path / "rerun"),
        "sources": [{"kind": "oscar", "paths": [str(DEMO / "oscar" / "es_meta_part_1.jsonl.gz")]}],
        "stages": stages,
    }), encoding="utf-8")
    assert main(["run", str(recipe), "--quiet"]) == 0

    rejected = arrow_dataset(str(tmp_path / "rerun" / "rejects" / "es")).to_table().to_pylist()
    by_filter = {r["id"] for r in rejected if any(x.startswith("quality_filter:") for x in r["reasons"])}
    assert by_filter == predicted
    kept = arrow_dataset(str(tmp_path / "rerun" / "data" / "es")).to_table(columns=["id"]).column("id")
    assert set(kept.to_pylist()) == set(scores.ids) - predicted
