"""Charged anchors, second half: the duplicate windows among one group's anchor records, the hot
path's first occurrences, and an in-process driver that runs the whole algorithm the way the
Beam stage does (`dedup.anchors` has the algorithm, its exactness argument and cost model).

Resolving a group (`resolve_group`). Its packed values, any number in any order, are
decompressed into one buffer (`unpack_group`), and the records are put in reading order,
(order hi, lo, first window start), with their contexts back to back in that order (a sort of
documents, then one gather; nothing when one value already is): a window's position in those
bytes then grows with its position in reading order. Then:

1. Keys. Each window gets a 64-bit hash of its W bytes (`window_hashes`); the hash's top
   64 - b bits and the window's position (b bits) make one uint64 key, and one in-place
   `np.sort` (a vectorised quicksort, about 10 ns a key, 6x faster than an argsort) puts
   equal-hash windows side by side, each run in reading order, its first the earliest.
2. Pairs. Every window but the first of a run is paired with that first window; the pairs are
   sorted by position (one key: position, distance), so they follow the text.
3. Verification, byte for byte. A copied stretch makes a *diagonal* of pairs (p, q),
   (p + 1, q + 1), …: its first pair is compared whole (W bytes), each next one by the one byte
   that enters both windows. A pair whose bytes match is a duplicate. One that does not (a
   hash collision, likelier with the truncated hash: a few dozen in 10^7 windows) can only
   repeat another such window of its run: those are resolved exactly, sorted stably by their
   bytes, the first of each set of equal bytes surviving. The hash decides only the speed.

Every pass over windows or pairs goes a block or chunk at a time: temporaries the size of the
group would cost more in page faults than the work. A group holds at most 4 GiB of context
(positions and distances share a 64-bit key); beyond, `RootsError` asks for more groups.

Memory of a group: measured (`bench/anchors.py`, tracemalloc) 5.4-5.8 bytes per byte of
context at the peak, its packed values (0.25) included, with 17 % or 45 % of the windows
duplicates: the unpacked contexts (1 B), the contexts in reading order (1 B, when several
values), one sort key per window (8 B × 0.27 window per context byte), the records' columns
(about 130 B × 0.015 record per context byte), and the pairs (8 B per duplicate window).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from roots_pipeline.dedup.anchors import (
    BLOCK,
    AnchorRecords,
    anchor_records,
    hash_words,
    hot_anchors,
    mix64,
    pack_records,
    record_windows,
    sample_anchor_bytes,
    split_groups,
    split_hot,
    splitmix64,
    unpack_group,
    word_plan,
    words_view,
)
from roots_pipeline.dedup.suffix_array import ByteSpan, merge_spans, merged_windows
from roots_pipeline.errors import RootsError

_WINDOW_SEED = 0x5EED_0002
# A group's context positions fit 32 bits: a position and a distance make one sort key of pairs.
_MAX_POSITION_BITS = 32
_CHUNK = 1 << 16  # elements per chunk of the chunked passes: their temporaries stay in the cache


def window_hashes(words: np.ndarray, positions: np.ndarray, min_bytes: int) -> np.ndarray:
    """Return a 64-bit hash of the `min_bytes` bytes at each of the sorted `positions` (`words`:
    one uint64 per byte offset, the 8 bytes from there little-endian, covering the last window).

    Any function of the bytes is exact; this one decides only the speed. From 16 bytes on, a
    sparse table over every offset of `words`: P(x) covers bytes x..x+15 (two words), each
    level doubles what P covers (P(x) += P(x + span) × c), and a window is P at its start plus
    P at its end - span, two overlapping spans, then mixed: a few in-place passes over the
    block, 2.5x faster than gathering each window's 8-byte words."""
    if min_bytes < 16:
        out = np.empty(len(positions), np.uint64)
        return hash_words(words, positions, word_plan(min_bytes, _WINDOW_SEED), out, np.empty_like(out))
    multipliers = _table_multipliers()
    count = int(positions[-1]) + min_bytes - 7 if len(positions) else 0  # offsets P is needed at
    table = np.multiply(words[:count], multipliers[0])
    scratch = np.empty_like(table)
    np.multiply(words[8:count], multipliers[1], out=scratch[:count - 8])
    table[:count - 8] += scratch[:count - 8]
    span, level = 16, 2
    while 2 * span <= min_bytes:
        count -= span
        np.multiply(table[span:span + count], multipliers[level], out=scratch[:count])
        table[:count] += scratch[:count]
        span, level = 2 * span, level + 1
    hashes = table[positions + (min_bytes - span)]
    hashes *= multipliers[level]
    hashes += table[positions]
    return mix64(hashes)


