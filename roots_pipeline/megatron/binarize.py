"""`roots binarize`: a run's Arrow shards → one Megatron dataset per language (and split), optionally
one merged dataset, and the blend weights to train on them.

Input: a run folder (`<run>/data/<lang>/`, written by `roots run`), a folder of `<lang>/` shard
folders in the same layout, or one such `<lang>/` folder. Each language folder is read in the
order its `state.json` lists the shards, record batch by record batch (memory-mapped).

Output folder (default `<run>/megatron`):

    <lang>_text_document.{bin,idx}           one per language (`text` is --text-field)
    train/…, valid/…                         instead, with --valid-fraction
    [train/|valid/]merged_text_document.*    --merge: every language, in language order
    data_path.txt | train/, valid/data_path.txt    Megatron's --data-path value (see blend.py)
    blend.json                               counts, weights, data paths (schema in blend.py)
    done/<lang>.json, done/merged.json       completion records: fingerprint and counts

Split: a document goes to `valid` when the first 8 bytes of BLAKE2b(its id), read as a number in
[0, 1), fall below the fraction: the same on every run and machine, independent of shard layout
and order, and a document stays in its split when the corpus grows. BLOOM held out 5 % (0.05).

Speed and memory: documents are encoded in batches of at most 2,048 documents or 8 MiB of text
(a longer document alone) by the tokenizer's Rust thread pool on every core; one batch and its
tokens are all that is held, and the writer keeps nothing per document (see indexed.py).

Re-running: a language is skipped when `done/<lang>.json` holds the fingerprint of its inputs
and options (tokenizer file hash, EOD id, text field, valid fraction, dtype, and each shard's
name, size and modification time) and its files are there with the recorded sizes. --alpha only
changes weights, so changing it rewrites `blend.json` and nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from roots_pipeline.errors import RootsError
from roots_pipeline.megatron.blend import (
    LanguageCounts,
    SplitCounts,
    blend_report,
    check_alpha,
    write_blend,
)
from roots_pipeline.megatron.indexed import HEADER, IndexedDatasetWriter, bin_path, idx_path
from roots_pipeline.megatron.tokenizer import LoadedTokenizer, encode_documents
from roots_pipeline.output.atomic import write_atomically
from roots_pipeline.output.run_folder import DATA, MEGATRON
from roots_pipeline.output.shard_reader import shard_paths
from roots_pipeline.worker.progress import write_status_line

FORMAT = "roots-pipeline/megatron/1"  # part of every fingerprint: bump when output bytes change
MERGED = "merged"
BATCH_DOCS = 2048
BATCH_BYTES = 8 * 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class BinarizeOptions:
    """What `roots binarize` does besides which tokenizer it uses."""

    text_field: str = "text"
    valid_fraction: float = 0.0
    alpha: float = 1.0
    merge: bool = False
    languages: tuple[str, ...] = ()  # empty: every language found
    force: bool = False

    @property
    def splits(self) -> tuple[str, ...]:
        return ("train", "valid") if self.valid_fraction else ("all",)

    def check(self) -> None:
        """Raise RootsError for an option value out of range."""
        if not (math.isfinite(self.valid_fraction) and 0.0 <= self.valid_fraction < 1.0):
            raise RootsError(f"--valid-fraction {self.valid_fraction}: must be at least 0 and below 1 "
                             "(BLOOM held out 0.05)")
        check_alpha(self.alpha)
        if not _NAME.fullmatch(self.text_field):
            raise RootsError(f"--text-field {self.text_field!r}: use letters, digits, _ and - (it names the "
                             "output files)")


@dataclass
class BinarizeResult:
    """What a run of the binarizer wrote, skipped and counted; `report` is blend.json's content."""

    out: str
    report: dict[str, Any]
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0


