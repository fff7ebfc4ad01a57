"""The Beam wrapper that runs a list of document stages, fused, over batches of documents."""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam

from roots_pipeline.document import Document
from roots_pipeline.ledger import Tally
from roots_pipeline.progress import ProgressCounter
from roots_pipeline.stages.base import DocumentStage

REJECTED = "rejected"
NOTES = "notes"


class ApplyStages(beam.DoFn):
    """Splits each batch into kept (main output) and rejected (`rejected` output) documents.

    Events a stage records in `doc.notes` (e.g. a redaction) are summed per batch and come out as
    ledger entries on the `notes` output.
    """

    def __init__(self, stages: tuple[DocumentStage, ...], progress_dir: str | None) -> None:
        self._stages = stages
        self._progress_dir = progress_dir

    def setup(self) -> None:
        for stage in self._stages:
            stage.setup()
        self._progress = {s.name: ProgressCounter(self._progress_dir, s.name) for s in self._stages}

    def process(self, batch: list[Document]) -> Iterator[object]:
        kept: list[Document] = []
        rejected: list[Document] = []
        stopped_at = [0] * (len(self._stages) + 1)  # how many documents each stage rejected
        tally = Tally()
        for doc in batch:
            index = 0
            while index < len(self._stages) and not doc.reasons:
                self._stages[index].apply(doc)
                index += 1
            if doc.notes:
                for note in doc.notes:
                    tally.add((doc.source, doc.dataset, doc.lang, "note", note))
                doc.notes.clear()
            if doc.reasons:
                rejected.append(doc)
                stopped_at[index] += 1
            else:
                kept.append(doc)
        remaining = len(batch) - stopped_at[0]  # documents rejected while read skip every stage
        for index, stage in enumerate(self._stages, start=1):
            progress = self._progress[stage.name]
            progress.add("rejected", stopped_at[index])
            remaining -= stopped_at[index]
            progress.add("kept", remaining)
        if kept:
            yield kept
        if rejected:
            yield beam.pvalue.TaggedOutput(REJECTED, rejected)
        for entry in tally.items():
            yield beam.pvalue.TaggedOutput(NOTES, entry)

    def teardown(self) -> None:
        for progress in self._progress.values():
            progress.flush()
