"""The fast path (stage A and the six text scores over a batch, with numpy) against the reference
(ROOTS's word-by-word, document-by-document computation): equal texts and equal scores, to the bit,
on random Unicode text."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from roots_pipeline.filters import ngrams
from roots_pipeline.filters.batch import whitespace_words
from roots_pipeline.filters.modifications import (
    INCORRECT_WORD_SUBSTRINGS,
    modify_document,
    modify_documents,
    rejoin,
    remove_words,
)
from roots_pipeline.filters.scorer import LanguageScorer, score_texts
from roots_pipeline.filters.words import words_from_text
from roots_pipeline.lang.characters import SPECIAL_CHARACTERS_DEFAULT as SPECIAL
from roots_pipeline.lang.config import WordsAugmentation, load_language
from tests.conftest import DEMO

# Characters where the fast path could part from the reference: whitespace other than the three
# separators, the exotic spaces of uniform whitespace, letters whose case changes their membership
# of the special set (Г is special, г is not; Ø is not, ø is), İ (lowercases to two code points),
# Σ (final sigma depends on its neighbours), digits, emoji, CJK, a lone surrogate, the pieces of
# URL-like words, and words of the stopword and flagged-word lists.
TRICKY = ["\r", "\x0b", "\u3000", "\u00a0", "\ufffc", "\x84", "\u200b", "a", "b", "A", "é",
          "Σ", "σ", "ς", "Г", "г", "İ", "I", "ı", "Ø", "ø", "Π", "π", ".", ",", "(", ")", "'", "-", "/",
          "http", "www", ".com", "//", "href", "1", "٣", "😀", "❤", "\u2764\ufe0f", "—", "…", "«", "的",
          "一", "我们", "\ud800", "the", "of", "anh", "em", "là", "xxx", "porn", "aΣ", "aσ", "aς"]
SEPARATORS = [" ", " ", " ", "  ", "\n", "\t", " \n", "\n\n", "\t\t", "\n\t ", " \t"]

# Tokens from a small pool repeat (the repetition scores need repeats); separator runs of every
# kind; a few texts with no separator structure at all.
tokens = st.lists(st.sampled_from(TRICKY) | st.characters(blacklist_characters=" \n\t"),
                  max_size=6).map("".join)
pool = st.sampled_from(["the", "of", "aΣ", "aσ", "anh", "em", "a(b"])
texts = st.one_of(
    st.lists(st.tuples(st.sampled_from(SEPARATORS) | st.just(""), tokens), max_size=40).map(
        lambda pairs: "".join(separator + token for separator, token in pairs)),
    st.lists(st.tuples(st.sampled_from(SEPARATORS), pool), min_size=5, max_size=60).map(
        lambda pairs: "".join(separator + token for separator, token in pairs)),
    st.lists(st.sampled_from([*TRICKY, *SEPARATORS]) | st.characters(), max_size=60).map("".join),
)
batches = st.lists(texts, min_size=1, max_size=6)

LANGUAGES = ["en", "vi", "ar", "fr", "ur", "default"]


def scorer_for(lang: str, version: str = "production") -> LanguageScorer:
    return LanguageScorer(load_language(lang, fallback=True), version)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Cut batches into chunks of a few documents, as large batches are."""
    monkeypatch.setattr(ngrams, "CHUNK", 150)


@settings(max_examples=150, deadline=None)
@given(batches, st.sampled_from(LANGUAGES), st.sampled_from(["production", "fixed"]))
def test_scores_equal_the_reference(batch, lang, version):
    scorer = scorer_for(lang, version)
    modified = [scorer.modify(text) for text in batch]
    assert scorer.modify_many(batch) == modified
    expected = [scorer.text_scores(text) for text in modified]
    got = scorer.text_scores_many(modified)
    assert got == expected
    assert [list(scores) for scores in got] == [list(scores) for scores in expected]  # ROOTS's order


@settings(max_examples=200, deadline=None)
@given(batches)
def test_words_equal_the_reference(batch):
    cased, lowered, counts = whitespace_words(batch, SPECIAL)
    assert cased.tolist() == [len(words_from_text(text, SPECIAL, lower_case=False)) for text in batch]
    expected = [words_from_text(text, SPECIAL, lower_case=True) for text in batch]
    assert lowered == [word for words in expected for word in words]
    assert counts.tolist() == [len(words) for words in expected]


