"""ROOTS's exact-substring dedup as a corpus stage, per language: every substring of at least
`min_bytes` UTF-8 bytes that occurs more than once among a language's documents (across datasets
and sources) keeps its first occurrence in reading order and loses the others. ROOTS ran Lee et
al.'s suffix-array tool per language with a 50-byte threshold; that tool removes every copy,
this stage keeps the first. The answer is exactly what one suffix array over the language's
texts in reading order gives (`dedup.suffix_array.duplicate_spans`, the reference the tests
compare with), but the work is linear in the corpus: charged anchors (`dedup.anchors`, which
has the algorithm, its exactness argument and the measured cost model).

Reading order: sources in recipe order, files in sorted path order, records by position
(`Document.order`); a document's key in it is (order >> 64, order mod 2**64), unique in a run.

Shape of the Beam graph, none of whose steps holds a language:

1. **Sizes**: bytes per language of the documents that hold a window (a CombinePerKey). Each
   language gets a plan (a side input of one pair per language): `groups` = M, about
   `CONTEXT_PER_BYTE` × its bytes / `part_mb`, and a sampling rate R that samples about
   `SAMPLE_MB` of it.
2. **Hot anchors** (languages of more than one group): the anchor records of 1 document in R
   (by a hash of its id; R at least `MIN_SAMPLE_RATE`), their context bytes summed per anchor
   hash over the whole language (a CombinePerKey per (language, shard of the hash)); an anchor
   whose estimated context (sampled bytes × R) exceeds a quarter of `part_mb` is *hot*: a
   boilerplate window repeated millions of times, which would make its group unbounded (a side
   input of the hot hashes per language).
3. **Records**: each worker bundle buffers documents (at most `BUFFER_MB` of text) and turns them
   into anchor records per language (`anchor_records`: the windows of a document partitioned by
   their anchor, each record with its context). Cold records go to group `anchor % M`, packed
   and compressed once per bundle and group (`pack_records`); hot ones go to no group: the
   bundle emits each distinct hot window once, with its first position, and the ranges of hot
   window starts of each of its batches' documents (one range a hot record).
4. **Groups** (a GroupByKey per (language, group)): `resolve_group` finds every window whose
   bytes occur earlier in reading order among the group's records, which hold every copy of
   their windows; the duplicates become byte spans per document. **Hot windows**: a
   CombinePerKey per (language, shard of the window's bytes) keeps each distinct window's first
   position (`_FirstWindows`).
5. **Join**: spans (as arrays, one element per batch and group), the hot windows' ranges and
   their first positions, keyed by the id of the first document of their batch, joined back to
   the batches with a CoGroupByKey (as `dedup_document` joins its losers), so batches keep their
   documents and order. A document's hot windows all go but the first occurrences that name it.

A changed document's text has its duplicate spans cut (`remove_spans`: a cut between two
non-whitespace characters leaves one "\\n", or one " ", when the removed span held a line break
or a space, so words are not glued together; elsewhere the span simply goes), and
`meta["removed_spans"]` lists them as `[start, end]` character offsets of the text before. A
changed document left with fewer words than its language's minimum is rejected as
`suffix_array_dedup:too_short_after_removal` (a rejection, not a `duplicate` outcome): the
minimum is `min_words`, or by default the `number_words` cutoff of `languages/<lang>.yaml` (at
least 1, so a document removed whole always goes). Words are counted as ROOTS counts them for
that cutoff on whitespace languages (`too_short`, with the language's strip characters); for a
SentencePiece language (zh, cutoff 1) whitespace words are counted, which still tells an
emptied text from one with words left. Unchanged documents are never rejected here.

Notes: `suffix_array_dedup:docs_changed` (documents) and `suffix_array_dedup:bytes_removed`
(UTF-8 bytes by which changed texts shrank), per source, dataset and language.

Memory per worker:
- records: the buffered texts (`BUFFER_MB`), then about 4 bytes per byte of them while a
  buffer becomes records, plus one packed value being compressed;
- sampling: the same for the sampled documents; summing, the distinct sampled anchors of one
  (language, shard): about 0.055 × `SAMPLE_MB` / `SAMPLE_SHARDS` of them, 16 bytes each;
- a group: about 5.8 bytes of RAM per byte of its context (`dedup.anchor_groups`), and a group
  holds about `part_mb` of context (1 / M of the language's, plus the spread of M sums of many
  anchors, none above a quarter of `part_mb`): 0.75 GB at the default 128 MB;
- hot windows: the distinct hot windows of one (language, shard), W + 40 bytes each (1 /
  `HOT_SHARDS` of the language's);
- the join: one batch, its documents' spans and hot window ranges.

Shuffle: places (path, offset, length), about 100 bytes per packed value, per batch and per
group's spans; the hot windows with their positions. The packed records themselves, 0.8-3.6
bytes per byte of text (more groups, smaller packs; see `dedup.anchors`), and the stage's input
batches, which its sizing, sampling, records and join each read, go through files in
`<run>/scratch/` (`worker.fs.ScratchAppender`, `stages.batch_join.stored_batches`): disk, about
the stage's input twice while the run lasts. Work: linear in the corpus, about 130 ns per byte of
text on one core for the algorithm (`bench/anchors.py`, `bench/suffix_array.py`): the number of
groups changes the number of steps, not the work.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue

from roots_pipeline.dedup.anchor_groups import (
    duplicate_windows,
    first_occurrences,
    merged_spans,
    union_of_spans,
)
from roots_pipeline.dedup.anchors import (
    anchor_records,
    hot_anchors,
    pack_records,
    sample_anchor_bytes,
    sampled_documents,
    split_groups,
    split_hot,
    unpack_group,
)
from roots_pipeline.dedup.suffix_array import (
    ByteSpan,
    character_spans,
    remove_spans,
)
from roots_pipeline.document import Document
from roots_pipeline.errors import OptionError, require_positive
from roots_pipeline.filters.words import split_on_whitespace, strip_characters
from roots_pipeline.lang.config import character_set, load_language
from roots_pipeline.ledger import Tally
from roots_pipeline.options import option
from roots_pipeline.stages.apply import NOTES, REJECTED
from roots_pipeline.stages.base import CorpusOutputs, CorpusStage, register
from roots_pipeline.stages.batch_join import BATCHES, Stored, batch_at, stored_batches, unpacked
from roots_pipeline.worker.coder import DocumentBatch
from roots_pipeline.worker.fs import Place, ScratchAppender, read_places
from roots_pipeline.worker.glibc_heap import free_heap_released

MB = 1024 * 1024
# A group's context positions are 32-bit (`dedup.anchor_groups`): groups of at most 4 GiB, so the
# mean stays well below.
MAX_PART_MB = 2048
# Context bytes per byte of text (`dedup.anchors`: 1 + (W - 1) × 0.055 records a byte at W = 50),
# for choosing the number of groups; a wrong estimate changes group sizes, never results.
CONTEXT_PER_BYTE = 3.7
SAMPLE_MB = 64  # text per language whose anchors are counted to find the hot ones
MIN_SAMPLE_RATE = 4  # at most 1 document in 4 is counted: an estimate suffices
SAMPLE_SHARDS = 16  # the counts of one language are summed in this many groups
BUFFER_MB = 32  # text a worker buffers before making records: larger packs, fewer values
HOT = "hot"
HOT_RANGES = "hot_ranges"
HOT_SHARDS = 256  # hot windows are kept first-per-window in this many groups a language
_ORDER_LO_BITS = 64  # a reading order (`Document.order`) as two uint64: order >> 64, order mod 2**64
# A group's spans for one batch: document keys, span firsts and ends (byte offsets), one row a span.
SpanArrays = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Plan:
    """How a language is cut: `groups` anchor groups, and 1 document in `sample_rate` sampled."""

    groups: int
    sample_rate: int


@register
@dataclass(frozen=True)
class SuffixArrayDedup(CorpusStage):
    """Remove every repeat of a substring of at least `min_bytes` bytes, per language, keeping its
    first occurrence in reading order; reject changed documents left under the language's
    minimum of words.

    `part_mb` bounds what one worker holds for a group (about 6 bytes of RAM per byte of it);
    `min_words` overrides every language's `number_words` minimum.
    """

    name = "suffix_array_dedup"
    min_bytes: int = option(50, "shortest repeated substring removed, in UTF-8 bytes")
    part_mb: float = option(128.0, "anchor context per group (about 6 bytes of RAM per byte of it); "
                                   "sets memory and parallelism, never results")
    min_words: int | None = option(None, "words a changed document must keep (default: its language's "
                                         "number_words minimum)")

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "min_bytes", "part_mb")
        if self.part_mb > MAX_PART_MB:
            raise OptionError("part_mb", f"must be at most {MAX_PART_MB} (a group's context must stay "
                                         f"under 4 GiB), got {self.part_mb}")
        if self.min_words is not None and self.min_words < 1:
            raise OptionError("min_words", f"must be at least 1 (leave it out for the language's own "
                                           f"minimum), got {self.min_words}")

    @property
    def part_bytes(self) -> int:
        return max(1, int(self.part_mb * MB))

    def expand_stage(self, batches: beam.PCollection, label: str, scratch: str) -> CorpusOutputs:
        stored = stored_batches(batches, label, scratch)
        plans = beam.pvalue.AsDict(
            stored
            | f"{label}_Sizes" >> beam.FlatMap(_language_bytes, self.min_bytes)
            | f"{label}_SumSizes" >> beam.CombinePerKey(sum)
            | f"{label}_Plan" >> beam.MapTuple(_plan, self.part_bytes)
        )
        hot = beam.pvalue.AsDict(
            stored
            | f"{label}_Sample" >> beam.ParDo(_SampleAnchors(self.min_bytes), plans)
            | f"{label}_SumSample" >> beam.CombinePerKey(_SumAnchorBytes())
            | f"{label}_Hot" >> beam.FlatMap(_hot_of_shard, plans, self.hot_budget)
            | f"{label}_GroupHot" >> beam.CombinePerKey(_JoinHot())
        )
        records = stored | f"{label}_Records" >> beam.ParDo(
            _MakeRecords(self.min_bytes, f"{scratch}/{label}-records"), plans, hot,
        ).with_outputs(HOT, HOT_RANGES, main="groups")
        spans = (
            records.groups
            | f"{label}_Group" >> beam.GroupByKey()
            | f"{label}_Resolve" >> beam.FlatMapTuple(_group_spans, self.min_bytes)
        )
        firsts = (
            records[HOT]
            | f"{label}_FirstHot" >> beam.CombinePerKey(_FirstWindows())
            | f"{label}_HotByBatch" >> beam.FlatMapTuple(_firsts_by_batch)
        )
        split = (
            {BATCHES: stored, "spans": spans, "firsts": firsts,
             HOT_RANGES: records[HOT_RANGES]}
            | f"{label}_Join" >> beam.CoGroupByKey()
            | f"{label}_Remove" >> beam.ParDo(_RemoveSpans(self.name, self.min_bytes, self.min_words))
            .with_output_types(DocumentBatch).with_outputs(REJECTED, NOTES, main="kept")
        )
        return CorpusOutputs(split.kept, split[REJECTED], split[NOTES])

    @property
    def hot_budget(self) -> int:
        """The most context one anchor may bring to a group: a quarter of `part_mb`."""
        return max(1, self.part_bytes // 4)


def _language_bytes(stored: Stored, min_bytes: int) -> Iterable[tuple[str, int]]:
    """Return (language, UTF-8 bytes) of the batch's documents long enough to hold a window."""
    sizes: dict[str, int] = defaultdict(int)
    for doc in batch_at(stored):
        nbytes = doc.nbytes
        if nbytes >= min_bytes:
            sizes[doc.lang] += nbytes
    return sizes.items()


