"""A run's stored quality scores for one language, read back from its shards, kept and rejected alike.

Cutoffs are tuned on the documents the `quality_filter` stage saw, and only on them: a document
removed by an earlier stage never reached it, and one from a source the stage does not apply to
was never scored. Both have no `character_repetition` score, which the stage computes for every
document it sees (lang-id may also come from the `language_id` stage, so it cannot tell). A later
stage (dedup) may remove a scored document: it still counts, since the filter passed it.

Shards are memory-mapped and read with pyarrow alone (no Beam import, which takes seconds): only
the id, score and reason columns are copied, and texts are read for the few documents shown.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from roots_pipeline.errors import RootsError
from roots_pipeline.filters import SCORES
from roots_pipeline.lang.config import language_code
from roots_pipeline.ledger import RELABELLED_IN, ROW_FIELDS, documents, row_field
from roots_pipeline.output.run_folder import DATA, REJECTS, RUN, STATS
from roots_pipeline.output.shard_reader import shard_batches
from roots_pipeline.worker.fs import is_remote

STAGE = "quality_filter"
REASON_PREFIX = f"{STAGE}:"
# Computed by quality_filter for every document it sees, and by no other stage.
SEEN_BY_STAGE = "character_repetition"


@dataclass(frozen=True)
class LanguageScores:
    """The scores of one language's documents that `quality_filter` saw in a run, one row each.

    `values[name]` holds a score per document (NaN where it was not computed: no model, no word
    list). `kept` says whether the run kept the document (data/) or removed it (rejects/, by this
    filter or a later stage); `removed_in_run` whether the run's quality_filter removed it.
    `unscored` counts the language's documents the stage never saw; `recipe` is the recipe file
    the run was made from (run.json), which reproduces it. `ledger` is the language's row of the
    run's ledger (`language_ledger`): the documents it ended with and how many identification
    moved in and out; None when the run folder has no readable stats.json.
    """

    run: str
    recipe: str | None
    lang: str
    ids: np.ndarray
    values: dict[str, np.ndarray]
    kept: np.ndarray
    removed_in_run: np.ndarray
    unscored: int
    ledger: dict[str, Any] | None = None
    _sorted: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    def present(self, name: str) -> np.ndarray:
        """Return the indices of the documents that have score `name`, sorted by that score.

        Sorted once per score: every cutoff count is then a binary search over this order.
        """
        return self._sort(name)[0]

    def sorted_values(self, name: str) -> np.ndarray:
        """Return the scores `name` of the documents that have it, in increasing order."""
        return self._sort(name)[1]

    def _sort(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in self._sorted:
            values = self.values[name]
            indices = np.flatnonzero(~np.isnan(values))
            order = indices[np.argsort(values[indices], kind="stable")]
            self._sorted[name] = (order, values[order])
        return self._sorted[name]

    def scores_of(self, index: int) -> dict[str, float]:
        """Return one document's scores by name, absent ones left out, as the stage stored them."""
        return {name: float(values[index]) for name, values in self.values.items()
                if not np.isnan(values[index])}


def load_scores(run: str, lang: str) -> LanguageScores:
    """Return the stored scores of `lang` in run folder `run`; RootsError when it has none to tune."""
    record = _run_record(run)
    code = language_code(lang)
    if code is None:
        raise RootsError(f"{lang}: unknown language code (not in languages/codes.tsv)")
    stages = record.get("stages") or []
    if not any(stage.get("name") == STAGE for stage in stages):
        raise RootsError(f"{run}/run.json: the run has no {STAGE} stage, so no document has scores to "
                         f"tune; add `- {STAGE}` to the recipe's stages and run it again")
    data, rejects = (_read(run, kind, code) for kind in (DATA, REJECTS))
    ids = np.concatenate([data[0], rejects[0]])
    values = {name: np.concatenate([data[1][name], rejects[1][name]]) for name in SCORES}
    kept = np.arange(len(ids)) < len(data[0])
    removed = np.concatenate([data[2], rejects[2]])
    seen = ~np.isnan(values[SEEN_BY_STAGE])
    if not seen.any():
        options = next(stage.get("options", {}) for stage in stages if stage.get("name") == STAGE)
        sources = ", ".join(options.get("sources") or ()) or "none"
        present = sorted({name for kind in (DATA, REJECTS) if os.path.isdir(os.path.join(run, kind))
                          for name in os.listdir(os.path.join(run, kind))})
        raise RootsError(f"{run}: no {code} document was scored by {STAGE} (it applies to the sources: "
                         f"{sources}; languages in this run: {', '.join(present) or 'none'})")
    return LanguageScores(run, record.get("recipe_file"), code, ids[seen],
                          {name: v[seen] for name, v in values.items()}, kept[seen], removed[seen],
                          int((~seen).sum()), language_ledger(run, code))


