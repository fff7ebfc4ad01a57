"""Finding input files and reading them with bounded decompression and bounded record size.

Every read goes through Beam's `FileSystems`, so `gs://` and `s3://` paths work like local ones.
Limits exist because inputs are untrusted: a gzip bomb or a 2 GB "line" must cost a count in the
ledger, not a worker's memory.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import zstandard
from apache_beam.io.filesystems import FileSystems

from roots_pipeline.errors import RootsError, require_positive
from roots_pipeline.worker.fs import is_remote

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on untrusted input; each one that trips is counted in the ledger."""

    max_record_mb: float = 16.0
    max_decompression_ratio: float = 100.0
    decompression_check_mb: float = 64.0
    max_html_mb: float = 4.0

    def __post_init__(self) -> None:
        require_positive(self, "max_record_mb", "max_decompression_ratio", "decompression_check_mb",
                         "max_html_mb")

    @property
    def max_record_bytes(self) -> int:
        """The largest JSON line, Arrow row text or WARC record accepted, in bytes."""
        return int(self.max_record_mb * MB)


@dataclass(frozen=True)
class InputFile:
    """A matched input file: its full path and the name used in ids and messages."""

    path: str
    name: str
    size: int
    mtime: float = 0.0
    order: int = 0  # the file's place in reading order (`document.file_order`), set when planned


class DecompressionLimit(Exception):
    """The decompressed stream outgrew the allowed ratio to its compressed size."""


def _base_folder(pattern: str) -> str:
    """Return the folder part of a path or glob up to its first wildcard, with a trailing slash."""
    wildcard = re.search(r"[*?\[]", pattern)
    head = pattern[: wildcard.start()] if wildcard else pattern
    return head.rsplit("/", 1)[0] + "/" if "/" in head else ""


def match_files(patterns: list[str], what: str, suffixes: tuple[str, ...] = ()) -> list[InputFile]:
    """Expand paths and globs into files; a pattern that matches nothing is the user's error.

    Files are named relative to the deepest folder common to all patterns, which keeps ids
    stable when the data moves to another disk or bucket and distinct when two folders hold
    files of the same name. With `suffixes`, every file must end with one of them.
    """
    bases = [_base_folder(p) for p in patterns]
    base = os.path.commonpath(bases) + "/" if len(set(bases)) > 1 and all(bases) else (bases or [""])[0]
    found: dict[str, InputFile] = {}
    for pattern in patterns:
        try:
            results = FileSystems.match([pattern])[0].metadata_list
        except Exception as exc:  # Beam wraps every cause in BeamIOError
            raise RootsError(f"{what}: cannot list {pattern!r}: {exc}") from exc
        if not results:
            raise RootsError(f"{what}: no file matches {pattern!r}")
        for meta in results:
            path = meta.path
            if not is_remote(path) and os.path.isdir(path):
                raise RootsError(f"{what}: {path} is a folder; name its files, e.g. {path.rstrip('/')}/*")
            if suffixes and not path.endswith(suffixes):
                raise RootsError(f"{what}: {path} is not a {' / '.join(suffixes)} file")
            if path.startswith(base):
                name = path[len(base):]
            else:  # local matches come back absolute
                name = os.path.relpath(path, os.path.abspath(base or "."))
            found.setdefault(path, InputFile(path, name, meta.size_in_bytes,
                                             getattr(meta, "last_updated_in_seconds", 0.0)))
    files = sorted(found.values(), key=lambda f: f.path)
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        twin = next(n for n in names if names.count(n) > 1)
        raise RootsError(f"{what}: two inputs are both named {twin!r} relative to {base or '.'}; "
                         "list them in separate sources with distinct `dataset` names")
    return files


class _CountingReader(io.RawIOBase):
    """Counts the compressed bytes consumed, so decompressed output can be compared with it."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.consumed += len(data)
        return len(data)

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()
        super().close()


class _BoundedStream(io.RawIOBase):
    """A decompressed stream that raises DecompressionLimit when it expands beyond the ratio."""

    def __init__(self, inner: BinaryIO, counter: _CountingReader, limits: Limits) -> None:
        self._inner = inner
        self._counter = counter
        self._ratio = limits.max_decompression_ratio
        self._check_after = int(limits.decompression_check_mb * MB)
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        # read1, not read: read(n) insists on n bytes, so a truncated stream would raise before
        # handing over the complete lines that precede the damage.
        data = self._inner.read1(len(buffer))
        buffer[: len(data)] = data
        self.produced += len(data)
        if self.produced > self._check_after and self.produced > self._ratio * max(self._counter.consumed, 1):
            raise DecompressionLimit(
                f"decompressed {self.produced // MB} MB from {self._counter.consumed // 1024} KB "
                f"(ratio above {self._ratio:g})"
            )
        return len(data)

    def close(self) -> None:
        self._inner.close()
        self._counter.close()  # GzipFile does not close the file object it was given
        super().close()


class _ZstdStream(io.RawIOBase):
    """Zstandard frames decoded in small steps, raising EOFError when the input stops mid-frame.

    zstandard's own stream_reader ends silently on a truncated file; feeding 4 KB at a time
    also bounds what one step can expand to.
    """

    _STEP = 512  # a 512-byte step of a hostile frame expands to a few MB at most

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._decoder = zstandard.ZstdDecompressor().decompressobj()
        self._pending = memoryview(b"")
        self._fed = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = self._raw.read(self._STEP)
            if not chunk:
                if self._fed and not self._decoder.eof:
                    raise EOFError("zstd stream ended inside a frame")
                return 0
            output = self._decode(chunk)
            self._pending = memoryview(output)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _decode(self, chunk: bytes) -> bytes:
        """Decode a chunk, starting a new frame decoder whenever one frame ends inside it."""
        parts = []
        while chunk:
            if self._decoder.eof:
                self._decoder = zstandard.ZstdDecompressor().decompressobj()
            self._fed = True
            parts.append(self._decoder.decompress(chunk))
            chunk = self._decoder.unused_data if self._decoder.eof else b""
        return b"".join(parts)

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_decompressed(path: str, limits: Limits) -> io.BufferedReader:
    """Open a file for reading, decompressing `.gz` and `.zst` by name, with the ratio bound."""
    counter = _CountingReader(FileSystems.open(path, compression_type="uncompressed"))
    if path.endswith(".gz"):
        inner: BinaryIO = gzip.GzipFile(fileobj=io.BufferedReader(counter, 1 * MB), mode="rb")
    elif path.endswith(".zst"):
        inner = io.BufferedReader(_ZstdStream(counter), 1 * MB)
    else:
        return io.BufferedReader(counter, 1 * MB)
    return io.BufferedReader(_BoundedStream(inner, counter, limits), 1 * MB)


def iter_lines(stream: io.BufferedReader, max_bytes: int) -> Iterator[tuple[int, int, bytes | None]]:
    """Yield (line number, byte offset, line) with at most `max_bytes` held in memory per line.

    An over-long line is yielded as None (after skipping to its end) so the caller can count it
    without ever materialising it. Line numbers start at 1; offsets are in decompressed bytes.
    """
    offset = 0
    number = 0
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        number += 1
        start = offset
        offset += len(line)
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while True:
                rest = stream.readline(MB)
                offset += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, start, None
            continue
        yield number, start, line


def stream_error_reason(exc: BaseException) -> str:
    """Name the ledger reason for an error raised while reading a (compressed) file."""
    if isinstance(exc, EOFError):
        return "truncated_file"
    if isinstance(exc, (gzip.BadGzipFile, zlib.error)) or type(exc).__name__ == "ZstdError":
        return "corrupt_compression"
    return "unreadable_file"
