"""The quality filter as the pipeline and `roots score` run it: stage A first, every failure named."""

from __future__ import annotations

import dataclasses
import gzip
import json
import shutil

import pytest
import sentencepiece

from roots_pipeline.document import Document
from roots_pipeline.filters.quality import QualityScorer
from roots_pipeline.filters.scorer import failed_filters
from roots_pipeline.lang.config import load_language
from roots_pipeline.stages.apply import ApplyStages
from roots_pipeline.stages.quality_filter import QualityFilter
from tests.conftest import DATA, DEMO

LM_DATA = DATA / "lm"

EN = load_language("en")
SCORER = QualityScorer()


def english_documents(count: int) -> list[str]:
    with gzip.open(DEMO / "oscar" / "en_part_1.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line, _ in zip(handle, range(count), strict=False)]


def test_scores_are_computed_on_the_stage_a_text():
    # 24 words, 2 of them URL-like: English removes those (stage A) before anything is counted.
    text = "  the cat sat on the mat and then it went to http://example.org to read www.example.org " \
           "about all of the other cats in the   town  "
    (modified, scores, _), = SCORER.score([text], "en")
    assert modified == ("the cat sat on the mat and then it went to to read about all of the other cats "
                        "in the town")
    assert scores["number_words"] == 22
    stopwords = EN.stopword_set()
    hits = [w for w in modified.split() if w in stopwords]
    assert hits == ["the", "on", "the", "and", "then", "it", "to", "to", "about", "all", "of", "the", "other",
                    "in", "the"]
    assert scores["closed_class_words"] == pytest.approx(15 / 22)
    assert scores["special_characters"] == pytest.approx(modified.count(" ") / len(modified))


def test_every_failing_filter_is_named_in_roots_order():
    scores = {"number_words": 5, "character_repetition": 0.5, "word_repetition": 0.5,
              "special_characters": 0.9, "closed_class_words": 0.1, "flagged_words": 0.2,
              "lang_id": 0.5, "perplexity": 9000.0}
    assert failed_filters(scores, EN) == list(scores)  # every one fails English's cutoffs
    passing = {"number_words": 20, "character_repetition": 0.106, "word_repetition": 0.19,
               "special_characters": 0.4, "closed_class_words": 0.3, "flagged_words": 0.01,
               "lang_id": 0.8, "perplexity": 1500.0}
    assert failed_filters(passing, EN) == []  # cutoffs themselves pass (ROOTS: <= max, >= min)
    assert failed_filters({"number_words": 100_001}, EN) == ["number_words"]
    # A filter that is off, or a score that is absent, decides nothing.
    off = dataclasses.replace(EN, filters=dataclasses.replace(EN.filters, special_characters=None))
    assert failed_filters(scores, off) == [n for n in scores if n != "special_characters"]
    assert failed_filters({}, EN) == []


@pytest.mark.parametrize("text", ["", "   \n\t  ", "0123456789 42 2026", "a" * 5000,
                                  "Le chat — the cat — кошка — 猫 — قطة", "我们今天去公园散步然后回家吃饭"])
def test_edge_cases_score_without_error(text):
    (modified, scores, failed), = SCORER.score([text], "en")
    assert set(scores) == {"number_words", "character_repetition", "word_repetition", "special_characters",
                           "closed_class_words", "flagged_words", "lang_id"}  # no perplexity model
    assert all(0.0 <= scores[n] <= 1.0 for n in scores if n != "number_words")
    assert "number_words" in failed  # none of them has 20 English words


def test_edge_case_values():
    (_, empty, _), = SCORER.score([""], "en")
    assert empty["number_words"] == 0 and empty["special_characters"] == 0.0
    assert empty["character_repetition"] == 0.0 and empty["closed_class_words"] == 0.0
    (text, spaces, _), = SCORER.score(["   \n\t  "], "en")
    assert text == "" and spaces["number_words"] == 0
    (_, digits, _), = SCORER.score(["0123456789 42 2026"], "en")
    assert digits["special_characters"] == 1.0 and digits["number_words"] == 0  # digits strip away
    (text, long_word, _), = SCORER.score(["a" * 5000], "en")
    assert text == "" and long_word["number_words"] == 0  # English drops words over 25 characters
    (text, long_default, _), = SCORER.score(["a" * 5000], "sw")  # default: no long-word removal
    assert text == "a" * 5000 and long_default["number_words"] == 1
    # 4,991 10-grams, all "aaaaaaaaaa": production k = min(1, 0 singletons) = 0; fixed k = 1.
    assert long_default["character_repetition"] == 0.0
    (_, fixed, _), = QualityScorer("fixed").score(["a" * 5000], "sw")
    assert fixed["character_repetition"] == 1.0


def test_chinese_needs_sentencepiece_pieces_for_its_word_scores():
    assert SCORER.unscored("zh").no_sentencepiece_model and not SCORER.unscored("en").no_sentencepiece_model
    (_, scores, _), = SCORER.score(["我们今天去公园散步然后回家吃饭"], "zh")
    assert "number_words" not in scores and "character_repetition" in scores and "lang_id" in scores


def test_lang_id_is_the_probability_of_the_documents_language():
    french = "Le chat dort sur le canapé pendant que les enfants jouent dans le jardin avec le chien."
    (_, as_french, _), (_, as_english, failed) = SCORER.score([french], "fr") + SCORER.score([french], "en")
    assert as_french["lang_id"] > 0.9 and as_english["lang_id"] < 0.05 and "lang_id" in failed


def test_stage_stores_scores_and_rejects_with_every_reason():
    texts = english_documents(20)
    docs = [Document(str(i), text, "oscar", "oscar", "en") for i, text in enumerate(texts)]
    docs.append(Document("x", "buy now buy now buy now", "oscar", "oscar", "en"))
    docs.append(Document("c", texts[0], "catalogue", "manuals", "en"))  # not selected by default
    stage = ApplyStages((QualityFilter(),), None)
    stage.setup()
    outputs = list(stage.process(docs))
    kept, rejected = outputs[0], outputs[1].value
    expected = SCORER.score(texts + ["buy now buy now buy now"], "en")
    assert [d.id for d in kept] == [str(i) for i, r in enumerate(expected) if not r[2]] + ["c"]
    assert all(set(d.scores) >= {"number_words", "lang_id"} for d in kept if d.source == "oscar")
    assert kept[-1].scores == {} and kept[-1].text == texts[0]
    spam = next(d for d in rejected if d.id == "x")
    # 6 words (< 20); 14 character 10-grams of period 8: 8 distinct, 2 seen once, so k = 2 and the
    # ratio is (2 + 2) / 14 = 0.286 > 0.106; neither "buy" nor "now" is an English stopword.
    assert spam.scores["character_repetition"] == pytest.approx(4 / 14)
    assert spam.reasons == ["quality_filter:number_words", "quality_filter:character_repetition",
                            "quality_filter:closed_class_words"]
    notes = [o.value[0][4] for o in outputs[2:]]
    assert notes == ["quality_filter:no_perplexity_model"]


def test_undetermined_documents_are_identified_before_scoring():
    text = english_documents(1)[0]
    doc = Document("u", text, "pseudo_crawl", "crawl", "und")
    QualityFilter(sources=()).apply(doc)
    assert doc.lang == "en" and "quality_filter:language_identified" in doc.notes
    assert doc.scores["lang_id"] > 0.8


def test_recipe_options_are_checked(tmp_path):
    from roots_pipeline.errors import RecipeError
    from roots_pipeline.options import build_options

    with pytest.raises(RecipeError, match="character_repetition_version: must be one of production, fixed"):
        build_options(QualityFilter, {"character_repetition_version": "v2"}, "r.yaml", "stages[0]")
    with pytest.raises(RecipeError, match="lid_model: language-id model not found"):
        build_options(QualityFilter, {"lid_model": str(tmp_path / "nope.bin")}, "r.yaml", "stages[0]")
    with pytest.raises(RecipeError, match="models: .*nothing is not a folder"):
        build_options(QualityFilter, {"models": str(tmp_path / "nothing")}, "r.yaml", "stages[0]")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "fr.sp.model").write_bytes(b"x")
    with pytest.raises(RecipeError, match="models: .*fr.sp.model has no KenLM model beside it"):
        build_options(QualityFilter, {"models": str(tmp_path / "m")}, "r.yaml", "stages[0]")
    (tmp_path / "m" / "fr.arpa").write_text("not an ARPA file\n")
    with pytest.raises(RecipeError, match="models: .*fr.sp.model: not a SentencePiece model"):
        build_options(QualityFilter, {"models": str(tmp_path / "m")}, "r.yaml", "stages[0]")
    sentencepiece.SentencePieceTrainer.train(
        input=str(LM_DATA / "corpus.en.txt"), model_prefix=str(tmp_path / "m" / "fr.sp"), vocab_size=200,
        minloglevel=2)
    with pytest.raises(RecipeError, match="models: .*fr.arpa: not a KenLM model"):
        build_options(QualityFilter, {"models": str(tmp_path / "m")}, "r.yaml", "stages[0]")
    shutil.copy(LM_DATA / "lmplz_o3.en.arpa", tmp_path / "m" / "fr.arpa")
    build_options(QualityFilter, {"models": str(tmp_path / "m")}, "r.yaml", "stages[0]")
    with pytest.raises(RecipeError, match="sources: unknown 'web'"):
        build_options(QualityFilter, {"sources": ["web"]}, "r.yaml", "stages[0]")
