"""Files on any Beam filesystem: the one place that decides whether a path is remote, model files
staged to local disk, and the raw scratch files steps pass to each other.

Remote paths. A path with `://` names an object in one of Beam's filesystems (`gs://`, `s3://`,
`hdfs://`); anything else is local. Every module asks `is_remote`, never the string itself.

Staging. fastText, KenLM and SentencePiece open local paths only. On a cluster a recipe names its models in
a bucket, and each worker copies the files it needs into a cache folder under the temporary
directory the first time it loads them — once per process, under a temporary name then renamed, so
concurrent processes on one machine never see a partial file. Local paths pass through unchanged.

Scratch files. A run passes large values between its steps as files in `<run>/scratch/`, and
shuffles only where they are: the shard writers' parts, the batches waiting at the dedup joins,
the exact-substring dedup's anchor records. On Beam's local runner a shuffle lives in the
runner's own process until it is read; a place in a file costs it a few dozen bytes. A worker
bundle appends its values to one file of its own (`ScratchAppender`), and the step that needs a
value reads it back by its place (`read_place`). Names may end in `.arrow`, but `FileSystems`
would still guess a compression from a name; these files are always stored as written, so they
are opened raw, on any filesystem.

Beam is imported only by the functions that touch a filesystem: deciding about a path must not
cost the seconds `import apache_beam` takes (cards, tuning and `roots score` never need it).
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from typing import BinaryIO

from roots_pipeline.errors import RootsError


def is_remote(path: str) -> bool:
    """Return whether `path` is a URL for one of Beam's filesystems rather than a local path."""
    return "://" in path


def join(folder: str, name: str) -> str:
    """Return `name` inside `folder`, for local paths and URLs alike."""
    return f"{folder.rstrip('/')}/{name}" if is_remote(folder) else os.path.join(folder, name)


def file_names(folder: str) -> list[str]:
    """Return the names of the files directly in `folder` (empty when it has none or is missing)."""
    if not is_remote(folder):
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    from apache_beam.io.filesystems import FileSystems

    pattern = join(folder, "*")
    try:
        matched = FileSystems.match([pattern])[0].metadata_list
    except Exception as exc:  # each filesystem raises its own errors; all mean "cannot list"
        raise RootsError(f"{folder}: cannot list it ({exc})") from exc
    prefix = folder.rstrip("/") + "/"
    return sorted(m.path[len(prefix):] for m in matched if "/" not in m.path[len(prefix):])


def file_exists(path: str) -> bool:
    """Return whether a local file or a remote object exists."""
    if not is_remote(path):
        return os.path.isfile(path)
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.exists(path)


@functools.cache
def local_file(path: str) -> str:
    """Return a local path holding the file at `path`, copying a remote file once per process."""
    if not is_remote(path):
        return path
    from apache_beam.io.filesystems import FileSystems

    digest = hashlib.sha256(path.encode()).hexdigest()[:16]
    cache = os.path.join(tempfile.gettempdir(), "roots-models", digest)
    target = os.path.join(cache, os.path.basename(path))
    if not os.path.isfile(target):
        os.makedirs(cache, exist_ok=True)
        partial = f"{target}.part-{os.getpid()}"
        try:
            with FileSystems.open(path, compression_type="uncompressed") as source, \
                    open(partial, "wb") as copy:
                shutil.copyfileobj(source, copy, 16 << 20)
        except Exception as exc:  # filesystem-specific errors: name the file, keep the cause
            if os.path.exists(partial):
                os.unlink(partial)
            raise RootsError(f"{path}: cannot copy it to {cache} ({exc})") from exc
        os.replace(partial, target)
    return target


_BINARY = "application/octet-stream"


def create_raw(path: str) -> BinaryIO:
    """Return a new scratch file open for writing, uncompressed."""
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.create(path, mime_type=_BINARY, compression_type=CompressionTypes.UNCOMPRESSED)


def open_raw(path: str) -> BinaryIO:
    """Return a scratch file open for reading (seekable), uncompressed."""
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.open(path, mime_type=_BINARY, compression_type=CompressionTypes.UNCOMPRESSED)


Place = tuple[str, int, int]  # a value in a scratch file: (path, offset, length in bytes)


class ScratchAppender:
    """One scratch file of a worker bundle, created on the first value: `append` writes a value
    and returns its place. `close` at the end of the bundle: a value is readable once its file is
    closed, which happens before any step that groups the places runs."""

    def __init__(self, folder: str) -> None:
        self._folder = folder
        self._handle: BinaryIO | None = None
        self._path = ""
        self._size = 0

    def append(self, data: bytes) -> Place:
        if self._handle is None:
            self._path = f"{self._folder.rstrip('/')}/{uuid.uuid4().hex}.bin"
            self._handle = create_raw(self._path)
            self._size = 0
        self._handle.write(data)
        place = (self._path, self._size, len(data))
        self._size += len(data)
        return place

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read_places(places: Iterable[Place], threads: int = 16) -> list[bytes]:
    """Return the values at `places`, in their order, read `threads` at a time: a group of values
    from many bundles' files is that many small reads, each a round trip on an object store."""
    places = list(places)
    if len(places) < 2:
        return [read_place(place) for place in places]
    with concurrent.futures.ThreadPoolExecutor(min(threads, len(places))) as pool:
        return list(pool.map(read_place, places))


def read_place(place: Place) -> bytes:
    """Return the value a `ScratchAppender` wrote at `place`."""
    path, offset, length = place
    with open_raw(path) as handle:
        handle.seek(offset)
        data = handle.read(length)
    if len(data) != length:
        raise RootsError(f"scratch file {path} ends before byte {offset + length} (a run's scratch/ folder "
                         "was changed while it ran)")
    return data
