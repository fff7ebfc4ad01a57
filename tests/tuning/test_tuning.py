"""Filter tuning on the demo run's stored scores: what is loaded, what a cutoff removes, export."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from roots_pipeline.errors import RootsError
from roots_pipeline.filters import SCORES
from roots_pipeline.filters.scorer import failed_filters
from roots_pipeline.lang.config import load_language, read_language_file
from roots_pipeline.output.shards import arrow_dataset
from roots_pipeline.tuning import (
    QUANTILES,
    cutoff_table,
    cutoff_value,
    export_cutoffs,
    failing,
    language_file,
    load_scores,
    margins,
    read_texts,
    removed,
    sides,
    with_cutoffs,
)
from roots_pipeline.tuning.export import GENERATED_MARKER
from roots_pipeline.tuning.figures import removal_curve, score_histograms
from roots_pipeline.tuning.report import format_changes, format_margins, format_table, summary
from tests.conftest import REPO


@pytest.fixture(scope="module")
def es(demo_run):
    return load_scores(str(demo_run), "es")


@pytest.fixture(scope="module")
def config():
    return load_language("es")


def rows(demo_run, kind):
    return arrow_dataset(str(demo_run / kind / "es")).to_table().to_pylist()


def test_scores_are_those_of_documents_quality_filter_saw(demo_run, es):
    kept, rejected = rows(demo_run, "data"), rows(demo_run, "rejects")
    # OSCAR is the stage's only source in the demo; an OSCAR document removed before it has no score
    # (the dedup stages after it remove documents that have scores).
    before = [r for r in rejected if r["source"] == "oscar"
              and r["reasons"][0].split(":")[0] in ("clean_text", "remove_small_docs")]
    assert before and all(r["scores"]["character_repetition"] is None for r in before)
    seen_kept = [r["id"] for r in kept if r["source"] == "oscar"]
    seen_rejected = [r["id"] for r in rejected if r["source"] == "oscar" and r not in before]
    assert sorted(es.ids) == sorted(seen_kept + seen_rejected)
    assert es.unscored == len(kept) + len(rejected) - len(es)
    # Catalogue and web documents of the same folder have lang_id from the language_id stage only.
    assert any(r["scores"]["lang_id"] is not None for r in kept if r["source"] != "oscar")
    by_filter = [r for r in rejected
                 if r["source"] == "oscar" and r["reasons"][0].startswith("quality_filter:")]
    assert int(es.kept.sum()) == len(seen_kept) and int(es.removed_in_run.sum()) == len(by_filter)
    by_id = {r["id"]: r for r in kept + rejected}
    for i in (0, len(es) - 1):
        stored = {k: v for k, v in by_id[es.ids[i]]["scores"].items() if v is not None}
        assert es.scores_of(i) == pytest.approx(stored) and set(es.scores_of(i)) == set(stored)
    assert es.recipe == str(REPO / "pipelines" / "demo.yaml")


def candidate_configs(es, config):
    """The file's cutoffs, and each cutoff moved to stored scores (where ties sit) one at a time."""
    yield config
    for name in SCORES:
        if getattr(config.filters, name) is None:
            continue
        for side in sides(name):
            for row in cutoff_table(es, config, name, side).rows[1:]:
                yield with_cutoffs(config, {f"{name}.{side}": row.cutoff})


def test_masks_are_the_stage_decision_document_by_document(es, config):
    for candidate in candidate_configs(es, config):
        decisions = [failed_filters(es.scores_of(i), candidate) for i in range(len(es))]
        for name in SCORES:
            assert failing(es, candidate, name).tolist() == [name in d for d in decisions], name
        assert removed(es, candidate).tolist() == [bool(d) for d in decisions]


def test_the_file_the_run_used_predicts_the_run(es, config):
    assert (removed(es, config) == es.removed_in_run).all()
    assert "the same documents the run removed" in summary(es, config)
    looser = with_cutoffs(config, {"closed_class_words.min": 0.1})
    assert "decided otherwise than in the run" in summary(es, looser)


