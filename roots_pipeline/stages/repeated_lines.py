"""Corpus stages that remove lines repeated across documents: ROOTS's template dedups and the
pseudo-crawl per-domain boilerplate removal.

Both count lines over a group of documents (a dataset, or a dataset's web domain), turn the
counts into the set of line hashes to remove per group, and hand those sets to a `ParDo` over the
original batches as a side input. Batches keep their documents and order, so outputs stay
byte-identical across runs and runners; nothing is gathered per dataset, only counts per line.
Both read their input more than once, so it is stored in scratch files first and each step reads
it back (`batch_join.stored_batches`).

Notes, pre-summed per batch: `<stage>:lines_removed` (lines) and `<stage>:docs_changed`
(documents that lost at least one line); a changed document records its own count in
`meta["lines_removed"]`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass

import apache_beam as beam

from roots_pipeline.cleaning.line_hashes import (
    counted_line_hashes,
    distinct_line_hashes,
    page_hash,
    remove_lines_with_hashes,
    sample_key,
)
from roots_pipeline.document import Document
from roots_pipeline.errors import OptionError, require_positive
from roots_pipeline.ledger import Tally
from roots_pipeline.options import option
from roots_pipeline.stages.apply import NOTES, REJECTED
from roots_pipeline.stages.base import CorpusOutputs, CorpusStage, register
from roots_pipeline.stages.batch_join import Stored, batch_at, stored_batches
from roots_pipeline.worker.coder import DocumentBatch

Group = Hashable
GroupOf = Callable[[Document], Group | None]


def _dataset_of(doc: Document) -> str:
    return doc.dataset


def _domain_of(doc: Document) -> tuple[str, str] | None:
    """Return (dataset, web domain) of a pseudo-crawl page; None for a document without a domain."""
    domain = doc.meta.get("domain")
    return (doc.dataset, domain) if isinstance(domain, str) and domain else None


class _RemoveListedLines(beam.DoFn):
    """Removes from each document the lines listed for its group; rejects texts left too short.

    Main output: batches of kept documents (same order); `rejected`: batches of documents whose
    stripped text is under `min_chars` (0 = never); `notes`: ledger entries.
    """

    def __init__(self, stage: str, group_of: GroupOf, min_chars: int) -> None:
        self._stage = stage
        self._group_of = group_of
        self._min_chars = min_chars

    def process(self, stored: Stored, listed: dict[Group, set[bytes]]) -> Iterator[object]:
        kept, rejected, tally = [], [], Tally()
        for doc in batch_at(stored):
            group = self._group_of(doc)
            if group is None:
                kept.append(doc)
                continue
            hashes = listed.get(group)
            if hashes:
                text, removed = remove_lines_with_hashes(doc.text, hashes)
                if removed:
                    doc.text = text
                    doc.meta["lines_removed"] = doc.meta.get("lines_removed", 0) + removed
                    where = (doc.source, doc.dataset, doc.lang, "note")
                    tally.add((*where, f"{self._stage}:lines_removed"), removed)
                    tally.add((*where, f"{self._stage}:docs_changed"))
            if len(doc.text.strip()) < self._min_chars:
                doc.reasons.append(f"{self._stage}:under_{self._min_chars}_chars")
                rejected.append(doc)
            else:
                kept.append(doc)
        if kept:
            yield kept
        if rejected:
            yield beam.pvalue.TaggedOutput(REJECTED, rejected)
        for entry in tally.items():
            yield beam.pvalue.TaggedOutput(NOTES, entry)


def _remove_listed_lines(stored: beam.PCollection, listed: beam.PCollection, label: str, stage: str,
                         group_of: GroupOf, min_chars: int = 0) -> CorpusOutputs:
    """Apply `_RemoveListedLines` to the batches `stored_batches` stored, with `listed` ((group,
    set of line hashes)) as a side input."""
    split = stored | f"{label}_RemoveLines" >> beam.ParDo(
        _RemoveListedLines(stage, group_of, min_chars), beam.pvalue.AsDict(listed)
    ).with_output_types(DocumentBatch).with_outputs(REJECTED, NOTES, main="kept")
    return CorpusOutputs(split.kept, split[REJECTED], split[NOTES])


def _template_line_counts(stored: Stored, min_chars: int) -> Iterable[tuple[tuple[str, bytes], int]]:
    """Return ((dataset, line hash), occurrences) for the batch's lines of at least `min_chars`."""
    counts: Counter[tuple[str, bytes]] = Counter()
    for doc in batch_at(stored):
        counts.update((doc.dataset, digest) for digest in counted_line_hashes(doc.text, min_chars))
    return counts.items()


