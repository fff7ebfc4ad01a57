"""MinHash near-duplicate detection: shingles, signatures, LSH bands and connected components.

Pure functions, no Beam: the `minhash_dedup` stage (`stages/near_dedup.py`) calls them, and so do
the tests and `bench/near_dup.py`.

Signatures are `datasketch.MinHash` signatures (datasketch 2.x, its default "affine32" scheme): a
shingle's hash is the first 4 bytes of its SHA-1, little-endian; it is pre-mixed with the 32-bit
MurmurHash3 finalizer, then permuted as `a * h + b mod 2**32` with odd `a`, the `(a, b)` pairs drawn
from `np.random.RandomState(seed)` exactly as datasketch draws them. A document's signature equals
`MinHash(num_perm, seed)` updated with the same shingles, so sketches can be checked or mixed with
datasketch's. The computation is datasketch's, vectorised over many documents at once: hash every
shingle of a batch, one (permutations x shingles) product per block of shingles, and
`np.minimum.reduceat` per document.

Candidates and verification. LSH banding finds candidates: documents sharing one band of `rows`
signature values. The (bands, rows) are datasketch's choice for a *lower* Jaccard than the one that
defines a near-duplicate, so that pairs at the threshold are candidates almost surely; the
candidates of each bucket (document numbers only: all pairs of a small bucket, a star and a path
through a bigger one, `bucket_candidates`; `bucket_pairs` gives them for many buckets at once) are
then verified by their ends' signatures (`verified_edges`), the estimated Jaccard (the share of
equal signature values) >= threshold, which drops the false candidates the lower banding lets in.
datasketch's 14 x 9 bands for 0.7 at 128 permutations make a pair of Jaccard 0.7 a candidate with
probability 0.44 only (0.87 at 0.8); the stage's default 53 x 6 (chosen for 0.5 at 320
permutations, by `lsh_threshold_for`) with 0.999. What is left is the estimate's own error, its
standard deviation sqrt(J(1 - J) / num_perm): at J = 0.7, 0.041 with 128 permutations, 0.029 with
256, 0.026 with 320. Hence the stage's defaults, 320 permutations banded for 0.5
(`lsh_threshold_for`'s choice for 0.7): on `bench/near_dup.py` they give pairwise F1 0.980 against
exact-Jaccard truth, where datasketch unverified at 128 gives 0.913; the F1 of every (num_perm,
banding) tried, over 8 seeds, is in `bench/README.md`.

Connected components use the alternating large-star / small-star rounds of Kiveris et al.,
"Connected Components in MapReduce and Beyond" (SoCC 2014): each step groups edges by node and
looks at one node's neighbours only, so a distributed runner never holds the graph, and every step
keeps the graph's connectivity while contracting each component towards a star around its
smallest node. A component that has become such a star, all its other members leaves of it, is
finished: no later step changes it, so it can leave the rounds with its labels
(`finished_star`, `components_finishing_stars`) and the rounds carry only what is unfinished.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

import numpy as np

WORDS = "words"
CHARACTERS = "characters"
SHINGLE_KINDS = (WORDS, CHARACTERS)

# Languages written without spaces between words: whitespace-split "words" there are whole
# phrases or sentences, so their shingles are character n-grams.
CHARACTER_LANGUAGES = frozenset({"zh", "yue", "ja", "th", "lo", "km", "my"})

# The datasketch "affine32" scheme: 32-bit hashes, `h -> a * h + b mod 2**32` with `a` odd.
MAX_HASH = np.uint32(0xFFFFFFFF)
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
# Shingles of the (permutations x shingles) product computed at once: 320 x 8192 x 4 bytes = 10 MiB,
# one buffer per call, so a batch of any size (or one huge document) costs 10 MiB besides its
# 4-byte shingle hashes (a fresh product per block page-faulted its memory in again each time).
_BLOCK_COLUMNS = 8192
# Share of the pairs at the near-duplicate threshold that the default banding makes candidates, at
# least, and the steps in which `lsh_threshold_for` lowers the banding threshold to reach it.
CANDIDATE_RECALL = 0.99
_LSH_STEP = 0.05
# Members of one LSH bucket held (document numbers, about 40 bytes each) to give its candidate
# edges in node order: a path through them and a star around the smallest; see `bucket_candidates`.
BUCKET_HELD = 1024
# Buckets of at most this many members give every pair as a candidate; see `bucket_candidates`.
ALL_PAIRS_UP_TO = 8
# Band hashes (`band_hashes`): SplitMix64's finalizer constants, and the value every chain starts from.
_SPLITMIX = (np.uint64(30), np.uint64(0xBF58476D1CE4E5B9), np.uint64(27), np.uint64(0x94D049BB133111EB),
             np.uint64(31))
_BAND_SEED = np.uint64(0x9E3779B97F4A7C15)
# One bucket entry of the `minhash_dedup` shuffle: a band hash and a document number.
ENTRY = np.dtype([("hash", "<u8"), ("number", "<i8")])

Node = TypeVar("Node")
Edge = tuple[Node, Node]


# --- shingles -------------------------------------------------------------------------------------

def shingle_kind(lang: str) -> str:
    """Return the shingle kind `auto` gives a language: characters where words are not spaced."""
    return CHARACTERS if lang.partition("_")[0] in CHARACTER_LANGUAGES else WORDS


@functools.cache
def _separators() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Return (punctuation-or-non-ASCII-whitespace, punctuation-or-whitespace) patterns over the
    Unicode `P*` characters of the Basic Multilingual Plane.

    The first leaves only ASCII whitespace between words, so the encoded text splits with
    `bytes.split` into the words `str.split` would give, which is faster than encoding each
    word. The 194 `P*` characters beyond the plane (marks of historic scripts, Adlam) stay word
    characters: one of them in a character class makes `re` test every class member in turn,
    twenty times slower on any text.
    """
    plane = list(map(chr, range(0x10000)))  # every whitespace character is in it too
    marks = "".join(c for c in plane if unicodedata.category(c).startswith("P"))
    spaces = "".join(c for c in plane if c.isspace() and not c.encode().isspace())  # \x1c-\x1f too
    escaped = re.escape(marks)
    return re.compile(f"[{escaped}{re.escape(spaces)}]+"), re.compile(rf"[\s{escaped}]+")