def _plan(lang: str, size: int, part_bytes: int = 0) -> tuple[str, Plan]:
    """Return a language's plan: about `part_bytes` of context a group, `SAMPLE_MB` sampled.

    `part_bytes` is always passed; Beam's `MapTuple` only accepts extra arguments with defaults."""
    groups = max(1, math.ceil(size * CONTEXT_PER_BYTE / part_bytes))
    return lang, Plan(groups, max(MIN_SAMPLE_RATE, math.ceil(size / (SAMPLE_MB * MB))))


def _keys(docs: list[Document], batch_id: str) -> tuple[list[bytes], np.ndarray, np.ndarray, np.ndarray]:
    """Return the texts, (hi, lo) order keys, document keys and batch keys of documents."""
    texts = [doc.text.encode("utf-8") for doc in docs]
    orders = np.array([(doc.order >> _ORDER_LO_BITS, doc.order & (2**_ORDER_LO_BITS - 1)) for doc in docs],
                      dtype=np.uint64).reshape(-1, 2)
    ids = np.array([int(doc.id, 16) for doc in docs], dtype=np.uint64)
    return texts, orders, ids, np.full(len(docs), int(batch_id, 16), dtype=np.uint64)


def _hex(key: int) -> str:
    return f"{key:016x}"


class _Buffer:
    """Documents of one worker bundle waiting to become anchor records, per language."""

    def __init__(self, min_bytes: int) -> None:
        self._min_bytes = min_bytes
        self.parts: dict[str, list[tuple]] = defaultdict(list)  # per language, `_keys` of each batch
        self.bytes = 0

    def add(self, batch: list[Document], chosen: dict[str, list[Document]]) -> None:
        for lang, docs in chosen.items():
            part = _keys(docs, batch[0].id)
            self.parts[lang].append(part)
            self.bytes += sum(len(text) for text in part[0])

    def drain(self) -> Iterator[tuple[str, object]]:
        """Yield (language, its records) and empty the buffer."""
        parts, self.parts, self.bytes = self.parts, defaultdict(list), 0
        for lang, pieces in parts.items():
            texts = [text for piece in pieces for text in piece[0]]
            orders, ids, batch_ids = (np.concatenate([piece[i] for piece in pieces]) for i in (1, 2, 3))
            yield lang, anchor_records(texts, orders, ids, self._min_bytes, batch_ids)


