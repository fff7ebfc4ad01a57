"""The reference exact-substring dedup, one suffix array: against a brute-force search on random
small corpora (multi-byte characters included), hand-checked examples, and the span helpers
(inward snapping to characters, cutting spans out of a text)."""

from __future__ import annotations

from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from roots_pipeline.dedup import suffix_array
from roots_pipeline.dedup.suffix_array import character_spans, duplicate_spans, remove_spans

# --- the reference: a brute-force search ---------------------------------------------------------

def brute_force(texts: list[str], n: int) -> list[list[tuple[int, int]]]:
    """Character spans to remove: a window of n bytes seen before (anywhere earlier) is a duplicate;
    a character goes when all its bytes are in duplicate windows."""
    seen: set[bytes] = set()
    result = []
    for text in texts:
        data = text.encode("utf-8")
        covered = [False] * len(data)
        for start in range(len(data) - n + 1):
            window = data[start:start + n]
            if window in seen:
                covered[start:start + n] = [True] * n
            seen.add(window)
        removed, offset = [], 0
        for char in text:
            size = len(char.encode("utf-8"))
            removed.append(all(covered[offset:offset + size]))
            offset += size
        spans: list[tuple[int, int]] = []
        for index, gone in enumerate(removed):
            if gone and spans and spans[-1][1] == index:
                spans[-1] = (spans[-1][0], index + 1)
            elif gone:
                spans.append((index, index + 1))
        result.append(spans)
    return result


def algorithm(texts: list[str], n: int) -> list[list[tuple[int, int]]]:
    found = duplicate_spans([t.encode("utf-8") for t in texts], n)
    return [character_spans(text, spans) for text, spans in zip(texts, found, strict=True)]


ALPHABETS = ("ab", "abc ", "aé", "中a", "😀b", "é中😀 a\n")
corpora = st.sampled_from(ALPHABETS).flatmap(
    lambda alphabet: st.lists(st.text(alphabet=alphabet, max_size=40), max_size=8))


@settings(max_examples=120, deadline=None)
@given(corpora, st.integers(2, 8))
def test_removes_exactly_what_a_brute_force_search_finds(texts, n):
    assert algorithm(texts, n) == brute_force(texts, n)


@settings(max_examples=60, deadline=None)
@given(corpora, st.integers(2, 8), st.integers(1, 400))
def test_runs_cut_by_suffix_array_chunks_still_keep_one_occurrence(texts, n, chunk_bytes):
    # A few slots per chunk: runs of equal windows straddle chunk boundaries.
    with mock.patch.object(suffix_array, "CHUNK_BYTES", chunk_bytes):
        assert algorithm(texts, n) == brute_force(texts, n)


# --- hand-checked examples -----------------------------------------------------------------------

def test_a_later_copy_loses_its_windows_and_the_first_keeps_them():
    assert duplicate_spans([b"abcdefgh", b"xxabcdefyy"], 4) == [[], [(2, 8)]]
    assert duplicate_spans([b"xxabcdefyy", b"abcdefgh"], 4) == [[], [(0, 6)]]


def test_repeats_inside_one_text_keep_the_first_and_may_overlap():
    assert duplicate_spans([b"abcabcabc"], 3) == [[(3, 9)]]
    assert duplicate_spans([b"aaaaa"], 2) == [[(1, 5)]]


def test_a_window_never_spans_two_texts():
    assert duplicate_spans([b"ab", b"cd", b"abcd"], 3) == [[], [], []]
    assert duplicate_spans([], 3) == []
    assert duplicate_spans([b"", b"ab"], 3) == [[], []]


def test_spans_snap_inward_to_whole_characters():
    # "é" is C3 A9, "è" C3 A8: with 1-byte windows only C3 repeats, half a character.
    assert algorithm(["xé", "yè"], 1) == [[], []]
    assert algorithm(["aé", "bé"], 2) == [[], [(1, 2)]]
    assert character_spans("a中b", [(0, 3)]) == [(0, 1)]  # bytes 1-2 are two thirds of 中
    assert character_spans("a中b", [(1, 5)]) == [(1, 3)]
    assert character_spans("plain", [(1, 3)]) == [(1, 3)]


def test_multibyte_texts():
    texts = ["中文文本重复了", "另一个中文文本重复了"]
    # 3 bytes a character: 9-byte windows are 3 characters, and 中文文本重复了 repeats whole.
    assert algorithm(texts, 9) == brute_force(texts, 9) == [[], [(3, 10)]]
    # 4 bytes an emoji: the 8-byte window of two emoji repeats at byte 4, not at bytes 1-3.
    assert algorithm(["😀😀😀"], 8) == [[(1, 3)]]
    assert algorithm(["😀😀😀"], 9) == [[]]


def test_a_cut_inside_the_text_leaves_one_line_break_or_space():
    text = "Intro.\nSubscribe to our newsletter!\nBody text. Shared sentence here. End."
    line = text.index("\nSubscribe"), text.index("\nBody")
    assert remove_spans(text, [line]) == "Intro.\nBody text. Shared sentence here. End."
    words = text.index(" Shared"), text.index(" End")
    assert remove_spans(text, [words]).endswith("Body text. End.")
    assert remove_spans("abcXYZdef", [(3, 6)]) == "abcdef"
    assert remove_spans("abc X\nY def", [(3, 8)]) == "abc\ndef"
    assert remove_spans("abc X\nY def", [(4, 7)]) == "abc  def"  # whitespace already beside the cut
    assert remove_spans("dup text\nrest", [(0, 9)]) == "rest"  # at the start: just cut
    assert remove_spans("whole", [(0, 5)]) == ""
