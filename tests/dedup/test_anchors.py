"""Charged anchors (`dedup.anchors`, `dedup.anchor_groups`): the removed spans against a
brute-force search and the suffix array on random corpora in random reading orders (multi-byte
text, planted copies, documents shorter than a window, any number of groups and bundles, any hot
set), the anchor invariants the exactness argument rests on, the hot path on a boilerplate
string in 10,000 documents, packing, and hash collisions forced on the group resolution."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roots_pipeline.dedup import anchor_groups, anchors
from roots_pipeline.dedup.anchor_groups import (
    duplicate_windows,
    find_duplicate_spans_by_anchors,
    first_occurrences,
    hot_duplicate_starts,
    resolve_group,
    spans_by_doc,
)
from roots_pipeline.dedup.anchors import (
    anchor_records,
    gather_ranges,
    gram_bytes,
    gram_hashes,
    hot_anchors,
    pack_records,
    record_windows,
    sample_anchor_bytes,
    sampled_documents,
    split_groups,
    split_hot,
    unpack_records,
    window_anchors,
)
from roots_pipeline.dedup.suffix_array import duplicate_spans
from roots_pipeline.errors import RootsError

# --- references -----------------------------------------------------------------------------------


def brute_force(texts: list[bytes], n: int) -> list[list[tuple[int, int]]]:
    """Byte spans covered by windows of n bytes seen earlier (texts in reading order): a set of
    every window so far, positions in order, overlaps allowed."""
    seen: set[bytes] = set()
    result = []
    for data in texts:
        duplicates = []
        for start in range(len(data) - n + 1):
            window = data[start:start + n]
            if window in seen:
                duplicates.append(start)
            seen.add(window)
        spans: list[tuple[int, int]] = []
        for start in duplicates:
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], start + n)
            else:
                spans.append((start, start + n))
        result.append(spans)
    return result


def in_reading_order(reference, texts: list[bytes], orders: list[tuple[int, int]], n: int):
    """Run `reference` on the texts sorted by order key; return its spans in the texts' order."""
    order = sorted(range(len(texts)), key=lambda index: orders[index])
    found = reference([texts[index] for index in order], n)
    result: list[list[tuple[int, int]]] = [[] for _ in texts]
    for index, spans in zip(order, found, strict=True):
        result[index] = spans
    return result


def random_orders(rng: random.Random, count: int) -> list[tuple[int, int]]:
    """Unique (hi, lo) keys in a random order, hi often equal (lo then decides)."""
    keys: set[tuple[int, int]] = set()
    while len(keys) < count:
        keys.add((rng.randrange(3), rng.randrange(2**64)))
    result = list(keys)
    rng.shuffle(result)
    return result


def all_anchors(texts: list[bytes], n: int) -> list[int]:
    orders = [(0, i) for i in range(len(texts))]
    return anchor_records(texts, orders, np.arange(len(texts)), n).anchor.tolist()


ALPHABETS = ("ab", "abc ", "aé", "中a", "😀b", "é中😀 a\n", "abcdefghij")
corpora = st.sampled_from(ALPHABETS).flatmap(
    lambda alphabet: st.lists(st.text(alphabet=alphabet, max_size=60), max_size=8))


# --- the answer -----------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(corpora, st.integers(1, 24), st.sampled_from([1, 2, 7, 1000]), st.integers(1, 3), st.randoms())
def test_removes_what_a_brute_force_search_finds_in_reading_order(texts, n, groups, bundles, rng):
    data = [text.encode("utf-8") for text in texts]
    orders = random_orders(rng, len(data))
    expected = in_reading_order(brute_force, data, orders, n)
    assert in_reading_order(duplicate_spans, data, orders, n) == expected
    assert find_duplicate_spans_by_anchors(data, orders, n, groups=groups, bundles=bundles) == expected


@settings(max_examples=60, deadline=None)
@given(corpora, st.integers(1, 24), st.randoms())
def test_any_hot_set_gives_the_same_spans(texts, n, rng):
    data = [text.encode("utf-8") for text in texts]
    orders = random_orders(rng, len(data))
    expected = in_reading_order(brute_force, data, orders, n)
    every = all_anchors(data, n)
    some = [anchor for anchor in every if rng.random() < 0.5]
    for hot in ([], every, some):
        assert find_duplicate_spans_by_anchors(data, orders, n, groups=3, hot=hot, bundles=2) == expected


@contextlib.contextmanager
def small_chunks(size: int) -> Iterator[None]:
    """Cut every chunked pass into chunks of `size` elements."""
    with mock.patch.object(anchor_groups, "_CHUNK", size), mock.patch.object(anchor_groups, "BLOCK", size), \
            mock.patch.object(anchors, "BLOCK", size):
        yield