def binarize(input_path: str, out: str | None, tokenizer: LoadedTokenizer, options: BinarizeOptions,
             show_progress: bool = True) -> BinarizeResult:
    """Binarize every (selected) language of `input_path` into `out`; return what was done."""
    started = time.monotonic()
    options.check()
    folders, default_out = find_languages(input_path, options.languages)
    out = out or default_out
    if out is None:
        raise RootsError(f"{input_path}: not a run folder (no data/ inside): give --out DIR for the datasets")
    if re.search(r"\s", out):
        raise RootsError(f"--out {out!r}: Megatron's --data-path splits on spaces; choose a folder "
                         "without them")
    out = os.path.normpath(out)
    for folder in (out, os.path.join(out, "done"),
                   *(os.path.join(out, split) for split in options.splits if split != "all")):
        os.makedirs(folder, exist_ok=True)
    result = BinarizeResult(out, {})
    progress = _Progress(show_progress)
    languages: dict[str, LanguageCounts] = {}
    fingerprints: dict[str, str] = {}
    for lang, folder in folders:
        shards = shard_paths(folder)
        fingerprint = _fingerprint({"format": FORMAT, "tokenizer": tokenizer.sha256,
                                    "eod_id": tokenizer.eod_id, "dtype": tokenizer.dtype.name,
                                    "text_field": options.text_field,
                                    "valid_fraction": options.valid_fraction, "shards": _stat(shards)})
        counts = None if options.force else _current(out, lang, fingerprint, tokenizer.dtype.itemsize)
        if counts is None:
            counts = _binarize_language(lang, shards, out, tokenizer, options, progress)
            _write_done(out, lang, fingerprint, counts.to_dict())
            result.written.append(lang)
        else:
            result.skipped.append(lang)
        languages[lang] = counts
        fingerprints[lang] = fingerprint
    merged = _merge(out, languages, fingerprints, tokenizer, options, result) if options.merge else None
    progress.close()
    tokenizer_info = {"path": tokenizer.path, "sha256": tokenizer.sha256, "vocab_size": tokenizer.vocab_size,
                      "eod_token": tokenizer.eod_token, "eod_id": tokenizer.eod_id}
    result.report = blend_report(input_path=input_path, out=out, tokenizer=tokenizer_info,
                                 dtype=tokenizer.dtype.name, text_field=options.text_field,
                                 valid_fraction=options.valid_fraction, alpha=options.alpha,
                                 splits=options.splits, languages=languages, merged=merged)
    write_blend(out, result.report)
    result.wall_seconds = time.monotonic() - started
    return result


def find_languages(input_path: str, selected: tuple[str, ...]) -> tuple[list[tuple[str, str]], str | None]:
    """Return the (language, shard folder) pairs to binarize, and the default output folder.

    A folder name becomes part of output file names, so it must look like a language code.
    """
    if not os.path.isdir(input_path):
        raise RootsError(f"{input_path}: no such folder; give a run folder (out/<run>) or a folder of "
                         "<lang>/ shard folders")
    default_out = None
    if os.path.isfile(os.path.join(input_path, "state.json")):
        found = {os.path.basename(os.path.abspath(input_path)): input_path}
    else:
        base = input_path
        if os.path.isdir(os.path.join(input_path, DATA)):
            base, default_out = os.path.join(input_path, DATA), os.path.join(input_path, MEGATRON)
        found = {name: os.path.join(base, name) for name in sorted(os.listdir(base))
                 if os.path.isfile(os.path.join(base, name, "state.json"))}
        if not found:
            raise RootsError(f"{input_path}: no shards: expected <lang>/state.json and data-*.arrow under "
                             f"{base} (a run folder's data/, as `roots run` writes it)")
    for name in found:
        if not _NAME.fullmatch(name) or name == MERGED:
            raise RootsError(f"{found[name]}: {name!r} cannot name a dataset; rename the folder to its "
                             "language code")
    if selected:
        unknown = sorted(set(selected) - set(found))
        if unknown:
            raise RootsError(f"--lang {','.join(unknown)}: not in {input_path} (found: {', '.join(found)})")
        found = {name: found[name] for name in found if name in selected}
    return list(found.items()), default_out


def in_valid_split(ids: list[str], fraction: float) -> np.ndarray:
    """Return, per document id, whether it belongs to the valid split (see the module docstring)."""
    threshold = int(fraction * 2**64)
    return np.fromiter((int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big")
                        < threshold for doc_id in ids), dtype=bool, count=len(ids))


def _dataset_prefix(split: str, name: str, text_field: str) -> str:
    """Return a dataset's path prefix relative to the output folder: `[split/]<name>_<field>_document`."""
    base = f"{name}_{text_field}_document"
    return base if split == "all" else f"{split}/{base}"


@dataclass
class TextBatch:
    """Documents to encode together: texts, ids (when splitting), UTF-8 size of each text."""

    texts: list[str]
    ids: list[str] | None
    sizes: np.ndarray


