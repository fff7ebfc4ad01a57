"""Files a run passes between its steps in `<run>/scratch/`, opened through Beam `FileSystems`.

Their names end in `.bin` or `.arrow`, but `FileSystems` would still guess a compression from a
name; these files are always stored as written, so they are opened raw, on any filesystem.
"""

from __future__ import annotations

from typing import BinaryIO

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

_BINARY = "application/octet-stream"


def create_raw(path: str) -> BinaryIO:
    """Return a new scratch file open for writing, uncompressed."""
    return FileSystems.create(path, mime_type=_BINARY, compression_type=CompressionTypes.UNCOMPRESSED)


def open_raw(path: str) -> BinaryIO:
    """Return a scratch file open for reading (seekable), uncompressed."""
    return FileSystems.open(path, mime_type=_BINARY, compression_type=CompressionTypes.UNCOMPRESSED)