@settings(max_examples=60, deadline=None)
@given(corpora, st.integers(1, 24), st.integers(1, 40), st.randoms())
def test_chunks_cut_anywhere_give_the_same_spans(texts, n, chunk, rng):
    # A few elements per chunk: runs, diagonals and stretches straddle chunk boundaries.
    data = [text.encode("utf-8") for text in texts]
    orders = random_orders(rng, len(data))
    expected = in_reading_order(brute_force, data, orders, n)
    with small_chunks(chunk):
        assert find_duplicate_spans_by_anchors(data, orders, n, groups=2, bundles=2) == expected


def planted_corpus(rng: random.Random, docs: int, multibyte: bool) -> list[bytes]:
    """Random documents with copies of earlier stretches planted in them: from earlier documents,
    from earlier in the same document, overlapping their source, and documents shorter than a
    window."""
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "vel", "quis", "nunc", "ut", "et", "ad", "in"]
    if multibyte:
        words += ["été", "中文", "😀", "ναι", "ok😀ok", "ñandú"]
    texts: list[bytes] = []
    for _ in range(docs):
        length = rng.choice([0, 5, 30, 120, 400, 900])
        text = b""
        while len(text) < length:
            roll = rng.random()
            if roll < 0.2 and texts:
                source = rng.choice(texts)
                start = rng.randrange(len(source) + 1)
                text += source[start:start + rng.randint(10, 200)]
            elif roll < 0.3 and len(text) > 20:
                start = rng.randrange(len(text))
                text += text[start:start + rng.randint(10, 150)]  # may overlap its own source
            else:
                text += " ".join(rng.choices(words, k=rng.randint(1, 8))).encode("utf-8") + b" "
        texts.append(text)
    return texts


@pytest.mark.parametrize("n", [3, 8, 15, 16, 17, 50])
@pytest.mark.parametrize("groups", [1, 16, 4096])
def test_planted_copies_across_and_within_documents(n, groups):
    rng = random.Random(n * 7919 + groups)
    texts = planted_corpus(rng, 60, multibyte=n % 2 == 1)
    orders = random_orders(rng, len(texts))
    expected = in_reading_order(duplicate_spans, texts, orders, n)
    assert expected == in_reading_order(brute_force, texts, orders, n)
    assert any(expected)
    assert find_duplicate_spans_by_anchors(texts, orders, n, groups=groups, bundles=3) == expected


def test_hand_checked_examples():
    order = [(0, 0), (0, 1)]
    assert find_duplicate_spans_by_anchors([b"abcdefgh", b"xxabcdefyy"], order, 4) == [[], [(2, 8)]]
    # The order keys decide, not the list order.
    assert find_duplicate_spans_by_anchors([b"abcdefgh", b"xxabcdefyy"], order[::-1], 4) == [[(0, 6)], []]
    assert find_duplicate_spans_by_anchors([b"abcabcabc"], [(5, 5)], 3) == [[(3, 9)]]
    assert find_duplicate_spans_by_anchors([b"aaaaa"], [(0, 0)], 2) == [[(1, 5)]]
    assert find_duplicate_spans_by_anchors([], [], 3) == []
    assert find_duplicate_spans_by_anchors([b"", b"ab", b"ab"], [(0, 0), (0, 1), (0, 2)], 3) == [[], [], []]


def test_a_window_never_spans_two_documents():
    # "abcd" + "efgh" joined would make "cdef", which the third document holds.
    texts = [b"xxxxabcd", b"efghyyyy", b"zzcdefzz", b"zzzzabcd"]
    orders = [(0, i) for i in range(4)]
    assert find_duplicate_spans_by_anchors(texts, orders, 4) == [[], [], [], [(4, 8)]]
    records = anchor_records(texts, orders, np.arange(4), 4)
    docs, starts = record_windows(records)
    lengths = np.array([len(t) for t in texts])
    assert (starts + 4 <= lengths[docs.astype(int)]).all()


# --- anchors --------------------------------------------------------------------------------------

