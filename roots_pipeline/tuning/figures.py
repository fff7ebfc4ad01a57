"""The figures of the filter-tuning notebooks: score histograms with cutoffs, removal curves.

Histograms: one panel per filter, the documents it removes with the given cutoffs stacked on the
ones it keeps, so the share a line cuts off is visible; `compare` draws a second set of cutoffs
(the language file's, beside candidates) as dotted lines. Removal curves: the share of documents
removed as one cutoff moves, by its filter alone and by all filters. Built as
`matplotlib.figure.Figure` objects, never through pyplot, as the cards' figures are; a notebook
shows one by displaying it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from roots_pipeline.filters import SCORES
from roots_pipeline.lang.config import LanguageConfig
from roots_pipeline.tuning.cutoffs import Side, cutoff_table, cutoff_value, failing, sides
from roots_pipeline.tuning.scores import LanguageScores

KEPT_COLOUR, REMOVED_COLOUR, CUTOFF_COLOUR, COMPARE_COLOUR = "#4c72b0", "#dd8452", "#c44e52", "#555555"
_LOG_SCORES = frozenset({"number_words", "perplexity"})  # long-tailed: log axis when all values are > 0
_BINS = 40


def score_histograms(scores: LanguageScores, config: LanguageConfig, names: Sequence[str] | None = None,
                     compare: LanguageConfig | None = None) -> Figure:
    """Return one histogram per filter (default: every score some document has), cutoffs drawn."""
    names = [n for n in SCORES if len(scores.present(n))] if names is None else list(names)
    columns = min(3, max(1, len(names)))
    rows = -(-len(names) // columns) or 1
    figure = Figure(figsize=(4.2 * columns, 3.0 * rows), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False).ravel()
    for axes, name in zip(grid, names, strict=False):
        _histogram(axes, scores, config, name, compare)
    for axes in grid[len(names):]:
        axes.set_visible(False)
    figure.suptitle(f"{scores.lang}: {len(scores):,} documents scored by quality_filter in {scores.run}")
    return figure


def _histogram(axes: Any, scores: LanguageScores, config: LanguageConfig, name: str,
               compare: LanguageConfig | None) -> None:
    order = scores.present(name)
    values = scores.sorted_values(name)
    if not len(values):
        axes.set_title(f"{name}: no document has this score", fontsize=10)
        return
    out = failing(scores, config, name)[order]
    lines = [(cutoff_value(config, name, side), side, CUTOFF_COLOUR, "--") for side in sides(name)]
    if compare is not None:
        lines += [(cutoff_value(compare, name, side), side, COMPARE_COLOUR, ":") for side in sides(name)]
    lines = [line for line in lines if line[0] is not None]
    limits = [float(line[0]) for line in lines]
    low = min([float(np.percentile(values, 0.5)), *limits])
    high = max([float(np.percentile(values, 99.5)), *limits])
    log = name in _LOG_SCORES and low > 0
    if high <= low:
        high = low + (abs(low) or 1) * 0.1
    bins = np.geomspace(low, high, _BINS + 1) if log else np.linspace(low, high, _BINS + 1)
    # Values past the plotted range are gathered in the edge bins rather than dropped.
    series = [np.clip(values[~out], low, high), np.clip(values[out], low, high)]
    labels = [f"kept ({(~out).sum():,})", f"removed by {name} ({out.sum():,})"]
    axes.hist(series, bins=bins, stacked=True, histtype="stepfilled", color=[KEPT_COLOUR, REMOVED_COLOUR],
              label=labels)
    for value, side, colour, style in lines:
        axes.axvline(value, color=colour, linestyle=style, linewidth=1.2, label=f"{side} {value:g}")
    if log:
        axes.set_xscale("log")
    axes.set_title(name, fontsize=10)
    axes.set_ylabel("documents", fontsize=8)
    axes.tick_params(labelsize=8)
    axes.legend(fontsize=7)


def removal_curve(scores: LanguageScores, config: LanguageConfig, name: str, side: Side,
                  points: int = 101) -> Figure:
    """Return the share of documents removed as one cutoff moves through the stored scores (at
    `points` quantiles), by its filter alone and by all filters, the current cutoff marked."""
    table = cutoff_table(scores, config, name, side, quantiles=np.linspace(0, 1, points))
    current, *moved = table.rows
    figure = Figure(figsize=(6.4, 3.6), layout="constrained")
    axes = figure.subplots()
    if not moved:
        axes.set_title(f"{name}.{side}: no document has this score", fontsize=10)
        return figure
    cutoffs = [row.cutoff for row in moved]
    for attribute, label, colour in (("removed_alone", f"by {name}", REMOVED_COLOUR),
                                     ("removed_together", "by all filters", KEPT_COLOUR)):
        shares = [100 * getattr(row, attribute) / table.documents for row in moved]
        axes.step(cutoffs, shares, where="post", color=colour, label=label)
        axes.plot([current.cutoff], [100 * getattr(current, attribute) / table.documents], "o", color=colour)
    axes.axvline(current.cutoff, color=CUTOFF_COLOUR, linestyle="--", linewidth=1.2,
                 label=f"{side} {current.cutoff:g}")
    if name in _LOG_SCORES and min(cutoffs) > 0:
        axes.set_xscale("log")
    axes.set_xlabel(f"{name}.{side} cutoff")
    axes.set_ylabel(f"% of {table.documents:,} documents removed")
    axes.set_title(f"{scores.lang}: documents removed as {name}.{side} moves", fontsize=10)
    axes.legend(fontsize=8)
    return figure
