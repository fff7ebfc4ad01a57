"""What `roots run` and `roots dedup` print at the end: the summary table of documents and bytes per
source and language, and a warning when nothing was read or kept."""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Any

from roots_pipeline.ledger import RELABELLED_IN, RELABELLED_OUT, ROW_FIELDS, documents, row_field
from roots_pipeline.output.run_folder import STATS

# Each row reads as its balance: in + relabelled in - relabelled out - malformed = documents
# = kept + rejected + duplicate.
_COLUMNS = ("in", RELABELLED_IN, RELABELLED_OUT, "malformed", "documents", "kept", "rejected", "duplicate")
_HEADERS = {"in": "docs in", RELABELLED_IN: "relabelled in", RELABELLED_OUT: "relabelled out"}
LEGEND = ("documents = docs in + relabelled in - relabelled out - malformed = kept + rejected + duplicate "
          "(relabelled: moved to another language by identification; malformed records are not documents)")


def _mb(nbytes: int) -> str:
    return f"{nbytes / 1e6:,.2f}"


def summary_table(stats: dict[str, Any], wall_seconds: float) -> str:
    """Return a fixed-width table of documents (and MB) read, relabelled, ended, kept and removed per
    source × language: the documents a language ended with, as the cards count them."""
    rows: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for entry in stats["entries"]:
        row = rows[(entry["source"], entry["lang"])]
        for field in ROW_FIELDS:
            row[field] += row_field(entry, field)["docs"]
            row[field + "_bytes"] += row_field(entry, field)["bytes"]
        row["documents"] += documents(entry)
    total: dict[str, int] = defaultdict(int)
    for row in rows.values():
        for key, value in row.items():
            total[key] += value
    header = ["source", "lang", *(_HEADERS.get(c, c) for c in _COLUMNS), "MB in", "MB kept", "MB removed"]
    lines = [header]
    for (source, lang), row in sorted(rows.items()):
        lines.append(_line(source, lang, row))
    lines.append(_line("total", "", total))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    text = ["  ".join(str(cell).rjust(w) if i > 1 else str(cell).ljust(w)
                      for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
            for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    text.insert(len(text) - 1, text[1])
    text.append(LEGEND)
    text.append(f"wall time {wall_seconds:.1f} s")
    return "\n".join(text)


def _line(source: str, lang: str, row: dict[str, int]) -> list[str]:
    removed = row["rejected_bytes"] + row["duplicate_bytes"] + row["malformed_bytes"]
    return [source, lang, *(f"{row[c]:,}" for c in _COLUMNS),
            _mb(row["in_bytes"]), _mb(row["kept_bytes"]), _mb(removed)]


def warn_if_nothing(stats: dict[str, Any], run_dir: str) -> None:
    """Say so on stderr when a run read nothing or kept nothing: an empty output is never silent."""
    totals = {o: sum(r[o] for r in stats["balance"]) for o in ("in", "kept", "malformed")}
    if not totals["in"]:
        print(f"warning: no document was read ({totals['malformed']:,} malformed records); "
              f"the ledger is in {run_dir}/{STATS}", file=sys.stderr)
    elif not totals["kept"]:
        print(f"warning: no document was kept; {run_dir}/{STATS} says which stage removed them",
              file=sys.stderr)
