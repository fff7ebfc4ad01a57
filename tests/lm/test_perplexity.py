"""ROOTS's perplexity score against the formula worked out independently, on a hand-written ARPA model."""

from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import pytest
import sentencepiece

from roots_pipeline.errors import RootsError
from roots_pipeline.lm.normalization import normalize
from roots_pipeline.lm.perplexity import PerplexityModel, find_models

# Already normal: no digits, no non-printing characters, no punctuation from ROOTS's table.
SENTENCE = "The shell prompt looks as follows."


@pytest.fixture(scope="module")
def sentencepiece_path(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SentencePiece unigram model trained on the English sample documents (real text)."""
    with gzip.open(demo / "oscar" / "en_part_1.jsonl.gz", "rt", encoding="utf-8") as lines:
        text = [json.loads(line)["text"] for line in lines]
    sentences = [normalize(line) for document in text for line in document.split("\n")]
    prefix = tmp_path_factory.mktemp("sentencepiece") / "en.sp"
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(filter(None, sentences)),
        model_prefix=str(prefix),
        vocab_size=800,
        character_coverage=0.9995,
        minloglevel=2,
    )
    return f"{prefix}.model"


@pytest.fixture(scope="module")
def pieces_of_sentence(sentencepiece_path: str) -> list[str]:
    return sentencepiece.SentencePieceProcessor(model_file=sentencepiece_path).encode_as_pieces(SENTENCE)


@pytest.fixture(scope="module")
def tables(
    pieces_of_sentence: list[str],
) -> tuple[dict[str, float], dict[str, float], dict[tuple[str, str], float]]:
    """(unigram log10 p, unigram log10 backoff, bigram log10 p) of a hand-written bigram model.

    It knows the first two pieces of SENTENCE; every other piece is <unk>.
    """
    first, second = pieces_of_sentence[:2]
    unigrams = {"<unk>": -2.0, "<s>": 0.0, "</s>": -1.0, first: -1.5, second: -1.75}
    backoffs = {"<unk>": 0.0, "<s>": -0.25, "</s>": 0.0, first: -0.125, second: -0.5}
    bigrams = {("<s>", first): -0.5, (first, second): -0.25, (second, "</s>"): -0.75}
    return unigrams, backoffs, bigrams


@pytest.fixture(scope="module")
def arpa_path(tables: tuple, tmp_path_factory: pytest.TempPathFactory) -> str:
    unigrams, backoffs, bigrams = tables
    lines = ["\\data\\", f"ngram 1={len(unigrams)}", f"ngram 2={len(bigrams)}", "", "\\1-grams:"]
    lines += [f"{unigrams[word]}\t{word}\t{backoffs[word]}" for word in unigrams]
    lines += ["", "\\2-grams:"]
    lines += [f"{probability}\t{left} {right}" for (left, right), probability in bigrams.items()]
    lines += ["", "\\end\\", ""]
    path = tmp_path_factory.mktemp("kenlm") / "en.arpa"
    path.write_text("\n".join(lines), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def model(sentencepiece_path: str, arpa_path: str) -> PerplexityModel:
    return PerplexityModel(sentencepiece_path, arpa_path)


def log10_score(pieces: list[str], tables: tuple) -> float:
    """KenLM's score of one line, <s> and </s> included, by the ARPA backoff rule, written out."""
    unigrams, backoffs, bigrams = tables
    total, previous = 0.0, "<s>"
    for piece in [*pieces, "</s>"]:
        word = piece if piece in unigrams else "<unk>"
        if (previous, word) in bigrams:
            total += bigrams[previous, word]
        else:
            total += backoffs[previous] + unigrams[word]
        previous = word
    return total


def test_perplexity_is_the_roots_formula(
    model: PerplexityModel, pieces_of_sentence: list[str], tables: tuple
) -> None:
    assert normalize(SENTENCE) == SENTENCE
    pieces = pieces_of_sentence
    assert len(pieces) > 3  # known pieces, then <unk> ones: both rules of the backoff are used
    # ROOTS: 10 ** (-sum of log10 scores / (pieces + 1 for </s>)), rounded to 0.1.
    expected = round(10.0 ** (-log10_score(pieces, tables) / (len(pieces) + 1)), 1)
    assert model.perplexity(SENTENCE) == expected


def test_empty_text_scores_end_of_sentence_after_start(model: PerplexityModel, tables: tuple) -> None:
    # ROOTS's loop sees one empty line: score = log10 p(</s> | <s>), length = 0 + 1.
    # "<s> </s>" is not a bigram: backoff(<s>) + p(</s>) = -0.25 - 1.0, so 10 ** 1.25 = 17.78.
    assert log10_score([], tables) == -1.25
    assert model.perplexity("") == 17.8
    # Text that normalisation empties is the same document.
    assert model.perplexity(" \n\t ") == 17.8


def test_digits_are_zeroed_and_newlines_deleted(model: PerplexityModel) -> None:
    assert model.perplexity("Section 1.2 of 2021") == model.perplexity("Section 9.7 of 3000")
    # "\n" is deleted without a space (ROOTS's normalisation): "shell\nprompt" is "shellprompt".
    assert model.perplexity("The shell\nprompt") == model.perplexity("The shellprompt")
    assert model.perplexity("«The shell»") == model.perplexity('"The shell"')


def test_batch_gives_the_same_values(model: PerplexityModel) -> None:
    texts = [SENTENCE, "", "Section 1.2\nof 2021", "Ctrl-Alt-F1 «x»…", "日本語のテキスト"]
    assert model.perplexities(texts) == [model.perplexity(text) for text in texts]
    assert model.perplexities([]) == []


def test_pieces_are_sentencepiece_pieces_of_the_text_as_given(
    model: PerplexityModel, sentencepiece_path: str
) -> None:
    processor = sentencepiece.SentencePieceProcessor(model_file=sentencepiece_path)
    for text in [SENTENCE, "Version 12", "一些"]:
        assert model.pieces(text) == processor.encode_as_pieces(text)


def test_models_load_on_first_use_and_pickle_as_paths(
    model: PerplexityModel, sentencepiece_path: str, arpa_path: str
) -> None:
    # Built without touching the files: a Beam DoFn can hold one before its workers start.
    missing = PerplexityModel("/nonexistent/en.sp.model", "/nonexistent/en.arpa")
    assert pickle.loads(pickle.dumps(missing)).kenlm_path == "/nonexistent/en.arpa"
    with pytest.raises(RootsError, match="/nonexistent/en.sp.model"):
        missing.load()
    model.load()
    copy = pickle.loads(pickle.dumps(model))
    assert len(pickle.dumps(model)) < 1000
    assert (copy.sentencepiece_path, copy.kenlm_path) == (sentencepiece_path, arpa_path)
    assert copy.perplexity(SENTENCE) == model.perplexity(SENTENCE)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not an ARPA file\n",
        b"\\data\\\nngram 1=\xff\n",
        b"\\data\\\nngram 1=3\n\n\\1-grams:\n-1\t<unk>\n",
    ],
)
def test_corrupt_kenlm_model_is_a_clear_error(
    content: bytes, sentencepiece_path: str, tmp_path: Path
) -> None:
    # KenLM raises OSError, or UnicodeDecodeError when its message quotes the bad bytes.
    path = tmp_path / "en.arpa"
    path.write_bytes(content)
    with pytest.raises(RootsError, match=f"{path}: not a KenLM model"):
        PerplexityModel(sentencepiece_path, str(path)).load()


