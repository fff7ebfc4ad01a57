"""The figures of the cards, as PNG files drawn with matplotlib's Agg renderer.

Figures are built as `matplotlib.figure.Figure` objects, never through pyplot: no global state, no
GUI backend, safe in any process. Files are re-encoded by Pillow without metadata, so the same
facts give the same bytes on the same matplotlib.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from roots_pipeline.cards.samples import KEPT, REMOVED, Reservoir

KEPT_COLOUR, REMOVED_COLOUR, DUPLICATE_COLOUR, CUTOFF_COLOUR = "#4c72b0", "#dd8452", "#937860", "#c44e52"
_LOG_SCORES = frozenset({"number_words", "perplexity"})  # long-tailed: log axis when all values are > 0
_BINS = 40


def save(figure: Figure, path: str) -> str:
    """Write a figure as a 64-colour PNG and return the path.

    A chart has a handful of colours plus anti-aliasing: a palette image is a quarter of the size of
    matplotlib's RGBA file and looks the same, which matters for cards committed to a repository.
    """
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    buffer.seek(0)
    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(colors=64, method=Image.Quantize.FASTOCTREE,
                                                dither=Image.Dither.NONE)
    palette.save(path, format="PNG")
    return path


def _bar_figure(labels: Sequence[str], width: float) -> Figure:
    """Return a figure for horizontal bars, its margins fixed from the label lengths.

    A constrained layout would measure every text to find them, which is most of the drawing time.
    """
    height = max(2.2, 0.32 * len(labels) + 1.2)
    figure = Figure(figsize=(width, height))
    left = (0.3 + 0.075 * max((len(label) for label in labels), default=1)) / width
    figure.subplots_adjust(left=min(left, 0.6), right=0.97, bottom=0.6 / height, top=1 - 0.45 / height,
                           wspace=0.08)
    return figure


def language_distribution(rows: Sequence[Mapping[str, Any]], path: str) -> str:
    """Bar chart of kept documents and kept MB per language; empty languages are drawn as 0."""
    langs = [row["lang"] for row in rows]
    figure = _bar_figure(langs, 9)
    docs_axes, bytes_axes = figure.subplots(1, 2, sharey=True)
    positions = np.arange(len(langs))
    for axes, values, label in ((docs_axes, [row["kept"]["docs"] for row in rows], "documents kept"),
                                (bytes_axes, [row["kept"]["bytes"] / 1e6 for row in rows], "MB kept")):
        axes.barh(positions, values, color=KEPT_COLOUR)
        axes.set_xlabel(label)
        for y, value in zip(positions, values, strict=True):
            axes.annotate(f"{value:,.0f}" if label == "documents kept" else f"{value:,.2f}", (value, y),
                          xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        axes.margins(x=0.2)
    docs_axes.set_yticks(positions, langs)
    docs_axes.invert_yaxis()
    figure.suptitle("Language distribution of the corpus")
    return save(figure, path)


def removed_by_language(rows: Sequence[Mapping[str, Any]], path: str) -> str:
    """Stacked bars of the share of documents removed per language, by filters and as duplicates."""
    langs = [row["lang"] for row in rows]
    figure = _bar_figure(langs, 8)
    axes = figure.subplots()
    positions = np.arange(len(langs))
    rejected = np.array([100 * (row["rejected_share"] or 0) for row in rows])
    duplicate = np.array([100 * (row["duplicate_share"] or 0) for row in rows])
    axes.barh(positions, rejected, color=REMOVED_COLOUR, label="removed by filters")
    axes.barh(positions, duplicate, left=rejected, color=DUPLICATE_COLOUR, label="removed as duplicates")
    for y, row, total in zip(positions, rows, rejected + duplicate, strict=True):
        text = f"{total:.1f}%" if row["documents"] else "no documents"
        axes.annotate(text, (total, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    axes.set_yticks(positions, langs)
    axes.invert_yaxis()
    axes.set_xlim(0, 115)
    axes.set_xlabel("% of the language's documents removed")
    axes.legend(loc="lower right", fontsize=8)
    axes.set_title("Documents removed per language")
    return save(figure, path)


def removed_by_filter(rows: Sequence[Mapping[str, Any]], title: str, path: str) -> str:
    """Bars of the share of documents each filter removes on its own (ROOTS's Figure 3)."""
    reasons = [row["reason"] for row in rows]
    figure = _bar_figure(reasons, 9)
    axes = figure.subplots()
    positions = np.arange(len(reasons))
    values = [100 * (row["share"] or 0) for row in rows]
    axes.barh(positions, values, color=REMOVED_COLOUR)
    for y, value, row in zip(positions, values, rows, strict=True):
        axes.annotate(f"{value:.1f}% ({row['docs']:,} of {row['seen']:,})", (value, y), xytext=(3, 0),
                      textcoords="offset points", va="center", fontsize=8)
    axes.set_yticks(positions, reasons)
    axes.invert_yaxis()
    axes.set_xlim(0, 130)
    axes.set_xlabel("% of the documents the stage saw that fail this filter (each filter on its own)")
    axes.set_title(title)
    return save(figure, path)


def score_histograms(samples: Mapping[str, Mapping[str, Reservoir]],
                     cutoffs: Mapping[str, Mapping[str, float]], title: str, path: str) -> str:
    """One histogram per score, kept and removed documents stacked, each cutoff drawn as a line."""
    names = list(samples)
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    height = 2.7 * rows + 0.5
    figure = Figure(figsize=(3.8 * columns, height))
    grid = figure.subplots(rows, columns, squeeze=False).ravel()
    for axes, name in zip(grid, names, strict=False):
        _histogram(axes, name, samples[name], cutoffs.get(name, {}))
    for axes in grid[len(names):]:
        axes.set_visible(False)
    figure.suptitle(title)
    # Fixed margins: a constrained layout measures every tick label and takes most of the drawing time.
    figure.subplots_adjust(left=0.75 / (3.8 * columns), right=0.98, bottom=0.55 / height,
                           top=1 - 0.8 / height, hspace=0.55, wspace=0.3)
    return save(figure, path)


def _histogram(axes: Any, name: str, by_outcome: Mapping[str, Reservoir],
               cutoff: Mapping[str, float]) -> None:
    series = [(outcome, by_outcome[outcome]) for outcome in (KEPT, REMOVED) if outcome in by_outcome]
    values = np.concatenate([sample.values for _, sample in series])
    limits = [cutoff[key] for key in ("min", "max") if key in cutoff]
    low = min([float(np.percentile(values, 0.5)), *limits])
    high = max([float(np.percentile(values, 99.5)), *limits])
    log = name in _LOG_SCORES and low > 0
    if high <= low:
        high = low + (abs(low) or 1) * 0.1
    bins = np.geomspace(low, high, _BINS + 1) if log else np.linspace(low, high, _BINS + 1)
    # Values past the plotted range are gathered in the edge bins rather than dropped.
    clipped = [np.clip(sample.values, low, high) for _, sample in series]
    colours = [KEPT_COLOUR if outcome == KEPT else REMOVED_COLOUR for outcome, _ in series]
    labels = [f"{outcome} ({sample.count:,})" for outcome, sample in series]
    axes.hist(clipped, bins=bins, stacked=True, histtype="stepfilled", color=colours, label=labels)
    scale = np.log10 if log else (lambda value: value)
    for key in ("min", "max"):
        if key in cutoff:
            axes.axvline(cutoff[key], color=CUTOFF_COLOUR, linestyle="--", linewidth=1.2)
            # Labels of lines in the right part of the plot go on their left, inside the axes.
            right = (scale(cutoff[key]) - scale(low)) / (scale(high) - scale(low)) > 0.7
            axes.annotate(f"{key} {cutoff[key]:g}", (cutoff[key], 1), xycoords=("data", "axes fraction"),
                          xytext=(-2 if right else 2, -10), textcoords="offset points", color=CUTOFF_COLOUR,
                          fontsize=8, ha="right" if right else "left")
    if log:
        axes.set_xscale("log")
    sampled = sum(len(sample.values) for _, sample in series) < sum(sample.count for _, sample in series)
    axes.set_title(name + (" (sample)" if sampled else ""), fontsize=10)
    axes.set_ylabel("documents", fontsize=8)
    axes.tick_params(labelsize=8)
    axes.legend(fontsize=7)