@functools.cache
def _table_multipliers() -> tuple[np.uint64, ...]:
    """Odd multipliers for `window_hashes`'s table: two words, then one per level (64 levels)."""
    return tuple(np.uint64(splitmix64(_WINDOW_SEED + index) | 1) for index in range(66))


def _windows(records: AnchorRecords) -> np.ndarray:
    """Return every W-byte window of the records' data as one value (overlapping views)."""
    data, size = records.data, records.min_bytes
    return np.ndarray(buffer=data, dtype=f"V{size}", shape=(max(0, len(data) - size + 1),), strides=(1,))


def _window_positions(records: AnchorRecords, begin: int, end: int, before: np.ndarray) -> np.ndarray:
    """Return where windows begin..end-1 (numbered record after record) start in `data`;
    `before`: how many windows the records before each record hold."""
    first = int(np.searchsorted(before, begin, side="right")) - 1
    last = int(np.searchsorted(before, end, side="left"))  # records first..last-1 hold them
    counts = records.count[first:last].copy()
    counts[0] = min(int(before[first] + counts[0]), end) - begin
    if last - 1 > first:
        counts[-1] = end - int(before[last - 1])
    shift = records.start[first:last] - before[first:last]
    return np.arange(begin, end) + np.repeat(shift, counts)


def _sorted_keys(records: AnchorRecords, position_mask: np.uint64) -> np.ndarray:
    """Return the sorted keys (window hash bits | window position) of every window."""
    size = records.min_bytes
    total = int(records.count.sum())
    before = np.cumsum(records.count) - records.count
    keys = np.empty(total, np.uint64)
    for begin in range(0, total, BLOCK):
        end = min(begin + BLOCK, total)
        positions = _window_positions(records, begin, end, before)
        low = int(positions[0])
        # The block's bytes, padded for 8-byte reads, as one aligned word per offset (gathers
        # from aligned words are 6x faster).
        block = np.concatenate((records.data[low:int(positions[-1]) + size], np.zeros(8, np.uint8)))
        block_words = np.array(words_view(block))
        hashes = window_hashes(block_words, positions - low, size)
        hashes &= ~position_mask
        hashes |= positions.astype(np.uint64)
        keys[begin:end] = hashes
    keys.sort()
    return keys


def _duplicate_positions(records: AnchorRecords) -> np.ndarray:
    """Return, sorted, the positions in `data` of the windows whose bytes occur at a smaller
    position: `records` in reading order with contexts back to back (`reading_order`), so a
    smaller position is an earlier window in reading order."""
    if int(records.count.sum()) < 2:
        return np.empty(0, np.int64)
    position_bits = max(1, (len(records.data) - 1).bit_length())
    if position_bits > _MAX_POSITION_BITS:
        raise RootsError(f"a group of anchor records holds {len(records.data):,} bytes of context, more than "
                         f"{1 << _MAX_POSITION_BITS:,}: use more groups")
    keys = _sorted_keys(records, np.uint64((1 << position_bits) - 1))
    pairs = _pairs(keys, position_bits)
    del keys
    duplicates, differ = _compared(records, pairs, position_bits)
    if not len(differ):
        return duplicates
    # Hash collisions: a window unlike the first of its run can only repeat another such window
    # of its run (the first and the windows equal to it differ from it): those are resolved alone.
    # (A few dozen in 10^7 windows, the sort keys keeping 64 - log2(context bytes) hash bits.)
    return np.sort(np.concatenate((duplicates, _exact_duplicates(_windows(records), differ))))


def _pairs(keys: np.ndarray, position_bits: int) -> np.ndarray:
    """Return, sorted, one value per window whose hash bits equal the previous key's: its
    position << position_bits | its distance to the first window of its run of equal hash bits
    (the earliest, as the keys of a run are sorted by position), a chunk of keys at a time.

    Sorted so, pairs follow the text, and a copied stretch makes a diagonal of pairs with one
    distance. Chunks keep every temporary in the CPU cache (and out of fresh pages)."""
    position_mask = np.uint64((1 << position_bits) - 1)
    shift = np.uint64(position_bits)
    found = []
    head = 0  # key index of the first window of the current run
    for begin in range(1, len(keys), _CHUNK):
        end = min(begin + _CHUNK, len(keys))
        follows = (keys[begin:end] ^ keys[begin - 1:end - 1]) <= position_mask
        run_starts = np.where(follows, 0, np.arange(begin, end))
        if follows[0]:
            run_starts[0] = head
        np.maximum.accumulate(run_starts, out=run_starts)
        head = int(run_starts[-1])
        later = np.flatnonzero(follows)
        if len(later):
            positions = keys[later + begin] & position_mask
            found.append(positions << shift | (positions - (keys[run_starts[later]] & position_mask)))
    pairs = np.concatenate(found) if found else np.empty(0, np.uint64)
    pairs.sort()
    return pairs


