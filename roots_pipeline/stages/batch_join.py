"""Joining what a corpus stage found about documents back to their batches, by batch id.

The dedup stages find losers, labels or spans per document, key them by the id of the first
document of the batch, and join them with the batches by a `CoGroupByKey`, so batches keep their
documents and order. The batches travel through that join packed, as one pickle each: on
Dataflow about the size a `list[Document]` coder would write, but the DirectRunner holds a
grouping's values decoded until the group is read, and a decoded document (a dataclass,
its dicts and lists) costs several times its pickle. Packed, the whole corpus waiting at a join
in the DirectRunner's process costs about its pickled size, one bytes object per batch.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator

import apache_beam as beam

from roots_pipeline.document import Document
from roots_pipeline.worker.coder import document_fields

BATCHES = "batches"


def keyed_batches(batches: beam.PCollection, label: str) -> beam.PCollection:
    """Return (batch id, packed batch) for each non-empty batch, the `batches` side of the join."""
    return (batches | f"{label}_ByBatch" >> beam.FlatMap(pack).with_output_types(tuple[str, bytes]))


def pack(batch: list[Document]) -> Iterator[tuple[str, bytes]]:
    """Yield (id of the batch's first document, the batch pickled) unless the batch is empty."""
    if batch:
        yield batch[0].id, pickle.dumps([document_fields(doc) for doc in batch], pickle.HIGHEST_PROTOCOL)


def unpacked(packed: Iterable[bytes]) -> Iterator[list[Document]]:
    """Yield the batches of a joined group's `batches` side (one, unless a batch id repeats)."""
    for data in packed:
        yield [Document(*fields) for fields in pickle.loads(data)]
