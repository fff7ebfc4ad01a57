"""The quality filter in a run with perplexity models trained by `roots train-lm` on real text."""

from __future__ import annotations

import gzip
import json

import datasets
import pytest

from roots_pipeline.cli.main import main
from roots_pipeline.filters.quality import QualityScorer
from roots_pipeline.lm.train import train_language_model
from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import run_recipe
from tests.conftest import DEMO


def write_chinese_text(path):
    """Write the demo's Chinese dialogues (chatterbot corpus), one document per line."""
    with open(DEMO / "catalogue_files" / "chatterbot_zh" / "data.jsonl", encoding="utf-8") as handle:
        path.write_text("".join(json.loads(line)["content"] + "\n" for line in handle), encoding="utf-8")


@pytest.fixture(scope="module")
def zh_models(tmp_path_factory):
    """Chinese SentencePiece + KenLM models trained on text the OSCAR sample does not contain."""
    folder = tmp_path_factory.mktemp("models")
    write_chinese_text(folder / "zh.txt")
    train_language_model("zh", [str(folder / "zh.txt")], str(folder / "out"))
    return folder / "out"


def test_a_run_with_models_scores_chinese_words_and_perplexity(zh_models, tmp_path):
    recipe = tmp_path / "zh.yaml"
    recipe.write_text(f"""
name: zh
output: out
sources:
  - kind: oscar
    paths: ["{DEMO}/oscar/zh_part_1.jsonl.gz"]
stages:
  - quality_filter: {{models: "{zh_models}"}}
""", encoding="utf-8")
    result = run_recipe(load_recipe(str(recipe)), [], show_progress=False)
    (entry,) = result.stats["entries"]
    assert "quality_filter:no_perplexity_model" not in entry["notes"]
    assert "quality_filter:no_sentencepiece_model" not in entry["notes"]
    rows = list(datasets.load_from_disk(str(tmp_path / "out" / "data" / "zh")))
    rows += list(datasets.load_from_disk(str(tmp_path / "out" / "rejects" / "zh")))
    assert len(rows) == entry["in"]["docs"]
    scorer = QualityScorer(models=str(zh_models))
    by_id = {row["id"]: row for row in rows}
    for row in rows:
        assert row["scores"]["number_words"] > 0 and row["scores"]["perplexity"] > 1
    # The stored scores are those `roots score` gives for the same (already modified) text.
    sample = sorted(by_id)[:10]
    rescored = scorer.score([by_id[i]["text"] for i in sample], "zh")
    for doc_id, (_, scores, _) in zip(sample, rescored, strict=True):
        stored = {k: v for k, v in by_id[doc_id]["scores"].items() if v is not None}
        assert stored == pytest.approx(scores)


def test_roots_score_reports_perplexity_with_models(zh_models, capsys, monkeypatch, tmp_path):
    with gzip.open(DEMO / "oscar" / "zh_part_1.jsonl.gz", "rt", encoding="utf-8") as handle:
        lines = [line for line, _ in zip(handle, range(5), strict=False)]
    path = tmp_path / "zh.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    assert main(["score", "--lang", "zh", "--models", str(zh_models), str(path)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(out) == 5
    assert all(list(r["scores"]) == ["number_words", "character_repetition", "word_repetition",
                                     "special_characters", "closed_class_words", "flagged_words", "lang_id",
                                     "perplexity"] for r in out)
    # zh words are SentencePiece pieces: far more "words" than whitespace tokens.
    assert all(r["scores"]["number_words"] > len(r["text"].split()) for r in out)


def test_train_lm_command(tmp_path, capsys):
    text = tmp_path / "zh.txt"
    write_chinese_text(text)
    assert main(["train-lm", "zh", str(text), "--out", str(tmp_path / "m"), "--order", "3"]) == 0
    out = capsys.readouterr().out
    assert "zh.sp.model" in out and "order 3" in out
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["zh.arpa", "zh.lm.json", "zh.sp.model",
                                                                   "zh.sp.vocab"]
    assert main(["train-lm", "zh", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "m")]) == 2
    assert "missing.txt" in capsys.readouterr().err