@settings(max_examples=80, deadline=None)
@given(corpora, st.integers(1, 30))
def test_every_window_start_is_charged_to_exactly_one_record(texts, n):
    data = [text.encode("utf-8") for text in texts]
    records = anchor_records(data, [(0, i) for i in range(len(data))], np.arange(len(data)), n)
    docs, starts = record_windows(records)
    found = sorted(zip(docs.tolist(), starts.tolist(), strict=True))
    assert found == [(doc, start) for doc, text in enumerate(data) for start in range(len(text) - n + 1)]
    # Each record's context is its windows' bytes; consecutive records of a document differ in anchor.
    contexts, offset = records.contexts(), 0
    for index in range(len(records)):
        first, count = int(records.first[index]), int(records.count[index])
        context = data[int(records.doc[index])][first:first + count + n - 1]
        assert contexts[offset:offset + len(context)].tobytes() == context
        offset += len(context)
    same_doc = records.doc[1:] == records.doc[:-1]
    assert (records.anchor[1:][same_doc] != records.anchor[:-1][same_doc]).all()


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(ALPHABETS).flatmap(lambda a: st.text(alphabet=a, max_size=120)), st.integers(1, 40))
def test_the_anchor_is_the_leftmost_least_gram(text, n):
    data = text.encode("utf-8")
    positions, hashes = window_anchors(data, n)
    k = gram_bytes(n)
    grams = gram_hashes(data, k).tolist()
    for start in range(len(data) - n + 1):
        keys = [(grams[q] >> 32, q) for q in range(start, start + n - k + 1)]
        assert positions[start] == min(keys)[1]
        assert hashes[start] == grams[positions[start]]
    assert (np.diff(positions) >= 0).all()  # monotone: each anchor's windows form a range


def test_an_anchor_depends_on_the_window_bytes_only():
    rng = random.Random(5)
    window = bytes(rng.choices(b"abcdefgh ", k=50))
    for n in (50, 20, 16, 9):
        copies = []
        for _ in range(5):
            before = bytes(rng.choices(b"xyz", k=rng.randint(0, 300)))
            data = before + window + bytes(rng.choices(b"xyz", k=rng.randint(0, 40)))
            positions, hashes = window_anchors(data, n)
            at = len(before)
            copies.append(tuple((int(positions[s]) - s, int(hashes[s])) for s in range(at, at + 51 - n)))
        assert len(set(copies)) == 1  # same relative offset, same 64-bit hash, in every copy
    assert (gram_hashes(b"0123456789abcdefXY", 16)[0] == gram_hashes(b"__0123456789abcdef", 16)[2])


def test_periodic_text_makes_few_records():
    # Every window of "=" * 1000 has its own anchor position, all of one hash: one record.
    records = anchor_records([b"=" * 1000, b"ab" * 500], [(0, 0), (0, 1)], [0, 1], 50)
    assert len(records) <= 4
    assert find_duplicate_spans_by_anchors([b"=" * 1000, b"ab" * 500], [(0, 0), (0, 1)], 50) == \
        [[(1, 1000)], [(2, 1000)]]


def test_records_per_byte_follow_the_winnowing_density():
    rng = random.Random(3)
    text = bytes(rng.choices(range(32, 127), k=200_000))
    records = anchor_records([text], [(0, 0)], [0], 50)
    density = len(records) / len(text)
    assert 0.8 * 2 / 36 < density < 1.2 * 2 / 36  # 2 / (w + 1), w = 35 grams a window


# --- records: groups, packing, gathering ----------------------------------------------------------

def test_packing_round_trips():
    rng = random.Random(11)
    texts = planted_corpus(rng, 40, multibyte=True)
    orders = random_orders(rng, len(texts))
    records = anchor_records(texts, orders, np.arange(100, 100 + len(texts)), 20)
    for group in split_groups(records, 5).values():
        back = unpack_records(pack_records(group))
        assert back.anchor is None and back.min_bytes == 20
        for name in ("hi", "lo", "doc", "first", "count"):
            assert np.array_equal(getattr(back, name), getattr(group, name)), name
        assert np.array_equal(back.contexts(), group.contexts())
    empty = unpack_records(pack_records(anchor_records([b"short"], [(0, 0)], [0], 20)))
    assert len(empty) == 0 and resolve_group([])[0].size == 0


def test_damaged_packed_values_are_refused():
    value = pack_records(anchor_records([b"a" * 100], [(0, 0)], [0], 20))
    with pytest.raises(RootsError, match="not a packed value"):
        unpack_records(b"nonsense")
    import zstandard
    raw = zstandard.ZstdDecompressor().decompress(value)
    with pytest.raises(RootsError, match="context bytes"):
        unpack_records(zstandard.ZstdCompressor().compress(raw[:-3]))
    with pytest.raises(RootsError, match="bad magic"):
        unpack_records(zstandard.ZstdCompressor().compress(b"XXXX" + raw[4:]))


