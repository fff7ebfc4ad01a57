"""Arrow shards per language in the `datasets.save_to_disk` layout, written deterministically.

`<folder>/<lang>/data-00000-of-00003.arrow` (Arrow IPC stream, as `datasets` writes them) plus
`state.json` and `dataset_info.json`, so `datasets.load_from_disk` reads it. `pyarrow.dataset`'s
`ipc` format only reads the IPC *file* format, which `datasets` cannot read, so `arrow_dataset()`
gives pyarrow users a `pyarrow.dataset.Dataset` over the memory-mapped shards instead.

Determinism without holding a language in one worker: the number of shards of a language is
its total text size divided by the shard size (a side input summed first), a document goes to
shard `int(id) % n`, and each shard is sorted by id before it is written. Same input, same bytes,
on any runner. Memory per worker is bounded by one shard. Each file is written under a temporary
name and renamed; shards left over from an earlier run with other counts are deleted.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.dataset as pads
from apache_beam.io.filesystems import FileSystems

from roots_pipeline.document import Document
from roots_pipeline.ledger import count_outcome
from roots_pipeline.progress import ProgressCounter

_ROWS_PER_BATCH = 1000  # what `datasets` writes, so readers see familiar batch sizes
_BASE_FIELDS = [
    pa.field("id", pa.string()),
    pa.field("text", pa.string()),
    pa.field("source", pa.string()),
    pa.field("dataset", pa.string()),
    pa.field("lang", pa.string()),
    pa.field("url", pa.string()),
    pa.field("meta", pa.string()),  # JSON: sources carry different metadata
]


def shard_schema(with_reasons: bool) -> pa.Schema:
    """Return the Arrow schema of data shards (or reject shards, which add `reasons`)."""
    import datasets

    fields = list(_BASE_FIELDS)
    if with_reasons:
        fields.append(pa.field("reasons", pa.list_(pa.string())))
    schema = pa.schema(fields)
    # The `huggingface` metadata key lets `datasets` restore the features without guessing.
    return datasets.Features.from_arrow_schema(schema).arrow_schema


def to_row(doc: Document, with_reasons: bool) -> dict[str, Any]:
    """Return a document as an Arrow row."""
    row = {"id": doc.id, "text": doc.text, "source": doc.source, "dataset": doc.dataset,
           "lang": doc.lang, "url": doc.url,
           "meta": json.dumps(doc.meta, ensure_ascii=False, sort_keys=True, default=str)}
    if with_reasons:
        row["reasons"] = list(doc.reasons)
    return row


def arrow_dataset(folder: str) -> pads.Dataset:
    """Return a `pyarrow.dataset.Dataset` over one language folder's shards (memory-mapped, local)."""
    with open(f"{folder}/state.json", encoding="utf-8") as handle:
        names = [entry["filename"] for entry in json.load(handle)["_data_files"]]
    tables = [pa.ipc.open_stream(pa.memory_map(f"{folder}/{name}")).read_all() for name in names]
    return pads.dataset(tables)


def shard_name(index: int, count: int) -> str:
    return f"data-{index:05d}-of-{count:05d}.arrow"


def _language_bytes(batch: list[Document]) -> Iterator[tuple[str, int]]:
    sizes: dict[str, int] = defaultdict(int)
    for doc in batch:
        sizes[doc.lang] += len(doc.text)
    return iter(sizes.items())


def _assign_shards(batch: list[Document], sizes: dict[str, int], shard_bytes: int,
                   with_reasons: bool) -> Iterator[tuple[tuple[str, int, int], list[dict]]]:
    """Group a batch's rows by (lang, shard index, shard count)."""
    groups: dict[tuple[str, int, int], list[dict]] = defaultdict(list)
    for doc in batch:
        count = max(1, math.ceil(sizes[doc.lang] / shard_bytes))
        groups[(doc.lang, int(doc.id, 16) % count, count)].append(to_row(doc, with_reasons))
    return iter(groups.items())