def language_ledger(run: str, lang: str) -> dict[str, Any] | None:
    """Return a language's documents in the run's ledger, summed over its sources and datasets:
    one count per field (`in`, `relabelled_in`, …, as stats.json names them), `documents` (what it
    ended with, as the summary table and the cards count it) and `relabelled_in_by_stage`; None
    when `stats.json` cannot be read."""
    try:
        with open(os.path.join(run, STATS), encoding="utf-8") as handle:
            entries = [e for e in json.load(handle)["entries"] if e["lang"] == lang]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    totals: dict[str, Any] = {name: sum(row_field(e, name)["docs"] for e in entries) for name in ROW_FIELDS}
    totals["documents"] = sum(documents(e) for e in entries)
    by_stage: dict[str, int] = {}
    for entry in entries:
        for reason, count in row_field(entry, RELABELLED_IN).get("by_reason", {}).items():
            stage = reason.partition(":")[0]
            by_stage[stage] = by_stage.get(stage, 0) + count["docs"]
    totals["relabelled_in_by_stage"] = dict(sorted(by_stage.items()))
    return totals


def read_texts(scores: LanguageScores, ids: Sequence[str]) -> dict[str, str]:
    """Return the stored text of the given documents, by id, reading one shard batch at a time."""
    wanted = pa.array(sorted(set(ids)), pa.string())
    texts: dict[str, str] = {}
    for kind in (DATA, REJECTS):
        for batch in _batches(scores.run, kind, scores.lang, ["id", "text"]):
            found = batch.filter(pc.is_in(batch.column("id"), value_set=wanted))
            texts.update(zip(found.column("id").to_pylist(), found.column("text").to_pylist(), strict=True))
    return texts


def _run_record(run: str) -> dict:
    """Return `run.json` of a finished local run, or raise RootsError saying what to run."""
    if is_remote(run):
        raise RootsError(f"{run}: tuning reads a local run folder; copy it here first (e.g. gsutil -m cp -r)")
    path = os.path.join(run, RUN)
    if not os.path.isdir(run):
        raise RootsError(f"{run}: no such run folder (give the folder `roots run --out` wrote)")
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError) as exc:
        raise RootsError(f"{path}: cannot read it ({exc}); give a folder written by `roots run`") from exc
    if not isinstance(record, dict) or record.get("status") != "finished":
        raise RootsError(f"{path}: the run did not finish; run it again with `roots run`")
    return record


def _read(run: str, kind: str, lang: str) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Return the ids, scores (NaN = null) and quality_filter removals of one shard folder."""
    columns = ["id", "scores"] + (["reasons"] if kind == REJECTS else [])
    batches = list(_batches(run, kind, lang, columns))
    if not batches:
        return np.array([], dtype=object), {name: np.array([]) for name in SCORES}, np.array([], dtype=bool)
    table = pa.Table.from_batches(batches)
    ids = np.array(table.column("id").to_pylist(), dtype=object)
    # flatten() merges the struct's own nulls into its fields; nulls become NaN as floats.
    fields = table.column("scores").combine_chunks().flatten()
    values = {name: np.asarray(fields[i].to_numpy(zero_copy_only=False), dtype=np.float64)
              for i, name in enumerate(table.schema.field("scores").type.names)}
    removed = np.zeros(len(ids), dtype=bool)
    if kind == REJECTS:
        reasons = table.column("reasons").combine_chunks()
        flat = pc.list_flatten(reasons)
        parents = pc.list_parent_indices(reasons).to_numpy()
        removed[parents[pc.starts_with(flat, REASON_PREFIX).to_numpy(zero_copy_only=False)]] = True
    return ids, {name: values[name] for name in SCORES}, removed


def _batches(run: str, kind: str, lang: str, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Yield one language folder's record batches with `columns`; nothing when it has no shards."""
    folder = os.path.join(run, kind, lang)
    if os.path.isfile(os.path.join(folder, "state.json")):
        yield from shard_batches(folder, columns)