def test_reading_order_sorts_records_in_any_arrangement():
    rng = random.Random(21)
    texts = planted_corpus(rng, 30, multibyte=False)
    records = anchor_records(texts, random_orders(rng, len(texts)), np.arange(len(texts)), 10)
    expected = np.lexsort((records.first, records.lo, records.hi))
    blocks = np.split(np.arange(len(records)), np.flatnonzero(np.diff(records.doc.astype(np.int64))) + 1)
    arrangements = {
        "as made": np.arange(len(records)),
        "documents shuffled": np.concatenate(rng.sample(blocks, len(blocks))),
        "records shuffled": np.array(rng.sample(range(len(records)), len(records))),
        "documents cut in two": np.concatenate([block[::-1] for block in blocks]),
    }
    for name, arrangement in arrangements.items():
        ordered = records.take(arrangement).reading_order()
        assert np.array_equal(ordered.first, records.first[expected]), name
        assert np.array_equal(ordered.doc, records.doc[expected]), name
        assert np.array_equal(ordered.contexts(), records.take(expected).contexts()), name


def test_a_group_of_values_with_a_damaged_one_is_refused():
    records = anchor_records([b"a" * 100, b"b" * 100], [(0, 0), (0, 1)], [0, 1], 20)
    values = [pack_records(records.take(np.array([0]))), pack_records(records.take(np.array([1])))]
    docs, starts = resolve_group(values)
    assert docs.tolist() == [0] * 80 + [1] * 80 and starts.tolist() == list(range(1, 81)) * 2
    with pytest.raises(RootsError):
        resolve_group([values[0], values[1][:-4]])
    with pytest.raises(RootsError):
        resolve_group([values[0], b"nonsense"])


def test_groups_partition_the_records_by_anchor():
    texts = planted_corpus(random.Random(2), 30, multibyte=False)
    records = anchor_records(texts, [(0, i) for i in range(30)], np.arange(30), 16)
    groups = split_groups(records, 7)
    assert sum(len(group) for group in groups.values()) == len(records)
    for group_id, group in groups.items():
        assert (group.anchor % np.uint64(7) == group_id).all()


def test_gather_ranges_cuts_long_ranges_and_reads_to_the_end():
    data = np.frombuffer(bytes(range(256)) * 40, np.uint8)
    starts = np.array([0, 5, 10_000, len(data) - 3, 7, 100], np.int64)
    lengths = np.array([3, 0, 240, 3, 5_000, 1], np.int64)
    expected = b"".join(data[s:s + n].tobytes() for s, n in zip(starts, lengths, strict=True))
    assert gather_ranges(data, starts, lengths).tobytes() == expected


# --- group resolution -----------------------------------------------------------------------------

