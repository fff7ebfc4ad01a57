"""Exact n-gram counts of many documents at once, with numpy: the repetition scores of a batch.

ROOTS counts the n-grams of one document in a Python dict (characters, n = 10) or over joined words
(n = 5); the character count alone was a third of our scoring time. Here the documents of a batch
are runs of integer symbols (code points or word ids) in one array, every n-gram becomes one int64
key that is equal for two n-grams exactly when their symbols are equal and they belong to the same
document, and one sort of the keys gives every document's n-gram frequencies. There is no hashing:
keys pack symbol ranks into bits and, when n symbols do not fit in 63 bits, pack the ranks of the
n-gram's two overlapping halves (each ranked the same way, recursively). So the scores equal those
of `scores.character_repetition` and `scores.word_repetition` to the last bit (the property tests
compare them on random text).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

_KEY_BITS = 63  # keys stay non-negative int64
_LAST = (1 << _KEY_BITS) - 1  # above every key

# Batches are cut into chunks of about this many code points: numpy's passes then run in the
# processor's cache, 1.8 x faster than over a batch of 1 M code points (measured).
CHUNK = 1 << 16


@dataclass(frozen=True)
class NgramCounts:
    """Per document of a batch: n-gram occurrences, distinct n-grams, and those seen once.

    `repeated` holds the frequencies of the n-grams seen more than once, document after document,
    each document's in decreasing order: `repeated_count[i]` of them from `repeated_first[i]`.
    """

    totals: np.ndarray  # int64: len(document) - n + 1, or 0
    distinct: np.ndarray  # int64
    singletons: np.ndarray  # int64
    repeated: np.ndarray  # int64
    repeated_first: np.ndarray  # int64
    repeated_count: np.ndarray  # int64

    def top_sums(self, k: np.ndarray) -> np.ndarray:
        """Return, per document, the sum of its `k[i]` largest n-gram frequencies (k <= distinct)."""
        owner = np.repeat(np.arange(len(self.totals)), self.repeated_count)
        rank = np.arange(len(self.repeated)) - self.repeated_first[owner]
        running = np.concatenate(([0], np.cumsum(np.where(rank < k[owner], self.repeated, 0))))
        sums = running[self.repeated_first + self.repeated_count] - running[self.repeated_first]
        # Past the repeated n-grams, each further one of the k is a singleton: it adds 1.
        return sums + np.maximum(k - self.repeated_count, 0)


def chunks(sizes: Sequence[int], limit: int | None = None) -> Iterator[tuple[int, int]]:
    """Yield (first, last) index ranges of consecutive sizes adding up to at most `limit` each.

    The limit defaults to `CHUNK`; a size above it gets a range of its own.
    """
    limit = CHUNK if limit is None else limit
    first, total = 0, 0
    for index, size in enumerate(sizes):
        if total + size > limit and index > first:
            yield first, index
            first, total = index, 0
        total += size
    if first < len(sizes):
        yield first, len(sizes)


def code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return the code points of all `texts` concatenated (uint32) and each text's length (int64).

    Lone surrogates, which a Python str may hold, count as the code points they are.
    """
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32)
    return codes, np.fromiter(map(len, texts), np.int64, len(texts))


