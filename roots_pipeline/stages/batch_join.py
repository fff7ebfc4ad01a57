"""Joining what a corpus stage found about documents back to their batches, by batch id.

The dedup stages find losers, labels or spans per document, key them by the id of the first
document of the batch, and join them with the batches by a `CoGroupByKey`, so batches keep their
documents and order. The batches themselves do not travel through that join: each worker bundle
writes its batches, one pickle each, to a scratch file of its own (`worker.fs.ScratchAppender`),
and the join carries only their places (path, offset, length), about 100 bytes a batch of up to
1,000 documents. Beam's local runner holds a shuffle in its own process until it is read: through
the join, the whole corpus used to wait there, pickled. Disk: the stage's input once, in
`<run>/scratch/`, deleted when the run ends.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator

import apache_beam as beam

from roots_pipeline.document import Document
from roots_pipeline.worker.coder import document_fields
from roots_pipeline.worker.fs import Place, ScratchAppender, read_place

BATCHES = "batches"
Stored = tuple[str, Place]  # a batch in a scratch file: (batch id, its place)


def keyed_batches(batches: beam.PCollection, label: str, scratch: str) -> beam.PCollection:
    """Return (batch id, place of the batch in a scratch file) for each non-empty batch: the
    `batches` side of the join. Files go in `<scratch>/<label>-batches/`."""
    return batches | f"{label}_BatchFiles" >> beam.ParDo(_WriteBatches(f"{scratch}/{label}-batches"))


class _WriteBatches(beam.DoFn):
    """Appends each batch, pickled, to the bundle's scratch file; yields (batch id, its place)."""

    def __init__(self, folder: str) -> None:
        self._folder = folder

    def start_bundle(self) -> None:
        self._file = ScratchAppender(self._folder)

    def process(self, batch: list[Document]) -> Iterator[tuple[str, Place]]:
        if batch:
            data = pickle.dumps([document_fields(doc) for doc in batch], pickle.HIGHEST_PROTOCOL)
            yield batch[0].id, self._file.append(data)

    def finish_bundle(self) -> None:
        self._file.close()


def stored_batches(batches: beam.PCollection, label: str, scratch: str) -> beam.PCollection:
    """Return `keyed_batches`' output past a `GroupByKey`, so that every place in it is in a closed
    file, for steps that read the batches back with `batch_at` (a group is complete only once
    every bundle that wrote its places has finished, on every runner; a `Reshuffle` is not a
    barrier on Flink). A stage that reads its input several ways stores it once: Beam's local
    runner holds, in its own process, every collection that a step with side inputs reads."""
    return (keyed_batches(batches, label, scratch)
            | f"{label}_Stored" >> beam.GroupByKey()
            | f"{label}_Places" >> beam.FlatMapTuple(_each_place))


def _each_place(batch_id: str, places: Iterable[Place]) -> Iterator[Stored]:
    return ((batch_id, place) for place in places)


def batch_at(stored: Stored) -> list[Document]:
    """Return a batch that `stored_batches` stored. Each reader calls it in its own step: a
    separate reading step would not be fused with a reader that has side inputs, and its output
    would wait in the runner."""
    return next(unpacked([stored[1]]))


def unpacked(places: Iterable[Place]) -> Iterator[list[Document]]:
    """Yield the batches of a joined group's `batches` side (one, unless a batch id repeats)."""
    for place in places:
        yield [Document(*fields) for fields in pickle.loads(read_place(place))]
