"""The Beam wrapper that runs consecutive document stages, fused, over batches of documents."""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam

from roots_pipeline.document import Document
from roots_pipeline.ledger import Tally
from roots_pipeline.stages.base import DocumentStage
from roots_pipeline.worker.progress import ProgressCounter

REJECTED = "rejected"
NOTES = "notes"


class ApplyStages(beam.DoFn):
    """Splits each batch into kept (main output) and rejected (`rejected` output) documents.

    Each stage sees the batch's documents that are still alive and in its selection, all at once,
    so a stage with a model can score them in one call. A rejected document skips the later
    stages. Events a stage records in `doc.notes` (e.g. a redaction) are summed per batch and
    come out as ledger entries on the `notes` output, under the language the document ends the
    batch with. So does every change of `doc.lang` a stage makes (`language_id`, `quality_filter`
    identifying an `und` document): `relabelled_out` under the old language and `relabelled_in`
    under the new one, where the writers then count the document's outcome (a page read as `und`,
    identified as `en` and rejected by the same stage is rejected under `en`).
    """

    def __init__(self, stages: tuple[DocumentStage, ...], progress_dir: str | None) -> None:
        self._stages = stages
        self._progress_dir = progress_dir

    def setup(self) -> None:
        for stage in self._stages:
            stage.setup()
        self._progress = [ProgressCounter(self._progress_dir, s.name) for s in self._stages]

    def process(self, batch: list[Document]) -> Iterator[object]:
        rejected = [doc for doc in batch if doc.reasons]  # rejected while read: skip every stage
        alive = [doc for doc in batch if not doc.reasons] if rejected else batch
        tally = Tally()
        for stage, progress in zip(self._stages, self._progress, strict=True):
            selected = [doc for doc in alive if stage.applies_to(doc)]
            if selected:
                langs = [doc.lang for doc in selected]
                stage.apply_batch(selected)
                for doc, lang in zip(selected, langs, strict=True):
                    if doc.lang != lang:
                        tally.relabel(doc, lang, stage.name)
            before = len(rejected)
            survivors = []
            for doc in alive:
                (rejected if doc.reasons else survivors).append(doc)
            alive = survivors
            progress.add("rejected", len(rejected) - before)
            progress.add("kept", len(alive))
        for doc in batch:
            if doc.notes:
                for note in doc.notes:
                    tally.add((doc.source, doc.dataset, doc.lang, "note", note))
                doc.notes.clear()
        if alive:
            yield alive
        if rejected:
            yield beam.pvalue.TaggedOutput(REJECTED, rejected)
        for entry in tally.items():
            yield beam.pvalue.TaggedOutput(NOTES, entry)

    def teardown(self) -> None:
        for progress in self._progress:
            progress.flush()
