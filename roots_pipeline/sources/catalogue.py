"""Catalogue datasets: Hugging Face `save_to_disk` folders, Arrow/parquet/jsonl files, hub names.

A dataset is planned into splits on the driver (runs of Arrow record batches, parquet row groups,
byte ranges of jsonl) so workers read it in parallel and no worker ever holds a whole dataset.
Every column except the text (and URL) column is kept in `meta`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import zstandard
from apache_beam.io.filesystems import FileSystems

from roots_pipeline.document import Document, Malformed, document_id, reading_order
from roots_pipeline.errors import RootsError
from roots_pipeline.sources.files import (
    MB,
    DecompressionLimit,
    InputFile,
    Limits,
    iter_lines,
    match_files,
    open_decompressed,
    stream_error_reason,
)
from roots_pipeline.sources.json_line import decode_json_line
from roots_pipeline.worker.fs import is_remote

SOURCE = "catalogue"
# Splits are cut at about this many rows (Arrow, parquet) or bytes (jsonl): small enough to spread
# the demo over two workers, large enough that per-split overhead is noise on real datasets.
SPLIT_ROWS = 20_000
SPLIT_BYTES = 64 * MB
_FORMATS = {".arrow": "arrow", ".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl",
            ".jsonl.gz": "jsonl", ".jsonl.zst": "jsonl"}


@dataclass(frozen=True)
class CatalogueSplit:
    """A contiguous part of one dataset file: record batches, row groups or a byte range."""

    file: InputFile
    fmt: str
    dataset: str
    lang: str
    text_column: str
    url_column: str | None
    limits: Limits
    start: int  # first batch / row group / byte
    stop: int  # one past the last batch / row group / byte (jsonl: -1 = to the end)
    first_row: int  # row number of the split's first row, for ids (jsonl: unused)

    @property
    def source(self) -> str:
        return SOURCE

    def read(self) -> Iterator[Document | Malformed]:
        """Yield the split's documents; unreadable parts become Malformed records."""
        try:
            if self.fmt == "jsonl":
                yield from self._read_jsonl()
            else:
                for row, record in self._iter_table_rows():
                    if record is None:
                        yield self._malformed(row, "record_too_large",
                                              f"row {row}: text over {self.limits.max_record_mb:g} MB")
                    else:
                        yield self._to_document(record, row, row)
        except (OSError, pa.ArrowException, zlib.error, zstandard.ZstdError, EOFError,
                DecompressionLimit) as exc:
            limit = isinstance(exc, DecompressionLimit)
            reason = "decompression_limit" if limit else stream_error_reason(exc)
            yield self._malformed(self.start, reason, f"{type(exc).__name__}: {exc}")

    def _iter_table_rows(self) -> Iterator[tuple[int, dict[str, Any] | None]]:
        """Yield (row number, record) for the split's Arrow batches or parquet row groups.

        A row whose text is over the record limit comes as (row, None), found from the column's
        byte lengths so that it is never turned into a Python string.
        """
        row = self.first_row
        with _open_table(self.file.path) as handle:
            if self.fmt == "parquet":
                groups = list(range(self.start, self.stop))
                batches = pq.ParquetFile(handle).iter_batches(row_groups=groups, batch_size=1000)
            else:
                batches = (b for i, b in enumerate(_arrow_batches(handle)) if self.start <= i < self.stop)
            limit = self.limits.max_record_bytes
            for batch in batches:
                lengths = pc.binary_length(batch.column(self.text_column))
                if pc.any(pc.greater(lengths, limit)).as_py():
                    too_big = set(pc.indices_nonzero(pc.greater(lengths, limit)).to_pylist())
                    fine = [i for i in range(batch.num_rows) if i not in too_big]
                    records = iter(batch.take(pa.array(fine, pa.int64())).to_pylist())
                    for index in range(batch.num_rows):
                        yield row + index, None if index in too_big else next(records)
                else:
                    for index, record in enumerate(batch.to_pylist()):
                        yield row + index, record
                row += batch.num_rows

    def _read_jsonl(self) -> Iterator[Document | Malformed]:
        """Yield the records whose first byte lies in [start, stop) of an uncompressed or whole file."""
        with open_decompressed(self.file.path, self.limits) as stream:
            position = 0
            if self.start:  # only uncompressed files are cut into ranges, so seeking works
                stream.seek(self.start - 1)
                while True:  # finish the line that straddles the split's start, 1 MB at a time
                    rest = stream.readline(MB)
                    if not rest or rest.endswith(b"\n"):
                        break
                position = stream.tell()
            for _, offset, line in iter_lines(stream, self.limits.max_record_bytes):
                offset += position
                if self.stop >= 0 and offset >= self.stop:
                    return
                if line is None:
                    yield self._malformed(offset, "record_too_large",
                                          f"record at byte {offset} is over {self.limits.max_record_mb:g} MB")
                elif line.strip():
                    yield self._parse_json_line(line, offset)

    def _parse_json_line(self, line: bytes, offset: int) -> Document | Malformed:
        """Turn one JSON line into a document (its byte offset is its position)."""
        try:
            record = decode_json_line(line, first=offset == 0)
        except UnicodeDecodeError as exc:
            return self._malformed(offset, "invalid_utf8", f"byte {offset}: {exc.reason}", len(line))
        except json.JSONDecodeError as exc:
            return self._malformed(offset, "invalid_json", f"byte {offset}: {exc.msg}", len(line))
        except RecursionError:
            return self._malformed(offset, "invalid_json", f"byte {offset}: nested too deeply", len(line))
        if not isinstance(record, dict):
            return self._malformed(offset, "not_an_object", f"byte {offset}: a JSON {type(record).__name__}",
                                   len(line))
        return self._to_document(record, offset, None)

    def _to_document(self, record: dict[str, Any], position: int, row: int | None) -> Document | Malformed:
        """Build a document from one row, or a Malformed record when its text is unusable."""
        text = record.pop(self.text_column, None)
        where = f"row {row}" if row is not None else f"byte {position}"
        if not isinstance(text, str):
            return self._malformed(position, "missing_text",
                                   f"{where}: no string column {self.text_column!r}")
        if len(text) > self.limits.max_record_bytes:
            return self._malformed(position, "record_too_large",
                                   f"{where}: text over {self.limits.max_record_mb:g} MB", len(text))
        url = record.pop(self.url_column, None) if self.url_column else None
        meta = {"file": self.file.name, ("row" if row is not None else "byte"): position, **record}
        return Document(
            id=document_id(SOURCE, self.dataset, self.file.name, position),
            order=reading_order(self.file.order, position),
            text=text,
            source=SOURCE,
            dataset=self.dataset,
            lang=self.lang,
            url=url if isinstance(url, str) else None,
            meta=meta,
        )

    def _malformed(self, offset: int, reason: str, detail: str, nbytes: int = 0) -> Malformed:
        return Malformed(SOURCE, self.dataset, self.lang, self.file.name, offset, reason, detail, nbytes)


