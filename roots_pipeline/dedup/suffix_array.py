"""Exact-substring deduplication with one suffix array (Lee et al. 2022): the reference answer,
and the span helpers the `suffix_array_dedup` stage uses.

The stage itself finds duplicates by charged anchors (`dedup.anchors`), whose work is linear in
the corpus; `duplicate_spans` here is the same answer from one suffix array over all the texts,
which the tests compare the anchors with and `bench/suffix_array.py` times them against.

Semantics. The documents of a language, in reading order, form a corpus of UTF-8 bytes; a
window is `min_bytes` (N) consecutive bytes of one document (a window never spans two documents).
A window is a *duplicate* when the same N bytes start at an earlier position of the corpus: in an
earlier document, or earlier in the same document (overlaps allowed). The union of the duplicate
windows is removed, so every repeated substring of N bytes or more keeps its first occurrence
(Lee et al.'s tool removes every copy). Removal works on whole characters: a character goes when
every one of its bytes lies in a duplicate window, i.e. byte spans are snapped *inward* to UTF-8
character boundaries, so a character that only partly repeats is never cut. Spans are reported
as character offsets of the original text.

How. Texts are joined with a 0xFF byte after each one (0xFF never occurs in UTF-8) and sorted
into a suffix array with libdivsufsort. Suffixes whose first N bytes are equal are consecutive in
it; each such run is one repeated window, and every start in a run but the smallest is a
duplicate. Runs are found by comparing the N-byte prefixes of neighbouring suffixes, chunk by
chunk (not with an LCP array: Kasai's algorithm needs 8 more bytes per byte of text, for an
answer needed only as "at least N"); windows holding a 0xFF cross a document boundary and never
join a run.

RAM per byte of text n: the joined corpus 1 B, the suffix array 4 B (8 B once n reaches 2**31),
the duplicate-start mask 1 B, plus a fixed 64 MB of per-chunk buffers (`CHUNK_BYTES`) and 16 B
per document; `duplicate_spans` also holds the texts (7 B per byte).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
from pydivsufsort import divsufsort

SEPARATOR = b"\xff"  # after every text; never part of UTF-8, so no window can match across texts
# Memory for one chunk of the suffix array (its windows, masks, run ids): the fixed part of a job's RAM.
CHUNK_BYTES = 64 * 1024 * 1024
# Per slot of a chunk, besides its window gathered twice at most: run ids and minima, masks, copies.
_CHUNK_BYTES_PER_SLOT = 64

ByteSpan = tuple[int, int]
CharSpan = tuple[int, int]

_WHITESPACE = re.compile(r"\s")


def duplicate_spans(texts: Sequence[bytes], min_bytes: int) -> list[list[ByteSpan]]:
    """Return, per text, the merged byte spans of its windows of `min_bytes` that start earlier.

    `texts` are in reading order. Spans are half-open and sorted.
    """
    assert min_bytes >= 1, min_bytes
    if not texts:
        return []
    corpus = SEPARATOR.join([*texts, b""])  # a separator after every text, without a second copy
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    starts = np.cumsum(lengths + 1) - 1 - lengths  # each text's offset in the corpus
    dup = _duplicate_starts(corpus, min_bytes)
    found: list[list[ByteSpan]] = [[] for _ in range(len(lengths))]
    # One reduceat finds the texts with any duplicate start; only their slices are scanned.
    for index in np.flatnonzero(np.logical_or.reduceat(dup, starts)):
        begin = int(starts[index])
        found[index] = merged_windows(np.flatnonzero(dup[begin:begin + int(lengths[index])]), min_bytes)
    return found


def _duplicate_starts(corpus: bytes | np.ndarray, min_bytes: int) -> np.ndarray:
    """Return a mask over corpus positions: True where a duplicate window starts."""
    n = len(corpus)
    dup = np.zeros(n, dtype=bool)
    if n < min_bytes:
        return dup
    suffixes = divsufsort(corpus)
    # Every window as one N-byte value: comparing two is one memcmp. The views overlap (stride 1).
    windows = np.ndarray(buffer=corpus, dtype=f"V{min_bytes}", shape=(n - min_bytes + 1,), strides=(1,))
    last_window = n - min_bytes
    step = max(1, CHUNK_BYTES // (2 * min_bytes + _CHUNK_BYTES_PER_SLOT))
    carry = -1  # smallest start of the run still open at the end of the previous chunk (unmarked)
    for begin in range(0, n, step):
        end = min(begin + step, n)
        # One slot past the chunk, to know whether the chunk's last run goes on.
        starts = suffixes[begin:min(end + 1, n)]
        # Suffixes shorter than N are clipped to the last window, which ends with a separator.
        gathered = windows[np.minimum(starts, last_window)]
        links = gathered[1:] == gathered[:-1]  # slot k ~ slot k + 1
        # Equal windows hold a separator at the same place or nowhere: one side tells. Only the
        # equal pairs are tested, about a third of the slots in natural text.
        equal = np.flatnonzero(links)
        crossing = gathered[equal].view(np.uint8).reshape(-1, min_bytes).max(axis=1) == 0xFF
        links[equal[crossing]] = False
        del gathered, equal, crossing
        if end == n:
            links = np.append(links, False)
        linked_left = np.empty(end - begin, dtype=bool)
        linked_left[0] = carry >= 0
        linked_left[1:] = links[:-1]
        starts = starts[:end - begin]
        in_run = linked_left | links
        new_run = ~linked_left
        run_first = np.flatnonzero(new_run)
        if not new_run[0]:
            run_first = np.concatenate(([0], run_first))
        run_min = np.minimum.reduceat(starts, run_first)
        run_id = np.cumsum(new_run) - int(new_run[0])
        marked = in_run & (starts != run_min[run_id])
        first_min = int(run_min[0])
        if carry >= 0:  # the chunk's first run continues the previous chunk's open run
            if carry < first_min:
                marked[run_id == 0] = True
                first_min = carry
            else:
                dup[carry] = True
        # The run still open at the chunk's end passes its smallest start, left unmarked, on.
        last_min = first_min if run_id[-1] == 0 else int(run_min[-1])
        carry = last_min if links[-1] else -1
        dup[starts[marked]] = True
    return dup


def merged_windows(window_starts: np.ndarray, min_bytes: int) -> list[ByteSpan]:
    """Return the union of [s, s + N) over sorted window starts as disjoint, sorted spans."""
    if not len(window_starts):
        return []
    breaks = np.flatnonzero(np.diff(window_starts) > min_bytes)
    firsts = window_starts[np.concatenate(([0], breaks + 1))]
    lasts = window_starts[np.concatenate((breaks, [len(window_starts) - 1]))] + min_bytes
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


def merge_spans(spans: Iterable[ByteSpan]) -> list[ByteSpan]:
    """Return the union of half-open spans, sorted, touching ones joined (jobs' results per text)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def character_spans(text: str, byte_spans: Iterable[ByteSpan]) -> list[CharSpan]:
    """Return byte spans of `text`'s UTF-8 as character spans, keeping only whole characters.

    A span that starts or ends inside a multi-byte character leaves that character out (inward
    snapping); a span with no whole character disappears.
    """
    data = text.encode("utf-8")
    if len(data) == len(text):  # ASCII: bytes are characters
        return [(start, end) for start, end in byte_spans]
    lead = (np.frombuffer(data, dtype=np.uint8) & 0xC0) != 0x80  # the first byte of each character
    before = np.concatenate(([0], np.cumsum(lead)))  # characters starting before each byte offset
    spans = []
    for start, end in byte_spans:
        first = int(before[start])
        stop = int(before[end]) - int(end < len(data) and not lead[end])
        if stop > first:
            spans.append((first, stop))
    return spans


def remove_spans(text: str, spans: Sequence[CharSpan]) -> str:
    """Return `text` without the (sorted, disjoint) character spans.

    A span between two non-whitespace characters is replaced by "\\n" if it held a line break,
    else by " " if it held other whitespace, else by nothing: the words on either side of a cut
    are not glued into one, and no whitespace is added next to whitespace. A span at the start
    or end of the text is simply cut.
    """
    pieces = []
    previous = 0
    for start, end in spans:
        pieces.append(text[previous:start])
        if start > 0 and end < len(text) and not (text[start - 1].isspace() or text[end].isspace()):
            removed = text[start:end]
            pieces.append("\n" if "\n" in removed else " " if _WHITESPACE.search(removed) else "")
        previous = end
    pieces.append(text[previous:])
    return "".join(pieces)
