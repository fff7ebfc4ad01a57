"""The summary table printed at the end of a run: documents and bytes per source and language."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

_COLUMNS = ("in", "kept", "rejected", "duplicate", "malformed")


def _mb(nbytes: int) -> str:
    return f"{nbytes / 1e6:,.2f}"


def summary_table(stats: dict[str, Any], wall_seconds: float) -> str:
    """Return a fixed-width table of documents (and MB) in, kept and removed per source × language."""
    rows: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for entry in stats["entries"]:
        row = rows[(entry["source"], entry["lang"])]
        for outcome in _COLUMNS:
            row[outcome] += entry[outcome]["docs"]
            row[outcome + "_bytes"] += entry[outcome]["bytes"]
    total: dict[str, int] = defaultdict(int)
    for row in rows.values():
        for key, value in row.items():
            total[key] += value
    header = ["source", "lang", *(f"docs {c}" for c in _COLUMNS), "MB in", "MB kept", "MB removed"]
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
    text.append(f"wall time {wall_seconds:.1f} s")
    return "\n".join(text)


def _line(source: str, lang: str, row: dict[str, int]) -> list[str]:
    removed = row["rejected_bytes"] + row["duplicate_bytes"] + row["malformed_bytes"]
    return [source, lang, *(f"{row[c]:,}" for c in _COLUMNS),
            _mb(row["in_bytes"]), _mb(row["kept_bytes"]), _mb(removed)]
