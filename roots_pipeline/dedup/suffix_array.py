"""Exact-substring deduplication with a suffix array: ROOTS's last dedup (Lee et al. 2022), exact
and with a memory bound.

Semantics. The documents of a language, in ascending id order, form a corpus of UTF-8 bytes; a
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

Memory bound. A corpus is cut, in id order, into k parts of at most `part_bytes` each (text plus
one separator per document). Part j's duplicates are the windows with an earlier occurrence in
parts 0..j, so one suffix array over each *pair* of parts (i < j, part i first) finds every one
of them: in that array, a window of part j with an earlier occurrence in part i, or earlier in
part j, is a non-smallest start of its run, and so is a window of part i with an earlier
occurrence in part i. The union over the pairs is exactly the answer, and every job holds at
most two parts. Cost: k(k-1)/2 suffix arrays over at most 2 parts each (one array when k = 1),
about (k-1) times the corpus size sorted in all: the work grows as size² / part size, so parts
should be as large as memory allows.

RAM per byte of text n of one job (n at most 2 × `part_bytes`), measured peaks in
`bench/suffix_array.py`:

    the joined corpus       1 B
    suffix array            4 B   (8 B once n reaches 2**31: libdivsufsort's 64-bit variant)
    duplicate-start mask    1 B
    ------------------------------
    total                   6 B per byte of text, plus a fixed 64 MB of per-chunk buffers
                            (CHUNK_BYTES: gathered windows, masks and run ids of a chunk)
                            and 16 B per document (offsets)

`joined_duplicate_spans` takes the corpus already joined (the Beam stage assembles it from part
files, `dedup.part_files`); `duplicate_spans` joins separate texts first, and also holds them:
7 B per byte.

A job over two parts of 128 MB holds about 1.6 GB. The output spans are small: at most one
pair of integers per N duplicate bytes.
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
Job = tuple[int, int]

_WHITESPACE = re.compile(r"\s")


def duplicate_spans(texts: Sequence[bytes], min_bytes: int) -> list[list[ByteSpan]]:
    """Return, per text, the merged byte spans of its windows of `min_bytes` that start earlier.

    `texts` are in corpus order (ascending document id). This is one job: the whole corpus, or
    a pair of parts (the earlier one first). Spans are half-open and sorted.
    """
    if not texts:
        return []
    corpus = SEPARATOR.join([*texts, b""])  # a separator after every text, without a second copy
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    return joined_duplicate_spans(corpus, lengths, min_bytes)


def joined_duplicate_spans(corpus: bytes | np.ndarray, lengths: np.ndarray,
                           min_bytes: int) -> list[list[ByteSpan]]:
    """Return `duplicate_spans` of texts already joined: `corpus` holds each text followed by one
    SEPARATOR, `lengths` their byte lengths. A job that assembles its corpus in place (from part
    files) never holds the texts a second time."""
    assert min_bytes >= 1, min_bytes
    assert len(corpus) == int(lengths.sum()) + len(lengths), (len(corpus), len(lengths))
    if not len(lengths):
        return []
    starts = np.cumsum(lengths + 1) - 1 - lengths  # each text's offset in the corpus
    dup = _duplicate_starts(corpus, min_bytes)
    found: list[list[ByteSpan]] = [[] for _ in range(len(lengths))]
    # One reduceat finds the texts with any duplicate start; only their slices are scanned.
    for index in np.flatnonzero(np.logical_or.reduceat(dup, starts)):
        begin = int(starts[index])
        found[index] = _merged_windows(np.flatnonzero(dup[begin:begin + int(lengths[index])]), min_bytes)
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


def _merged_windows(window_starts: np.ndarray, min_bytes: int) -> list[ByteSpan]:
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


def plan_parts(sizes: Sequence[int], budget: int) -> list[int]:
    """Return the index of the first unit of each part: consecutive units, at most `budget` bytes
    a part unless one unit alone is larger (it then makes a part of its own)."""
    firsts: list[int] = []
    total = 0
    for index, size in enumerate(sizes):
        if not firsts or (total and total + size > budget):
            firsts.append(index)
            total = 0
        total += size
    return firsts


def pair_jobs(parts: int) -> list[Job]:
    """Return the jobs covering `parts` parts: every pair (i, j), i < j; (0, 0) for one part."""
    if parts <= 1:
        return [(0, 0)] if parts == 1 else []
    return [(i, j) for i in range(parts) for j in range(i + 1, parts)]


def jobs_of_part(part: int, parts: int) -> list[Job]:
    """Return the jobs a part's documents take part in (parts - 1 of them, or the single one)."""
    if parts == 1:
        return [(0, 0)]
    return [(min(part, other), max(part, other)) for other in range(parts) if other != part]


def find_duplicate_spans(texts: Sequence[bytes], min_bytes: int,
                         part_bytes: int | None = None) -> list[list[ByteSpan]]:
    """Return `duplicate_spans` of a corpus computed part by part, the way the Beam stage does.

    With `part_bytes` the texts are cut into parts (text plus separator bytes) and the pair jobs
    run one after another; the result equals the single-job one. Used by tests and the bench.
    """
    if part_bytes is None:
        return duplicate_spans(texts, min_bytes)
    firsts = plan_parts([len(t) + 1 for t in texts], part_bytes)
    bounds = [*firsts, len(texts)]
    found: list[list[ByteSpan]] = [[] for _ in texts]
    for i, j in pair_jobs(len(firsts)):
        members = list(range(bounds[i], bounds[i + 1]))
        if j != i:
            members += range(bounds[j], bounds[j + 1])
        for index, spans in zip(members, duplicate_spans([texts[m] for m in members], min_bytes),
                                strict=True):
            found[index].extend(spans)
    return [merge_spans(spans) for spans in found]


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