def test_cutoff_table_current_row_and_quantiles(es, config):
    table = cutoff_table(es, config, "closed_class_words", "min")
    current, *quantiles = table.rows
    assert (current.label, current.cutoff) == ("current", 0.4)
    assert current.removed_alone == failing(es, config, "closed_class_words").sum()
    assert current.removed_together == removed(es, config).sum() == es.removed_in_run.sum()
    assert [row.label for row in quantiles] == [f"q{q:g}" for q in QUANTILES]
    alone = [row.removed_alone for row in quantiles]
    assert alone == sorted(alone) and all(row.removed_together >= row.removed_alone for row in quantiles)
    # A max-side candidate below number_words' minimum is no candidate: those quantiles are skipped.
    maxima = cutoff_table(es, config, "number_words", "max").rows
    assert all(row.cutoff >= config.filters.number_words.min for row in maxima)
    alone = [row.removed_alone for row in maxima[1:]]
    assert alone == sorted(alone, reverse=True)
    labelled = cutoff_table(es, config, "lang_id", "min", {"mine": 0.5}, quantiles=())
    assert [row.label for row in labelled.rows] == ["current", "mine"]
    text = format_table(table)
    assert "closed_class_words.min" in text and "q0.5" in text and "current" in text


def test_a_score_nobody_has_gives_a_table_without_candidates(es, config):
    table = cutoff_table(es, config, "perplexity", "max")  # the demo has no KenLM model
    assert table.with_score == 0 and [row.label for row in table.rows] == ["current"]
    assert table.rows[0].removed_alone == 0


