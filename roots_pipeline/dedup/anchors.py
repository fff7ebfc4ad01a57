"""Charged anchors: exact-substring dedup whose total work grows linearly with the corpus.

Same answer as `dedup.suffix_array` run on the texts in reading order, for any corpus size,
without a suffix array, a pair of parts or a worker that holds a language.

Semantics. Every document has an order key, two uint64 (hi, lo) compared lexicographically and
unique per document; reading order is their order. A window is W = `min_bytes` consecutive UTF-8
bytes of one document (never of two), at position (hi, lo, byte offset). A window is a
*duplicate* when the same W bytes occur at an earlier position: in a document with a smaller
order key, or earlier in the same document (overlaps allowed). Per document, the output is the
union of its duplicate windows as merged byte spans: exactly `suffix_array.duplicate_spans` of
the texts sorted by order key.

The algorithm (winnowing, Schleimer, Wilkerson & Aiken, "Winnowing: local algorithms for document
fingerprinting", SIGMOD 2003; here used to partition windows, not to sample them):

1. Grams. Every k-byte gram, k = min(16, W), gets a 64-bit hash: the gram read as 8-byte
   little-endian words (k ≤ 8: one masked word; else words at 0 and k - 8), each times its own
   odd constant, summed mod 2**64, then the splitmix64 finalizer. A function of the gram's bytes
   only. Computed block by block over a document, 32k positions at a time, so every temporary
   stays in the CPU cache (3x faster than whole-array numpy passes).
2. Anchors. A window holds w = W - k + 1 grams; its anchor is the leftmost gram of least
   `key = (hash >> 32) << 32 | position`: one unsigned comparison gives "least top-32 hash bits,
   then leftmost". The choice depends on the window's bytes only (positions enter only through
   their differences), so every copy of a window has its anchor at the same offset, with the
   same 64-bit gram hash. Sliding minima in O(n): a sparse table (minima of 1, 2, 4, … grams,
   then two overlapping power-of-two spans), 6 contiguous numpy passes for w = 35, measured
   faster here than van Herk / Gil-Werman's 3 (their prefix and suffix minima are
   accumulations along short rows).
3. Records. The argmin is monotone in the window start, so the windows sharing an anchor form
   a contiguous range of starts. One *record* is a maximal run of consecutive window starts of
   one document whose anchors have the same 64-bit hash (consecutive anchor positions with one
   hash are merged: in periodic text, "=====…" or "abab…", every window would otherwise have an
   anchor of its own and a record per byte). Records partition the window starts 0..len - W of
   every document. A record is (anchor hash, order hi, lo, document key, first window start,
   number of windows c, context = doc[first : first + c + W - 1]): every byte of its windows.
4. Groups. Records go to group `anchor % M`, packed per bundle and group (`pack_records`, zstd).
   Equal windows have equal anchor hashes, so every copy of a window lands in one group, which
   resolves them alone (`dedup.anchor_groups`): windows hashed from their bytes, sorted by
   (hash, reading order), equal-hash runs verified byte for byte; the first of each set of
   equal windows survives, the others are duplicates.
5. Hot anchors. A boilerplate window repeated 10^8 times would put 10^8 records in one group.
   An anchor is *hot* when its estimated context bytes exceed a budget: each bundle sums the
   context bytes of its sampled documents' records per anchor (`sample_anchor_bytes`: 1
   document in R, chosen by a hash of the document key), the sums are added over all bundles,
   and `hot_anchors` keeps those whose sum × R exceeds the budget. Hot records go to no group;
   each bundle emits its distinct hot windows with their first position
   (`anchor_groups.first_occurrences`), a Combine keyed by the window's bytes keeps the least
   (hi, lo, offset), and each document removes its hot windows but the first occurrences that
   name it (`anchor_groups.hot_duplicate_starts`). Bounded memory whatever the repetition.

Exactness. A window's anchor hash is a function of its bytes, so all copies of a window are in
records of one anchor hash: in one group if the anchor is cold, all in the hot path if it is
hot. Either place sees every copy and keeps exactly the earliest, so the answer does not depend
on M, on the hot set (a sampling estimate: a wrong one costs memory, never exactness), on the
bundles, or on the order values arrive in. Hash collisions (gram or window) only bring unequal
windows together, and windows are compared byte for byte before one is called a duplicate.

Cost model (W = 50, k = 16, w = 35), measured by `bench/anchors.py` on the demo's words
resampled into 50 MB with 20 % of the segments copied (19 % of the bytes removed), pooled as
one language in bundles of 4 MB and 3 groups, one core of the shared 2-core development
machine (CPU seconds):

    records per input byte        0.055, as 2 / (w + 1) predicts (one per 18 window starts)
    context bytes per input byte  3.65 = 1 + (W - 1) × records per byte: a record's context
                                  overlaps its neighbours' by W - 1 bytes
    packed bytes per input byte   what the shuffle carries (zstd level 3): 0.8-0.9 when all of
                                  a bundle's records go to one group (neighbouring contexts
                                  compress against each other), 1.4-1.9 with 16 groups, 2.4-3.0
                                  with 256, 3.0-3.6 with 4,096 (packs of a few hundred bytes,
                                  where columns and frames weigh): keep packs large
    work per input byte           constant: 130 ns (7.3 MB/s; one suffix array of the 50 MB,
                                  5.7 MB/s; per language, 9.3 against 7.5 MB/s): anchor records
                                  12, groups and zstd 35, unpacking and reading order 28 (the
                                  13 values of a group interleave), window hashes and the sort
                                  28, verification and spans 26. Only the sort's log factor and
                                  cache misses grow with a group's size
    group memory                  about 5.8 bytes per byte of context at the peak, its packed
                                  values included (`anchor_groups`): choose M so it fits

`anchor_records` holds the texts joined (1 byte per byte of text), the records' columns (7 × 8
bytes a record, 3 bytes per byte of text) and a block's temporaries; packing gathers each
group's contexts in chunks as zstd consumes them. Fixed costs: about 0.1 ms a packed value and
0.1 ms a group, so a value should carry at least some 100 kB.
"""

