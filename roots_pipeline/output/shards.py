"""Arrow shards per language in the `datasets.save_to_disk` layout, written deterministically.

`<folder>/<lang>/data-00000-of-00003.arrow` (Arrow IPC stream, as `datasets` writes them) plus
`state.json` and `dataset_info.json`, so `datasets.load_from_disk` reads it. `pyarrow.dataset`'s
`ipc` format only reads the IPC *file* format, which `datasets` cannot read, so `arrow_dataset()`
gives pyarrow users a `pyarrow.dataset.Dataset` over the memory-mapped shards instead.

Determinism without holding a language in one worker: the number of shards of a language is
its total text size divided by the shard size (a side input summed first), a document goes to
shard `int(id) % n`, and the parts of a shard (each in the read order of one split) are ordered
by their first id before it is written. Same input, same bytes, on any runner.

Memory per worker is bounded by about one batch of documents, whatever the shard size, and the
runner never holds the documents: each worker bundle first stashes its batches, as Arrow record
batches, in an Arrow IPC file of the run's scratch folder, and only their places go on (Beam's
local runner holds, in its own process, every collection that more than one step reads, and a
shard's size must be known before its parts are cut). The parts of each stashed batch are then
written, again one Arrow IPC file per worker bundle, and only (first id, file, position) goes
through the shuffle; the writer reads the parts of its shard one at a time and streams them out in
batches of 1,000 rows (a shuffled shard arrives as one element, which a worker holds several times
over). Each file is written under a temporary name and renamed; shards left over from an earlier
run with other counts are deleted. Scratch disk: twice the written text, deleted when the run ends.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
from apache_beam.io.filesystems import FileSystems

from roots_pipeline.document import Document
from roots_pipeline.filters import SCORES
from roots_pipeline.ledger import count_outcome
from roots_pipeline.output.atomic import write_atomically
from roots_pipeline.worker.fs import create_raw, open_raw
from roots_pipeline.worker.progress import ProgressCounter

_ROWS_PER_BATCH = 1000  # what `datasets` writes, so readers see familiar batch sizes
_OPEN_PART_FILES = 8
COUNTS = "counts"
SIZES = "sizes"
PartPlace = tuple[str, str, int]  # a shard's part: (its first id, the part file, its position there)
_DTYPES = {pa.string(): "string", pa.int64(): "int64", pa.float64(): "float64"}
_BASE_FIELDS = [
    pa.field("id", pa.string()),
    pa.field("text", pa.string()),
    pa.field("source", pa.string()),
    pa.field("dataset", pa.string()),
    pa.field("lang", pa.string()),
    pa.field("url", pa.string()),
    pa.field("meta", pa.string()),  # JSON: sources carry different metadata
    # Every score under its stable name; null where a stage did not compute it (see filters.SCORES).
    pa.field("scores", pa.struct([pa.field(name, pa.int64() if name == "number_words" else pa.float64())
                                  for name in SCORES])),
]


@functools.cache
def shard_schema(with_reasons: bool) -> pa.Schema:
    """Return the Arrow schema of data shards (or reject shards, which add `reasons`).

    The `huggingface` metadata key lets `datasets` restore the features without guessing."""
    fields = list(_BASE_FIELDS)
    if with_reasons:
        fields.append(pa.field("reasons", pa.list_(pa.string())))
    schema = pa.schema(fields)
    features = {field.name: dataset_feature(field.type) for field in schema}
    return schema.with_metadata({"huggingface": json.dumps({"info": {"features": features}})})


def dataset_feature(data_type: pa.DataType) -> dict[str, Any]:
    """Return the `datasets` feature (as `Features.to_dict()` writes it) of an Arrow type of the
    shard schema: what `datasets.Features.from_arrow_schema` gives (a test compares them), without
    importing `datasets` in every run."""
    if pa.types.is_struct(data_type):
        return {field.name: dataset_feature(field.type) for field in data_type}
    if pa.types.is_list(data_type):
        return {"feature": dataset_feature(data_type.value_type), "_type": "List"}
    return {"dtype": _DTYPES[data_type], "_type": "Value"}


def to_record_batch(batch: list[Document], with_reasons: bool) -> pa.RecordBatch:
    """Return a batch of documents as one Arrow record batch, built column by column.

    From here on documents travel as Arrow: pickling a record batch is one buffer copy, where a
    list of documents costs a pickle per document at every shuffle.
    """
    columns = {
        "id": [d.id for d in batch], "text": [d.text for d in batch],
        "source": [d.source for d in batch], "dataset": [d.dataset for d in batch],
        "lang": [d.lang for d in batch], "url": [d.url for d in batch],
        "meta": [json.dumps(d.meta, ensure_ascii=False, sort_keys=True, default=str) for d in batch],
        "scores": [{name: d.scores.get(name) for name in SCORES} for d in batch],
    }
    if with_reasons:
        columns["reasons"] = [list(d.reasons) for d in batch]
    return pa.RecordBatch.from_pydict(columns, schema=shard_schema(with_reasons))


def arrow_dataset(folder: str) -> pads.Dataset:
    """Return a `pyarrow.dataset.Dataset` over one language folder's shards (memory-mapped, local)."""
    with open(f"{folder}/state.json", encoding="utf-8") as handle:
        names = [entry["filename"] for entry in json.load(handle)["_data_files"]]
    tables = [pa.ipc.open_stream(pa.memory_map(f"{folder}/{name}")).read_all() for name in names]
    return pads.dataset(tables)


