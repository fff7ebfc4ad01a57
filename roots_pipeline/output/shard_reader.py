"""Reading a run's shards back, without Beam: what the commands that work on a finished run share.

`roots card`, `roots tune`, `roots binarize` and `roots dedup` read `data/<lang>/` and
`rejects/<lang>/` folders: the shards their `state.json` lists, in that order, one memory-mapped
record batch (about 1,000 documents) at a time, so no command holds a language in memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence

import pyarrow as pa

from roots_pipeline.errors import RootsError


def shard_paths(folder: str) -> list[str]:
    """Return the paths of a language folder's shards, in the order its `state.json` lists them."""
    state = os.path.join(folder, "state.json")
    try:
        with open(state, encoding="utf-8") as handle:
            names = [entry["filename"] for entry in json.load(handle)["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RootsError(f"{state}: not a shard index written by `roots run` ({exc}); run it again") from exc
    paths = []
    for name in names:
        if not isinstance(name, str) or os.path.basename(name) != name or name.startswith("."):
            raise RootsError(f"{state}: shard name {name!r} is not a file of this folder")
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise RootsError(f"{path}: listed in {state} but missing; run `roots run --force` again")
        paths.append(path)
    return paths


def count_documents(folder: str) -> int:
    """Return how many documents a language folder's shards hold (0 for a folder that is not there).

    Only the record batches' headers are read: the files are memory-mapped and no column is copied.
    """
    if not os.path.isdir(folder):
        return 0
    return sum(batch.num_rows for batch in shard_batches(folder, columns=()))


def shard_batches(folder: str, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
    """Yield the record batches of one language folder's shards in order (only `columns` if given).

    The files are memory-mapped, so columns not asked for are never copied.
    """
    for path in shard_paths(folder):
        try:
            for batch in pa.ipc.open_stream(pa.memory_map(path)):
                yield batch if columns is None else batch.select(list(columns))
        except (OSError, pa.ArrowInvalid) as exc:
            raise RootsError(f"{path}: cannot read the shard ({exc}); run `roots run --force` again") from exc