from __future__ import annotations

import functools
import struct
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import zstandard

from roots_pipeline.errors import RootsError

GRAM_BYTES = 16  # k, or W when W is smaller
# Window starts (or windows) per block of the vectorised kernels: a block's temporaries, a few
# dozen bytes per position, stay in the CPU cache.
BLOCK = 1 << 15
ZSTD_LEVEL = 3

_M64 = (1 << 64) - 1
_GRAM_SEED = 0x5EED_0001
_SAMPLE_SEED = 0x5EED_0003
_TOP32 = np.uint64(0xFFFF_FFFF_0000_0000)
_LOW32 = np.uint64(0xFFFF_FFFF)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))
_PAD = 8  # zero bytes after joined texts: a short gram's word may read past the last byte
_MAGIC = b"ANC1"
_HEADER = struct.Struct("<4sIII")  # magic, min_bytes, documents, records


def gram_bytes(min_bytes: int) -> int:
    """Return k, the gram length for windows of `min_bytes`: 16, or the window itself if shorter."""
    return min(GRAM_BYTES, min_bytes)


def splitmix64(x: int) -> int:
    """Return the splitmix64 finalizer of a 64-bit integer (constants for the hashes)."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


@functools.lru_cache(maxsize=64)
def word_plan(length: int, seed: int) -> tuple[tuple[int, ...], tuple[np.uint64, ...], np.uint64 | None]:
    """Return how `hash_words` reads `length` bytes: the offsets of the 8-byte words that cover
    them (the last one may overlap its neighbour), one odd multiplier each, and for fewer than 8
    bytes the mask that keeps them from the single word."""
    assert length >= 1, length
    if length >= 8:
        offsets = (*range(0, length - 8, 8), length - 8)
        mask = None
    else:
        offsets, mask = (0,), np.uint64((1 << (8 * length)) - 1)
    multipliers = tuple(np.uint64(splitmix64(seed + i) | 1) for i in range(len(offsets)))
    return offsets, multipliers, mask


def words_view(data: np.ndarray) -> np.ndarray:
    """Return an overlapping view of `data` (uint8) as one little-endian uint64 per byte offset."""
    return np.ndarray(buffer=data, dtype="<u8", shape=(max(0, len(data) - 7),), strides=(1,))


def hash_words(words: np.ndarray, at: int | np.ndarray, plan, out: np.ndarray,
               scratch: np.ndarray) -> np.ndarray:
    """Fill `out` with the hashes of byte strings read from `words` (a `words_view`): the
    strings at offsets at, at + 1, … (`at` an int) or at every offset of `at` (an array). Sum of
    the words times their multipliers, then mixed."""
    offsets, multipliers, mask = plan
    count = len(out)

    def read(offset: int) -> np.ndarray:
        if isinstance(at, np.ndarray):
            return words[at + offset]
        return words[at + offset:at + offset + count]

    if mask is None:
        np.multiply(read(offsets[0]), multipliers[0], out=out)
    else:
        np.bitwise_and(read(0), mask, out=out)
        out *= multipliers[0]
    for offset, multiplier in zip(offsets[1:], multipliers[1:], strict=True):
        np.multiply(read(offset), multiplier, out=scratch)
        out += scratch
    return mix64(out, scratch)


def mix64(x: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """Apply the splitmix64 finalizer to uint64 `x` in place and return it (a bijection)."""
    if scratch is None:
        scratch = np.empty_like(x)
    for shift, multiplier in zip(_SHIFTS, (_MIX1, _MIX2, None), strict=True):
        np.right_shift(x, shift, out=scratch)
        x ^= scratch
        if multiplier is not None:
            x *= multiplier
    return x


def gram_hashes(data: bytes, k: int) -> np.ndarray:
    """Return the hash of every k-byte gram of `data` (len - k + 1 values; tests and tools)."""
    n = len(data) - k + 1
    if n <= 0:
        return np.empty(0, np.uint64)
    words = words_view(np.frombuffer(data + bytes(_PAD), np.uint8))
    out = np.empty(n, np.uint64)
    hash_words(words, 0, word_plan(k, _GRAM_SEED), out, np.empty_like(out))
    return out


def _anchor_blocks(words: np.ndarray, windows: int, min_bytes: int):
    """Yield (first window start, anchor positions, anchor hashes) for window starts 0..windows-1
    of joined bytes (`words`: their `words_view`), a block at a time."""
    k = gram_bytes(min_bytes)
    w = min_bytes - k + 1
    plan = word_plan(k, _GRAM_SEED)
    size = min(BLOCK, windows)
    relative = np.arange(size + w - 1, dtype=np.uint64)
    grams = np.empty(size + w - 1, np.uint64)
    scratch = np.empty_like(grams)
    for begin in range(0, windows, BLOCK):
        count = min(BLOCK, windows - begin)
        span = count + w - 1
        hashes = hash_words(words, begin, plan, grams[:span], scratch[:span])
        keys = np.bitwise_and(hashes, _TOP32, out=scratch[:span])
        keys |= relative[:span]  # positions relative to the block: only differences matter
        least = _sliding_minimum(keys, w)
        anchors = (least & _LOW32).astype(np.intp)
        yield begin, anchors + begin, hashes[anchors]


def _sliding_minimum(values: np.ndarray, w: int) -> np.ndarray:
    """Return the minimum of every w consecutive values (len - w + 1 of them): a sparse table of
    minima over 1, 2, 4, … values, then two overlapping power-of-two spans per window."""
    least, span = values, 1
    while 2 * span <= w:
        least = np.minimum(least[:-span], least[span:])
        span *= 2
    count = len(values) - w + 1
    return np.minimum(least[:count], least[w - span:w - span + count])


def window_anchors(data: bytes, min_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """Return, for every window start of one document, its anchor's byte offset and 64-bit gram
    hash (tests and tools: records carry runs of these)."""
    windows = len(data) - min_bytes + 1
    if windows <= 0:
        return np.empty(0, np.intp), np.empty(0, np.uint64)
    words = words_view(np.frombuffer(data + bytes(_PAD), np.uint8))
    blocks = list(_anchor_blocks(words, windows, min_bytes))
    return (np.concatenate([positions for _, positions, _ in blocks]),
            np.concatenate([hashes for _, _, hashes in blocks]))


@dataclass(frozen=True)
class AnchorRecords:
    """Anchor records as columns (module docstring): record i covers the window starts first[i] ..
    first[i] + count[i] - 1 of the document keyed doc[i], and its context, the count[i] +
    min_bytes - 1 bytes of those windows, is data[start[i]:...]: `data` is the joined texts of
    a bundle (contexts overlap there, nothing is copied) or the contexts back to back."""

    min_bytes: int
    anchor: np.ndarray | None  # uint64, the anchor gram's hash; None once packed (groups need none)
    hi: np.ndarray  # uint64, the document's order key
    lo: np.ndarray  # uint64
    doc: np.ndarray  # uint64, the caller's key of the document
    batch: np.ndarray  # uint64, the caller's second key of the document (the stage: its batch)
    first: np.ndarray  # int64, first window start, a byte offset in the document
    count: np.ndarray  # int64, windows of the record (at least 1)
    start: np.ndarray  # int64, where the record's context starts in `data`
    data: np.ndarray  # uint8

    def __len__(self) -> int:
        return len(self.first)

    @property
    def context_lengths(self) -> np.ndarray:
        return self.count + (self.min_bytes - 1)

    def take(self, indices: np.ndarray) -> AnchorRecords:
        """Return the records at `indices` (any order); they share `data`."""
        anchor = None if self.anchor is None else self.anchor[indices]
        return AnchorRecords(self.min_bytes, anchor, self.hi[indices], self.lo[indices],
                             self.doc[indices], self.batch[indices], self.first[indices], self.count[indices],
                             self.start[indices], self.data)

    def contexts(self) -> np.ndarray:
        """Return the records' contexts back to back, in record order."""
        return gather_ranges(self.data, self.start, self.context_lengths)

    def compact(self) -> AnchorRecords:
        """Return the records with their contexts back to back in record order (a copy unless
        they already are, maybe after other bytes, as in an unpacked value)."""
        lengths = self.context_lengths
        offsets = np.cumsum(lengths) - lengths
        if not len(self) or np.array_equal(self.start, self.start[0] + offsets):
            return self
        return AnchorRecords(self.min_bytes, self.anchor, self.hi, self.lo, self.doc, self.batch, self.first,
                             self.count, offsets, self.contexts())

    def reading_order(self) -> AnchorRecords:
        """Return the records sorted by (hi, lo, first), contexts back to back in that order: a
        window's position in `data` then grows with its position in reading order."""
        return self.take(_reading_permutation(self.hi, self.lo, self.first)).compact()