def shingles(text: str, n: int, kind: str) -> list[bytes]:
    """Return the UTF-8 shingles of `text`: what its MinHash signature is computed from.

    The text is lowercased and punctuation (Unicode category P) is dropped, so case and
    punctuation edits do not count as differences. `words`: n-grams of whitespace-separated
    words, joined by one space; `characters`: n-grams of the characters left once whitespace is
    removed too. A text with fewer than `n` tokens gives one shingle of all of them (as datatrove
    and text-dedup do), so short documents are still compared; one with none gives no shingle
    and is never a duplicate.
    """
    punctuation_or_wide_space, punctuation_or_space = _separators()
    lowered = text.lower()
    if kind == WORDS:
        words = punctuation_or_wide_space.sub(" ", lowered).encode().split()
        if len(words) <= n:
            return [b" ".join(words)] if words else []
        # Shifted copies of the word list, zipped: the n-grams, the shorter copies ending it.
        return list(map(b" ".join, zip(*(words[i:] for i in range(n)), strict=False)))
    assert kind == CHARACTERS, kind
    chars = punctuation_or_space.sub("", lowered)
    if len(chars) <= n:
        return [chars.encode()] if chars else []
    return [chars[i:i + n].encode() for i in range(len(chars) - n + 1)]


# --- signatures -----------------------------------------------------------------------------------

def shingle_hashes(shingle_list: Iterable[bytes]) -> np.ndarray:
    """Return datasketch's `sha1_hash32` of each shingle (first 4 SHA-1 bytes, little-endian).

    The digests are joined and read as one array, which is what makes this faster than calling
    `sha1_hash32` per shingle.
    """
    sha1 = hashlib.sha1
    digests = b"".join([sha1(shingle).digest() for shingle in shingle_list])
    return np.frombuffer(digests, dtype="<u4").reshape(-1, 5)[:, 0].astype(np.uint32)


