"""The ledger: where every input record ended, counted from the data itself.

Counts are keyed by (source, dataset, lang, outcome, reason) and hold (documents, bytes).
Outcomes: `in` (counted where records are read), `kept`, `rejected`, `duplicate`, `malformed`
(counted where they are written), `note` (counted events that are not outcomes: skipped WARC
records, unknown language labels, limits) and `fails` (every reason of every rejected document,
so a document failing three filters counts once under each). They are pre-summed per batch or
split, combined per key by Beam, and written as an output; `stats.json` is built from them after
the run and the run fails when `in != kept + rejected + duplicate + malformed` for any source and dataset.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from roots_pipeline.document import Document, Malformed, Note
from roots_pipeline.errors import LedgerImbalance

Key = tuple[str, str, str, str, str]
Count = tuple[int, int]
OUTCOMES = ("kept", "rejected", "duplicate", "malformed")


class Tally:
    """A small per-batch accumulator of ledger counts."""

    def __init__(self) -> None:
        self._counts: dict[Key, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, key: Key, docs: int = 1, nbytes: int = 0) -> None:
        slot = self._counts[key]
        slot[0] += docs
        slot[1] += nbytes

    def document(self, doc: Document, outcome: str, reason: str = "") -> None:
        self.add((doc.source, doc.dataset, doc.lang, outcome, reason), 1, doc.nbytes)

    def malformed(self, record: Malformed, outcome: str) -> None:
        reason = record.reason if outcome == "malformed" else ""
        self.add((record.source, record.dataset, record.lang, outcome, reason), 1, record.nbytes)

    def note(self, note: Note) -> None:
        self.add((note.source, note.dataset, note.lang, "note", note.reason), 1, 0)

    def items(self) -> Iterator[tuple[Key, Count]]:
        yield from ((key, (docs, nbytes)) for key, (docs, nbytes) in self._counts.items())


def sum_counts(counts: Iterable[Count]) -> Count:
    """Combine (documents, bytes) pairs; associative and commutative, as Beam requires."""
    docs = nbytes = 0
    for d, b in counts:
        docs += d
        nbytes += b
    return docs, nbytes


def is_duplicate(reason: str) -> bool:
    """Return whether a rejection reason marks a duplicate (`<stage>:duplicate…`), not a filter."""
    return reason.partition(":")[2].startswith("duplicate")


def count_outcome(batch: pa.RecordBatch, outcome: str) -> Iterator[tuple[Key, Count]]:
    """Ledger entries for a batch of rows that reached their final place (`kept` or `rejected`).

    A rejected document is counted once, under its first reason, as `duplicate` when that reason
    says so, else as `rejected`. Every reason it has is also counted under the pseudo-outcome
    `fails`, so the cards can show what each filter removes on its own as well as overall.
    """
    columns = [batch.column(name).to_pylist() for name in ("source", "dataset", "lang")]
    rejected = outcome == "rejected"
    columns.append(batch.column("reasons").to_pylist() if rejected else [()] * batch.num_rows)
    columns.append(pc.binary_length(batch.column("text")).to_pylist())
    tally = Tally()
    for source, dataset, lang, reasons, nbytes in zip(*columns, strict=True):
        if not rejected:
            tally.add((source, dataset, lang, outcome, ""), 1, nbytes)
            continue
        first = reasons[0] if reasons else ""
        tally.add((source, dataset, lang, "duplicate" if is_duplicate(first) else outcome, first), 1, nbytes)
        for reason in reasons:
            tally.add((source, dataset, lang, "fails", reason), 1, nbytes)
    return tally.items()


def build_stats(rows: Iterable[tuple[Key, Count]]) -> dict[str, Any]:
    """Turn combined ledger rows into the `stats.json` structure, sorted for byte-stable output."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (source, dataset, lang, outcome, reason), (docs, nbytes) in sorted(rows):
        group = groups.setdefault((source, dataset, lang), _empty_group(source, dataset, lang))
        if outcome == "note":
            group["notes"][reason] = docs
            continue
        if outcome == "fails":
            group["fails"][reason] = {"docs": docs, "bytes": nbytes}
            continue
        slot = group[outcome]
        slot["docs"] += docs
        slot["bytes"] += nbytes
        if reason:
            slot.setdefault("by_reason", {})[reason] = {"docs": docs, "bytes": nbytes}
    entries = [groups[key] for key in sorted(groups)]
    return {"entries": entries, "balance": balance(entries)}


def _empty_group(source: str, dataset: str, lang: str) -> dict[str, Any]:
    group: dict[str, Any] = {"source": source, "dataset": dataset, "lang": lang}
    for outcome in ("in", *OUTCOMES):
        group[outcome] = {"docs": 0, "bytes": 0}
    group["notes"] = {}
    group["fails"] = {}
    return group


def balance(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return per (source, dataset) document totals, each marked `balanced` or not."""
    totals: dict[tuple[str, str], dict[str, int]] = {}
    for entry in entries:
        total = totals.setdefault((entry["source"], entry["dataset"]), dict.fromkeys(("in", *OUTCOMES), 0))
        for outcome in total:
            total[outcome] += entry[outcome]["docs"]
    return [{"source": s, "dataset": d, **t, "balanced": t["in"] == sum(t[o] for o in OUTCOMES)}
            for (s, d), t in sorted(totals.items())]


def assert_balanced(stats: dict[str, Any]) -> None:
    """Raise LedgerImbalance naming every source whose documents do not add up."""
    broken = [r for r in stats["balance"] if not r["balanced"]]
    if broken:
        detail = "; ".join(f"{r['source']}/{r['dataset']}: in {r['in']} != "
                           + " + ".join(f"{o} {r[o]}" for o in OUTCOMES) for r in broken)
        raise LedgerImbalance(f"ledger does not balance: {detail}")


def dumps(stats: dict[str, Any]) -> str:
    """Serialise stats deterministically."""
    return json.dumps(stats, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
