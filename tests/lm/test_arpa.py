"""Our Kneser-Ney estimator: hand-worked values, lmplz's own output, and normalisation through KenLM."""

from __future__ import annotations

import io
import math
from pathlib import Path

import kenlm
import pytest

from roots_pipeline.lm.arpa import (
    FALLBACK_DISCOUNTS,
    adjust_counts,
    count_ngrams,
    count_of_counts,
    discounts_for,
    estimate,
    write_arpa,
)

LM_DATA = Path(__file__).parent.parent / "data" / "lm"

# Four sentences, small enough to work every number out by hand below.
TINY = [["a", "b", "c"], ["a", "b"], ["b", "c", "a"], ["c"]]


def arpa_text(sentences: list[list[str]], order: int) -> str:
    out = io.StringIO()
    write_arpa(estimate(sentences, order), out)
    return out.getvalue()


def parse_arpa(text: str) -> dict[str, tuple[float, float]]:
    """Return {"w1 w2": (log10 p, log10 backoff)} for every n-gram of an ARPA file."""
    entries: dict[str, tuple[float, float]] = {}
    in_ngrams = False
    for line in text.splitlines():
        if line.endswith("-grams:"):
            in_ngrams = True
        elif in_ngrams and line and line != "\\end\\":
            fields = line.split("\t")
            entries[fields[1]] = (float(fields[0]), float(fields[2]) if len(fields) == 3 else 0.0)
    return entries


def load(tmp_path: Path, text: str) -> kenlm.Model:
    path = tmp_path / "model.arpa"
    path.write_text(text, encoding="utf-8")
    config = kenlm.Config()
    config.show_progress = False
    return kenlm.Model(str(path), config)


def words(sentences: list[list[str]], order: int, table: int) -> dict[str, int]:
    """Return the adjusted counts of one order keyed by their text, for readable assertions."""
    counts = count_ngrams(sentences, order)
    adjusted = adjust_counts(counts.counts)[table]
    return {" ".join(counts.words[i] for i in ngram): count for ngram, count in adjusted.items()}


def test_adjusted_counts_are_continuation_counts_except_after_sentence_start() -> None:
    # Trigram model of "a b c" and "a b". Trigrams keep raw counts: "<s> a b" occurs twice.
    sentences = [["a", "b", "c"], ["a", "b"]]
    assert words(sentences, 3, 2) == {"<s> a b": 2, "a b c": 1, "b c </s>": 1, "a b </s>": 1}
    # Bigrams: "<s> a" keeps its raw 2 (nothing can precede <s>); the others count distinct
    # words before them: "a b" only ever follows <s>, so 1 although it occurs twice.
    assert words(sentences, 3, 1) == {"<s> a": 2, "a b": 1, "b c": 1, "c </s>": 1, "b </s>": 1}
    # Unigrams count the distinct words before them in the bigram table: </s> follows c and b.
    # <unk> and <s> are in the vocabulary with count 0, as in lmplz.
    assert words(sentences, 3, 0) == {"<unk>": 0, "<s>": 0, "a": 1, "b": 1, "c": 1, "</s>": 2}


def test_discounts_by_chen_and_goodman_formula() -> None:
    # n1..n4 = 10, 5, 3, 2: Y = 10 / (10 + 2*5) = 0.5
    # D1 = 1 - 2 * 0.5 * 5/10 = 0.5;  D2 = 2 - 3 * 0.5 * 3/5 = 1.1;  D3+ = 3 - 4 * 0.5 * 2/3 = 1.6667
    discount = discounts_for((10, 5, 3, 2))
    assert not discount.fallback
    assert (discount.d1, discount.d2, discount.d3) == pytest.approx((0.5, 1.1, 3 - 4 / 3))
    assert [discount.amount(count) for count in (0, 1, 2, 3, 7)] == pytest.approx([0, 0.5, 1.1, 5 / 3, 5 / 3])


