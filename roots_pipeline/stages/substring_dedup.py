"""ROOTS's exact-substring dedup (Lee et al.'s suffix array) as a corpus stage, per language.

The algorithm and its exact semantics are in `roots_pipeline.dedup.suffix_array`: every substring
of at least `min_bytes` UTF-8 bytes that occurs more than once among a language's documents
(across datasets and sources) keeps its first occurrence, in ascending document id order, and
loses the others. ROOTS ran Lee et al.'s tool per language with a 50-byte threshold; that tool
removes every copy, this stage keeps one.

Shape of the Beam graph, so that no worker ever holds a language:

1. sizes: bytes per (language, 16-bit id prefix) — ids are hashes, so prefixes spread evenly —
   summed by a CombinePerKey; per language, consecutive prefixes are cut into parts of at most
   `part_mb` (a side input of a few part boundaries per language);
2. jobs: every document of at least `min_bytes` bytes is written, as UTF-8, to a file of its
   part in the run's scratch folder (`dedup.part_files`: one or more per worker bundle, language
   and part); each file's path goes to every job its part takes part in — the pairs (i, j) of parts,
   i < j, or the single job of a one-part language — and one GroupByKey per job gathers the
   paths of at most two parts. The job reads their texts straight into its corpus, and its
   suffix array yields the byte spans of each document's duplicate windows. Texts travel by file,
   not by shuffle, because a shuffled job arrives as one element that a worker holds several
   times over while the job runs (see `dedup.part_files`);
3. join: spans are keyed by the id of the first document of their batch and joined back to the
   batches with a CoGroupByKey, as `dedup_document` joins its losers, so batches keep their
   documents and order; a document's spans from its several jobs are merged there.

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

Memory per worker: the sizing step holds at most 65,536 (prefix, bytes) pairs per language;
writing part files holds 24 bytes per open file's text, at most 24 MB (`_FILE_DOCS`), plus
the filesystem's write buffer per open file (one file per part of each language the bundle
meets: 8 KB locally, up to 16 MiB on GCS); a job holds at most two parts, n ≤ 2 × `part_mb`
bytes of text, and needs 6 bytes of RAM per byte of text (the joined corpus, the suffix array
and a mask; the formula is in `dedup.suffix_array`) plus 64 MB, plus about 100 bytes per
document of index: 1.6 GB at the
default 128 MB parts, on top of what the worker holds live. The heap freed before and during
a job goes back to the system (`glibc_heap.free_heap_released`), as the suffix array's mapped
blocks could not reuse it. A part exceeds `part_mb` only when one id prefix does (1/65,536 of
a language's documents, e.g. one record of more than `part_mb`). The join holds one batch and
its documents' spans. Disk: the scratch folder holds each selected document's text once
(`roots run` deletes it when the run ends). Cost: k(k-1)/2 suffix arrays for a language of k
parts (one when k = 1), each part's files read by k-1 jobs: raise `part_mb` for large
languages when the workers' memory allows.
"""

from __future__ import annotations

import bisect
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue

from roots_pipeline.dedup.part_files import PartFileWriter, read_job
from roots_pipeline.dedup.suffix_array import (
    ByteSpan,
    character_spans,
    jobs_of_part,
    joined_duplicate_spans,
    merge_spans,
    plan_parts,
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
from roots_pipeline.stages.batch_join import BATCHES, keyed_batches, unpacked
from roots_pipeline.worker.coder import DocumentBatch
from roots_pipeline.worker.glibc_heap import free_heap_released

MB = 1024 * 1024
# Two parts of this size stay under 2**31 bytes, where libdivsufsort's suffix array doubles to
# 64-bit entries.
MAX_PART_MB = 1023
PREFIX_DIGITS = 4  # parts are ranges of 16-bit id prefixes
# Texts a worker's open part files may hold before they are completed: 24 bytes of index each.
_FILE_DOCS = 1 << 20


def id_prefix(doc_id: str) -> int:
    """Return the 16-bit prefix of a document id: parts are ranges of it, so they follow id order."""
    assert len(doc_id) == 16, doc_id  # document.document_id: 16 hex digits
    return int(doc_id[:PREFIX_DIGITS], 16)


@register
@dataclass(frozen=True)
class SuffixArrayDedup(CorpusStage):
    """Remove every repeat of a substring of at least `min_bytes` bytes, per language, keeping its
    first occurrence; reject changed documents left under the language's minimum of words.

    `part_mb` bounds the text one suffix array job holds (two parts, 6 bytes of RAM per byte);
    `min_words` overrides every language's `number_words` minimum.
    """

    name = "suffix_array_dedup"
    min_bytes: int = option(50, "shortest repeated substring removed, in UTF-8 bytes")
    part_mb: float = option(128.0, "text per suffix array; bounds memory (see README)")
    min_words: int | None = option(None, "words a changed document must keep (default: its language's "
                                         "number_words minimum)")

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "min_bytes", "part_mb")
        if self.part_mb > MAX_PART_MB:
            raise OptionError("part_mb", f"must be at most {MAX_PART_MB} (two parts must stay under 2 GiB "
                                         f"for 32-bit suffix arrays), got {self.part_mb}")
        if self.min_words is not None and self.min_words < 1:
            raise OptionError("min_words", f"must be at least 1 (leave it out for the language's own "
                                           f"minimum), got {self.min_words}")

    @property
    def part_bytes(self) -> int:
        return max(1, int(self.part_mb * MB))

    def expand_stage(self, batches: beam.PCollection, label: str, scratch: str) -> CorpusOutputs:
        part_firsts = (
            batches
            | f"{label}_Sizes" >> beam.FlatMap(_prefix_sizes, self.min_bytes)
            | f"{label}_SumSizes" >> beam.CombinePerKey(sum)
            | f"{label}_ByLanguage" >> beam.MapTuple(lambda key, size: (key[0], (key[1], size)))
            | f"{label}_GroupSizes" >> beam.GroupByKey()
            | f"{label}_Parts" >> beam.Map(_part_firsts, self.part_bytes)
        )
        parts = beam.pvalue.AsDict(part_firsts)
        spans = (
            batches
            | f"{label}_PartFiles" >> beam.ParDo(_WritePartFiles(self.min_bytes, f"{scratch}/{label}"), parts)
            | f"{label}_GroupJobs" >> beam.GroupByKey()
            | f"{label}_FindSpans" >> beam.FlatMap(_job_spans, self.min_bytes)
        )
        by_batch = keyed_batches(batches, label)
        split = (
            {BATCHES: by_batch, "spans": spans}
            | f"{label}_Join" >> beam.CoGroupByKey()
            | f"{label}_Remove" >> beam.ParDo(_RemoveSpans(self.name, self.min_words)).with_output_types(
                DocumentBatch).with_outputs(REJECTED, NOTES, main="kept")
        )
        return CorpusOutputs(split.kept, split[REJECTED], split[NOTES])