def test_final_sigma_and_dotted_capital_i_lowercase_as_in_each_word():
    text = "ΟΔΟΣ ΟΔΟΣ\tαΣ.\nİstanbul İ aΣb (Σ) ΣΣ"
    _, lowered, _ = whitespace_words([text, text], SPECIAL)
    assert lowered == 2 * words_from_text(text, SPECIAL, lower_case=True)
    assert lowered[:3] == ["οδος", "οδος", "ας"]


def sentencepiece_like(text: str) -> list[str]:
    """Pieces as SentencePiece makes them: "▁" for spaces, no separator inside (2 characters each)."""
    text = text.replace(" ", "\u2581")
    return [text[i:i + 2] for i in range(0, len(text), 2)]


@settings(max_examples=100, deadline=None)
@given(batches, st.sampled_from([sentencepiece_like, list]))
def test_sentencepiece_words_equal_the_reference(batch, encode):
    # zh's words are pieces. `list` (one piece per character, spaces too) needs the slow path.
    scorer = LanguageScorer(load_language("zh"), "production", encode=encode)
    modified = scorer.modify_many(batch)
    assert scorer.text_scores_many(modified) == [scorer.text_scores(text) for text in modified]


@settings(max_examples=60, deadline=None)
@given(batches, st.sampled_from([[2], [3], [2, 3]]), st.sampled_from([" ", "", "-"]))
def test_any_augmentation_equals_the_reference(batch, sizes, join_char):
    config = load_language("vi")
    config = dataclasses.replace(config, words_augmentation=WordsAugmentation(tuple(sizes), join_char))
    scorer = LanguageScorer(config)
    assert scorer.text_scores_many(batch) == [scorer.text_scores(text) for text in batch]


@settings(max_examples=200, deadline=None)
@given(batches, st.sampled_from([None, 1, 3, 8, 25]),
       st.sampled_from([None, INCORRECT_WORD_SUBSTRINGS, ("a b",), ("",), ("é",)]))
def test_stage_a_equals_the_reference(batch, max_word_length, substrings):
    expected = [modify_document(text, SPECIAL, incorrect_substrings=substrings,
                                max_word_length=max_word_length) for text in batch]
    got = modify_documents(batch, SPECIAL, incorrect_substrings=substrings, max_word_length=max_word_length)
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(texts)
def test_rejoin_equals_splitting_and_joining(text):
    assert rejoin(text) == remove_words(text, lambda word: False)


def test_a_document_scores_the_same_alone_and_in_any_batch():
    en = scorer_for("en")
    batch = ["The cat sat on the mat. " * 40, "", "x" * 3000, "Le chat — the cat — кошка — 猫 — قطة " * 10]
    alone = [score_texts([text], en, None, None)[0] for text in batch]
    assert score_texts(batch, en, None, None) == alone
    assert score_texts(batch[::-1], en, None, None) == alone[::-1]


def test_unknown_version_is_refused():
    with pytest.raises(ValueError, match="version"):
        scorer_for("en", "sqrt").text_scores_many(["abc"])


def demo_oscar_texts() -> dict[str, list[str]]:
    """Return the demo OSCAR documents by language (gzip or zstd JSON lines, 21.09 or 22.01 fields)."""
    found: dict[str, list[str]] = {}
    for path in sorted((DEMO / "oscar").glob("*.jsonl.*")):
        raw = path.read_bytes()
        data = gzip.decompress(raw) if path.suffix == ".gz" else zstandard.ZstdDecompressor().stream_reader(
            io.BytesIO(raw)).read()
        records = map(json.loads, data.decode("utf-8").splitlines())
        found[path.name.split("_")[0]] = [record.get("text") or record.get("content") for record in records]
    return found


def test_real_documents_in_full_size_chunks(monkeypatch):
    # The demo OSCAR documents of 7 languages, in the chunks a real batch is cut into.
    monkeypatch.setattr(ngrams, "CHUNK", 1 << 16)
    for lang, batch in demo_oscar_texts().items():
        encode = sentencepiece_like if load_language(lang).word_split == "sentencepiece" else None
        scorer = LanguageScorer(load_language(lang), "production", encode)
        modified = [scorer.modify(text) for text in batch]
        assert scorer.modify_many(batch) == modified, lang
        assert scorer.text_scores_many(modified) == [scorer.text_scores(text) for text in modified], lang