def _compared(records: AnchorRecords, pairs: np.ndarray, position_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Return, each sorted, the positions of the `_pairs` whose window equals the earlier
    window of their pair, and those whose window differs.

    On a diagonal, pairs (p, q), (p + 1, q + 1), …, a pair is equal when the pair before it was
    and the last bytes of its two windows are: one byte compared, fetched in order, instead of
    W bytes gathered at random; only the first pair of a diagonal is compared whole, and so is
    every pair after a failure on its diagonal. A chunk of pairs at a time."""
    windows = _windows(records)
    data, last = records.data, records.min_bytes - 1
    shift, mask = np.uint64(position_bits), np.uint64((1 << position_bits) - 1)
    equal_found, differ_found = [], []
    carried = (-2, -1, False)  # position, distance and verdict of the pair before the chunk
    for begin in range(0, len(pairs), _CHUNK):
        packed = pairs[begin:begin + _CHUNK]
        later = (packed >> shift).astype(np.int64)
        distance = (packed & mask).astype(np.int64)
        earlier = later - distance
        continues = np.empty(len(later), bool)
        continues[0] = later[0] == carried[0] + 1 and distance[0] == carried[1]
        continues[1:] = (later[1:] == later[:-1] + 1) & (distance[1:] == distance[:-1])
        same = np.empty(len(later), bool)
        whole = np.flatnonzero(~continues)
        same[whole] = windows[later[whole]] == windows[earlier[whole]]
        step = np.flatnonzero(continues)
        same[step] = data[later[step] + last] == data[earlier[step] + last]
        if continues[0] and not carried[2]:
            same[0] = False
        # Equal where no pair failed from its diagonal's first (or the chunk's first) to it.
        segment = ~continues
        segment[0] = True
        failed = np.cumsum(~same)
        equal = failed == (failed - ~same)[segment][np.cumsum(segment) - 1]
        unsure = np.flatnonzero(~equal)
        equal[unsure] = windows[later[unsure]] == windows[earlier[unsure]]
        equal_found.append(later[equal])
        differ_found.append(later[~equal])
        carried = (int(later[-1]), int(distance[-1]), bool(equal[-1]))
    empty = np.empty(0, np.int64)
    return np.concatenate([empty, *equal_found]), np.concatenate([empty, *differ_found])


def _exact_duplicates(windows: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Return the positions among sorted `positions` whose window bytes occur at a smaller one
    among them: the slow path for equal-hash runs whose bytes differ, a stable sort by bytes."""
    values = windows[positions]
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    return positions[order[1:][ordered[1:] == ordered[:-1]]]


def _locate(records: AnchorRecords, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (record index, window start in its document) of sorted window positions, a chunk
    at a time. Consecutive positions lie in one record (W - 1 bytes part two records' windows
    in `data`), so only the first of a stretch is searched for."""
    record = np.empty(len(positions), np.intp)
    starts = np.empty(len(positions), np.int64)
    for begin in range(0, len(positions), _CHUNK):
        chunk = positions[begin:begin + _CHUNK]
        if records.min_bytes > 1:
            stretch = np.concatenate(([True], chunk[1:] != chunk[:-1] + 1))
            found = np.searchsorted(records.start, chunk[stretch], side="right") - 1
            owner = found[np.cumsum(stretch) - 1]
        else:
            owner = np.searchsorted(records.start, chunk, side="right") - 1
        record[begin:begin + len(chunk)] = owner
        starts[begin:begin + len(chunk)] = records.first[owner] + (chunk - records.start[owner])
    return record, starts


def duplicate_windows(records: AnchorRecords) -> tuple[np.ndarray, np.ndarray]:
    """Return (document key, window start) of every duplicate window among the records of one
    group (all the records of their anchors), in reading order."""
    records = records.reading_order()
    record, starts = _locate(records, _duplicate_positions(records))
    return records.doc[record], starts


def resolve_group(values: Iterable[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Return `duplicate_windows` of a group given as packed values (`pack_records`)."""
    values = list(values)
    if not values:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    # Only the callee holds the unpacked records: they go once put in reading order.
    return duplicate_windows(unpack_group(values))


@dataclass(frozen=True)
class FirstWindows:
    """Distinct windows and where each first occurs: `windows[i]` (W bytes) at byte `start[i]`
    of the document keyed `doc[i]` (second key `batch[i]`), of order key (hi[i], lo[i])."""

    windows: np.ndarray  # uint8, (n, W)
    hi: np.ndarray
    lo: np.ndarray
    start: np.ndarray
    doc: np.ndarray
    batch: np.ndarray

    def __len__(self) -> int:
        return len(self.start)


def first_occurrences(records: AnchorRecords) -> FirstWindows:
    """Return every distinct window of the records with its first position in reading order.

    The hot path: a bundle emits these for its hot records and the stage keeps the minimum
    (hi, lo, start) per window bytes (a Combine), so one key per distinct hot window travels
    from each bundle, whatever the repetition."""
    records = records.reading_order()
    is_first = np.zeros(len(records.data), bool)  # over data positions: window starts not repeated
    total = int(records.count.sum())
    before = np.cumsum(records.count) - records.count
    for begin in range(0, total, BLOCK):
        is_first[_window_positions(records, begin, min(begin + BLOCK, total), before)] = True
    is_first[_duplicate_positions(records)] = False
    positions = np.flatnonzero(is_first)
    record, starts = _locate(records, positions)
    values = _windows(records)[positions].view(np.uint8).reshape(len(positions), records.min_bytes)
    return FirstWindows(values, records.hi[record], records.lo[record], starts, records.doc[record],
                        records.batch[record])


def hot_duplicate_starts(hot_starts: np.ndarray, first_starts: np.ndarray) -> np.ndarray:
    """Return a document's duplicate hot windows: its hot window starts (`record_windows` of its
    hot records) but those where a hot window occurs first (the Combine's minima naming it)."""
    return np.setdiff1d(hot_starts, first_starts)


def merged_spans(docs: np.ndarray, starts: np.ndarray,
                 min_bytes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the merged byte spans of duplicate windows as arrays (document key, first, end):
    `docs` and `starts` grouped by document, starts ascending within one (as `duplicate_windows`
    gives them). Spans break where a document changes or windows are more than W apart."""
    if not len(docs):
        return docs, starts, starts
    new_doc = np.concatenate(([True], docs[1:] != docs[:-1]))
    breaks = np.flatnonzero(new_doc | np.concatenate(([True], np.diff(starts) > min_bytes)))
    ends = starts[np.append(breaks[1:], len(starts)) - 1] + min_bytes
    return docs[breaks], starts[breaks], ends


def union_of_spans(docs: np.ndarray, firsts: np.ndarray, ends: np.ndarray) -> dict[int, list[ByteSpan]]:
    """Return, per document key, the union of its spans [first, end) (any order, overlapping or
    touching ones joined), sorted: `suffix_array.merge_spans` of each document, vectorised."""
    if not len(docs):
        return {}
    order = np.lexsort((firsts, docs))
    docs, firsts, ends = docs[order], firsts[order], ends[order].astype(np.int64)
    new_doc = np.concatenate(([True], docs[1:] != docs[:-1]))
    # The furthest end so far within each document: offsetting each document's ends above the
    # previous ones' lets one running maximum serve all of them.
    offset = (np.cumsum(new_doc) - 1) * (int(ends.max()) + 1)
    reach = np.maximum.accumulate(ends + offset) - offset
    starts = new_doc | np.concatenate(([True], firsts[1:] > reach[:-1]))
    begins = np.flatnonzero(starts)
    lasts = np.append(begins[1:], len(docs)) - 1
    result: dict[int, list[ByteSpan]] = defaultdict(list)
    for doc, first, end in zip(docs[begins].tolist(), firsts[begins].tolist(), reach[lasts].tolist(),
                               strict=True):
        result[doc].append((first, end))
    return dict(result)


def spans_by_doc(docs: np.ndarray, starts: np.ndarray, min_bytes: int) -> dict[int, list[ByteSpan]]:
    """Return `merged_spans` as lists of (first, end) per document key."""
    result: dict[int, list[ByteSpan]] = defaultdict(list)
    span_docs, firsts, ends = merged_spans(docs, starts, min_bytes)
    for doc, first, end in zip(span_docs.tolist(), firsts.tolist(), ends.tolist(), strict=True):
        result[doc].append((first, end))
    return dict(result)


def find_duplicate_spans_by_anchors(texts: Sequence[bytes], orders: Sequence[tuple[int, int]] | np.ndarray,
                                    min_bytes: int, groups: int = 1, hot: Iterable[int] = (),
                                    hot_budget: int | None = None, sample_rate: int = 1,
                                    bundles: int = 1) -> list[list[ByteSpan]]:
    """Return, per text, the merged byte spans of its duplicate windows in the reading order of
    `orders` (unique (hi, lo) keys): `suffix_array.duplicate_spans` of the texts sorted by key,
    computed the way the Beam stage will (used by tests and the bench).

    The texts are cut into `bundles` consecutive slices, as workers would see them; each bundle
    makes its records and packs them per group (`groups` groups). Anchors in `hot`, and with
    `hot_budget` those whose sampled context (1 document in `sample_rate`) exceeds it, take the
    hot path, a dict standing in for the Combine."""
    orders = np.asarray(orders, dtype=np.uint64).reshape(-1, 2)
    assert len(orders) == len(texts), (len(orders), len(texts))
    assert len(np.unique(orders, axis=0)) == len(orders), "order keys must be unique"
    docs = np.arange(len(texts), dtype=np.uint64)
    cuts = np.linspace(0, len(texts), bundles + 1).astype(int).tolist()
    made = [anchor_records(texts[a:b], orders[a:b], docs[a:b], min_bytes)
            for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    hot_set = np.union1d(np.asarray(list(hot), dtype=np.uint64),
                         _estimated_hot(made, sample_rate, hot_budget) if hot_budget is not None else [])

    packed: dict[int, list[bytes]] = defaultdict(list)  # stands in for a GroupByKey per group
    firsts: dict[bytes, tuple[int, int, int, int]] = {}  # stands in for a Combine (min) per window
    hot_windows = []
    for records in made:
        cold, hot_records = split_hot(records, hot_set)
        for group, members in split_groups(cold, groups).items():
            packed[group].append(pack_records(members))
        if len(hot_records):
            hot_windows.append(record_windows(hot_records))
            found = first_occurrences(hot_records)
            columns = (found.hi, found.lo, found.start, found.doc)
            rows = zip(*(column.tolist() for column in columns), strict=True)
            for window, value in zip(found.windows, rows, strict=True):
                key = window.tobytes()
                if key not in firsts or value < firsts[key]:
                    firsts[key] = value

    spans: dict[int, list[ByteSpan]] = defaultdict(list)
    for values in packed.values():
        for doc, found_spans in spans_by_doc(*resolve_group(values[::-1]), min_bytes).items():  # any order
            spans[doc].extend(found_spans)
    if hot_windows:  # at the documents: each removes its hot windows but its first occurrences
        first_starts: dict[int, list[int]] = defaultdict(list)
        for _, _, start, doc in firsts.values():
            first_starts[doc].append(start)
        hot_docs = np.concatenate([found_docs for found_docs, _ in hot_windows])
        hot_starts = np.concatenate([starts for _, starts in hot_windows])
        order = np.lexsort((hot_starts, hot_docs))
        hot_docs, hot_starts = hot_docs[order], hot_starts[order]
        bounds = [0, *(np.flatnonzero(np.diff(hot_docs)) + 1).tolist(), len(hot_docs)]
        for begin, end in zip(bounds[:-1], bounds[1:], strict=True):
            doc = int(hot_docs[begin])
            duplicates = hot_duplicate_starts(hot_starts[begin:end], np.asarray(first_starts[doc], np.int64))
            spans[doc].extend(merged_windows(duplicates, min_bytes))
    return [merge_spans(spans[index]) if index in spans else [] for index in range(len(texts))]


def _estimated_hot(made: list[AnchorRecords], rate: int, budget: int) -> np.ndarray:
    """Return the hot anchors of the bundles' records: sampled bytes summed over the bundles (a
    CombinePerKey(sum) in the stage), then `hot_anchors`."""
    sampled: dict[int, int] = defaultdict(int)
    for records in made:
        anchors, sizes = sample_anchor_bytes(records, rate)
        for anchor, size in zip(anchors.tolist(), sizes.tolist(), strict=True):
            sampled[anchor] += size
    return hot_anchors(np.fromiter(sampled, np.uint64, len(sampled)),
                       np.fromiter(sampled.values(), np.int64, len(sampled)), rate, budget)