@functools.lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return datasketch's affine32 permutation parameters `(a, b)` for `num_perm` and `seed`."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.flags.writeable = b.flags.writeable = False  # cached and shared
    return a, b


def _fmix32(values: np.ndarray) -> np.ndarray:
    """Return the MurmurHash3 32-bit finalizer of each value (datasketch's pre-mix)."""
    s1, m1, s2, m2, s3 = _FMIX
    values = values ^ (values >> s1)
    values *= m1
    values ^= values >> s2
    values *= m2
    values ^= values >> s3
    return values


def signatures(hashes: Sequence[np.ndarray], num_perm: int, seed: int) -> np.ndarray:
    """Return the (documents x num_perm) uint32 MinHash signatures of documents' shingle hashes.

    `hashes` holds one non-empty array of `shingle_hashes` per document. Rows equal
    `datasketch.MinHash(num_perm, seed)` updated with the same shingles.
    """
    assert all(len(h) for h in hashes), "every document needs at least one shingle"
    # Permutations x shingles, so each document's minimum is taken along contiguous memory
    # (about 4 times faster than the transposed layout).
    out = np.full((num_perm, len(hashes)), MAX_HASH, dtype=np.uint32)
    if not hashes:
        return out.T
    a, b = (p[:, None] for p in permutations(num_perm, seed))
    flat = _fmix32(np.concatenate(hashes))
    starts = np.zeros(len(hashes), dtype=np.int64)
    np.cumsum([len(h) for h in hashes[:-1]], out=starts[1:])
    buffer = np.empty((num_perm, min(_BLOCK_COLUMNS, len(flat))), dtype=np.uint32)
    for low in range(0, len(flat), _BLOCK_COLUMNS):
        high = min(low + _BLOCK_COLUMNS, len(flat))
        product = buffer[:, :high - low]
        np.multiply(a, flat[None, low:high], out=product)  # wraps mod 2**32, as datasketch's does
        product += b
        first = int(np.searchsorted(starts, low, side="right")) - 1  # may have begun in a block before
        last = int(np.searchsorted(starts, high - 1, side="right")) - 1
        cuts = starts[first:last + 1] - low
        cuts[0] = 0
        mins = np.minimum.reduceat(product, cuts, axis=1)
        np.minimum(out[:, first:last + 1], mins, out=out[:, first:last + 1])
    return np.ascontiguousarray(out.T)


def estimated_jaccard(left: np.ndarray, right: np.ndarray) -> float:
    """Return the share of equal signature values: MinHash's estimate of the sets' Jaccard."""
    return float(np.count_nonzero(left == right)) / len(left)


@functools.lru_cache(maxsize=64)
def agreements_needed(threshold: float, num_perm: int) -> int:
    """Return the fewest equal values of two signatures whose `estimated_jaccard` is >= threshold.

    Comparing counts with it is exact where `count >= threshold * num_perm` is not
    (0.7 * 10 = 7.000000000000001).
    """
    need = math.ceil(threshold * num_perm)
    if need > 0 and (need - 1) / num_perm >= threshold:
        need -= 1
    elif need / num_perm < threshold:
        need += 1
    return need