def test_discounts_fall_back_like_lmplz_discount_fallback() -> None:
    assert FALLBACK_DISCOUNTS == (0.5, 1.0, 1.5)
    # No n-gram with adjusted count 3: D3+ cannot be computed.
    assert discounts_for((4, 2, 0, 1)).fallback
    # n1..n4 = 10, 1, 100, 1: Y = 10/12, D2 = 2 - 3 * (10/12) * 100/1 < 0, out of range.
    fallback = discounts_for((10, 1, 100, 1), fallback=(0.1, 0.2, 0.3))
    assert (fallback.d1, fallback.d2, fallback.d3, fallback.fallback) == (0.1, 0.2, 0.3, True)
    # The tiny corpus has no unigram with adjusted count 1, nor bigram with count 3.
    assert count_of_counts({(1,): 2, (2,): 2, (3,): 2, (4,): 3}) == (0, 3, 1, 0)
    model = estimate(TINY, 2)
    assert all(discount.fallback for discount in model.discounts)
    assert (model.sentences, model.tokens, model.ngram_counts()) == (4, 9, [6, 9])


def test_bigram_model_by_hand(tmp_path: Path) -> None:
    # Bigrams (highest order, raw counts) of <s> a b c </s> | <s> a b </s> | <s> b c a </s> | <s> c </s>:
    #   <s> a 2, a b 2, b c 2, c </s> 2, <s> b 1, <s> c 1, b </s> 1, c a 1, a </s> 1.
    # Unigram adjusted counts (distinct left neighbours): a {<s>, c} 2, b {a, <s>} 2, c {b, <s>} 2,
    # </s> {c, b, a} 3. Both orders fall back to D1, D2, D3+ = 0.5, 1, 1.5 (previous test).
    # Unigrams: total 9, gamma = (1 * 3 [three counts of 2] + 1.5 * 1 [one of 3]) / 9 = 0.5,
    # uniform over |V| = 5 (<unk> </s> a b c; <s> excluded), 0.5 / 5 = 0.1:
    #   p(a) = (2 - 1) / 9 + 0.1 = 0.21111    p(</s>) = (3 - 1.5) / 9 + 0.1 = 0.26667    p(<unk>) = 0.1
    # Context a: a b 2, a </s> 1; total 3, gamma(a) = (1 + 0.5) / 3 = 0.5:
    #   p(b | a) = (2 - 1) / 3 + 0.5 * p(b) = 0.33333 + 0.10556 = 0.43889
    # Context <s>: <s> a 2, <s> b 1, <s> c 1; total 4, gamma(<s>) = (1 + 0.5 + 0.5) / 4 = 0.5:
    #   p(a | <s>) = (2 - 1) / 4 + 0.5 * 0.21111 = 0.35556
    # Context b: b c 2, b </s> 1; gamma(b) = 0.5:  p(</s> | b) = (1 - 0.5) / 3 + 0.5 * 0.26667 = 0.3
    text = arpa_text(TINY, 2)
    assert text.startswith("\\data\\\nngram 1=6\nngram 2=9\n\n\\1-grams:\n")
    entries = parse_arpa(text)
    expected = {
        "a": (1 / 9 + 0.1, 0.5),
        "</s>": (1.5 / 9 + 0.1, 1.0),
        "<unk>": (0.1, 1.0),
        "<s>": (1.0, 0.5),
        "a b": (1 / 3 + 0.5 * (1 / 9 + 0.1), 1.0),
        "<s> a": (1 / 4 + 0.5 * (1 / 9 + 0.1), 1.0),
        "b </s>": (0.5 / 3 + 0.5 * (1.5 / 9 + 0.1), 1.0),
    }
    for ngram, (probability, backoff) in expected.items():
        assert entries[ngram] == pytest.approx((math.log10(probability), math.log10(backoff)), abs=1e-6)

    model = load(tmp_path, text)
    # score("a b") = log p(a | <s>) + log p(b | a) + log p(</s> | b)
    assert model.score("a b") == pytest.approx(math.log10(0.35556 * 0.43889 * 0.3), abs=1e-4)
    # "a c" is unseen: KenLM backs off, gamma(a) * p(c) = 0.5 * 0.21111 = 0.10556.
    scores = [score for score, _, _ in model.full_scores("a c", bos=False, eos=False)]
    assert scores[1] == pytest.approx(math.log10(0.5 * (1 / 9 + 0.1)), abs=1e-6)