@pytest.mark.parametrize(("changes", "message"), [
    ({"nope.min": 1}, "nope: no such filter"),
    ({"closed_class_words.max": 0.5}, "not a cutoff (use closed_class_words.min)"),
    ({"lang_id.min": 1.5}, "lang_id.min: must be a ratio between 0 and 1"),
    ({"number_words.min": 2.5}, "number_words.min: must be a whole number"),
    ({"number_words.min": 200_000}, "number_words.max: must be at least 200000"),
    ({"perplexity.max": float("nan")}, "must be a finite number"),
])
def test_with_cutoffs_refuses_what_a_language_file_would(config, changes, message):
    with pytest.raises(RootsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        with_cutoffs(config, changes)


def test_a_filter_that_is_off_is_turned_on_by_hand(es, config):
    off = dataclasses.replace(config, filters=dataclasses.replace(config.filters, flagged_words=None))
    with pytest.raises(RootsError, match="flagged_words filter is off in es.yaml"):
        with_cutoffs(off, {"flagged_words.max": 0.1})
    assert not failing(es, off, "flagged_words").any()
    assert cutoff_value(off, "flagged_words", "max") is None


@pytest.mark.parametrize(("name", "side"), [("closed_class_words", "min"), ("character_repetition", "max"),
                                            ("number_words", "min")])
def test_margins_are_the_nearest_documents_each_side(es, config, name, side):
    cutoff = cutoff_value(config, name, side)
    shown = margins(es, config, name, side, count=2)
    inside = [m for m in shown if m.inside]
    outside = [m for m in shown if not m.inside]
    assert inside and outside and len(shown) <= 4
    keeps = (lambda s: s >= cutoff) if side == "min" else (lambda s: s <= cutoff)
    assert all(keeps(m.score) for m in inside) and not any(keeps(m.score) for m in outside)
    values = es.values[name]
    nearest_out = max(values[~np.vectorize(keeps)(values)]) if side == "min" else min(
        values[~np.vectorize(keeps)(values)])
    assert nearest_out in [m.score for m in outside]
    assert [m.score for m in shown] == sorted(m.score for m in shown)
    texts = read_texts(es, [m.id for m in shown])
    for margin in shown:
        assert margin.text == texts[margin.id] and margin.text
        assert name not in margin.others
        index = list(es.ids).index(margin.id)
        assert set(margin.others) == set(failed_filters(es.scores_of(index), config)) - {name}
    text = format_margins(shown, config, name, side)
    assert f"{name}.{side}" in text and shown[0].id in text


def test_format_changes_lists_what_a_candidate_decides(es, config):
    candidate = with_cutoffs(config, {"closed_class_words.min": 0.3})
    text = format_changes(es, config, candidate, limit=3)
    brought_back = int((removed(es, config) & ~removed(es, candidate)).sum())
    assert text.startswith(f"{brought_back} documents decided otherwise: 0 more removed, {brought_back} kept")
    assert text.count(" kept\n") == 3 and f"and {brought_back - 3} more" in text


def test_export_writes_the_changed_line_only(es, config, es_copy):
    before = es_copy.read_text(encoding="utf-8")
    candidate = with_cutoffs(config, {"closed_class_words.min": 0.3, "number_words.max": 50_000})
    export = export_cutoffs(candidate, str(es_copy), tuned_on="out/demo")
    after = es_copy.read_text(encoding="utf-8")
    assert read_language_file(es_copy) == candidate
    diff = export.diff.splitlines()[2:]  # after the --- and +++ lines
    removed_lines = [line[1:] for line in diff if line.startswith("-")]
    added = [line[1:] for line in diff if line.startswith("+")]
    assert removed_lines == [before.splitlines()[0], "  number_words: {min: 16, max: 100000}",
                             "  closed_class_words: {min: 0.4}"]
    assert removed_lines[0].startswith(GENERATED_MARKER)
    assert added == ["# Cutoffs tuned with roots_pipeline.tuning: filters.number_words.max 100000 → 50000; "
                     "filters.closed_class_words.min 0.4 → 0.3 (on out/demo)",
                     "  number_words: {min: 16, max: 50000}", "  closed_class_words: {min: 0.3}"]
    unchanged = [line for line in before.splitlines() if line not in removed_lines]
    assert [line for line in after.splitlines() if line not in added] == unchanged
    assert "ROOTS's languages" in export.warning
    again = export_cutoffs(candidate, str(es_copy))
    assert again.diff == "" and es_copy.read_text(encoding="utf-8") == after


def test_export_refuses_what_is_not_a_cutoff(config, es_copy):
    other = dataclasses.replace(config, word_split="sentencepiece")
    with pytest.raises(RootsError, match="more than its cutoffs"):
        export_cutoffs(other, str(es_copy))
    french = dataclasses.replace(load_language("fr"), filters=config.filters)
    with pytest.raises(RootsError, match="is the file of es, not of fr"):
        export_cutoffs(french, str(es_copy))
    with pytest.raises(RootsError, match="flagged_words.max: 5e-05 has no plain decimal form"):
        export_cutoffs(with_cutoffs(config, {"flagged_words.max": 0.00005}), str(es_copy))
    text = es_copy.read_text(encoding="utf-8")
    es_copy.write_text(text.replace("  lang_id: {min: 0.8}", "  lang_id:\n    min: 0.8"), encoding="utf-8")
    with pytest.raises(RootsError, match=r"es.yaml: filters.lang_id is not written on one line"):
        export_cutoffs(with_cutoffs(config, {"lang_id.min": 0.7}), str(es_copy))


def test_the_default_export_target_is_the_packaged_file():
    assert language_file("es") == str(REPO / "languages" / "es.yaml")
    with pytest.raises(RootsError, match="qu has no language file of its own"):
        language_file("qu")


def test_load_scores_explains_what_is_missing(demo_run, tmp_path):
    with pytest.raises(RootsError, match="no such run folder"):
        load_scores(str(tmp_path / "nothing"), "es")
    with pytest.raises(RootsError, match="xx-yy: unknown language code"):
        load_scores(str(demo_run), "xx-yy")
    with pytest.raises(RootsError, match=r"no vi document was scored by quality_filter \(it applies to the "
                                         r"sources: oscar; languages in this run: .*vi"):
        load_scores(str(demo_run), "vi")
    copy = tmp_path / "run"
    shutil.copytree(demo_run, copy)
    record = json.loads((copy / "run.json").read_text())
    stages = [s for s in record["stages"] if s["name"] != "quality_filter"]
    (copy / "run.json").write_text(json.dumps(dict(record, stages=stages)))
    with pytest.raises(RootsError, match="run.json: the run has no quality_filter stage"):
        load_scores(str(copy), "es")
    (copy / "run.json").write_text(json.dumps({"status": "running"}))
    with pytest.raises(RootsError, match="run.json: the run did not finish"):
        load_scores(str(copy), "es")
    (copy / "run.json").write_text(json.dumps(record))
    (copy / "data" / "es" / "state.json").write_text("{}")
    with pytest.raises(RootsError, match="data/es/state.json: not a shard index"):
        load_scores(str(copy), "es")


def test_figures_draw_every_score_and_a_curve(es, config):
    figure = score_histograms(es, config)
    drawn = [axes for axes in figure.axes if axes.get_visible()]
    assert len(drawn) == sum(bool(len(es.present(name))) for name in SCORES)
    candidate = with_cutoffs(config, {"lang_id.min": 0.5})
    assert len(score_histograms(es, candidate, ["lang_id"], compare=config).axes) == 1
    curve = removal_curve(es, config, "closed_class_words", "min", points=11)
    assert curve.axes[0].get_title().startswith("es: documents removed as closed_class_words.min moves")