def _prefix_sizes(batch: list[Document], min_bytes: int) -> Iterable[tuple[tuple[str, int], int]]:
    """Return ((language, id prefix), bytes) for the batch's documents long enough to hold a window.

    Bytes count the separator a job adds after each text, so parts measure what a job holds.
    """
    sizes: Counter[tuple[str, int]] = Counter()
    for doc in batch:
        nbytes = doc.nbytes
        if nbytes >= min_bytes:
            sizes[(doc.lang, id_prefix(doc.id))] += nbytes + 1
    return sizes.items()


def _part_firsts(grouped: tuple[str, Iterable[tuple[int, int]]], budget: int) -> tuple[str, tuple[int, ...]]:
    """Return (language, the first id prefix of each part); the first part starts at prefix 0."""
    lang, sizes = grouped
    ordered = sorted(sizes)
    firsts = [ordered[index][0] for index in plan_parts([size for _, size in ordered], budget)]
    firsts[0] = 0
    return lang, tuple(firsts)


class _WritePartFiles(beam.DoFn):
    """Writes each document long enough to hold a window to its part's file (`dedup.part_files`)
    and, once a file is complete, emits ((language, i, j), path) for every job of that part.

    One file per bundle, language and part; all of a bundle's open files are completed whenever
    they hold `_FILE_DOCS` texts together, so the indexes a worker holds stay under 24 MB.
    """

    def __init__(self, min_bytes: int, folder: str) -> None:
        self._min_bytes = min_bytes
        self._folder = folder

    def start_bundle(self) -> None:
        self._files: dict[tuple[str, int], tuple[PartFileWriter, int]] = {}
        self._open_docs = 0

    def process(self, batch: list[Document], part_firsts: dict[str, tuple[int, ...]],
                ) -> Iterator[tuple[tuple[str, int, int], str]]:
        for doc in batch:
            data = doc.text.encode("utf-8")
            if len(data) < self._min_bytes:
                continue
            firsts = part_firsts[doc.lang]
            part = bisect.bisect_right(firsts, id_prefix(doc.id)) - 1
            entry = self._files.get((doc.lang, part))
            if entry is None:
                path = f"{self._folder}/{doc.lang}-{part}-{uuid.uuid4().hex}.bin"
                entry = self._files[(doc.lang, part)] = (PartFileWriter(path), len(firsts))
            entry[0].add(doc.id, batch[0].id, data)
            self._open_docs += 1
        if self._open_docs >= _FILE_DOCS:
            yield from self._complete()

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for job_file in self._complete():
            yield GlobalWindows.windowed_value(job_file)

    def _complete(self) -> Iterator[tuple[tuple[str, int, int], str]]:
        """Close every open file; yield its jobs' keys with its path."""
        files, self._files, self._open_docs = self._files, {}, 0
        for (lang, part), (writer, parts) in files.items():
            writer.close()
            for i, j in jobs_of_part(part, parts):
                yield (lang, i, j), writer.path


def _job_spans(job: tuple[tuple[str, int, int], Iterable[str]], min_bytes: int,
               ) -> Iterator[tuple[str, tuple[str, list[ByteSpan]]]]:
    """Yield (batch id, (document id, byte spans)) for the job's documents with duplicate windows.

    The job's texts come from its parts' files straight into its corpus. The suffix array's blocks
    are mapped afresh, so the heap freed in this worker, before and while the job runs, goes back
    to the system (`free_heap_released`): else it stays resident under the job."""
    with free_heap_released():
        texts = read_job(job[1])
        found = joined_duplicate_spans(texts.corpus, texts.lengths, min_bytes)
    for index, spans in enumerate(found):
        if spans:
            yield texts.batch_id(index), (texts.doc_id(index), spans)


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
    too short (`rejected`), and the notes (`notes`)."""

    def __init__(self, stage: str, min_words: int | None) -> None:
        self._stage = stage
        self._min_words = min_words

    def process(self, joined: tuple[str, dict[str, list]]) -> Iterator[object]:
        _, parts = joined
        spans: dict[str, list[ByteSpan]] = defaultdict(list)
        for doc_id, found in parts["spans"]:
            spans[doc_id].extend(found)
        for batch in unpacked(parts[BATCHES]):
            kept, rejected, tally = [], [], Tally()
            for doc in batch:
                found = spans.get(doc.id)
                removed = character_spans(doc.text, merge_spans(found)) if found else []
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