@pytest.mark.parametrize("chunk", [None, 3])
@pytest.mark.parametrize("n", [12, 20])
def test_hash_collisions_do_not_change_the_answer(n, chunk):
    rng = random.Random(9)
    texts = planted_corpus(rng, 40, multibyte=True)
    texts += [b"X" + text[1:] for text in texts[:10]]  # windows unlike another in their first byte only
    texts += [text[:30] + b"X" + text[31:] for text in texts[10:20]]  # or in one byte inside
    orders = random_orders(rng, len(texts))
    expected = in_reading_order(duplicate_spans, texts, orders, n)
    real = anchor_groups.window_hashes
    hashes = {
        "constant": lambda words, positions, size: np.zeros(len(positions), np.uint64),
        "first byte": lambda words, positions, size: words[positions] & np.uint64(0xFF),
        # Blind to the first byte: a copied stretch behind one differing byte makes diagonals that
        # start with a collision and go on with equal windows.
        "all but the first byte": lambda words, positions, size: real(words, positions + 1, size - 1),
        # Blind to the last byte: a diagonal of equal windows ends with a collision.
        "all but the last byte": lambda words, positions, size: real(words, positions, size - 1),
        # Blind to the first half: diagonals of collisions, pairs unlike each other but alike in
        # their last bytes.
        "second half": lambda words, positions, size: real(words, positions + size // 2, size - size // 2),
    }
    for name, function in hashes.items():
        with mock.patch.object(anchor_groups, "window_hashes", function), \
                small_chunks(chunk) if chunk else contextlib.nullcontext():
            found = find_duplicate_spans_by_anchors(texts, orders, n, groups=3, bundles=2)
        assert found == expected, name


def test_first_occurrences_are_the_earliest_of_each_distinct_window():
    rng = random.Random(4)
    texts = planted_corpus(rng, 30, multibyte=False)
    orders = random_orders(rng, len(texts))
    records = anchor_records(texts, orders, np.arange(len(texts)), 10)
    found = first_occurrences(records)
    first: dict[bytes, tuple[int, int, int]] = {}
    for index in sorted(range(len(texts)), key=lambda i: orders[i]):
        for start in range(len(texts[index]) - 9):
            first.setdefault(texts[index][start:start + 10], (*orders[index], start))
    got = {found.windows[i].tobytes(): (int(found.hi[i]), int(found.lo[i]), int(found.start[i]))
           for i in range(len(found))}
    assert got == first
    assert all(texts[int(d)][int(s):int(s) + 10] == found.windows[i].tobytes()
               for i, (d, s) in enumerate(zip(found.doc, found.start, strict=True)))


def test_duplicate_windows_come_in_reading_order_and_make_spans():
    texts = [b"0123456789" * 3, b"xx0123456789yy"]
    records = anchor_records(texts, [(1, 0), (0, 0)], [7, 8], 5)  # the second text reads first
    docs, starts = duplicate_windows(records)
    # 0-5 repeat the second text; 6-9 are new; 10-25 repeat 0-15.
    assert docs.tolist() == [7] * 22 and starts.tolist() == [*range(6), *range(10, 26)]
    assert spans_by_doc(docs, starts, 5) == {7: [(0, 30)]}
    assert spans_by_doc(np.array([1, 1, 2]), np.array([0, 9, 3]), 5) == {1: [(0, 5), (9, 14)], 2: [(3, 8)]}
    assert hot_duplicate_starts(np.array([1, 2, 3, 9]), np.array([2, 9])).tolist() == [1, 3]


# --- hot anchors ----------------------------------------------------------------------------------

def boilerplate_corpus(rng: random.Random, docs: int, string: bytes) -> list[bytes]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(3000)]
    texts = []
    for _ in range(docs):
        before = " ".join(rng.choices(vocabulary, k=rng.randint(0, 25))).encode()
        after = " ".join(rng.choices(vocabulary, k=rng.randint(0, 25))).encode()
        texts.append(before + b" " + string + b" " + after)
    return texts


def test_a_string_in_10000_documents_is_kept_once_also_through_the_hot_path():
    rng = random.Random(60)
    string = (b"Subscribe to our newsletter for weekly deals and news" + b"!" * 60)[:60]
    texts = boilerplate_corpus(rng, 10_000, string)
    orders = random_orders(rng, len(texts))
    expected = in_reading_order(duplicate_spans, texts, orders, 50)
    first = min(range(len(texts)), key=lambda index: orders[index])

    def check(spans: list[list[tuple[int, int]]]) -> None:
        kept = removed = 0
        for text, found in zip(texts, spans, strict=True):
            at = text.index(string)
            if any(start <= at and at + 60 <= end for start, end in found):
                removed += 1
            elif not any(start < at + 60 and at < end for start, end in found):
                kept += 1
        assert (kept, removed) == (1, 9_999)
        assert not any(start < texts[first].index(string) + 60 and texts[first].index(string) < end
                       for start, end in spans[first])

    groups, budget, rate = 512, 64 * 1024, 4
    plain = find_duplicate_spans_by_anchors(texts, orders, 50, groups=groups, bundles=4)
    assert plain == expected
    check(plain)

    # The string's anchor carries about 10,000 contexts: over the budget, it takes the hot path.
    records = anchor_records(texts, orders, np.arange(len(texts)), 50)
    hot = hot_anchors(*sample_anchor_bytes(records, rate), rate, budget)
    string_anchor = window_anchors(string, 50)[1]
    assert set(string_anchor.tolist()) <= set(hot.tolist())
    cold, hot_records = split_hot(records, hot)
    assert len(hot_records) >= 10_000
    sizes = [int(group.context_lengths.sum()) for group in split_groups(cold, groups).values()]
    assert max(sizes) <= budget
    through_hot = find_duplicate_spans_by_anchors(texts, orders, 50, groups=groups, hot_budget=budget,
                                                  sample_rate=rate, bundles=4)
    assert through_hot == expected
    # A bundle sends one key per distinct hot window, not one per occurrence.
    distinct = first_occurrences(hot_records)
    keys = [distinct.windows[index].tobytes() for index in range(len(distinct))]
    assert all(keys.count(string[start:start + 50]) == 1 for start in range(11))


def test_sampling_is_deterministic_and_about_one_in_rate():
    keys = np.arange(100_000, dtype=np.uint64)
    chosen = sampled_documents(keys, 10)
    assert np.array_equal(chosen, sampled_documents(keys, 10))
    assert 9_000 < chosen.sum() < 11_000
    assert sampled_documents(keys, 1).all()