class _SampleAnchors(beam.DoFn):
    """Yields ((language, shard), (anchor hashes, context bytes)) summed over the sampled documents
    of each bundle: 1 document in the language's sample rate, by a hash of its id."""

    def __init__(self, min_bytes: int) -> None:
        self._min_bytes = min_bytes

    def start_bundle(self) -> None:
        self._buffer = _Buffer(self._min_bytes)

    def process(self, stored: Stored, plans: dict[str, Plan]) -> Iterator[tuple]:
        batch = batch_at(stored)
        chosen: dict[str, list[Document]] = defaultdict(list)
        for doc in batch:
            if doc.nbytes >= self._min_bytes:
                chosen[doc.lang].append(doc)
        sampled = {}
        for lang, docs in chosen.items():
            if plans[lang].groups == 1:  # one group holds the language whatever its anchors
                continue
            rate = plans[lang].sample_rate
            keep = sampled_documents(np.array([int(doc.id, 16) for doc in docs], np.uint64), rate)
            if keep.any():
                sampled[lang] = [doc for doc, kept in zip(docs, keep.tolist(), strict=True) if kept]
        self._buffer.add(batch, sampled)
        if self._buffer.bytes >= BUFFER_MB * MB:
            yield from self._sums()

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for entry in self._sums():
            yield GlobalWindows.windowed_value(entry)

    def _sums(self) -> Iterator[tuple]:
        for lang, records in self._buffer.drain():
            # Every document here is sampled: rate 1 keeps them all (`sampled_documents` chose them).
            anchors, sizes = sample_anchor_bytes(records, 1)
            shard = anchors % np.uint64(SAMPLE_SHARDS)
            for index in np.unique(shard).tolist():
                mine = shard == index
                yield (lang, index), (anchors[mine], sizes[mine])


