"""What the cards show from the shards themselves: score samples and a few removed documents.

One pass over `data/<lang>/` and `rejects/<lang>/`, batch by batch. Memory is bounded whatever the
corpus size: each score keeps a uniform sample of at most `sample_size` values per group (bottom-k
sampling with a fixed seed, so the same run gives the same figures), and each removal reason
keeps its first `per_reason` documents, shortened and with PII redacted (rejected documents were
removed before the PII stage ran, and a card is meant to be published).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from roots_pipeline.cleaning.pii import redact
from roots_pipeline.filters import SCORES
from roots_pipeline.output.run_folder import DATA, REJECTS, RunFolder
from roots_pipeline.output.shard_reader import shard_batches

KEPT, REMOVED = "kept", "removed"
_REDACT_CHARS = 4000  # redact a prefix longer than any snippet, so no match is cut in two


class Reservoir:
    """A uniform sample of at most `size` values from a stream, the same for the same stream."""

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self.count = 0
        self._random = np.random.default_rng(zlib.crc32(name.encode()))
        self._keys = np.empty(0)
        self.values = np.empty(0)

    def add(self, values: np.ndarray) -> None:
        """Offer values; each is kept with the same probability as every other value offered."""
        if not len(values):
            return
        self.count += len(values)
        keys = np.concatenate([self._keys, self._random.random(len(values))])
        kept = np.concatenate([self.values, values.astype(float)])
        if len(keys) > self.size:
            chosen = np.argpartition(keys, self.size)[: self.size]
            chosen.sort()  # keep stream order: the sample's order never depends on the keys
            keys, kept = keys[chosen], kept[chosen]
        self._keys, self.values = keys, kept


@dataclass
class GroupSamples:
    """Samples of one language or one source × dataset × language."""

    scores: dict[str, dict[str, Reservoir]] = field(default_factory=dict)  # score → kept/removed → sample
    sole: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    shared: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def removed(self, per_reason: int) -> dict[str, list[dict[str, Any]]]:
        """Return up to `per_reason` documents per reason: those removed for that reason alone first."""
        reasons = sorted(set(self.sole) | set(self.shared))
        return {reason: (self.sole[reason] + self.shared[reason])[:per_reason] for reason in reasons}


def snippet(text: str, max_lines: int, max_chars: int) -> str:
    """Return the start of a document for a reviewer: at most `max_lines` lines and `max_chars`
    characters, PII redacted, ending in "…" when shortened."""
    redacted, _ = redact(text[:_REDACT_CHARS])
    lines = redacted.split("\n")
    short = "\n".join(lines[:max_lines])
    cut = len(text) > _REDACT_CHARS or len(lines) > max_lines or len(short) > max_chars
    short = short[:max_chars]
    return short.rstrip() + "…" if cut else short


class RunSamples:
    """Scans a run's shards once and holds the samples of every language and dataset."""

    def __init__(self, sample_size: int = 20_000, per_reason: int = 3, max_lines: int = 6,
                 max_chars: int = 500) -> None:
        self.sample_size = sample_size
        self.per_reason = per_reason
        self.max_lines = max_lines
        self.max_chars = max_chars
        self.groups: dict[str, GroupSamples] = defaultdict(GroupSamples)

    def scan(self, run: RunFolder, langs: Iterable[str]) -> RunSamples:
        """Read the kept and rejected shards of each language; return self."""
        for lang in langs:
            for kind, outcome in ((DATA, KEPT), (REJECTS, REMOVED)):
                folder = run.shard_folder(kind, lang)
                if folder is None:
                    continue
                columns = ["source", "dataset", "scores"]
                if outcome == REMOVED:
                    columns += ["id", "text", "url", "reasons"]
                for batch in shard_batches(folder, columns):
                    self._add_batch(lang, outcome, batch)
        return self

    def _add_batch(self, lang: str, outcome: str, batch: pa.RecordBatch) -> None:
        sources = batch.column("source").to_pylist()
        datasets = batch.column("dataset").to_pylist()
        labels = np.array([f"{s}/{d}/{lang}" for s, d in zip(sources, datasets, strict=True)])
        scores = batch.column("scores")
        for name in SCORES:
            column = scores.field(name)
            valid = pc.is_valid(column).to_numpy(zero_copy_only=False)
            if not valid.any():
                continue
            values = column.to_numpy(zero_copy_only=False).astype(float)
            self._offer(lang, name, outcome, values[valid])
            for label in np.unique(labels[valid]):
                self._offer(label, name, outcome, values[valid & (labels == label)])
        if outcome == REMOVED:
            self._add_removed(lang, labels, batch)

    def _offer(self, group: str, score: str, outcome: str, values: np.ndarray) -> None:
        by_outcome = self.groups[group].scores.setdefault(score, {})
        if outcome not in by_outcome:
            by_outcome[outcome] = Reservoir(self.sample_size, f"{group}/{score}/{outcome}")
        by_outcome[outcome].add(values)

    def _add_removed(self, lang: str, labels: np.ndarray, batch: pa.RecordBatch) -> None:
        """Keep the first documents of each reason, for the language and for its dataset."""
        reasons = batch.column("reasons").to_pylist()
        for row, doc_reasons in enumerate(reasons):
            groups = (self.groups[lang], self.groups[str(labels[row])])
            wanted = [reason for reason in doc_reasons
                      if any(len((g.sole if len(doc_reasons) == 1 else g.shared)[reason]) < self.per_reason
                             for g in groups)]
            if not wanted:
                continue
            document = self._document(batch, row, doc_reasons)
            for group in groups:
                lists = group.sole if len(doc_reasons) == 1 else group.shared
                for reason in wanted:
                    if len(lists[reason]) < self.per_reason:
                        lists[reason].append(document)

    def _document(self, batch: pa.RecordBatch, row: int, reasons: list[str]) -> dict[str, Any]:
        text = batch.column("text")[row].as_py() or ""
        return {"id": batch.column("id")[row].as_py(), "source": batch.column("source")[row].as_py(),
                "dataset": batch.column("dataset")[row].as_py(), "url": batch.column("url")[row].as_py(),
                "reasons": reasons, "chars": len(text),
                "text": snippet(text, self.max_lines, self.max_chars)}

    def scores_of(self, group: str) -> dict[str, dict[str, Reservoir]]:
        """Return a group's score samples (score → kept/removed → sample); empty when none was scored."""
        return self.groups[group].scores if group in self.groups else {}

    def removed_of(self, group: str) -> dict[str, list[dict[str, Any]]]:
        """Return a group's removed-document samples by reason."""
        return self.groups[group].removed(self.per_reason) if group in self.groups else {}


def score_counts(samples: Mapping[str, Mapping[str, Reservoir]]) -> dict[str, dict[str, int]]:
    """Return how many documents had each score, per outcome (the sample may hold fewer)."""
    return {score: {outcome: sample.count for outcome, sample in by_outcome.items()}
            for score, by_outcome in samples.items()}