def test_same_model_as_lmplz() -> None:
    # tests/data/README.md ("Language-model files") says how lmplz wrote the expected file.
    corpus = (LM_DATA / "corpus.en.txt").read_text(encoding="utf-8")
    expected = parse_arpa((LM_DATA / "lmplz_o3.en.arpa").read_text(encoding="utf-8"))
    model = estimate([line.split() for line in corpus.splitlines()], 3)
    # lmplz computed D1..D3+ for unigrams and trigrams, and fell back for bigrams.
    assert [discount.fallback for discount in model.discounts] == [False, True, False]
    out = io.StringIO()
    write_arpa(model, out)
    ours = parse_arpa(out.getvalue())
    assert ours.keys() == expected.keys()
    worst = max(max(abs(a - b) for a, b in zip(ours[key], expected[key], strict=True)) for key in ours)
    assert worst < 1e-5


@pytest.mark.parametrize("order", [2, 3, 5])
def test_every_context_sums_to_one_in_kenlm(tmp_path: Path, order: int) -> None:
    # The real check of the smoothing: for every context the model holds, KenLM's probabilities
    # of all next words (the vocabulary without <s>, <unk> included) sum to 1.
    corpus = (LM_DATA / "corpus.en.txt").read_text(encoding="utf-8").splitlines()
    text = arpa_text([line.split() for line in corpus], order)
    model = load(tmp_path, text)
    entries = parse_arpa(text)
    vocabulary = [ngram for ngram in entries if " " not in ngram and ngram != "<s>"]
    contexts = [ngram.split() for ngram in entries if len(ngram.split()) < order] + [[]]
    assert len(contexts) > 400
    for context in contexts:
        state = kenlm.State()
        if context[:1] == ["<s>"]:
            model.BeginSentenceWrite(state)
            context = context[1:]
        else:
            model.NullContextWrite(state)
        for word in context:
            following = kenlm.State()
            model.BaseScore(state, word, following)
            state = following
        total = sum(10 ** model.BaseScore(state, word, kenlm.State()) for word in vocabulary)
        assert total == pytest.approx(1.0, abs=1e-4), context


def test_output_is_deterministic_and_sorted() -> None:
    corpus = [line.split() for line in (LM_DATA / "corpus.en.txt").read_text(encoding="utf-8").splitlines()]
    first, second = arpa_text(corpus, 3), arpa_text(corpus, 3)
    assert first == second
    section = first.split("\\2-grams:\n")[1].split("\n\n")[0].splitlines()
    texts = [line.split("\t")[1] for line in section]
    assert texts == sorted(texts)


@pytest.mark.parametrize(
    ("sentences", "order", "message"),
    [
        ([["a", "<s>"]], 3, "reserved"),
        ([["a", "</s>"]], 3, "reserved"),
        ([["a", "<unk>"]], 3, "reserved"),
        ([["a b"]], 3, "whitespace"),
        ([["a", ""]], 3, "non-empty"),
        ([], 3, "no sentences"),
        ([["a"]], 1, "order"),
        ([["a"]], 7, "order"),
    ],
)
def test_rejects_what_kenlm_would_misread(sentences: list[list[str]], order: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        estimate(sentences, order)


def test_empty_sentences_count_as_sentence_start_then_end() -> None:
    # As in lmplz, an empty line is "<s> </s>".
    assert parse_arpa(arpa_text([["a"], []], 2)).keys() == {
        "<unk>",
        "<s>",
        "</s>",
        "a",
        "<s> a",
        "a </s>",
        "<s> </s>",
    }
