"""The one definition of a run folder's layout, and reading a finished one back.

A run folder (`out/<run>/`, local or in a bucket) holds:

| name | written by | what |
|---|---|---|
| `data/<lang>/` | `roots run` | kept documents, Arrow shards in the `datasets.save_to_disk` layout |
| `rejects/<lang>/` | `roots run` | rejected and duplicate documents, same layout, with their reasons |
| `malformed.jsonl` | `roots run` | input records that could not become documents |
| `stats.json` | `roots run` | the ledger |
| `run.json` | `roots run` | status, wall time, runner, versions, what the run was made from |
| `_SUCCESS` | `roots run` | the fingerprint of the recipe and inputs (a current run is skipped) |
| `scratch/` | `roots run` | only while the pipeline runs: files steps pass to later steps |
| `pipeline.pb`, `pipeline.json` | `roots run --dry_run` | the pipeline a runner would receive, its summary |
| `cards/`, `README.md` | `roots run`, `roots card` | data cards; `README.md`: the corpus card for the Hub |
| `fertility/` | `roots fertility` | the tokenizer and its fertility report |
| `megatron/` | `roots binarize` | Megatron datasets and `blend.json` |
| `survivors.jsonl`, `duplicates.jsonl` | `roots dedup` | survivors and what was removed, JSON lines |

Writers, readers and the commands use these names and no others. Cards and fertility reports
are made from what a finished run left on disk, so that they can be regenerated (or made for an
older run) without running anything again; only local folders are read back here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from roots_pipeline.errors import RootsError
from roots_pipeline.worker.fs import is_remote, join

DATA = "data"
REJECTS = "rejects"
MALFORMED_FILE = "malformed.jsonl"
STATS = "stats.json"
RUN = "run.json"
SUCCESS = "_SUCCESS"
SCRATCH = "scratch"
# The ledger rows as the pipeline wrote them, before `stats.json` is built from them.
LEDGER_ROWS = ".ledger-rows.json"
# What a dry run writes, and all it writes: the translated pipeline and its summary.
PIPELINE_PROTO = "pipeline.pb"
PIPELINE_SUMMARY = "pipeline.json"
DRY_RUN_FILES = (PIPELINE_PROTO, PIPELINE_SUMMARY)
CARDS = "cards"
HUB_README = "README.md"
FERTILITY = "fertility"
MEGATRON = "megatron"
BLEND = "blend.json"
SURVIVORS = "survivors.jsonl"
DUPLICATES = "duplicates.jsonl"

# What a new run of the pipeline replaces (cards, fertility and megatron are kept until redone).
PIPELINE_FILES = (MALFORMED_FILE, STATS, RUN, SUCCESS, LEDGER_ROWS, *DRY_RUN_FILES)
PIPELINE_FOLDERS = (DATA, REJECTS, SCRATCH)
# Shard folders of a finished run, in the order documents are counted: kept, then removed.
SHARD_KINDS = (DATA, REJECTS)


def run_path(run_dir: str, *parts: str) -> str:
    """Return a path inside a run folder, for local folders and bucket URLs alike."""
    path = run_dir.rstrip("/") or "/"
    for part in parts:
        path = join(path, part)
    return path


def is_run_folder(path: str) -> bool:
    """Return whether `path` is a finished run's folder (it has a ledger and `data/` shards)."""
    return os.path.isfile(os.path.join(path, STATS)) and os.path.isdir(os.path.join(path, DATA))


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
    if is_remote(path):
        raise RootsError(f"{path}: cards and fertility reports read a local run folder; copy it here first "
                         "(e.g. gsutil -m cp -r)")
    if not os.path.isdir(path):
        raise RootsError(f"{path}: no such run folder (give the folder `roots run --out` wrote)")
    stats = _read_json(os.path.join(path, STATS), "the run did not finish: run it again")
    run = _read_json(os.path.join(path, RUN), "the run did not finish: run it again")
    if run.get("status") != "finished" or "entries" not in stats:
        raise RootsError(f"{path}/{RUN}: the run did not finish (status {run.get('status')!r}); "
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