class _ReducingCombine(beam.CombineFn):
    """Combines array values with `reduce` (a list of values -> one value of the same kind, the
    same whatever the grouping): values wait in a list, reduced every `_REDUCE_EVERY` of them, so
    a worker holds at most that many unreduced values."""

    _REDUCE_EVERY = 64

    def create_accumulator(self) -> list:
        return []

    def add_input(self, accumulator: list, value: Any) -> list:
        accumulator.append(value)
        if len(accumulator) >= self._REDUCE_EVERY:
            accumulator = [self.reduce(accumulator)]
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[list]) -> list:
        values = [value for accumulator in accumulators for value in accumulator]
        return [self.reduce(values)] if values else []

    def extract_output(self, accumulator: list) -> Any:
        return self.reduce(accumulator)

    @staticmethod
    def reduce(values: list) -> Any:
        raise NotImplementedError


class _SumAnchorBytes(_ReducingCombine):
    """Sums (anchor hashes, bytes) arrays per key: the distinct anchors with their total bytes."""

    @staticmethod
    def reduce(values: list) -> tuple:
        if not values:
            return np.empty(0, np.uint64), np.empty(0, np.int64)
        anchors = np.concatenate([anchors for anchors, _ in values])
        sizes = np.concatenate([sizes for _, sizes in values])
        distinct, inverse = np.unique(anchors, return_inverse=True)
        return distinct, np.bincount(inverse, sizes, len(distinct)).astype(np.int64)