def shard_name(index: int, count: int) -> str:
    return f"data-{index:05d}-of-{count:05d}.arrow"


def _language_sizes(batch: pa.RecordBatch) -> Iterator[tuple[str, int]]:
    sizes: dict[str, int] = defaultdict(int)
    lengths = pc.utf8_length(batch.column("text")).to_pylist()
    for lang, length in zip(batch.column("lang").to_pylist(), lengths, strict=True):
        sizes[lang] += length
    return iter(sizes.items())


def _assign_shards(batch: pa.RecordBatch, sizes: dict[str, int],
                   shard_chars: int) -> Iterator[tuple[tuple[str, int, int], pa.RecordBatch]]:
    """Split a batch by (lang, shard index, shard count); the index is the id modulo the count."""
    counts = {lang: max(1, math.ceil(size / shard_chars)) for lang, size in sizes.items()}
    groups: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    ids = batch.column("id").to_pylist()
    for row, (lang, doc_id) in enumerate(zip(batch.column("lang").to_pylist(), ids, strict=True)):
        count = counts[lang]
        groups[(lang, int(doc_id, 16) % count, count)].append(row)
    if len(groups) == 1:  # the common case: a batch of one language that fits one shard
        (key,) = groups
        return iter([(key, batch)])
    return ((key, batch.take(pa.array(rows))) for key, rows in groups.items())


class _BundleFile:
    """The Arrow IPC file of a worker bundle in `folder`, created on the first batch: `write`
    returns the batch's (file, position); `close` at the end of the bundle."""

    def __init__(self, folder: str, with_reasons: bool) -> None:
        self._folder = folder
        self._with_reasons = with_reasons
        self._file: tuple[str, Any, pa.ipc.RecordBatchFileWriter] | None = None
        self._written = 0

    def write(self, batch: pa.RecordBatch) -> tuple[str, int]:
        if self._file is None:
            path = f"{self._folder}/{uuid.uuid4().hex}.arrow"
            sink = create_raw(path)
            self._file = path, sink, pa.ipc.new_file(sink, shard_schema(self._with_reasons))
        path, _, writer = self._file
        writer.write_batch(batch)
        self._written += 1
        return path, self._written - 1

    def close(self) -> None:
        if self._file is not None:
            _, sink, writer = self._file
            writer.close()
            sink.close()


class _Stash(beam.DoFn):
    """Turns each batch of documents into an Arrow record batch; yields its ledger counts (tagged
    COUNTS) and, when writing, its text size per language (tagged SIZES) and its place in the
    bundle's stash file."""

    def __init__(self, folder: str, outcome: str, write: bool) -> None:
        self._folder = folder
        self._outcome = outcome
        self._with_reasons = outcome == "rejected"
        self._write = write

    def start_bundle(self) -> None:
        self._file = _BundleFile(self._folder, self._with_reasons)

    def process(self, documents: list[Document]) -> Iterator[Any]:
        batch = to_record_batch(documents, self._with_reasons)
        for entry in count_outcome(batch, self._outcome):
            yield beam.pvalue.TaggedOutput(COUNTS, entry)
        if self._write and batch.num_rows:
            for entry in _language_sizes(batch):
                yield beam.pvalue.TaggedOutput(SIZES, entry)
            yield self._file.write(batch)

    def finish_bundle(self) -> None:
        self._file.close()


class _WriteShardParts(beam.DoFn):
    """Cuts a stashed batch into its (language, shard) parts and writes each as a record batch of
    the bundle's Arrow IPC file; emits ((language, index, count), (first id, file, position)) for
    the shard's writer."""

    def __init__(self, folder: str, with_reasons: bool) -> None:
        self._folder = folder
        self._with_reasons = with_reasons

    def start_bundle(self) -> None:
        self._file = _BundleFile(self._folder, self._with_reasons)
        self._readers = _PartReaders(max_open=2)  # a bundle's stashed batches come file by file

    def process(self, stashed: tuple[str, int], sizes: dict[str, int], shard_chars: int,
                ) -> Iterator[tuple[tuple[str, int, int], PartPlace]]:
        batch = self._readers.batch(*stashed)
        for key, part in _assign_shards(batch, sizes, shard_chars):
            if part.num_rows:
                yield key, (part.column("id")[0].as_py(), *self._file.write(part))

    def finish_bundle(self) -> None:
        try:
            self._file.close()
        finally:
            self._readers.close()