def dense_ranks(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Return `values` (non-negative integers) replaced by their rank among the distinct values.

    The ranks are int64 in [0, distinct); the second result is `distinct`.
    """
    if not len(values):
        return np.zeros(0, np.int64), 0
    largest = int(values.max())
    if largest < 8 * len(values) + 4096:  # a table indexed by value beats a sort
        present = np.zeros(largest + 1, np.bool_)
        present[values] = True
        distinct = np.flatnonzero(present)
        table = np.empty(largest + 1, np.int64)
        table[distinct] = np.arange(len(distinct))
        return np.take(table, values), len(distinct)
    position_bits = len(values).bit_length()
    if largest.bit_length() + position_bits <= _KEY_BITS:
        # Sorting (value, position) packed in one int64 is 3x faster than an argsort.
        packed = np.sort((values.astype(np.int64) << position_bits) | np.arange(len(values)))
        order = packed & ((1 << position_bits) - 1)
        ordered = packed >> position_bits
    else:
        order = np.argsort(values)
        ordered = values[order]
    starts = np.empty(len(values), np.int64)  # int64: numpy's cumsum of bools is 2x slower
    starts[0] = 0
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    sorted_ranks = np.cumsum(starts)
    ranks = np.empty_like(sorted_ranks)
    ranks[order] = sorted_ranks
    return ranks, int(sorted_ranks[-1]) + 1


def _packed(ranks: np.ndarray, n: int, bits: int) -> np.ndarray:
    """Return, for every start position, its n ranks packed into one int64 (n * bits <= 63)."""
    count = len(ranks) - n + 1
    keys = ranks[:count].copy()
    for offset in range(1, n):
        keys <<= bits
        keys |= ranks[offset : offset + count]
    return keys


def window_ids(ranks: np.ndarray, alphabet: int, n: int, room: int = _KEY_BITS) -> tuple[np.ndarray, int]:
    """Return an id per start position, equal for two positions exactly when their n-grams are.

    `ranks` are symbols in [0, alphabet), `len(ranks) >= n`. The ids are below the second result,
    itself at most 2**room. Positions are global, so windows that run from one document into the
    next get ids too; the caller leaves them out.
    """
    bits = max(1, (alphabet - 1).bit_length())
    if n * bits <= room:
        return _packed(ranks, n, bits), 1 << (n * bits)
    # The two overlapping halves of ceil(n / 2) symbols cover the n-gram, so it equals another
    # exactly when both halves do: rank the halves, then pack the pair of ranks. Halves are kept
    # small enough for `dense_ranks` to sort them with their positions.
    half = (n + 1) // 2
    halves, _ = window_ids(ranks, alphabet, half, _KEY_BITS - len(ranks).bit_length())
    half_ranks, distinct = dense_ranks(halves)
    count = len(ranks) - n + 1
    second = n - half
    ids = half_ranks[:count] * distinct + half_ranks[second : second + count]
    if distinct * distinct <= 1 << room:
        return ids, distinct * distinct
    ids, distinct = dense_ranks(ids)
    return ids, distinct


def count_ngrams(symbols: np.ndarray, lengths: np.ndarray, n: int) -> NgramCounts:
    """Return the n-gram counts of each document; `symbols` concatenates them, `lengths` cuts them."""
    assert n >= 1, n
    docs = len(lengths)
    totals = np.maximum(lengths - n + 1, 0)
    if not totals.any():
        zeros = np.zeros(docs, np.int64)
        return NgramCounts(totals, zeros, zeros, np.zeros(0, np.int64), zeros, zeros)
    ranks, alphabet = dense_ranks(symbols)
    keys, bound = window_ids(ranks, alphabet, n, _KEY_BITS - docs.bit_length())
    if docs * bound >= 1 << _KEY_BITS:
        keys, bound = dense_ranks(keys)
    # Tag each window with its document: sorted, the keys are grouped by document.
    keys += np.repeat(np.arange(docs, dtype=np.int64) * bound, lengths)[: len(keys)]
    # The windows that run past the end of their document (its last n - 1 positions) sort last
    # and are cut off.
    ends = np.cumsum(lengths)
    tails = ends[:, None] - np.arange(1, n)
    tails = tails[(tails >= (ends - lengths)[:, None]) & (tails < len(keys))]
    keys[tails] = _LAST
    keys.sort()
    keys = keys[: int(totals.sum())]
    # A distinct n-gram is a run of equal keys; a run of one is a singleton. Boolean masks and
    # cumulative sums are slow in numpy: positions (flatnonzero) and searchsorted do the counting.
    run_starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    frequencies = np.diff(run_starts, append=len(keys))
    run_bounds = np.searchsorted(run_starts, np.concatenate(([0], np.cumsum(totals))))
    distinct = np.diff(run_bounds)
    singletons = np.diff(np.searchsorted(np.flatnonzero(frequencies == 1), run_bounds))
    repeated = np.flatnonzero(frequencies > 1)
    repeated_count = np.diff(np.searchsorted(repeated, run_bounds))
    # Each document's repeated n-grams by decreasing frequency: one sort of (document, -frequency).
    owner = np.repeat(np.arange(docs, dtype=np.int64), repeated_count)
    frequencies = frequencies[repeated]
    ceiling = int(frequencies.max(initial=0)) + 1
    ordered = np.sort(owner * ceiling + (ceiling - 1 - frequencies))
    return NgramCounts(totals, distinct, singletons, ceiling - 1 - ordered % ceiling,
                       np.cumsum(repeated_count) - repeated_count, repeated_count)


def isqrt(values: np.ndarray) -> np.ndarray:
    """Return the integer square root of each non-negative int64 below 2**52 (as `math.isqrt`)."""
    roots = np.floor(np.sqrt(values.astype(np.float64))).astype(np.int64)
    roots -= roots * roots > values
    roots += (roots + 1) * (roots + 1) <= values
    return roots