def text_batches(shards: list[str], text_field: str, with_ids: bool) -> Iterator[TextBatch]:
    """Yield the shards' documents in order, in batches of at most BATCH_DOCS documents and
    BATCH_BYTES of text (a longer document makes a batch of its own). A null text is empty."""
    texts: list[str] = []
    ids: list[str] = []
    sizes: list[np.ndarray] = []
    held = 0

    def flush() -> TextBatch:
        nonlocal texts, ids, sizes, held
        batch = TextBatch(texts, ids if with_ids else None, np.concatenate(sizes))
        texts, ids, sizes, held = [], [], [], 0
        return batch

    for path in shards:
        for record_batch in _record_batches(path, text_field, with_ids):
            column = pc.fill_null(record_batch.column(text_field), "")
            lengths = pc.binary_length(column).to_numpy()
            start = 0
            while start < len(lengths):
                cumulative = np.cumsum(lengths[start:start + BATCH_DOCS - len(texts)])
                n = int(np.searchsorted(cumulative, BATCH_BYTES - held, side="right"))
                if n == 0 and texts:  # the next document does not fit: send what is held first
                    yield flush()
                    continue
                n = max(n, 1)
                texts += column.slice(start, n).to_pylist()
                if with_ids:
                    ids += record_batch.column("id").slice(start, n).to_pylist()
                sizes.append(lengths[start:start + n])
                held += int(cumulative[n - 1])
                start += n
                if len(texts) == BATCH_DOCS or n < len(cumulative) or held >= BATCH_BYTES:
                    yield flush()
    if texts:
        yield flush()


def _record_batches(path: str, text_field: str, with_ids: bool) -> Iterator[pa.RecordBatch]:
    """Yield one shard's record batches after checking it has the columns needed."""
    try:
        with pa.memory_map(path) as source:
            reader = pa.ipc.open_stream(source)
            names = reader.schema.names
            missing = [name for name in [text_field] + (["id"] if with_ids else []) if name not in names]
            if missing:
                fix = ("choose one with --text-field" if text_field in missing
                       else "--valid-fraction splits by document id")
                raise RootsError(f"{path}: no column {', '.join(missing)} "
                                 f"(columns: {', '.join(names)}); {fix}")
            kind = reader.schema.field(text_field).type
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                raise RootsError(f"{path}: column {text_field!r} holds {kind}, not text; choose one with "
                                 "--text-field")
            for batch in reader:
                if with_ids and batch.column("id").null_count:
                    raise RootsError(f"{path}: documents without an id; --valid-fraction splits by "
                                     "document id")
                yield batch
    except (pa.ArrowInvalid, OSError) as exc:
        raise RootsError(f"{path}: not a readable Arrow stream shard ({exc})") from exc


def _binarize_language(lang: str, shards: list[str], out: str, tokenizer: LoadedTokenizer,
                       options: BinarizeOptions, progress: _Progress) -> LanguageCounts:
    with contextlib.suppress(FileNotFoundError):  # until this language is complete again, it is not done
        os.remove(_done_path(out, lang))
    counts = LanguageCounts()
    prefixes = {split: _dataset_prefix(split, lang, options.text_field) for split in options.splits}
    with contextlib.ExitStack() as stack:
        writers = {split: stack.enter_context(IndexedDatasetWriter(os.path.join(out, prefix),
                                                                   tokenizer.dtype))
                   for split, prefix in prefixes.items()}
        text_bytes = dict.fromkeys(options.splits, 0)
        for batch in text_batches(shards, options.text_field, with_ids=bool(options.valid_fraction)):
            tokens, lengths = encode_documents(tokenizer, batch.texts)
            written = lengths > 0
            counts.documents += lengths.size
            counts.empty_documents += int(lengths.size - written.sum())
            if batch.ids is None:
                writers["all"].add_documents(tokens, lengths[written])
                text_bytes["all"] += int(batch.sizes[written].sum())
            else:
                valid = in_valid_split(batch.ids, options.valid_fraction)
                for split, members in (("train", ~valid), ("valid", valid)):
                    # Tokens are selected by repeating each document's choice over its length.
                    writers[split].add_documents(tokens[np.repeat(members, lengths)],
                                                 lengths[members & written])
                    text_bytes[split] += int(batch.sizes[members & written].sum())
            progress.add(lang, lengths.size, tokens.size, int(batch.sizes.sum()))
        for split, writer in writers.items():
            prefix = os.path.join(out, prefixes[split])
            if writer.documents:
                writer.finish()
            else:  # Megatron cannot open an empty dataset: write none, and drop an older one
                _remove_dataset(prefix)
            counts.splits[split] = SplitCounts(prefixes[split] if writer.documents else None,
                                               writer.documents, writer.tokens, text_bytes[split])
    return counts


