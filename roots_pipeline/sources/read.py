"""The one Beam transform that reads any source: plan splits on the driver, read them in workers.

`ReadSource` outputs batches of documents (main output), Malformed records (`malformed`) and
ledger counts (`ledger`: the `in` count of every record read, and notes), pre-summed per split.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import apache_beam as beam

from roots_pipeline.document import BatchBuilder, Document, Malformed, Note, file_order
from roots_pipeline.ledger import Tally
from roots_pipeline.sources.catalogue import dataset_files, plan_splits
from roots_pipeline.sources.files import InputFile, Limits, match_files
from roots_pipeline.sources.oscar import OscarSplit
from roots_pipeline.sources.specs import CatalogueSource, OscarSource, PseudoCrawlSource, SourceSpec
from roots_pipeline.sources.warc import WarcSplit, read_seeds
from roots_pipeline.worker.coder import DocumentBatch
from roots_pipeline.worker.progress import ProgressCounter

MALFORMED = "malformed"
LEDGER = "ledger"
SAMPLED_OUT = "sample:skipped"


OSCAR_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".json", ".json.gz", ".json.zst")
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")


def plan_source(spec: SourceSpec, limits: Limits, what: str, source_index: int) -> list[Any]:
    """Return the splits of one recipe source (files listed and checked on the driver).

    `what` names the source in errors, e.g. `pipelines/demo.yaml: sources[2]`; `source_index` is
    its place in the recipe, the first part of its documents' reading order.
    """
    if isinstance(spec, CatalogueSource):
        files = in_reading_order(dataset_files(list(spec.paths), spec.hub, spec.hub_config, spec.split, what),
                                 source_index)
        assert spec.dataset is not None  # filled in by the recipe loader
        return plan_splits(files, spec.dataset, spec.lang, spec.text_column, spec.url_column, limits, what)
    if isinstance(spec, OscarSource):
        files = in_reading_order(match_files(list(spec.paths), what, OSCAR_SUFFIXES), source_index)
        return [OscarSplit(f, spec.dataset, spec.lang, limits) for f in files]
    if isinstance(spec, PseudoCrawlSource):
        seeds = read_seeds(spec.seeds) if spec.seeds else ()
        files = in_reading_order(match_files(list(spec.paths), what, WARC_SUFFIXES), source_index)
        return [WarcSplit(f, spec.dataset, spec.lang, seeds, limits) for f in files]
    raise AssertionError(f"unknown source spec {spec!r}")


def in_reading_order(files: list[InputFile], source_index: int) -> list[InputFile]:
    """Return the source's files sorted by path, each with its place in reading order."""
    ordered = sorted(files, key=lambda file: file.path)
    return [dataclasses.replace(file, order=file_order(source_index, index))
            for index, file in enumerate(ordered)]


def is_sampled(doc_id: str, share: float) -> bool:
    """Return whether a document is in a source's sample: its id, a uniform 64-bit hash, read as
    a number in [0, 1), is below the share — the same documents on every run and runner, and a
    larger share keeps every document a smaller one kept."""
    return int(doc_id, 16) < share * 2**64


class _ReadSplit(beam.DoFn):
    """Reads one split, batching its documents and summing its ledger counts."""

    def __init__(self, progress_dir: str | None) -> None:
        self._progress_dir = progress_dir

    def setup(self) -> None:
        self._progress: dict[str, ProgressCounter] = {}

    def process(self, element: tuple[Any, float]) -> Iterator[Any]:
        split, sample = element
        progress = self._progress.get(split.source)
        if progress is None:
            progress = ProgressCounter(self._progress_dir, f"read {split.source}")
            self._progress[split.source] = progress
        tally = Tally()
        batches = BatchBuilder()
        for item in split.read():
            if isinstance(item, Document):
                if sample < 1 and not is_sampled(item.id, sample):
                    tally.add((item.source, item.dataset, item.lang, "note", SAMPLED_OUT), 1, item.nbytes)
                    continue
                tally.document(item, "in")
                batch = batches.add(item)
                if batch:
                    progress.add("docs", len(batch))
                    yield batch
            elif isinstance(item, Malformed):
                tally.malformed(item, "in")
                progress.add("malformed")
                yield beam.pvalue.TaggedOutput(MALFORMED, item)
            else:
                assert isinstance(item, Note)
                tally.note(item)
        batch = batches.flush()
        if batch:
            progress.add("docs", len(batch))
            yield batch
        for entry in tally.items():
            yield beam.pvalue.TaggedOutput(LEDGER, entry)

    def teardown(self) -> None:
        for progress in self._progress.values():
            progress.flush()


class ReadSource(beam.PTransform):
    """Read planned splits as batches of documents, with `malformed` and `ledger` side outputs.

    `splits` pairs each split with its source's `sample` share; documents outside the sample
    are not read into the run (not `in`) and are counted as the note `sample:skipped`.
    """

    def __init__(self, splits: list[tuple[Any, float]], progress_dir: str | None) -> None:
        super().__init__()
        self._splits = splits
        self._progress_dir = progress_dir

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.pvalue.DoOutputsTuple:
        return (
            pbegin
            | "Splits" >> beam.Create(self._splits, reshuffle=False)
            | "Spread" >> beam.Reshuffle()
            | "Read" >> beam.ParDo(_ReadSplit(self._progress_dir)).with_output_types(
                DocumentBatch).with_outputs(MALFORMED, LEDGER, main="docs")
        )