def _open_table(path: str):
    """Open an Arrow or parquet file: memory-mapped when local, so skipping batches costs nothing."""
    if not is_remote(path):
        return pa.memory_map(path)
    return FileSystems.open(path, compression_type="uncompressed")


def _arrow_batches(handle) -> Iterator[pa.RecordBatch]:
    """Iterate the record batches of an Arrow IPC file in either the stream or the file format."""
    head = handle.read(6)
    handle.seek(0)
    if head == b"ARROW1":
        reader = pa.ipc.open_file(handle)
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)
    else:
        yield from pa.ipc.open_stream(handle)


def _file_format(path: str) -> str | None:
    """Return the catalogue format of a file from its name, or None when it is not one we read."""
    for suffix, fmt in _FORMATS.items():
        if path.endswith(suffix):
            return fmt
    return None


def dataset_files(paths: list[str], hub: str | None, hub_config: str | None, split: str,
                  what: str) -> list[InputFile]:
    """Resolve a catalogue entry (save_to_disk folders, files, globs or a hub name) to data files."""
    if hub:
        return _hub_files(hub, hub_config, split, what)
    patterns: list[str] = []
    for path in paths:
        state = path.rstrip("/") + "/state.json"
        if FileSystems.exists(state):
            try:
                with FileSystems.open(state) as handle:
                    listed = [entry["filename"] for entry in json.load(handle)["_data_files"]]
            except (ValueError, KeyError, TypeError) as exc:
                raise RootsError(f"{what}: {state} is not a datasets state file ({exc!r})") from exc
            patterns += [path.rstrip("/") + "/" + name for name in listed]
        else:
            patterns.append(path)
    files = match_files(patterns, what)  # all at once, so names stay distinct across folders
    for file in files:
        if _file_format(file.path) is None:
            raise RootsError(f"{what}: {file.path} is not a dataset file "
                             f"(expected a save_to_disk folder or {', '.join(_FORMATS)})")
    return files


