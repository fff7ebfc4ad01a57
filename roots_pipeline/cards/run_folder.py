"""Reading a finished run folder: its ledger, its run record, and its shards one batch at a time.

Cards and fertility reports are made after a run, from what it left on disk, so that they can be
regenerated (or made for an older run) without running anything again. Only local folders are
read: the shards are memory-mapped and figures are written beside them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from roots_pipeline.errors import RootsError

DATA = "data"
REJECTS = "rejects"


@dataclass(frozen=True)
class RunFolder:
    """A finished run: `stats` is `stats.json` (the ledger), `run` is `run.json` (what it was made from)."""

    path: str
    stats: dict[str, Any]
    run: dict[str, Any]

    def shard_folder(self, kind: str, lang: str) -> str | None:
        """Return `<run>/<kind>/<lang>` when that language has shards there, else None."""
        folder = os.path.join(self.path, kind, lang)
        return folder if os.path.isfile(os.path.join(folder, "state.json")) else None


def open_run(path: str) -> RunFolder:
    """Return the run in `path`, or raise RootsError saying which file is missing or unreadable and why."""
    if "://" in path:
        raise RootsError(f"{path}: cards and fertility reports read a local run folder; copy it here first "
                         "(e.g. gsutil -m cp -r)")
    if not os.path.isdir(path):
        raise RootsError(f"{path}: no such run folder (give the folder `roots run --out` wrote)")
    stats = _read_json(os.path.join(path, "stats.json"), "the run did not finish: run it again")
    run = _read_json(os.path.join(path, "run.json"), "the run did not finish: run it again")
    if run.get("status") != "finished" or "entries" not in stats:
        raise RootsError(f"{path}/run.json: the run did not finish (status {run.get('status')!r}); "
                         "run it again with `roots run`")
    return RunFolder(path.rstrip("/") or "/", stats, run)


def _read_json(path: str, fix: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError as exc:
        raise RootsError(f"{path}: missing; {fix}") from exc
    except (OSError, ValueError) as exc:
        raise RootsError(f"{path}: cannot read ({exc}); {fix}") from exc
    if not isinstance(data, dict):
        raise RootsError(f"{path}: not a JSON object; {fix}")
    return data