def _hot_of_shard(entry: tuple, plans: dict[str, Plan], budget: int) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (language, hot anchors of the shard) when the shard has any."""
    (lang, _), (anchors, sizes) = entry
    found = hot_anchors(anchors, sizes, plans[lang].sample_rate, budget)
    if len(found):
        yield lang, found


class _JoinHot(_ReducingCombine):
    """Joins a language's hot anchors from its shards into one sorted array."""

    @staticmethod
    def reduce(values: list) -> np.ndarray:
        return np.unique(np.concatenate([np.empty(0, np.uint64), *values]))


class _MakeRecords(beam.DoFn):
    """Turns each bundle's documents into anchor records: yields ((language, group), place of the
    packed records in the bundle's scratch file) for cold anchors; `hot` ((language, shard),
    columns of windows, order hi, lo, start, doc, batch): each distinct hot window of the bundle
    at its first position there; and `hot_ranges` (batch id, (document keys, first starts,
    counts)): every hot window start of the batch's documents, as one range per hot record."""

    def __init__(self, min_bytes: int, folder: str) -> None:
        self._min_bytes = min_bytes
        self._folder = folder

    def start_bundle(self) -> None:
        self._buffer = _Buffer(self._min_bytes)
        self._file = ScratchAppender(self._folder)

    def process(self, stored: Stored, plans: dict[str, Plan], hot: dict[str, np.ndarray]) -> Iterator:
        self._plans, self._hot = plans, hot  # side inputs are not passed to finish_bundle
        batch = batch_at(stored)
        chosen: dict[str, list[Document]] = defaultdict(list)
        for doc in batch:
            if doc.nbytes >= self._min_bytes:
                chosen[doc.lang].append(doc)
        self._buffer.add(batch, chosen)
        if self._buffer.bytes >= BUFFER_MB * MB:
            yield from self._records(plans, hot)

    def finish_bundle(self) -> Iterator[WindowedValue | beam.pvalue.TaggedOutput]:
        if self._buffer.parts:
            for entry in self._records(self._plans, self._hot):
                if isinstance(entry, beam.pvalue.TaggedOutput):
                    yield beam.pvalue.TaggedOutput(entry.tag, GlobalWindows.windowed_value(entry.value))
                else:
                    yield GlobalWindows.windowed_value(entry)
        self._file.close()

    def _records(self, plans: dict[str, Plan], hot: dict[str, np.ndarray]) -> Iterator:
        for lang, records in self._buffer.drain():
            cold, hot_records = split_hot(records, hot.get(lang, ()))
            for group, members in split_groups(cold, plans[lang].groups).items():
                yield (lang, group), self._file.append(pack_records(members))
            if len(hot_records):
                for entry in _by_batch(hot_records.batch, hot_records.doc, hot_records.first,
                                       hot_records.count):
                    yield beam.pvalue.TaggedOutput(HOT_RANGES, entry)
                found = first_occurrences(hot_records)
                weights = _window_weights(found.windows.shape[1])
                shard = (found.windows.astype(np.uint64) @ weights) % np.uint64(HOT_SHARDS)
                for index in np.unique(shard).tolist():
                    mine = shard == index
                    columns = (found.windows, found.hi, found.lo, found.start, found.doc, found.batch)
                    yield beam.pvalue.TaggedOutput(HOT, ((lang, index), tuple(c[mine] for c in columns)))


