"""Interpolated modified Kneser-Ney n-gram models written as ARPA files, the way KenLM's `lmplz` does.

ROOTS scored perplexity with KenLM models built by `lmplz -o 5 --discount_fallback`, no pruning
(reference/ROOTS.md §1). No package ships `lmplz`, so this module re-implements its estimator;
what it writes loads in `kenlm.Model` and matches lmplz's probabilities to float precision
(tests/lm/test_arpa.py compares it with a file lmplz wrote). The steps, as in Chen & Goodman
(1998) and KenLM's `lm/builder`:

1. Count. A sentence is `<s> w1 … wm </s>`. The highest order keeps the raw count of each of its
   n-grams. A shorter n-gram at the start of a sentence (`<s> w1` in a trigram model, where lmplz
   pads with extra `<s>`) also keeps its raw count.
2. Adjust. Below the highest order, an n-gram that does not start with `<s>` counts its distinct
   left extensions instead of its occurrences (the Kneser-Ney continuation count).
3. Discount. Per order, from the count-of-counts n1…n4 of the adjusted counts:
   Y = n1 / (n1 + 2 n2) and D_k = k − (k+1) Y n_{k+1} / n_k for k = 1, 2, 3+. If some n_k is 0, or
   some D_k falls outside [0, k], the closed form is meaningless and, like lmplz's
   `--discount_fallback` (which ROOTS passed), the order gets D = 0.5, 1.0, 1.5 instead. On small
   corpora that is the normal case, not an error: on English text cut into SentencePiece pieces,
   some order of a 5-gram model needed it in every sample of up to a few hundred lines (some
   adjusted count from 1 to 4 never occurs at that order, or a D_k leaves its range); from about a
   thousand lines on, none did.
4. Interpolate. p(w | c) = (a(cw) − D(a(cw))) / Σ_x a(cx) + γ(c) p(w | c′), where c′ is c without
   its first word and γ(c) = Σ_x D(a(cx)) / Σ_x a(cx) is the mass the discounts freed. Unigrams
   interpolate with the uniform distribution over the vocabulary without `<s>`, so `<unk>`, never
   seen, gets γ/|V|. `<s>` gets probability 1 (log10 0): it is only ever a context, as in lmplz.
5. Write. log10 p(w | c) for every n-gram, and log10 γ as the backoff weight of every n-gram that
   is a context (0 for the others). KenLM's backoff rule then reproduces the interpolated
   probability of every unseen n-gram exactly, so each context's distribution sums to 1.

Memory: every table is a Python dict keyed by a tuple of word ids, counts first and probabilities
next to them. Measured with tracemalloc on 1 MB of English text in SentencePiece pieces (349,350
n-grams of orders 1-5): about 340 bytes per distinct n-gram at the peak of `estimate`, 240 kept by
the finished model. The tens of MB of text a language model is trained from fit in a few GB.
The output is deterministic: n-grams are written in sorted order of their text and numbers are
printed with a fixed precision.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
_UNK_ID, _BOS_ID, _EOS_ID = 0, 1, 2

# The orders KenLM loads: its default build (the one the `kenlm` and `ufal.kenlm` wheels carry)
# stops at 6-grams, and its query structures need at least bigrams.
MIN_ORDER, MAX_ORDER = 2, 6

# The discounts lmplz substitutes under --discount_fallback (its defaults: D1, D2, D3+).
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)

# KenLM separates words at ASCII whitespace and NUL, in ARPA files and in `Model.score`; a token
# containing one would be read back as two words.
_WORD_SEPARATORS = re.compile(r"[\x00\t\n\x0b\x0c\r ]")

NGram = tuple[int, ...]
"""An n-gram as word ids (indexes into the model's `words`)."""


@dataclass(frozen=True)
class Discount:
    """The modified Kneser-Ney discounts of one order, and whether they are the fallback values."""

    d1: float
    d2: float
    d3: float
    fallback: bool

    def amount(self, count: int) -> float:
        """Return what is subtracted from an adjusted count; 0 for the zero counts of <unk> and <s>."""
        if count >= 3:
            return self.d3
        return (0.0, self.d1, self.d2)[count]


@dataclass(frozen=True)
class NGramCounts:
    """Raw counts: `counts[k]` holds the (k+1)-grams, shorter than the order only after `<s>`."""

    words: list[str]
    counts: list[dict[NGram, int]]
    sentences: int
    tokens: int


@dataclass(frozen=True)
class KneserNeyModel:
    """An estimated model: `probabilities[k]` and `backoffs[k]` are per (k+1)-gram, not in log space.

    `backoffs[k]` only holds the (k+1)-grams that are contexts of some (k+2)-gram; the others back
    off with weight 1.
    """

    words: list[str]
    probabilities: list[dict[NGram, float]]
    backoffs: list[dict[NGram, float]]
    discounts: list[Discount]
    sentences: int
    tokens: int

    @property
    def order(self) -> int:
        """Return the highest n-gram order."""
        return len(self.probabilities)

    def ngram_counts(self) -> list[int]:
        """Return how many n-grams each order has, as the ARPA header lists them."""
        return [len(table) for table in self.probabilities]


def count_ngrams(sentences: Iterable[Sequence[str]], order: int) -> NGramCounts:
    """Return the raw n-gram counts of `sentences` (lists of tokens) for a model of `order`.

    Raises ValueError for an order KenLM cannot load, for no sentences at all, and for a token
    KenLM would misread: empty, containing whitespace, or one of `<s>`, `</s>`, `<unk>` (which
    lmplz also refuses by default).
    """
    if not MIN_ORDER <= order <= MAX_ORDER:
        raise ValueError(f"order must be between {MIN_ORDER} and {MAX_ORDER} (what KenLM loads), got {order}")
    ids = {UNK: _UNK_ID, BOS: _BOS_ID, EOS: _EOS_ID}
    words = [UNK, BOS, EOS]
    counts: list[dict[NGram, int]] = [{} for _ in range(order)]
    sentence_count = token_count = 0
    for sentence in sentences:
        sequence = [_BOS_ID]
        for token in sentence:
            word = ids.get(token)
            if word is None:
                _check_token(token)
                word = ids[token] = len(words)
                words.append(token)
            elif word <= _EOS_ID:
                raise ValueError(f"the token {token!r} is reserved by the ARPA format")
            sequence.append(word)
        sequence.append(_EOS_ID)
        sentence_count += 1
        token_count += len(sequence) - 2
        for end in range(1, len(sequence)):
            ngram = tuple(sequence[max(0, end + 1 - order) : end + 1])
            table = counts[len(ngram) - 1]
            table[ngram] = table.get(ngram, 0) + 1
    if not sentence_count:
        raise ValueError("no sentences to estimate a language model from")
    return NGramCounts(words, counts, sentence_count, token_count)


def _check_token(token: str) -> None:
    """Raise ValueError for a token that would not survive a round trip through KenLM."""
    if not token or _WORD_SEPARATORS.search(token):
        raise ValueError(f"tokens must be non-empty and contain no whitespace, got {token!r}")


def adjust_counts(raw: Sequence[dict[NGram, int]]) -> list[dict[NGram, int]]:
    """Return the Kneser-Ney adjusted counts per order, computed from the raw counts.

    The highest order keeps its raw counts (the same dict is returned, not copied). Below it, an
    n-gram's count is the number of distinct words seen before it, except after `<s>`, where
    nothing can precede and the raw count stays. The unigrams get `<unk>` and `<s>` with count
    0, as in lmplz: both are in the vocabulary but never predicted from the corpus.
    """
    adjusted = [raw[-1]]
    for shorter in reversed(raw[:-1]):
        table = dict(shorter)
        # Each key of the longer order is one distinct left extension of its suffix.
        for ngram in adjusted[0]:
            suffix = ngram[1:]
            table[suffix] = table.get(suffix, 0) + 1
        adjusted.insert(0, table)
    adjusted[0] = {(_UNK_ID,): 0, (_BOS_ID,): 0, **adjusted[0]}
    return adjusted


def count_of_counts(counts: dict[NGram, int]) -> tuple[int, int, int, int]:
    """Return n1, n2, n3, n4: how many n-grams have (adjusted) count 1, 2, 3 and 4."""
    histogram = [0] * 5
    for count in counts.values():
        if count < 5:
            histogram[count] += 1
    return histogram[1], histogram[2], histogram[3], histogram[4]


def discounts_for(
    n: tuple[int, int, int, int], fallback: tuple[float, float, float] = FALLBACK_DISCOUNTS
) -> Discount:
    """Return Chen & Goodman's discounts (their eq. 26) for count-of-counts `n`, or `fallback`.

    The fallback applies when the estimate cannot be computed (n1, n2 or n3 is 0) or gives a
    discount outside [0, k] for count k, exactly the cases where lmplz needs --discount_fallback.
    """
    n1, n2, n3, _ = n
    if n1 and n2 and n3:
        y = n1 / (n1 + 2 * n2)
        amounts = [k - (k + 1) * y * n[k] / n[k - 1] for k in (1, 2, 3)]
        if all(0 <= amount <= k for k, amount in enumerate(amounts, 1)):
            return Discount(*amounts, fallback=False)
    return Discount(*fallback, fallback=True)


def interpolate(
    adjusted: Sequence[dict[NGram, int]], discounts: Sequence[Discount]
) -> tuple[list[dict[NGram, float]], list[dict[NGram, float]]]:
    """Return (probabilities, backoffs) per order for the adjusted counts, interpolated as lmplz.

    `backoffs[k]` maps each (k+1)-gram that is a context of the next order to its γ; the highest
    order has none.
    """
    probabilities: list[dict[NGram, float]] = []
    gammas: list[dict[NGram, float]] = []
    # The vocabulary of the uniform distribution holds every word and <unk>, but not <s>.
    uniform = 1.0 / (len(adjusted[0]) - 1)
    for counts, discount in zip(adjusted, discounts, strict=True):
        totals, freed = _context_sums(counts, discount)
        gamma = {context: freed[context] / total for context, total in totals.items()}
        lower = probabilities[-1] if probabilities else None
        table: dict[NGram, float] = {}
        for ngram, count in counts.items():
            context = ngram[:-1]
            below = lower[ngram[1:]] if lower is not None else uniform
            table[ngram] = (count - discount.amount(count)) / totals[context] + gamma[context] * below
        if lower is None:
            # lmplz's special case: <s> is only ever a context, so it gets probability 1.
            table[(_BOS_ID,)] = 1.0
        probabilities.append(table)
        gammas.append(gamma)
    # γ of order k+1 is keyed by its context, an n-gram of order k: that is order k's backoff.
    return probabilities, [*gammas[1:], {}]


def _context_sums(
    counts: dict[NGram, int], discount: Discount
) -> tuple[dict[NGram, int], dict[NGram, float]]:
    """Return, per context, the sum of the adjusted counts and the sum of their discounts."""
    totals: dict[NGram, int] = {}
    freed: dict[NGram, float] = {}
    for ngram, count in counts.items():
        context = ngram[:-1]
        totals[context] = totals.get(context, 0) + count
        freed[context] = freed.get(context, 0.0) + discount.amount(count)
    return totals, freed


def estimate(
    sentences: Iterable[Sequence[str]],
    order: int = 5,
    fallback: tuple[float, float, float] = FALLBACK_DISCOUNTS,
) -> KneserNeyModel:
    """Return the interpolated modified Kneser-Ney model of `sentences`, as `lmplz -o order`."""
    raw = count_ngrams(sentences, order)
    adjusted = adjust_counts(raw.counts)
    discounts = [discounts_for(count_of_counts(table), fallback) for table in adjusted]
    probabilities, backoffs = interpolate(adjusted, discounts)
    return KneserNeyModel(raw.words, probabilities, backoffs, discounts, raw.sentences, raw.tokens)


def write_arpa(model: KneserNeyModel, out: TextIO) -> None:
    """Write `model` to `out` in ARPA format, n-grams of each order sorted by their text.

    As lmplz does, every order but the highest has a backoff column (0 where the n-gram is not a
    context), and probabilities are capped at log10 1 = 0 against rounding.
    """
    out.write("\\data\\\n")
    for order, size in enumerate(model.ngram_counts(), 1):
        out.write(f"ngram {order}={size}\n")
    words = model.words
    for order, (probabilities, backoffs) in enumerate(
        zip(model.probabilities, model.backoffs, strict=True), 1
    ):
        out.write(f"\n\\{order}-grams:\n")
        lines = sorted((" ".join([words[i] for i in ngram]), ngram) for ngram in probabilities)
        for text, ngram in lines:
            probability = _number(min(0.0, _log10(probabilities[ngram])))
            if order == model.order:
                out.write(f"{probability}\t{text}\n")
            else:
                out.write(f"{probability}\t{text}\t{_number(_log10(backoffs.get(ngram, 1.0)))}\n")
    out.write("\n\\end\\\n")


def _log10(value: float) -> float:
    """Return log10(value), or -99, ARPA's conventional log of 0 (a discount of exactly 0)."""
    return math.log10(value) if value > 0 else -99.0


def _number(value: float) -> str:
    """Return `value` with 7 significant digits: KenLM stores floats, which hold about that many."""
    return f"{value:.7g}"