@register
@dataclass(frozen=True)
class DedupTemplateSoft(CorpusStage):
    """ROOTS `dedup_template_soft`: remove every occurrence of template lines from a dataset.

    A template line has at least `min_line_chars` characters once stripped and occurs at least
    `min_occurrences` times in its dataset (occurrences, not documents; md5 of the stripped
    line). Counting is a CombinePerKey over (dataset, line hash), so each worker holds only
    partial counts; the frequent hashes go back to every worker as a side input of about 100
    bytes per template line (ROOTS: per dataset, as here). Empty results stay in the flow for
    `filter_remove_empty_docs`, as in ROOTS.
    """

    name = "dedup_template_soft"
    min_line_chars: int = option(15, "shortest template line, stripped")
    min_occurrences: int = option(10, "occurrences that make a template")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min_line_chars < 0:
            raise OptionError("min_line_chars", f"must be 0 or more, got {self.min_line_chars}")
        if self.min_occurrences < 2:
            raise OptionError("min_occurrences", f"must be at least 2 (1 would remove every line), "
                                                 f"got {self.min_occurrences}")

    def expand_stage(self, batches: beam.PCollection, label: str, scratch: str) -> CorpusOutputs:
        stored = stored_batches(batches, label, scratch)
        templates = (
            stored
            | f"{label}_HashLines" >> beam.FlatMap(_template_line_counts, self.min_line_chars)
            | f"{label}_CountLines" >> beam.CombinePerKey(sum)
            | f"{label}_Frequent" >> beam.Filter(lambda entry, least: entry[1] >= least, self.min_occurrences)
            | f"{label}_ByDataset" >> beam.Map(lambda entry: entry[0])
            | f"{label}_Collect" >> beam.CombinePerKey(beam.combiners.ToSetCombineFn())
        )
        return _remove_listed_lines(stored, templates, label, self.name, _dataset_of)


@register
@dataclass(frozen=True)
class DedupPseudocrawlNewspapers(DedupTemplateSoft):
    """ROOTS `dedup_pseudocrawl_newspapers`: `dedup_template_soft` counting every line (even empty
    ones) and removing those seen twice or more, so no line repeats within a dataset and no empty
    line is left in a dataset that has several."""

    name = "dedup_pseudocrawl_newspapers"
    min_line_chars: int = 0
    min_occurrences: int = 2


def _sample_keys(stored: Stored) -> Iterator[tuple[Group, int]]:
    for doc in batch_at(stored):
        group = _domain_of(doc)
        if group is not None:
            yield group, sample_key(doc.id)


def _sampled_pages(stored: Stored, cutoffs: dict[Group, int],
                   ) -> Iterator[tuple[tuple, frozenset[bytes]]]:
    """Yield ((dataset, domain, page hash), distinct line hashes) for each page in its domain's sample."""
    for doc in batch_at(stored):
        group = _domain_of(doc)
        if group is not None and sample_key(doc.id) <= cutoffs[group]:
            yield (*group, page_hash(doc.text)), distinct_line_hashes(doc.text)


def _one_of_identical(copies: Iterable[frozenset[bytes]]) -> frozenset[bytes]:
    """Combine identical pages' line sets into one (they are equal, so any is the answer)."""
    return next(iter(copies))


def _line_pages(page: tuple[tuple, frozenset[bytes]]) -> Iterator[tuple[tuple, int]]:
    (dataset, domain, _), lines = page
    return (((dataset, domain, digest), 1) for digest in lines)


