"""Exact n-gram counting of many documents at once, against Counter on each document."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from roots_pipeline.filters.ngrams import chunks, code_points, count_ngrams, dense_ranks, isqrt


def reference(documents: list[list[int]], n: int) -> list[tuple[int, int, int, list[int]]]:
    """Per document: n-gram total, distinct, singletons, frequencies > 1 in decreasing order."""
    found = []
    for symbols in documents:
        counts = Counter(tuple(symbols[i:i + n]) for i in range(len(symbols) - n + 1))
        frequencies = sorted(counts.values(), reverse=True)
        found.append((max(len(symbols) - n + 1, 0), len(frequencies), frequencies.count(1),
                      [f for f in frequencies if f > 1]))
    return found


def counted(documents: list[list[int]], n: int) -> list[tuple[int, int, int, list[int]]]:
    symbols = np.array([s for document in documents for s in document], np.int64)
    counts = count_ngrams(symbols, np.array([len(d) for d in documents], np.int64), n)
    return [(total, distinct, singletons, counts.repeated[first:first + many].tolist())
            for total, distinct, singletons, first, many in zip(
                counts.totals.tolist(), counts.distinct.tolist(), counts.singletons.tolist(),
                counts.repeated_first.tolist(), counts.repeated_count.tolist(), strict=True)]


# Small alphabets make repeats; a large one (word ids, CJK) forces the two-level keys.
documents = st.one_of(
    st.lists(st.lists(st.integers(0, 2), max_size=40), min_size=1, max_size=6),
    st.lists(st.lists(st.integers(0, 40), max_size=60), min_size=1, max_size=6),
    st.lists(st.lists(st.integers(0, 1 << 20), max_size=30), min_size=1, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(documents, st.integers(1, 12))
def test_counts_equal_counter_on_each_document(docs, n):
    assert counted(docs, n) == reference(docs, n)


@settings(max_examples=100, deadline=None)
@given(documents, st.integers(1, 12), st.lists(st.integers(0, 30), max_size=6))
def test_top_sums_are_the_k_largest_frequencies(docs, n, ks):
    symbols = np.array([s for document in docs for s in document], np.int64)
    counts = count_ngrams(symbols, np.array([len(d) for d in docs], np.int64), n)
    k = np.minimum(np.array((ks + [0] * len(docs))[: len(docs)], np.int64), counts.distinct)
    for document, wanted, got in zip(docs, k.tolist(), counts.top_sums(k).tolist(), strict=True):
        frequencies = sorted(Counter(tuple(document[i:i + n]) for i in range(len(document) - n + 1)).values(),
                             reverse=True)
        assert got == sum(frequencies[:wanted])


def test_a_long_repetitive_batch():
    # Enough positions for the table ranking of code points and the sort of packed halves.
    text = "abcabcabd " * 3000 + "zyx" * 500
    codes, lengths = code_points([text, text[::-1], ""])
    counts = count_ngrams(codes, lengths, 10)
    for index, document in enumerate([text, text[::-1], ""]):
        grams = Counter(document[i:i + 10] for i in range(len(document) - 9))
        assert counts.distinct[index] == len(grams)
        assert counts.singletons[index] == sum(1 for c in grams.values() if c == 1)


def test_dense_ranks_all_paths():
    rng = np.random.default_rng(0)
    for values in (rng.integers(0, 50, 1000), rng.integers(0, 1 << 40, 1000), rng.integers(0, 1 << 62, 1000),
                   np.array([7]), np.zeros(0, np.int64)):
        ranks, distinct = dense_ranks(values)
        expected = np.unique(values, return_inverse=True)[1].reshape(-1) if len(values) else values
        assert ranks.tolist() == expected.tolist() and distinct == len(set(values.tolist()))


def test_lone_surrogates_are_code_points():
    codes, lengths = code_points(["a\ud800b", ""])
    assert codes.tolist() == [ord("a"), 0xD800, ord("b")] and lengths.tolist() == [3, 0]


def test_isqrt_is_exact():
    values = np.array([*range(0, 10_000), *(k * k + d for k in (2**20, 2**25, 94906265) for d in (-1, 0, 1))])
    assert isqrt(values).tolist() == [math.isqrt(v) for v in values.tolist()]


def test_chunks_keep_order_and_give_big_sizes_their_own():
    assert list(chunks([3, 3, 3, 10, 1], limit=6)) == [(0, 2), (2, 3), (3, 4), (4, 5)]
    assert list(chunks([], limit=6)) == []