class _PartReaders:
    """Record batches of stash and part files, with at most `max_open` files open at once.

    A shard's parts come from every bundle that wrote one, in id order, so they hop between
    files; each open file costs a descriptor and its filesystem's read buffer (16 MiB on GCS), so
    the least recently used one is closed (reopening reads its footer again)."""

    def __init__(self, max_open: int = _OPEN_PART_FILES) -> None:
        self._max_open = max_open
        self._open: OrderedDict[str, tuple[Any, pa.ipc.RecordBatchFileReader]] = OrderedDict()

    def __enter__(self) -> _PartReaders:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1][0].close()

    def batch(self, path: str, position: int) -> pa.RecordBatch:
        if path in self._open:
            self._open.move_to_end(path)
        else:
            if len(self._open) >= self._max_open:
                self._open.popitem(last=False)[1][0].close()
            source = open_raw(path)
            self._open[path] = source, pa.ipc.open_file(pa.PythonFile(source, mode="r"))
        return self._open[path][1].get_batch(position)


class _WriteShard(beam.DoFn):
    """Writes one shard: its parts in id order, read one at a time from the part files, as an
    Arrow stream under a temporary name, then renamed."""

    def __init__(self, folder: str, with_reasons: bool, stage: str, progress_dir: str | None) -> None:
        self._folder = folder
        self._with_reasons = with_reasons
        self._stage = stage
        self._progress_dir = progress_dir

    def setup(self) -> None:
        self._progress = ProgressCounter(self._progress_dir, self._stage)

    def process(self, element: tuple[tuple[str, int, int], Iterable[PartPlace]]) -> Iterator[tuple]:
        (lang, index, count), parts = element
        schema = shard_schema(self._with_reasons)
        name = shard_name(index, count)
        final = f"{self._folder}/{lang}/{name}"
        temporary = f"{self._folder}/{lang}/.{name}.tmp"
        rows = 0
        with (_PartReaders() as readers, FileSystems.create(temporary) as handle,
              pa.ipc.new_stream(handle, schema) as writer):
            # A part's rows come in read order from one split, so ordering the parts by their
            # first id gives the same file on every run without moving any text.
            for _, path, position in sorted(parts):
                part = readers.batch(path, position)
                rows += part.num_rows
                for chunk in pa.Table.from_batches([part]).to_batches(max_chunksize=_ROWS_PER_BATCH):
                    writer.write_batch(chunk)
        FileSystems.rename([temporary], [final])
        self._progress.add("docs", rows)
        yield lang, (name, rows)

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
    features = json.loads(shard_schema(with_reasons).metadata[b"huggingface"])["info"]["features"]
    info = {"citation": "", "description": f"roots-pipeline output, language {lang}",
            "features": features, "homepage": "", "license": ""}
    for name, payload in (("state.json", state), ("dataset_info.json", info)):
        write_atomically(f"{base}/{name}", (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode())
    return lang


class WriteShards(beam.PTransform):
    """Write batches of documents (one collection, or a tuple of them) as per-language shards;
    outputs ledger counts for `outcome`.

    `scratch` is a folder for the stashed batches (`stash/`) and the shard parts (`parts/`), one
    file per worker bundle each, which the run deletes. With `write=False` nothing is written and
    only the counts come out.
    """

    def __init__(self, folder: str, outcome: str, shard_mb: float, progress_dir: str | None, scratch: str,
                 write: bool = True) -> None:
        super().__init__()
        self._folder = folder.rstrip("/")
        self._scratch = scratch
        self._outcome = outcome
        self._with_reasons = outcome == "rejected"
        self._shard_chars = max(1, int(shard_mb * 1024 * 1024))  # text size, counted in characters
        self._progress_dir = progress_dir
        self._write = write

    def expand(self, documents: beam.PCollection | tuple[beam.PCollection, ...]) -> beam.PCollection:
        """`documents`: batches of documents, or a tuple of such collections (stashed each on its
        own, so that the runner never holds their union)."""
        inputs = documents if isinstance(documents, tuple) else (documents,)
        stashed = [batches | f"Stash{i}" >> beam.ParDo(_Stash(f"{self._scratch}/stash", self._outcome,
                                                              self._write))
                   .with_outputs(COUNTS, SIZES, main="places")
                   for i, batches in enumerate(inputs)]
        counts = [outputs[COUNTS] for outputs in stashed] | "Counts" >> beam.Flatten()
        if not self._write:
            return counts
        sizes = ([outputs[SIZES] for outputs in stashed] | "AllSizes" >> beam.Flatten()
                 | "SumSizes" >> beam.CombinePerKey(sum))
        written = (
            [outputs.places for outputs in stashed]
            | "Places" >> beam.Flatten()
            | "PartFiles" >> beam.ParDo(_WriteShardParts(f"{self._scratch}/parts", self._with_reasons),
                                        beam.pvalue.AsDict(sizes), self._shard_chars)
            | "Group" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(_WriteShard(self._folder, self._with_reasons, f"write {self._outcome}",
                                                self._progress_dir))
        )
        _ = (written
             | "ByLanguage" >> beam.GroupByKey()
             | "Finish" >> beam.Map(_finish_language, self._folder, self._with_reasons))
        return counts
