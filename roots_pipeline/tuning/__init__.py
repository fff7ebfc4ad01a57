"""Filter tuning on a finished run's stored scores: nothing is scored again.

`scores.load_scores` reads the scores of one language's documents that the quality_filter stage
saw, kept and rejected; `cutoffs` says what a cutoff removes (alone, with the other filters, and
which documents sit at its margin) with the stage's own decision rule; `export` writes changed
cutoffs into `languages/<code>.yaml` and returns the diff; `report` renders tables as text for
`roots tune` and the notebooks in `filters/`, and `figures` draws histograms and removal curves
(matplotlib, imported only by whoever draws).
"""

from roots_pipeline.tuning.cutoffs import (
    QUANTILES,
    CutoffRow,
    CutoffTable,
    Margin,
    cutoff_table,
    cutoff_value,
    failing,
    margins,
    removed,
    sides,
    with_cutoffs,
)
from roots_pipeline.tuning.export import Export, export_cutoffs, language_file
from roots_pipeline.tuning.scores import LanguageScores, load_scores, read_texts

__all__ = [
    "QUANTILES", "CutoffRow", "CutoffTable", "Export", "LanguageScores", "Margin", "cutoff_table",
    "cutoff_value", "export_cutoffs", "failing", "language_file", "load_scores", "margins", "read_texts",
    "removed", "sides", "with_cutoffs",
]