# --- LSH ------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def optimal_bands_rows(threshold: float, num_perm: int) -> tuple[int, int]:
    """Return the (bands, rows) that datasketch's `MinHashLSH(threshold, num_perm)` chooses.

    Like datasketch's `_optimal_param` with weights 0.5/0.5: minimise the mean of the false
    positive area, the integral over [0, threshold] of `1 - (1 - s**r)**b` (the chance that a pair
    of Jaccard s shares a band), and the false negative area, the integral of `(1 - s**r)**b`
    over [threshold, 1], for b * r <= num_perm; the first minimum in (b, r) order wins. Both
    integrands are polynomials of degree b * r <= num_perm, so Gauss-Legendre quadrature with
    num_perm // 2 + 1 nodes gives them exactly, for every (b, r) at once, where datasketch calls
    `scipy.integrate.quad` once per integral.
    """
    assert 0.0 < threshold < 1.0 and num_perm >= 1, (threshold, num_perm)
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    pairs = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)],
                     dtype=np.float64)
    bands, rows = pairs[:, :1], pairs[:, 1:]

    def integral(low: float, high: float, integrand: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        s = (high - low) / 2 * nodes + (high + low) / 2
        return integrand(s) @ weights * (high - low) / 2

    false_positive = integral(0.0, threshold, lambda s: 1 - (1 - s ** rows) ** bands)
    false_negative = integral(threshold, 1.0, lambda s: (1 - s ** rows) ** bands)
    best = int(np.argmin(false_positive * 0.5 + false_negative * 0.5))
    return int(pairs[best, 0]), int(pairs[best, 1])


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Return the chance that two documents of Jaccard `similarity` share a band: LSH's S-curve."""
    return 1.0 - (1.0 - similarity ** rows) ** bands


@functools.lru_cache(maxsize=64)
def lsh_threshold_for(threshold: float, num_perm: int) -> float:
    """Return the Jaccard to choose LSH bands for so that pairs at `threshold` are candidates with
    probability >= `CANDIDATE_RECALL`: the highest of threshold, threshold - 0.05, ... whose
    `optimal_bands_rows` do (0.5 for 0.7 at 320 permutations, 53 x 6: 0.999).

    datasketch's bands for the threshold itself find far fewer (0.44 at 0.7 with 128
    permutations): its choice weighs false candidates as much as missed ones, and the false
    candidates a lower banding adds are what verification removes.
    """
    candidate = threshold
    while candidate > _LSH_STEP:
        if candidate_probability(threshold, *optimal_bands_rows(candidate, num_perm)) >= CANDIDATE_RECALL:
            return candidate
        candidate = round(candidate - _LSH_STEP, 6)
    return candidate


def band_hashes(signature_rows: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Return a (documents x bands) uint64 array: a 64-bit hash of each band's `rows` values.

    Documents share a bucket of a band when that band of their signatures is equal, as in
    datasketch's `MinHashLSH` (bands over the first bands x rows values). A hash stands for the
    band's 4 x rows bytes so that a bucket entry costs 8 bytes: equal bands always hash equal,
    and two different bands of one language collide with probability 2**-64 per pair (their
    buckets would merge: a false candidate, removed by verification, and in a big bucket a
    different star and path).
    """
    docs = len(signature_rows)
    values = np.asarray(signature_rows[:, :bands * rows], dtype=np.uint64).reshape(docs, bands, rows)
    hashed = np.full((docs, bands), _BAND_SEED, dtype=np.uint64)
    for row in range(rows):  # a chain of bijections of 64 bits, each mixing in one 32-bit value
        hashed = _splitmix64(hashed ^ values[:, :, row])
    return hashed


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """Return SplitMix64's finalizer of each value: a bijection of uint64 that mixes every bit."""
    s1, m1, s2, m2, s3 = _SPLITMIX
    values = values ^ (values >> s1)
    values *= m1  # wraps mod 2**64
    values ^= values >> s2
    values *= m2
    return values ^ (values >> s3)


def band_entries(banded: np.ndarray, numbers: np.ndarray,
                 shards: int) -> Iterator[tuple[tuple[int, int], bytes]]:
    """Yield ((band, shard), entries) for documents' band hashes (documents x bands) and numbers
    (int64): that band and shard's (band hash, number) pairs, packed as `ENTRY` records.

    A band's entries are split in `shards` by band hash, so equal hashes (a bucket) share a shard
    and `bucket_pairs` finds every bucket of a band within one (band, shard) group. The entries
    are packed so that a shuffle carries 16 bytes per document and band, not a tuple per entry.
    """
    docs, bands = banded.shape
    if not docs:
        return
    hashes = banded.ravel()  # document-major: entry d * bands + b is document d's band b
    band_of = np.tile(np.arange(bands, dtype=np.uint64), docs)
    group = band_of * np.uint64(shards) + hashes % np.uint64(shards)
    order = np.argsort(group, kind="stable")
    entries = np.empty(len(order), dtype=ENTRY)
    entries["hash"] = hashes[order]
    entries["number"] = np.repeat(numbers, bands)[order]
    group = group[order]
    starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    for start, end in zip(starts.tolist(), [*starts[1:].tolist(), len(group)], strict=True):
        band, shard = divmod(int(group[start]), shards)
        yield (band, shard), entries[start:end].tobytes()


def bucket_edges(entries: np.ndarray, held: int = BUCKET_HELD,
                 all_pairs: int = ALL_PAIRS_UP_TO) -> Iterator[tuple[int, int]]:
    """Yield the candidate edges of every bucket among the `ENTRY` records of one band, as
    (smaller, larger) document numbers: `bucket_pairs` read back as Python ints."""
    left, right = bucket_pairs(entries["hash"], entries["number"], held, all_pairs)
    yield from zip(entries["number"][left].tolist(), entries["number"][right].tolist(), strict=True)


def bucket_pairs(hashes: np.ndarray, numbers: np.ndarray, held: int = BUCKET_HELD,
                 all_pairs: int = ALL_PAIRS_UP_TO,
                 groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return (left, right): positions in `hashes`/`numbers` (one band's entries, or several
    bands' told apart by `groups`) of the two ends of every candidate edge of every bucket, the
    left end's number the smaller.

    Documents with equal band hashes (and group) form a bucket; its edges are
    `bucket_candidates`' over its numbers, computed for all buckets at once: sorted by (group,
    hash, number), a bucket is a run of equal keys whose members are in number order, so every
    pair of a small bucket, and the star and path of a big one, are offsets from the run's start.
    The edges do not depend on the entries' order. Memory: the entries' sort order and sorted
    keys (24 bytes an entry), and the edges' positions (16 bytes an edge; fewer than 2 edges a
    member, or at most `all_pairs` - 1 in a small bucket).
    """
    empty = np.zeros(0, dtype=np.int64)
    if len(hashes) < 2:
        return empty, empty
    keys = (numbers, hashes) if groups is None else (numbers, hashes, groups)
    order = np.lexsort(keys)
    new = hashes[order[1:]] != hashes[order[:-1]]
    if groups is not None:
        new |= groups[order[1:]] != groups[order[:-1]]
    starts = np.flatnonzero(np.concatenate(([True], new)))
    del new
    sizes = np.diff(np.append(starts, len(hashes)))
    kept = np.minimum(sizes, held)  # a bucket's members that `bucket_candidates` holds
    lefts, rights = [], []
    small = (kept >= 2) & (kept <= all_pairs)
    for size in np.unique(kept[small]).tolist():  # every pair of the `size` first members
        first, second = _pairs_of(size)
        begin = starts[small & (kept == size)][:, None]
        lefts.append((begin + first).ravel())
        rights.append((begin + second).ravel())
    big = kept > all_pairs
    if big.any():
        begin, members, path = starts[big], sizes[big], kept[big] - 2
        # The star: the first member to each other one, beyond the held ones too.
        lefts.append(np.repeat(begin, members - 1))
        rights.append(lefts[-1] + _counts_from(members - 1, 1))
        # The path through the held members, from the second: (1, 2), (2, 3), ...
        steps = np.repeat(begin, path) + _counts_from(path, 1)
        lefts.append(steps)
        rights.append(steps + 1)
    if not lefts:
        return empty, empty
    return order[np.concatenate(lefts)], order[np.concatenate(rights)]


@functools.lru_cache(maxsize=128)
def _pairs_of(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the offsets (i, j), i < j, of every pair among `size` members."""
    first, second = np.triu_indices(size, 1)
    first.flags.writeable = second.flags.writeable = False  # cached and shared
    return first, second


def _counts_from(counts: np.ndarray, first: int) -> np.ndarray:
    """Return first, first + 1, ..., first + c - 1 for each c of `counts`, one run after another."""
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts) + first


def bucket_candidates(members: Iterable[Node], held: int = BUCKET_HELD,
                      all_pairs: int = ALL_PAIRS_UP_TO) -> Iterator[Edge]:
    """Yield the candidate edges of one LSH bucket, each as (smaller node, larger node).

    `members` are nodes (document numbers or ids, no signatures), each node once. A bucket of at most
    `all_pairs` members gives every pair; a bigger one a star around its smallest member and a
    path through its `held` smallest in node order, so a near-copy is compared with the smallest
    member and with its neighbours in id order (the smallest member is often none of its
    near-copies: the star alone loses those). The edges depend on the members, never on the order
    Beam delivers them. Candidates are verified afterwards against the two ends' signatures
    (`verified_edges`), so a false candidate costs a comparison, not a wrong edge.

    Bounds: the `held` smallest nodes are held (`heapq.nsmallest`, one pass), about 40 bytes
    each as the stage's document numbers, whatever the bucket's size; a bucket gives fewer than
    2 edges per member (at most `all_pairs` - 1 in a small one), never all pairs of a big one.
    Members beyond the `held` smallest (a second pass, only in a bigger bucket) get the star
    edge only.
    """
    first = heapq.nsmallest(held, members)
    if len(first) < 2:
        return
    if len(first) <= all_pairs:
        yield from itertools.combinations(first, 2)  # sorted, so each pair is (smaller, larger)
        return
    smallest = first[0]
    for node in first[1:]:
        yield smallest, node
    yield from zip(first[1:-1], first[2:], strict=True)  # the path; its first edge is the star's
    if len(first) == held:  # perhaps more members than held: read the bucket again for them
        last = first[-1]
        for node in members:
            if node > last:
                yield smallest, node


def close_enough(left: bytes, right: bytes, need: int) -> bool:
    """Return whether two signatures (uint32 bytes) agree in at least `need` values
    (`agreements_needed`): the estimated Jaccard reaches the threshold."""
    return int(np.count_nonzero(np.frombuffer(left, dtype=np.uint32) ==
                                np.frombuffer(right, dtype=np.uint32))) >= need


def verified_edges(candidates: Iterable[Edge], signature_of: Callable[[Node], bytes],
                   threshold: float) -> Iterator[Edge]:
    """Yield the distinct candidate edges whose ends' signatures estimate a Jaccard >= threshold.

    The single-process twin of the stage's `Distinct`, signature join and grouping by edge, for
    the tests and the benchmark.
    """
    need = None
    for left, right in sorted(set(candidates)):
        first, second = signature_of(left), signature_of(right)
        if need is None:
            need = agreements_needed(threshold, len(first) // 4)
        if close_enough(first, second, need):
            yield left, right


# --- connected components -------------------------------------------------------------------------

def both_ways(edge: Edge) -> Iterator[Edge]:
    """Yield an undirected edge keyed by each of its ends, ready to group by node."""
    yield edge
    yield edge[1], edge[0]


def large_star(node: Node, neighbours: Iterable[Node]) -> Iterator[Edge]:
    """Kiveris's large-star step: join the node's larger neighbours to its neighbourhood's minimum.

    Memory: the node's distinct neighbours (at the end, a cluster's smallest node has the whole
    cluster as neighbours).
    """
    distinct = set(neighbours)
    smallest = min(distinct, default=node)
    smallest = min(smallest, node)
    for neighbour in distinct:
        if neighbour > node:
            yield neighbour, smallest


def small_star(node: Node, neighbours: Iterable[Node]) -> Iterator[Edge]:
    """Kiveris's small-star step: join the node and its smaller neighbours to the smallest of them."""
    smaller = {neighbour for neighbour in neighbours if neighbour < node}
    smallest = min(smaller, default=node)
    smaller.add(node)
    for member in smaller:
        if member != smallest:
            yield member, smallest


def parent_messages(node: Node, neighbours: Iterable[Node]) -> Iterator[tuple[Node, Node]]:
    """Yield (n, p) for the node and each neighbour n, p being the node's smallest neighbour or itself.

    Grouped by node, these give each node its own `p` and its neighbours' (`final_label`).
    """
    distinct = set(neighbours)
    parent = min(min(distinct, default=node), node)
    yield node, parent
    for neighbour in distinct:
        yield neighbour, parent


def final_label(parents: Iterable[Node]) -> tuple[Node, bool]:
    """Return (label, converged) of a node from its own and its neighbours' `parent_messages`.

    The rounds keep connectivity, so once every edge joins two nodes with the same parent each
    component is a star around its smallest node, which is then every member's label. Otherwise
    (too few rounds) the node takes the smallest parent it saw, an id in its own component, and
    says it did not converge.
    """
    seen = set(parents)
    return min(seen), len(seen) == 1


def leaf_of(node: Node, neighbours: set[Node]) -> Node | None:
    """Return the node's one neighbour if it has exactly one and it is smaller, else None.

    Seen in a small-star step, such a node is a leaf: its one edge after the step joins it to that
    neighbour again, and nothing else joins it (`finished_star`).
    """
    if len(neighbours) == 1:
        (only,) = neighbours
        if only < node:
            return only
    return None


def finished_star(node: Node, neighbours: set[Node], leaves: set[Node]) -> bool:
    """Return whether a node, in a large-star step, and its neighbours are a whole component: a
    star around the node, its smallest member, which no later step changes.

    `leaves` are the neighbours that the small-star step before found to be leaves of this node
    (`leaf_of`): each has this node as its only neighbour, so when every neighbour is one, nothing
    else is joined to the star. Large-star and small-star steps leave such a star as it is and
    `final_label` gives each member the node, converged: the star can leave the rounds with its
    labels, and the rounds it skips would not have changed them.
    """
    return bool(neighbours) and neighbours <= leaves


def components_in_memory(edges: Iterable[Edge], max_rounds: int) -> dict[Node, tuple[Node, bool]]:
    """Return {node: (label, converged)} by Kiveris's rounds as the stage defines them, grouping
    with dicts in one process: `max_rounds` of large-star and small-star steps, then
    `parent_messages` and `final_label`.

    The reference the stage's results are held to (its own steps also take finished stars out of
    the rounds early: `components_finishing_stars`), for the tests and the benchmark.
    """
    current: Iterable[Edge] = list(edges)
    for _ in range(max_rounds):
        current = [e for node, ns in _grouped(current).items() for e in large_star(node, ns)]
        current = [e for node, ns in _grouped(current).items() for e in small_star(node, ns)]
    return _final_labels(current)


def components_finishing_stars(edges: Iterable[Edge], max_rounds: int) -> dict[Node, tuple[Node, bool]]:
    """Return `components_in_memory`'s labels by the stage's own steps: from the second round on,
    a large-star step gives a `finished_star` its labels at once, and only the other edges go on.

    The single-process twin of the stage's Beam steps, for the tests and the benchmark: every
    round holds only what has not finished, usually little after a round or two, where the
    reference carries every edge through every round.
    """
    labels: dict[Node, tuple[Node, bool]] = {}
    current: Iterable[Edge] = list(edges)
    leaves: dict[Node, set[Node]] = {}
    for index in range(max_rounds):
        following: list[Edge] = []
        for node, ns in _grouped(current).items():
            distinct = set(ns)
            if finished_star(node, distinct, leaves.get(node, set())):
                labels.update((member, (node, True)) for member in (node, *distinct))
            else:
                following.extend(large_star(node, distinct))
        current, following, leaves = following, [], defaultdict(set)
        for node, ns in _grouped(current).items():
            distinct = set(ns)
            following.extend(small_star(node, distinct))
            leaf = leaf_of(node, distinct) if index < max_rounds - 1 else None
            if leaf is not None:
                leaves[leaf].add(node)
        current = following
    return {**_final_labels(current), **labels}


def _grouped(edges: Iterable[Edge]) -> dict[Node, list[Node]]:
    """Return each node's neighbours (with repeats) over undirected edges."""
    groups: dict[Node, list[Node]] = defaultdict(list)
    for edge in edges:
        for node, neighbour in both_ways(edge):
            groups[node].append(neighbour)
    return groups


def _final_labels(edges: Iterable[Edge]) -> dict[Node, tuple[Node, bool]]:
    """Return {node: (label, converged)} of the nodes of `edges` after the rounds."""
    messages: dict[Node, list[Node]] = defaultdict(list)
    for node, ns in _grouped(edges).items():
        for target, parent in parent_messages(node, ns):
            messages[target].append(parent)
    return {node: final_label(parents) for node, parents in messages.items()}
