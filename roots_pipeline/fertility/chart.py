"""The fertility bar chart: monolingual against multilingual (and any compared tokenizer) per language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from roots_pipeline.cards.figures import CUTOFF_COLOUR, KEPT_COLOUR, REMOVED_COLOUR, save

_OTHER_COLOURS = ("#55a868", "#8172b3", "#937860", "#da8bc3")


def fertility_chart(rows: Sequence[Mapping[str, Any]], compared: Sequence[str], path: str) -> str:
    """Grouped bars of fertility per language; the difference is written over each language, in red
    when it is over the +10% objective. Languages without a measure are labelled, not left out."""
    series = [("monolingual", KEPT_COLOUR), ("multilingual", REMOVED_COLOUR)]
    series += [(name, _OTHER_COLOURS[i % len(_OTHER_COLOURS)]) for i, name in enumerate(compared)]
    langs = [row["lang"] for row in rows]
    width = 0.8 / len(series)
    figure = Figure(figsize=(max(5.0, 0.9 * len(langs) * len(series) / 2 + 2), 4))
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.14, top=0.86)
    axes = figure.subplots()
    positions = np.arange(len(langs))
    for i, (name, colour) in enumerate(series):
        values = [_value(row, name) or 0 for row in rows]
        axes.bar(positions + (i - (len(series) - 1) / 2) * width, values, width, color=colour, label=name)
    top = max([_value(row, name) or 0 for row in rows for name, _ in series] + [1])
    for x, row in zip(positions, rows, strict=True):
        if row["difference"] is None:
            text, colour = row["status"], "#555555"
        else:
            text = f"{100 * row['difference']:+.1f}%"
            colour = CUTOFF_COLOUR if row["over_objective"] else "#333333"
        axes.annotate(text, (x, top * 1.04), ha="center", fontsize=8, color=colour)
    axes.set_ylim(0, top * 1.18)
    axes.set_xticks(positions, langs)
    axes.set_ylabel("tokens per word")
    axes.legend(fontsize=8, loc="lower right")
    axes.set_title("Tokenizer fertility (multilingual vs monolingual; red: over +10%)")
    return save(figure, path)


def _value(row: Mapping[str, Any], name: str) -> float | None:
    if name in ("monolingual", "multilingual"):
        return row[name]
    return row["compared"].get(name, {}).get("fertility")