class _WriteShard(beam.DoFn):
    """Writes one shard: sorted rows, Arrow stream, temporary name then rename."""

    def __init__(self, folder: str, with_reasons: bool, stage: str, progress_dir: str | None) -> None:
        self._folder = folder
        self._with_reasons = with_reasons
        self._stage = stage
        self._progress_dir = progress_dir

    def setup(self) -> None:
        self._schema = shard_schema(self._with_reasons)
        self._progress = ProgressCounter(self._progress_dir, self._stage)

    def process(self, element: tuple[tuple[str, int, int], Iterable[list[dict]]]) -> Iterator[tuple]:
        (lang, index, count), parts = element
        rows = sorted((row for part in parts for row in part), key=lambda row: row["id"])
        name = shard_name(index, count)
        final = f"{self._folder}/{lang}/{name}"
        temporary = f"{self._folder}/{lang}/.{name}.tmp"
        with FileSystems.create(temporary) as handle, pa.ipc.new_stream(handle, self._schema) as writer:
            for start in range(0, len(rows), _ROWS_PER_BATCH):
                chunk = rows[start:start + _ROWS_PER_BATCH]
                writer.write_batch(pa.RecordBatch.from_pylist(chunk, schema=self._schema))
        FileSystems.rename([temporary], [final])
        self._progress.add("docs", len(rows))
        yield lang, (name, len(rows))

    def teardown(self) -> None:
        self._progress.flush()


def _finish_language(element: tuple[str, Iterable[tuple[str, int]]], folder: str, with_reasons: bool) -> str:
    """Write `state.json` and `dataset_info.json` for one language and delete stale shards."""
    lang, shards = element
    listed = sorted(shards)
    base = f"{folder}/{lang}"
    names = {name for name, _ in listed}
    stale = [m.path for m in FileSystems.match([f"{base}/data-*.arrow"])[0].metadata_list
             if m.path.rsplit("/", 1)[-1] not in names]
    if stale:
        FileSystems.delete(stale)
    fingerprint = hashlib.sha256(json.dumps(listed).encode()).hexdigest()[:16]
    state = {"_data_files": [{"filename": name} for name, _ in listed], "_fingerprint": fingerprint,
             "_format_columns": None, "_format_kwargs": {}, "_format_type": None,
             "_output_all_columns": False, "_split": None}
    import datasets

    features = datasets.Features.from_arrow_schema(shard_schema(with_reasons))
    info = {"citation": "", "description": f"roots-pipeline output, language {lang}",
            "features": features.to_dict(), "homepage": "", "license": ""}
    for name, payload in (("state.json", state), ("dataset_info.json", info)):
        _write_atomically(f"{base}/{name}", json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return lang


def _write_atomically(path: str, text: str) -> None:
    temporary = path.rsplit("/", 1)[0] + "/." + path.rsplit("/", 1)[1] + ".tmp"
    with FileSystems.create(temporary) as handle:
        handle.write(text.encode("utf-8"))
    FileSystems.rename([temporary], [path])


class WriteShards(beam.PTransform):
    """Write batches of documents as per-language shards; outputs ledger counts for `outcome`."""

    def __init__(self, folder: str, outcome: str, shard_mb: float, progress_dir: str | None) -> None:
        super().__init__()
        self._folder = folder.rstrip("/")
        self._outcome = outcome
        self._with_reasons = outcome == "rejected"
        self._shard_bytes = max(1, int(shard_mb * 1024 * 1024))
        self._progress_dir = progress_dir

    def expand(self, batches: beam.PCollection) -> beam.PCollection:
        sizes = batches | "Sizes" >> beam.FlatMap(_language_bytes) | "SumSizes" >> beam.CombinePerKey(sum)
        written = (
            batches
            | "Assign" >> beam.FlatMap(_assign_shards, beam.pvalue.AsDict(sizes), self._shard_bytes,
                                       self._with_reasons)
            | "Group" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(_WriteShard(self._folder, self._with_reasons, f"write {self._outcome}",
                                                self._progress_dir))
        )
        _ = (written
             | "ByLanguage" >> beam.GroupByKey()
             | "Finish" >> beam.Map(_finish_language, self._folder, self._with_reasons))
        return batches | "Count" >> beam.FlatMap(count_outcome, self._outcome)