def _is_boilerplate(entry: tuple[tuple, int], unique_pages: dict[Group, int], min_pages: int,
                    min_page_share: float) -> bool:
    (dataset, domain, _), pages = entry
    return pages > max(min_pages, min_page_share * unique_pages[(dataset, domain)])


@register
@dataclass(frozen=True)
class RemoveDomainBoilerplate(CorpusStage):
    """ROOTS's pseudo-crawl per-seed line cleaning (DP `pseudo_crawl_seed_to_lm_dset_v2.py`).

    Per web domain (`meta["domain"]`, per dataset): take a sample of at most `sample_pages`
    pages, count on how many distinct sampled pages each line (stripped) occurs, and remove
    from every page of the domain the lines found on more than
    `max(min_pages, min_page_share × unique sampled pages)` of them; then reject pages whose
    stripped text is shorter than `min_chars` (ROOTS dropped texts of 32 characters or fewer).

    Deviations: the sample is the pages with the `sample_pages` smallest id hashes (ROOTS drew
    it at random with seed 42), deterministic without a global view of the domain; a line counts
    once per distinct page (ROOTS counted each occurrence on its distinct pages); kept lines are
    not stripped (ROOTS stripped them). Documents without a domain pass untouched; by default only
    `pseudo_crawl` documents are selected.

    Memory per worker: `sample_pages` 64-bit keys per domain in the sampling combiner, one
    page's line hashes per unique-page key, and side inputs of one number per domain plus the
    domain's boilerplate hashes (each on more than `min_pages` sampled pages, so at most the
    sampled lines divided by `min_pages`; in practice a few hundred per domain).
    """

    name = "remove_domain_boilerplate"
    sources: tuple[str, ...] = ("pseudo_crawl",)
    sample_pages: int = 10000
    min_pages: int = 10
    min_page_share: float = 0.01
    min_chars: int = 33

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "sample_pages", "min_pages")
        if not 0.0 <= self.min_page_share <= 1.0:
            raise OptionError("min_page_share", f"must be a share between 0 and 1, got {self.min_page_share}")
        if self.min_chars < 0:
            raise OptionError("min_chars", f"must be 0 or more, got {self.min_chars}")

    def expand_stage(self, batches: beam.PCollection, label: str, scratch: str) -> CorpusOutputs:
        stored = stored_batches(batches, label, scratch)
        cutoffs = (
            stored
            | f"{label}_SampleKeys" >> beam.FlatMap(_sample_keys)
            | f"{label}_Smallest" >> beam.combiners.Top.SmallestPerKey(self.sample_pages)
            | f"{label}_Cutoff" >> beam.MapTuple(lambda group, smallest: (group, max(smallest)))
        )
        unique_pages = (
            stored
            | f"{label}_Sample" >> beam.FlatMap(_sampled_pages, beam.pvalue.AsDict(cutoffs))
            | f"{label}_UniquePages" >> beam.CombinePerKey(_one_of_identical)
        )
        page_counts = (
            unique_pages
            | f"{label}_PageDomain" >> beam.MapTuple(lambda page, _: ((page[0], page[1]), 1))
            | f"{label}_CountPages" >> beam.CombinePerKey(sum)
        )
        boilerplate = (
            unique_pages
            | f"{label}_PageLines" >> beam.FlatMap(_line_pages)
            | f"{label}_CountLines" >> beam.CombinePerKey(sum)
            | f"{label}_Frequent" >> beam.Filter(_is_boilerplate, beam.pvalue.AsDict(page_counts),
                                                  self.min_pages, self.min_page_share)
            | f"{label}_ByDomain" >> beam.MapTuple(lambda key, _: ((key[0], key[1]), key[2]))
            | f"{label}_Collect" >> beam.CombinePerKey(beam.combiners.ToSetCombineFn())
        )
        return _remove_listed_lines(stored, boilerplate, label, self.name, _domain_of, self.min_chars)