def _group_spans(_key: tuple[str, int], places: Iterable[Place], min_bytes: int = 0,
                 ) -> Iterator[tuple[str, SpanArrays]]:
    """Yield (batch id, its documents' spans found in this group, as arrays) for each batch with a
    duplicate window here: one element per batch and group, not per document (`min_bytes` is
    always passed, see `_plan`).

    A group's arrays are large blocks, mapped afresh: the heap this worker freed before and while
    it runs goes back to the system (`free_heap_released`), else it stays resident under them."""
    with free_heap_released():
        records = unpack_group(read_places(places))
        docs, firsts, ends = merged_spans(*duplicate_windows(records), min_bytes)
    if not len(docs):
        return
    keys, where = np.unique(records.doc, return_index=True)
    yield from _by_batch(records.batch[where][np.searchsorted(keys, docs)], docs, firsts, ends)


def _by_batch(batches: np.ndarray, *columns: np.ndarray) -> Iterator[tuple[str, tuple[np.ndarray, ...]]]:
    """Yield (batch id, the columns' rows of that batch) for each batch among `batches`."""
    order = np.argsort(batches, kind="stable")
    batches = batches[order]
    columns = tuple(column[order] for column in columns)
    bounds = np.flatnonzero(np.diff(batches)) + 1
    for begin, end in zip([0, *bounds.tolist()], [*bounds.tolist(), len(batches)], strict=True):
        yield _hex(int(batches[begin])), tuple(column[begin:end] for column in columns)


@functools.cache
def _window_weights(width: int) -> np.ndarray:
    """Return odd 64-bit weights, one per byte of a window: a window's shard is their dot product."""
    return np.random.default_rng(width).integers(0, 2**63, width, dtype=np.uint64) | np.uint64(1)


class _FirstWindows(_ReducingCombine):
    """Keeps, for each distinct hot window (W bytes), its first position in reading order: the
    least (order hi, lo, start) of the positions the bundles report, with its document and batch.
    Values and output are columns: windows (n × W bytes), hi, lo, start, doc, batch."""

    @staticmethod
    def reduce(values: list) -> tuple:
        columns = [np.concatenate([value[i] for value in values]) for i in range(6)]
        windows, hi, lo, start = columns[:4]
        by_position = np.lexsort((start, lo, hi))
        rows = np.ascontiguousarray(windows[by_position]).view(np.dtype((np.void, windows.shape[1]))).ravel()
        _, first = np.unique(rows, return_index=True)  # the first index of each row: its least position
        return tuple(column[by_position[first]] for column in columns)


def _firsts_by_batch(_key: tuple[str, int], firsts: tuple) -> Iterator[tuple[str, tuple[np.ndarray, ...]]]:
    """Yield (batch id, (document keys, window starts)) of the hot windows' first occurrences."""
    _, _, _, start, doc, batch = firsts
    return _by_batch(batch, doc, start)


def minimum_words(lang: str, override: int | None) -> int:
    """Return how many words a changed document must keep: `override`, else its language's
    `number_words` minimum (at least 1: an emptied document never stays)."""
    if override is not None:
        return override
    cutoff = load_language(lang, fallback=True).filters.number_words  # cached per language
    return max(1, cutoff.min if cutoff is not None else 0)


def too_short(text: str, lang: str, min_words: int | None) -> bool:
    """Return whether a changed text has fewer than `minimum_words` words.

    Words are ROOTS's word count for the `number_words` cutoff on whitespace languages (tokens
    split on " ", "\\n", "\\t", stripped of the language's strip characters, empties dropped),
    counted only until the minimum is reached: most changed texts reach it in a few tokens.
    """
    minimum = minimum_words(lang, min_words)
    strip = character_set(load_language(lang, fallback=True).strip_characters)
    found = 0
    for token in split_on_whitespace(text):
        if strip_characters(token, strip):
            found += 1
            if found >= minimum:
                return False
    return True


