"""ROOTS's exact document dedups, `dedup_document` and `dedup_document_on_url`, as corpus stages.

Documents with the same key in the same dataset (ROOTS deduplicated each dataset on its own) are
copies; one survives and the others are rejected as `<stage>:duplicate`, which the ledger counts
as duplicates, with the survivor's id in `meta["duplicate_of"]`. As ROOTS did (it emptied the
later copies for `filter_remove_empty_docs`), the first copy in reading order survives
(`Document.order`: sources in recipe order, files by path, records by position), the same on
every run and runner.

The shape is C4's URL dedup: small (key, id) pairs are grouped by key to pick the losers, and the
losers are joined back to their batches by the batch's first document id, so batches keep their
documents and order and no dataset is gathered anywhere. Memory per worker: the (order, id,
batch id) triples of one group of copies, then one batch with the list of its losers.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import apache_beam as beam

from roots_pipeline.cleaning.dedup_keys import document_key, url_key
from roots_pipeline.document import Document
from roots_pipeline.stages.apply import NOTES, REJECTED
from roots_pipeline.stages.base import CorpusOutputs, CorpusStage, register
from roots_pipeline.stages.batch_join import BATCHES, keyed_batches, unpacked
from roots_pipeline.worker.coder import DocumentBatch

Member = tuple[int, str, str]  # (reading order, document id, id of the first document of its batch)


@dataclass(frozen=True)
class _ExactDedup(CorpusStage):
    """Keep one document per (dataset, `dedup_key`); documents whose key is None always pass."""

    @abstractmethod
    def dedup_key(self, doc: Document) -> str | bytes | None:
        """Return what makes two documents of a dataset copies of each other."""

    def expand_stage(self, batches: beam.PCollection, label: str, scratch: str) -> CorpusOutputs:
        losers = (
            batches
            | f"{label}_Keys" >> beam.FlatMap(_members, self)
            | f"{label}_GroupCopies" >> beam.GroupByKey()
            | f"{label}_Losers" >> beam.FlatMap(_losers)
        )
        by_batch = keyed_batches(batches, label, scratch)
        split = (
            {BATCHES: by_batch, "losers": losers}
            | f"{label}_Join" >> beam.CoGroupByKey()
            | f"{label}_Split" >> beam.ParDo(_SplitDuplicates(self.name)).with_output_types(
                DocumentBatch).with_outputs(REJECTED, NOTES, main="kept")
        )
        # No notes: every copy removed is already a `duplicate` outcome in the ledger.
        return CorpusOutputs(split.kept, split[REJECTED], split[NOTES])


def _members(batch: list[Document], stage: _ExactDedup) -> Iterator[tuple[tuple[str, str | bytes], Member]]:
    for doc in batch:
        key = stage.dedup_key(doc)
        if key is not None:
            yield (doc.dataset, key), (doc.order, doc.id, batch[0].id)


def _losers(group: tuple[object, Iterable[Member]]) -> Iterator[tuple[str, tuple[str, str]]]:
    """Yield (batch id, (loser id, survivor id)) for every copy but the first in reading order."""
    members = list(group[1])
    if len(members) < 2:
        return
    survivor = min(members)[1]
    for _, doc_id, batch_id in members:
        if doc_id != survivor:
            yield batch_id, (doc_id, survivor)


class _SplitDuplicates(beam.DoFn):
    """Splits each batch into kept documents (main output) and duplicates (`rejected`)."""

    def __init__(self, stage: str) -> None:
        self._reason = f"{stage}:duplicate"

    def process(self, joined: tuple[str, dict[str, list]]) -> Iterator[object]:
        _, parts = joined
        survivors = dict(parts["losers"])
        for batch in unpacked(parts[BATCHES]):
            kept, rejected = [], []
            for doc in batch:
                survivor = survivors.get(doc.id)
                if survivor is None:
                    kept.append(doc)
                    continue
                doc.reasons.append(self._reason)
                doc.meta["duplicate_of"] = survivor
                rejected.append(doc)
            if kept:
                yield kept
            if rejected:
                yield beam.pvalue.TaggedOutput(REJECTED, rejected)


@register
@dataclass(frozen=True)
class DedupDocument(_ExactDedup):
    """ROOTS `dedup_document`: copies share the md5 of their text without whitespace, digits and
    ASCII punctuation (`cleaning.dedup_keys.document_key`). As in ROOTS, texts that are nothing
    but those characters all share one key."""

    name = "dedup_document"

    def dedup_key(self, doc: Document) -> bytes:
        return document_key(doc.text)


@register
@dataclass(frozen=True)
class DedupDocumentOnUrl(_ExactDedup):
    """ROOTS `dedup_document_on_url`: copies share their URL up to the first "?". Documents
    without a URL pass. (ROOTS's two site-specific URL normalisers are not reproduced.)"""

    name = "dedup_document_on_url"

    def dedup_key(self, doc: Document) -> str | None:
        return url_key(doc.url) if doc.url else None