def _hub_files(name: str, config: str | None, split: str, what: str) -> list[InputFile]:
    """Load a hub dataset into the local `datasets` cache (online only) and return its Arrow files."""
    import datasets

    try:
        loaded = datasets.load_dataset(name, config, split=split)
    except Exception as exc:  # datasets raises many types: offline, unknown name, bad split
        raise RootsError(f"{what}: cannot load hub dataset {name!r} (split {split!r}): {exc}") from exc
    paths = [entry["filename"] for entry in loaded.cache_files]
    if not paths:
        raise RootsError(f"{what}: hub dataset {name!r} has no cache files to read in parallel")
    return match_files(paths, what)


def plan_splits(files: list[InputFile], dataset: str, lang: str, text_column: str,
                url_column: str | None, limits: Limits, what: str) -> list[CatalogueSplit]:
    """Cut the dataset files into splits, checking on the way that the text column exists."""
    splits: list[CatalogueSplit] = []
    for file in files:
        fmt = _file_format(file.path)
        assert fmt is not None
        try:
            if fmt == "jsonl":
                _check_jsonl_column(file, text_column, limits, what)
                ranges = _byte_ranges(file)
                splits += [CatalogueSplit(file, fmt, dataset, lang, text_column, url_column, limits, a, b, 0)
                           for a, b in ranges]
                continue
            with _open_table(file.path) as handle:
                schema, counts = _table_layout(handle, fmt)
        except (OSError, EOFError, pa.ArrowException, zlib.error, zstandard.ZstdError,
                DecompressionLimit) as exc:
            raise RootsError(f"{what}: cannot read {file.path}: {type(exc).__name__}: {exc}") from exc
        if text_column not in schema.names:
            raise RootsError(f"{what}.text_column: {file.path} has no column {text_column!r} "
                             f"(columns: {', '.join(schema.names)})")
        first_row, start, rows = 0, 0, 0
        for index, count in enumerate(counts):
            rows += count
            if rows >= SPLIT_ROWS or index == len(counts) - 1:
                splits.append(CatalogueSplit(file, fmt, dataset, lang, text_column, url_column, limits,
                                             start, index + 1, first_row))
                first_row += rows
                start, rows = index + 1, 0
    return splits


def _table_layout(handle, fmt: str) -> tuple[pa.Schema, list[int]]:
    """Return the schema and the row count of each record batch or row group."""
    if fmt == "parquet":
        meta = pq.ParquetFile(handle).metadata
        return meta.schema.to_arrow_schema(), [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    counts, schema = [], None
    for batch in _arrow_batches(handle):
        schema = batch.schema
        counts.append(batch.num_rows)
    if schema is None:
        handle.seek(0)
        schema = pa.ipc.open_stream(handle).schema
    return schema, counts


def _check_jsonl_column(file: InputFile, text_column: str, limits: Limits, what: str) -> None:
    """Look at the first record of a jsonl file so a wrong `text_column` fails before the run."""
    with open_decompressed(file.path, limits) as stream:
        for _, _, line in iter_lines(stream, limits.max_record_bytes):
            if line is None or not line.strip():
                continue
            if line.lstrip().startswith(b"["):
                raise RootsError(f"{what}: {file.path} holds a JSON array; convert it to JSON Lines "
                                 "(one object per line)")
            try:
                record = json.loads(line.decode("utf-8-sig"))
            except (ValueError, RecursionError):
                return  # the run counts it as malformed, with its offset
            if isinstance(record, dict) and text_column not in record:
                raise RootsError(f"{what}.text_column: {file.path} has no field {text_column!r} "
                                 f"(first record has: {', '.join(list(record)[:10])})")
            return


def _byte_ranges(file: InputFile) -> list[tuple[int, int]]:
    """Return byte ranges of an uncompressed jsonl file; a compressed file is one range."""
    if file.path.endswith((".gz", ".zst")) or file.size <= SPLIT_BYTES:
        return [(0, -1)]
    cuts = list(range(0, file.size, SPLIT_BYTES))
    return [(a, b) for a, b in zip(cuts, cuts[1:] + [-1], strict=True)]