class _RemoveSpans(beam.DoFn):
    """Cuts each batch's duplicate spans; kept documents (main output, same order), documents left
    too short (`rejected`), and the notes (`notes`). A document's hot windows all count as
    duplicates but the first occurrences that name it."""

    def __init__(self, stage: str, min_bytes: int, min_words: int | None) -> None:
        self._stage = stage
        self._min_bytes = min_bytes
        self._min_words = min_words

    def process(self, joined: tuple[str, dict[str, list]]) -> Iterator[object]:
        _, parts = joined
        spans = self._spans(parts)
        for batch in unpacked(parts[BATCHES]):
            kept, rejected, tally = [], [], Tally()
            for doc in batch:
                found = spans.get(int(doc.id, 16))
                removed = character_spans(doc.text, found) if found else []
                if not removed:
                    kept.append(doc)
                    continue
                before = doc.nbytes
                doc.text = remove_spans(doc.text, removed)
                doc.meta["removed_spans"] = [[start, end] for start, end in removed]
                where = (doc.source, doc.dataset, doc.lang, "note")
                tally.add((*where, f"{self._stage}:docs_changed"))
                tally.add((*where, f"{self._stage}:bytes_removed"), before - doc.nbytes)
                if too_short(doc.text, doc.lang, self._min_words):
                    doc.reasons.append(f"{self._stage}:too_short_after_removal")
                    rejected.append(doc)
                else:
                    kept.append(doc)
            if kept:
                yield kept
            if rejected:
                yield beam.pvalue.TaggedOutput(REJECTED, rejected)
            for entry in tally.items():
                yield beam.pvalue.TaggedOutput(NOTES, entry)

    def _spans(self, parts: dict[str, list]) -> dict[int, list[ByteSpan]]:
        """Return the merged byte spans of every document of the joined batch, by document key:
        the groups' spans, and the duplicate hot windows (its hot window starts, from their
        ranges, but the first occurrences that name it)."""
        docs: list[np.ndarray] = [np.empty(0, np.uint64)]
        firsts: list[np.ndarray] = [np.empty(0, np.int64)]
        ends: list[np.ndarray] = [np.empty(0, np.int64)]
        for group_docs, group_firsts, group_ends in parts["spans"]:
            docs.append(group_docs)
            firsts.append(group_firsts)
            ends.append(group_ends)
        if parts[HOT_RANGES]:
            hot_docs, hot_starts = _hot_duplicates(parts[HOT_RANGES], parts["firsts"])
            hot_docs, hot_firsts, hot_ends = merged_spans(hot_docs, hot_starts, self._min_bytes)
            docs.append(hot_docs)
            firsts.append(hot_firsts)
            ends.append(hot_ends)
        return union_of_spans(np.concatenate(docs), np.concatenate(firsts), np.concatenate(ends))


def _hot_duplicates(ranges: list[tuple[np.ndarray, ...]], firsts: list[tuple[np.ndarray, np.ndarray]],
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Return (document key, window start) of a batch's duplicate hot windows, grouped by document
    and ascending: every start of its hot records' ranges but the hot windows' first occurrences."""
    docs, starts, counts = (np.concatenate([columns[i] for columns in ranges]) for i in range(3))
    before = np.cumsum(counts) - counts
    starts = np.repeat(starts - before, counts) + np.arange(int(counts.sum()))
    docs = np.repeat(docs, counts)
    if firsts:
        first_docs = np.concatenate([docs for docs, _ in firsts])
        first_starts = np.concatenate([starts for _, starts in firsts])
        # One key per (document, start): the document's rank among the batch's, and the start
        # (documents are under 4 GiB).
        known, ranks = np.unique(np.concatenate([docs, first_docs]), return_inverse=True)
        positions = np.concatenate([starts, first_starts]).astype(np.uint64)
        keys = (ranks.astype(np.uint64) << np.uint64(32)) | positions
        keep = ~np.isin(keys[:len(docs)], keys[len(docs):])
        docs, starts = docs[keep], starts[keep]
    order = np.lexsort((starts, docs))
    return docs[order], starts[order]
