"""Writing a whole file under a temporary name and renaming it, so readers never see half of it."""

from __future__ import annotations

from apache_beam.io.filesystems import FileSystems


def write_atomically(path: str, data: bytes) -> None:
    """Write `data` to `path` (local or any Beam filesystem) via a hidden temporary sibling."""
    folder, name = path.rsplit("/", 1)
    temporary = f"{folder}/.{name}.tmp"
    with FileSystems.create(temporary) as handle:
        handle.write(data)
    FileSystems.rename([temporary], [path])