def _merge(out: str, languages: dict[str, LanguageCounts], fingerprints: dict[str, str],
           tokenizer: LoadedTokenizer, options: BinarizeOptions,
           result: BinarizeResult) -> dict[str, SplitCounts]:
    """Write each split's merged dataset: the languages' datasets concatenated, in language order."""
    fingerprint = _fingerprint({"format": FORMAT, "languages": fingerprints})
    stored = None if options.force else _current(out, MERGED, fingerprint, tokenizer.dtype.itemsize)
    if stored is not None:
        result.skipped.append(MERGED)
        return stored.splits
    with contextlib.suppress(FileNotFoundError):
        os.remove(_done_path(out, MERGED))
    merged: dict[str, SplitCounts] = {}
    for split in options.splits:
        parts = [counts.splits[split] for counts in languages.values() if counts.splits[split].prefix]
        prefix = _dataset_prefix(split, MERGED, options.text_field)
        if not parts:
            _remove_dataset(os.path.join(out, prefix))
            merged[split] = SplitCounts()
            continue
        with IndexedDatasetWriter(os.path.join(out, prefix), tokenizer.dtype) as writer:
            for part in parts:
                assert part.prefix is not None
                writer.add_dataset(os.path.join(out, part.prefix))
            writer.finish()
        merged[split] = SplitCounts(prefix, writer.documents, writer.tokens,
                                    sum(part.text_bytes for part in parts))
    _write_done(out, MERGED, fingerprint, LanguageCounts(splits=merged).to_dict())
    result.written.append(MERGED)
    return merged


def _fingerprint(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _stat(paths: list[str]) -> list[tuple[str, int, int]]:
    """Name, size and modification time of each shard: a rewritten shard changes the fingerprint."""
    stats = []
    for path in paths:
        info = os.stat(path)
        stats.append((os.path.basename(path), info.st_size, info.st_mtime_ns))
    return stats


def _done_path(out: str, name: str) -> str:
    return os.path.join(out, "done", f"{name}.json")


def _write_done(out: str, name: str, fingerprint: str, counts: dict[str, Any]) -> None:
    payload = {"fingerprint": fingerprint, "counts": counts}
    write_atomically(_done_path(out, name), (json.dumps(payload, indent=2) + "\n").encode())


def _current(out: str, name: str, fingerprint: str, itemsize: int) -> LanguageCounts | None:
    """Return the recorded counts if `name`'s outputs are complete and made from the same inputs."""
    try:
        with open(_done_path(out, name), encoding="utf-8") as handle:
            done = json.load(handle)
        if done["fingerprint"] != fingerprint:
            return None
        counts = LanguageCounts.from_dict(done["counts"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for split in counts.splits.values():
        if split.prefix is None:
            continue
        prefix = os.path.join(out, split.prefix)
        sizes = (split.tokens * itemsize, HEADER.size + 12 * split.documents + 8 * (split.documents + 1))
        for path, size in zip((bin_path(prefix), idx_path(prefix)), sizes, strict=True):
            if not os.path.isfile(path) or os.path.getsize(path) != size:
                return None
    return counts


def _remove_dataset(prefix: str) -> None:
    for path in (bin_path(prefix), idx_path(prefix)):
        if os.path.exists(path):
            os.remove(path)


class _Progress:
    """One stderr line, `[  12s] binarize fr: 1,204 docs · 301,455 tokens · 1.1 MB/s`: rewritten
    every second on a terminal, printed every 10 s otherwise (logs stay readable)."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._tty = sys.stderr.isatty()
        self._interval = 1.0 if self._tty else 10.0
        self._start = self._shown = time.monotonic()
        self._docs = self._tokens = self._bytes = 0
        self._lang = ""

    def add(self, lang: str, docs: int, tokens: int, nbytes: int) -> None:
        self._lang = lang
        self._docs += docs
        self._tokens += tokens
        self._bytes += nbytes
        if self._enabled and time.monotonic() - self._shown >= self._interval:
            self._print(final=False)

    def close(self) -> None:
        if self._enabled and self._docs:
            self._print(final=True)

    def _print(self, final: bool) -> None:
        self._shown = time.monotonic()
        elapsed = self._shown - self._start
        line = (f"[{elapsed:5.0f}s] binarize {self._lang}: {self._docs:,} docs · {self._tokens:,} tokens · "
                f"{self._bytes / 1e6 / max(elapsed, 1e-9):.1f} MB/s")
        write_status_line(line, self._tty, final)