def _reading_permutation(hi: np.ndarray, lo: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Return the indices that sort records by (hi, lo, first).

    Records usually come as blocks, one per document, each sorted by first (every packed value
    holds its documents so): then only the blocks are sorted, by order key, a sort of documents
    instead of records (a lexsort costs 140 ns a record)."""
    count = len(first)
    new_block = np.ones(count, bool)
    new_block[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
    blocks = np.flatnonzero(new_block)
    order = np.lexsort((lo[blocks], hi[blocks]))
    ordered_hi, ordered_lo = hi[blocks[order]], lo[blocks[order]]
    repeated = (ordered_hi[1:] == ordered_hi[:-1]) & (ordered_lo[1:] == ordered_lo[:-1])
    if repeated.any() or (first[1:] <= first[:-1])[~new_block[1:]].any():
        return np.lexsort((first, lo, hi))  # a document in pieces, or out of order within one
    if np.array_equal(order, np.arange(len(blocks))):
        return np.arange(count)
    sizes = np.diff(np.append(blocks, count))[order]
    # Position j of block b (in sorted order) takes record blocks[order[b]] + (j - where b begins).
    return np.arange(count) + np.repeat(blocks[order] - (np.cumsum(sizes) - sizes), sizes)


def empty_records(min_bytes: int) -> AnchorRecords:
    """Return records of no document."""
    u64, i64 = np.empty(0, np.uint64), np.empty(0, np.int64)
    return AnchorRecords(min_bytes, u64, u64, u64, u64, u64, i64, i64, i64, np.empty(0, np.uint8))


def concat_records(parts: Sequence[AnchorRecords], min_bytes: int) -> AnchorRecords:
    """Return the records of `parts` as one set (a group's values), their data joined."""
    assert all(part.min_bytes == min_bytes for part in parts), min_bytes
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return empty_records(min_bytes)
    shifts = np.cumsum([0, *(len(part.data) for part in parts[:-1])])
    anchors = [part.anchor for part in parts]
    anchor = None if any(column is None for column in anchors) else np.concatenate(anchors)
    columns = [np.concatenate([getattr(part, name) for part in parts])
               for name in ("hi", "lo", "doc", "batch", "first", "count")]
    start = np.concatenate([part.start + shift for part, shift in zip(parts, shifts, strict=True)])
    return AnchorRecords(min_bytes, anchor, *columns, start, np.concatenate([part.data for part in parts]))


def gather_ranges(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Return data[starts[i] : starts[i] + lengths[i]] for every i, back to back."""
    out = np.empty(int(lengths.sum()), np.uint8)
    done = 0
    for piece in gathered_chunks(data, starts, lengths):
        out[done:done + len(piece)] = piece
        done += len(piece)
    return out


def gathered_chunks(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> Iterator[np.ndarray]:
    """Yield data[starts[i] : starts[i] + lengths[i]] for every i, back to back, in chunks of
    about half a MB (a consumer such as a compressor never needs them all at once).

    Vectorised: each range is copied as a row of a fixed width (a view of `data` with one row per
    byte offset) and a mask keeps its first `length` bytes; ranges wider than a row are cut into
    pieces first. About 2.5 ns per byte gathered; an index per byte would cost 8 bytes of it."""
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    if not len(lengths):
        return
    width = int(min(lengths.max(), 2 * lengths.mean() + 8))
    width = -(-width // 8) * 8
    if lengths.max() > width:  # cut long ranges into pieces of at most `width` bytes
        pieces = -(-lengths // width)
        within = np.arange(int(pieces.sum())) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        starts = np.repeat(starts, pieces) + within * width
        lengths = np.minimum(np.repeat(lengths, pieces) - within * width, width)
    if int(starts.max()) + width > len(data):  # rows must not run past the end
        data = np.concatenate((data, np.zeros(width, np.uint8)))
    rows = np.lib.stride_tricks.sliding_window_view(data, width)
    columns = np.arange(width)
    chunk = max(1, (1 << 19) // width)
    for first in range(0, len(starts), chunk):
        yield rows[starts[first:first + chunk]][columns < lengths[first:first + chunk, None]]


def anchor_records(texts: Sequence[bytes], orders: np.ndarray | Sequence[tuple[int, int]],
                   docs: np.ndarray | Sequence[int], min_bytes: int,
                   batches: np.ndarray | Sequence[int] | None = None) -> AnchorRecords:
    """Return the anchor records of documents (any order), in reading order: `texts` their
    UTF-8 bytes, `orders` their (hi, lo) order keys, `docs` a uint64 key each that results name
    them by, `batches` a second uint64 key each that travels with it (default 0). The records'
    contexts are views of the texts joined (no copy).

    Documents shorter than `min_bytes` have no window and no record."""
    assert min_bytes >= 1, min_bytes
    orders = np.asarray(orders, dtype=np.uint64).reshape(-1, 2)
    docs = np.asarray(docs, dtype=np.uint64)
    batches = np.zeros(len(docs), np.uint64) if batches is None else np.asarray(batches, dtype=np.uint64)
    assert len(orders) == len(docs) == len(texts), (len(orders), len(docs), len(texts))
    lengths = np.fromiter((len(text) for text in texts), np.int64, count=len(texts))
    chosen = np.flatnonzero(lengths >= min_bytes)
    chosen = chosen[np.lexsort((orders[chosen, 1], orders[chosen, 0]))]
    if not len(chosen):
        return empty_records(min_bytes)
    data = np.frombuffer(b"".join([texts[index] for index in chosen]) + bytes(_PAD), np.uint8)
    lengths = lengths[chosen]
    doc_starts = np.cumsum(lengths) - lengths
    valid_ends = doc_starts + lengths - min_bytes + 1  # one past each document's last window start
    windows = int(lengths.sum()) - min_bytes + 1  # joined, crossing windows included (dropped below)

    # A record starts where the anchor hash changes and at every document's first window.
    starts, anchors = [], []
    previous = None
    for begin, _, hashes in _anchor_blocks(words_view(data), windows, min_bytes):
        changed = np.empty(len(hashes), bool)
        changed[1:] = hashes[1:] != hashes[:-1]
        changed[0] = previous is None or hashes[0] != previous
        inside = doc_starts[np.searchsorted(doc_starts, begin):
                            np.searchsorted(doc_starts, begin + len(hashes))]
        changed[inside - begin] = True
        found = np.flatnonzero(changed)
        starts.append(found + begin)
        anchors.append(hashes[found])
        previous = hashes[-1]
    start = np.concatenate(starts)
    anchor = np.concatenate(anchors)
    row = np.searchsorted(doc_starts, start, side="right") - 1
    valid = start < valid_ends[row]  # starts of windows that cross into the next document go
    start, anchor, row = start[valid], anchor[valid], row[valid]
    following = np.append(start[1:], windows)
    count = np.minimum(following, valid_ends[row]) - start
    original = chosen[row]
    return AnchorRecords(min_bytes, anchor, orders[original, 0], orders[original, 1], docs[original],
                         batches[original], start - doc_starts[row], count, start, data)


# --- groups and packing ---------------------------------------------------------------------------

def group_of(anchor: np.ndarray, groups: int) -> np.ndarray:
    """Return each record's group: its anchor hash modulo the number of groups."""
    return anchor % np.uint64(groups)


def split_groups(records: AnchorRecords, groups: int) -> dict[int, AnchorRecords]:
    """Return the records of each non-empty group, in their original order within a group (no
    context is copied)."""
    group = group_of(records.anchor, groups)
    # A stable sort of 16-bit ids is a radix sort.
    order = np.argsort(group.astype(np.uint16 if groups <= 1 << 16 else np.uint64), kind="stable")
    counts = np.bincount(group.astype(np.intp), minlength=groups)
    bounds = np.concatenate(([0], np.cumsum(counts)))
    return {int(group_id): records.take(order[bounds[group_id]:bounds[group_id + 1]])
            for group_id in np.flatnonzero(counts)}


def pack_records(records: AnchorRecords, level: int = ZSTD_LEVEL) -> bytes:
    """Return records as one compact value (one per bundle, language and group in the stage).

    Layout, little-endian, compressed as one zstd frame (D documents, R records):

        magic      4 bytes   b"ANC1"
        min_bytes  uint32
        D          uint32
        R          uint32
        hi         D × uint64    order key of each document, in order of first appearance
        lo         D × uint64
        doc        D × uint64    the caller's key of each document
        batch      D × uint64    the caller's second key of each document
        row        R × uint32    each record's document: an index into the three columns above
        first      R × uint32    first window start (byte offset in the document)
        count      R × uint32    windows of the record
        context    Σ (count + min_bytes - 1) bytes, record after record

    A document's columns are stored once (a record costs 12 bytes besides its context, not 36)
    and its records' rows and starts repeat or grow slowly, which zstd compresses. The anchor
    hash stays out: the group is already chosen and resolution hashes the windows themselves;
    it would add 8 incompressible bytes a record (0.34 bytes per byte of text, 15 % more).
    """
    keys, firsts, row = np.unique(records.doc, return_index=True, return_inverse=True)
    by_appearance = np.argsort(firsts, kind="stable")
    rank = np.empty_like(by_appearance)
    rank[by_appearance] = np.arange(len(by_appearance))
    first_of = firsts[by_appearance]
    # Offsets are 32-bit: documents under 4 GiB (the stage bounds document sizes far lower).
    assert not len(records) or int((records.first + records.count).max()) < 2**32
    lengths = records.context_lengths
    columns = [np.frombuffer(_HEADER.pack(_MAGIC, records.min_bytes, len(keys), len(records)), np.uint8),
               records.hi[first_of].astype("<u8"), records.lo[first_of].astype("<u8"),
               records.doc[first_of].astype("<u8"), records.batch[first_of].astype("<u8"),
               rank[row].astype("<u4"), records.first.astype("<u4"),
               records.count.astype("<u4")]
    size = sum(column.nbytes for column in columns) + int(lengths.sum())
    # Streamed: the contexts are compressed chunk by chunk as they are gathered, never joined.
    compressor = _compressor(level).compressobj(size=size)
    out = [compressor.compress(column) for column in columns]
    out += [compressor.compress(piece) for piece in gathered_chunks(records.data, records.start, lengths)]
    out.append(compressor.flush())
    return b"".join(out)


_ZSTD = threading.local()  # one (de)compressor per thread: making one costs more than a small pack


def _compressor(level: int) -> zstandard.ZstdCompressor:
    compressors = _ZSTD.__dict__.setdefault("compressors", {})
    if level not in compressors:
        compressors[level] = zstandard.ZstdCompressor(level=level)
    return compressors[level]


def _decompressor() -> zstandard.ZstdDecompressor:
    if not hasattr(_ZSTD, "decompressor"):
        _ZSTD.decompressor = zstandard.ZstdDecompressor()
    return _ZSTD.decompressor


def unpack_records(value: bytes) -> AnchorRecords:
    """Return the records of one `pack_records` value."""
    try:
        raw = np.frombuffer(_decompressor().decompress(value), np.uint8)
    except zstandard.ZstdError as error:
        raise RootsError(f"anchor records: not a packed value ({error})") from error
    return _parsed(raw, 0, len(raw))


def unpack_group(values: Iterable[bytes]) -> AnchorRecords:
    """Return the records of many `pack_records` values as one set, every value decompressed
    straight into one buffer: joining them costs no copy (their contexts are not back to back,
    see `AnchorRecords.compact`)."""
    values = list(values)
    assert values, "a group has at least one value"
    sizes = [_content_size(value) for value in values]
    if len(values) == 1 or min(sizes) < 0:  # one value, or a size its frame does not tell
        parts = [unpack_records(value) for value in values]
        return concat_records(parts, parts[0].min_bytes)
    buffer = np.empty(sum(sizes), np.uint8)
    view = memoryview(buffer)
    parts, offset = [], 0
    for value, size in zip(values, sizes, strict=True):
        target = view[offset:offset + size]
        try:
            with _decompressor().stream_reader(value) as reader:
                done = 0
                while done < size:
                    got = reader.readinto(target[done:])
                    if not got:
                        raise RootsError(f"anchor records: value ended after {done} of {size} bytes")
                    done += got
        except zstandard.ZstdError as error:
            raise RootsError(f"anchor records: not a packed value ({error})") from error
        parts.append(_parsed(buffer, offset, offset + size))
        offset += size
    min_bytes = parts[0].min_bytes
    if any(part.min_bytes != min_bytes for part in parts):
        raise RootsError(f"anchor records: values of windows of {sorted({p.min_bytes for p in parts})} bytes "
                         "in one group")
    anchors = None
    columns = [np.concatenate([getattr(part, name) for part in parts])
               for name in ("hi", "lo", "doc", "batch", "first", "count", "start")]
    return AnchorRecords(min_bytes, anchors, *columns, buffer)


def _content_size(value: bytes) -> int:
    """Return the decompressed size a zstd frame states, or -1."""
    try:
        return zstandard.frame_content_size(value)
    except zstandard.ZstdError:
        return -1


def _parsed(raw: np.ndarray, begin: int, end: int) -> AnchorRecords:
    """Return the records of one decompressed value, raw[begin:end]; their `data` is `raw`."""
    size = end - begin
    if size < _HEADER.size:
        raise RootsError(f"anchor records: truncated value ({size} bytes)")
    magic, min_bytes, documents, count = _HEADER.unpack_from(raw, begin)
    if magic != _MAGIC:
        raise RootsError(f"anchor records: bad magic {magic!r}, expected {_MAGIC!r}")
    position = begin + _HEADER.size

    def column(dtype: str, length: int) -> np.ndarray:
        nonlocal position
        nbytes = np.dtype(dtype).itemsize * length
        if position + nbytes > end:
            raise RootsError(f"anchor records: truncated value ({size} bytes, {documents} documents, "
                             f"{count} records)")
        values = raw[position:position + nbytes].view(dtype)
        position += nbytes
        return values

    hi, lo, doc, batch = (column("<u8", documents).astype(np.uint64) for _ in range(4))
    row = column("<u4", count).astype(np.intp)
    first = column("<u4", count).astype(np.int64)
    windows = column("<u4", count).astype(np.int64)
    if end - position != int(windows.sum()) + (min_bytes - 1) * count:
        raise RootsError(f"anchor records: {end - position} context bytes for {count} records of "
                         f"{int(windows.sum())} windows of {min_bytes} bytes")
    if count and int(row.max()) >= documents:
        raise RootsError(f"anchor records: a record of document {int(row.max())} of {documents}")
    lengths = windows + (min_bytes - 1)
    return AnchorRecords(min_bytes, None, hi[row], lo[row], doc[row], batch[row], first, windows,
                         position + np.cumsum(lengths) - lengths, raw)


# --- hot anchors --------------------------------------------------------------------------------

def sampled_documents(docs: np.ndarray, rate: int) -> np.ndarray:
    """Return which document keys are in the sample: 1 in `rate`, by a hash of the key."""
    mixed = mix64(np.asarray(docs, dtype=np.uint64) ^ np.uint64(_SAMPLE_SEED))
    return mixed % np.uint64(rate) == 0


def sample_anchor_bytes(records: AnchorRecords, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (anchor hashes, context bytes) summed over the records of sampled documents: what
    each bundle contributes to the estimate of an anchor's total context (`hot_anchors`)."""
    sampled = sampled_documents(records.doc, rate)
    anchors, inverse = np.unique(records.anchor[sampled], return_inverse=True)
    return anchors, np.bincount(inverse, records.context_lengths[sampled], len(anchors)).astype(np.int64)


def hot_anchors(anchors: np.ndarray, sampled_bytes: np.ndarray, rate: int, budget: int) -> np.ndarray:
    """Return, sorted, the anchors whose estimated context bytes (sampled bytes × rate, summed
    over all bundles first) exceed `budget`: the most one anchor may put in a group."""
    return np.sort(np.asarray(anchors, np.uint64)[np.asarray(sampled_bytes) * rate > budget])


def split_hot(records: AnchorRecords, hot: np.ndarray | Iterable[int]) -> tuple[AnchorRecords, AnchorRecords]:
    """Return (cold records, hot records): hot ones have their anchor in `hot`."""
    hot = np.asarray(sorted(hot) if not isinstance(hot, np.ndarray) else hot, dtype=np.uint64)
    if not len(hot):
        return records, empty_records(records.min_bytes)
    is_hot = np.isin(records.anchor, hot)
    return records.take(np.flatnonzero(~is_hot)), records.take(np.flatnonzero(is_hot))


def record_windows(records: AnchorRecords) -> tuple[np.ndarray, np.ndarray]:
    """Return (document key, window start) of every window of the records, record by record."""
    total = int(records.count.sum())
    before = np.cumsum(records.count) - records.count
    starts = np.repeat(records.first - before, records.count) + np.arange(total)
    return np.repeat(records.doc, records.count), starts
