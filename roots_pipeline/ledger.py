"""The ledger: where every input record ended, counted from the data itself.

Counts are keyed by (source, dataset, lang, outcome, reason) and hold (documents, bytes).
Outcomes: `in` (counted where records are read), `kept`, `rejected`, `duplicate`, `malformed`
(counted where they are written), `relabelled_in` / `relabelled_out` (a stage moved a document
from one language to another), `note` (counted events that are not outcomes: skipped WARC
records, unknown language labels, limits) and `fails` (every reason of every rejected document,
so a document failing three filters counts once under each). They are pre-summed per batch or
split, combined per key by Beam, and written as an output; `stats.json` is built from them after
the run.

A document is counted `in` under the language it was read with and ends (kept, rejected…) under
the one it has when written; a stage that changes its language (`language_id` identifying a web
page read as `und`) counts it `relabelled_out` under the old language and `relabelled_in` under
the new one, both with the reason `<stage>:<other language>` (`language_id:en` under `und`,
`language_id:und` under `en`). So every row, one (source, dataset, language), balances:

    in + relabelled_in = kept + rejected + duplicate + malformed + relabelled_out

and the run fails when a row or a (source, dataset) total does not. Only documents are balanced:
bytes are measured where each outcome happens (`in` as read, `kept` and `rejected` as written,
after cleaning), and relabelled bytes are the UTF-8 size of the text as the relabelling stage
left it, the same number under both languages.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from roots_pipeline.document import Document, Malformed, Note
from roots_pipeline.errors import LedgerImbalance

Key = tuple[str, str, str, str, str]
Count = tuple[int, int]
OUTCOMES = ("kept", "rejected", "duplicate", "malformed")
# The outcomes of a document (malformed records are not documents).
DOCUMENT_OUTCOMES = ("kept", "rejected", "duplicate")
# A document moved between languages: counted out of one row and into another (see above).
RELABELLED_IN, RELABELLED_OUT = "relabelled_in", "relabelled_out"
# Every counted field of a stats.json row (`entries`), in the order of the balance equation.
ROW_FIELDS = ("in", RELABELLED_IN, *OUTCOMES, RELABELLED_OUT)


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

    def relabel(self, doc: Document, old: str, stage: str) -> None:
        """Count a document that `stage` moved from language `old` to `doc.lang`, in both rows."""
        nbytes = doc.nbytes
        self.add((doc.source, doc.dataset, old, RELABELLED_OUT, f"{stage}:{doc.lang}"), 1, nbytes)
        self.add((doc.source, doc.dataset, doc.lang, RELABELLED_IN, f"{stage}:{old}"), 1, nbytes)

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
    for entry in entries:
        entry["balanced"] = balances({field: row_field(entry, field)["docs"] for field in ROW_FIELDS})
    return {"entries": entries, "balance": balance(entries)}


def _empty_group(source: str, dataset: str, lang: str) -> dict[str, Any]:
    group: dict[str, Any] = {"source": source, "dataset": dataset, "lang": lang}
    for field in ROW_FIELDS:
        group[field] = {"docs": 0, "bytes": 0}
    group["notes"] = {}
    group["fails"] = {}
    return group


def documents(entry: Mapping[str, Any]) -> int:
    """Return the documents a stats.json row ended with: kept + rejected + duplicate, which its
    balance makes in + relabelled_in - relabelled_out - malformed (a malformed record never became
    a document). The summary table, the cards and `roots tune` all count a language's size so."""
    return sum(entry[outcome]["docs"] for outcome in DOCUMENT_OUTCOMES)


def row_field(entry: Mapping[str, Any], field: str) -> dict[str, Any]:
    """Return one counted field of a stats.json row; zero for `relabelled_*` in a ledger written
    before they existed, so readers of older run folders need no second path."""
    return entry.get(field) or {"docs": 0, "bytes": 0}


def balances(docs: Mapping[str, int]) -> bool:
    """Return whether documents in (read or relabelled in) equal documents out."""
    return docs["in"] + docs[RELABELLED_IN] == sum(docs[o] for o in OUTCOMES) + docs[RELABELLED_OUT]


def balance(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return per (source, dataset) document totals, each marked `balanced` or not (a relabel moves a
    document between languages, never between sources, so its two counts cancel here)."""
    totals: dict[tuple[str, str], dict[str, int]] = {}
    for entry in entries:
        total = totals.setdefault((entry["source"], entry["dataset"]), dict.fromkeys(ROW_FIELDS, 0))
        for field in total:
            total[field] += row_field(entry, field)["docs"]
    return [{"source": s, "dataset": d, **t, "balanced": balances(t)} for (s, d), t in sorted(totals.items())]


def _equation(name: str, docs: Mapping[str, int]) -> str:
    """Return `name: in 10 != kept 7 + …`, the relabelled terms shown only when there are any."""
    moved = docs[RELABELLED_IN] or docs[RELABELLED_OUT]
    left = f"in {docs['in']}" + (f" + {RELABELLED_IN} {docs[RELABELLED_IN]}" if moved else "")
    right = [f"{o} {docs[o]}" for o in OUTCOMES]
    if moved:
        right.append(f"{RELABELLED_OUT} {docs[RELABELLED_OUT]}")
    return f"{name}: {left} != " + " + ".join(right)


def assert_balanced(stats: dict[str, Any]) -> None:
    """Raise LedgerImbalance naming every source, and every source × dataset × language row, whose
    documents do not add up."""
    broken = [_equation(f"{r['source']}/{r['dataset']}", r) for r in stats["balance"] if not r["balanced"]]
    for entry in stats["entries"]:
        docs = {field: row_field(entry, field)["docs"] for field in ROW_FIELDS}
        if not balances(docs):
            broken.append(_equation(f"{entry['source']}/{entry['dataset']}/{entry['lang']}", docs))
    if broken:
        raise LedgerImbalance(f"ledger does not balance: {'; '.join(broken)}")


def dumps(stats: dict[str, Any]) -> str:
    """Serialise stats deterministically."""
    return json.dumps(stats, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