def test_corrupt_sentencepiece_model_is_a_clear_error(arpa_path: str, tmp_path: Path) -> None:
    path = tmp_path / "en.sp.model"
    path.write_bytes(b"\x08\x96\x01garbage")
    with pytest.raises(RootsError, match=f"{path}: not a SentencePiece model"):
        PerplexityModel(str(path), arpa_path).perplexity("text")


def test_find_models(tmp_path: Path) -> None:
    assert find_models(str(tmp_path), "en") is None
    (tmp_path / "en.sp.model").write_bytes(b"")
    with pytest.raises(RootsError, match="en.sp.model has no KenLM model beside it"):
        find_models(str(tmp_path), "en")
    (tmp_path / "en.arpa").write_bytes(b"")
    assert find_models(str(tmp_path), "en") == (str(tmp_path / "en.sp.model"), str(tmp_path / "en.arpa"))
    # The binary format is preferred, and aliases name the canonical files.
    (tmp_path / "en.arpa.bin").write_bytes(b"")
    assert find_models(str(tmp_path), "eng") == (str(tmp_path / "en.sp.model"), str(tmp_path / "en.arpa.bin"))
    (tmp_path / "fr.arpa").write_bytes(b"")
    with pytest.raises(RootsError, match="fr.arpa has no SentencePiece model beside it"):
        find_models(str(tmp_path), "fr")
    with pytest.raises(RootsError, match="unknown language code"):
        find_models(str(tmp_path), "../en")
