"""Plain-text views of tuning results, the same in `roots tune` and in the notebooks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from roots_pipeline.filters import SCORES
from roots_pipeline.filters.scorer import failed_filters
from roots_pipeline.lang.config import LanguageConfig
from roots_pipeline.tuning.cutoffs import (
    CutoffTable,
    Margin,
    Side,
    cutoff_table,
    cutoff_value,
    margins,
    removed,
    sides,
    with_cutoffs,
)
from roots_pipeline.tuning.scores import LanguageScores, read_texts

_DIRECTION = {"min": "removes scores below it", "max": "removes scores above it"}


def _share(count: int, total: int) -> str:
    return f"{count:>7,} {100 * count / total:5.1f}%" if total else f"{count:>7,}      -"


def _number(value: float) -> str:
    """Return a cutoff or score as written in a language file: 100000 (not 1e+05), 0.0123457."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.6g}"


def _one_line(text: str, width: int) -> str:
    """Return a text on one line, cut to `width` characters: enough to judge a document by."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(scores: LanguageScores, config: LanguageConfig) -> str:
    """Return what was scored and what `config` removes, checked against what the run removed.

    A difference means the language file changed since the run (or the run used other cutoffs):
    predictions are then about the file, not about the run.
    """
    total = len(scores)
    predicted = removed(scores, config)
    lines = [f"{scores.lang} in {scores.run}: {total:,} documents scored by quality_filter "
             f"({int(scores.kept.sum()):,} kept by the run, {int(scores.removed_in_run.sum()):,} removed by "
             f"quality_filter); {scores.unscored:,} other {scores.lang} documents never reached it"]
    if scores.ledger is not None:
        lines.append(ledger_line(scores.lang, scores.ledger))
    differ = int((predicted != scores.removed_in_run).sum())
    check = ("the same documents the run removed" if not differ else
             f"{differ:,} documents decided otherwise than in the run (its cutoffs were not these)")
    lines.append(f"these cutoffs remove {int(predicted.sum()):,} ({100 * predicted.mean():.1f}%): {check}")
    return "\n".join(lines)


def ledger_line(lang: str, ledger: Mapping[str, Any]) -> str:
    """Return the documents a language ended with in the run's ledger, and where they came from:
    the same numbers as the summary table and the cards."""
    stages = ", ".join(f"{count:,} by {stage}" for stage, count in ledger["relabelled_in_by_stage"].items())
    return (f"the ledger: {ledger['documents']:,} {lang} documents = {ledger['in']:,} read as {lang} "
            f"+ {ledger['relabelled_in']:,} identified as {lang}{f' ({stages})' if stages else ''} "
            f"- {ledger['relabelled_out']:,} identified as another language "
            f"- {ledger['malformed']:,} malformed; {ledger['kept']:,} kept, {ledger['rejected']:,} rejected, "
            f"{ledger['duplicate']:,} duplicates")


def format_table(table: CutoffTable) -> str:
    """Return a cutoff table: each candidate, what its filter removes alone and with the others."""
    head = (f"{table.name}.{table.side} ({_DIRECTION[table.side]}); {table.with_score:,} of "
            f"{table.documents:,} documents have this score")
    lines = [head, f"  {'':<10} {'cutoff':>12}  {'by this filter':>14}  {'by all filters':>15}"]
    for row in table.rows:
        alone, together = (_share(n, table.documents) for n in (row.removed_alone, row.removed_together))
        lines.append(f"  {row.label:<10} {_number(row.cutoff):>12}  {alone}  {together:>15}")
    return "\n".join(lines)


def format_margins(margins: Sequence[Margin], config: LanguageConfig, name: str, side: Side,
                   width: int = 100) -> str:
    """Return the documents around a cutoff in score order, the cutoff drawn between them; texts
    cut to `width` characters on one line."""
    cutoff = cutoff_value(config, name, side)
    assert cutoff is not None, f"{name} is off"
    lines = [f"documents at the margin of {name}.{side} = {_number(cutoff)}:"]
    drawn = False
    for margin in margins:
        if not drawn and margin.inside != (side == "max"):
            lines.append(f"  {'-' * 10} {name}.{side} {_number(cutoff)} {'-' * 10}")
            drawn = True
        where = "inside " if margin.inside else "outside"
        others = f"; also removed by {', '.join(margin.others)}" if margin.others else ""
        lines.append(f"  {where} {_number(margin.score):>10}  {margin.id}{others}")
        lines.append(f"      {_one_line(margin.text, width)}")
    if not drawn:
        lines.append(f"  {'-' * 10} {name}.{side} {_number(cutoff)} {'-' * 10}")
    return "\n".join(lines)


def format_changes(scores: LanguageScores, config: LanguageConfig, candidate: LanguageConfig,
                   limit: int = 10, width: int = 100) -> str:
    """Return how many documents `candidate` decides otherwise than `config`, and the first `limit`
    of them with the filters they fail under `candidate`: exactly what an export changes in a run."""
    before, after = removed(scores, config), removed(scores, candidate)
    changed = np.flatnonzero(before != after)
    lines = [f"{len(changed):,} documents decided otherwise: {int((after & ~before).sum()):,} more removed, "
             f"{int((before & ~after).sum()):,} kept instead"]
    shown = changed[:limit]
    texts = read_texts(scores, [scores.ids[i] for i in shown])
    for index in shown:
        failed = failed_filters(scores.scores_of(index), candidate)
        verdict = f"removed ({', '.join(failed)})" if after[index] else "kept"
        lines.append(f"  {scores.ids[index]} {verdict}\n      {_one_line(texts[scores.ids[index]], width)}")
    if len(changed) > len(shown):
        lines.append(f"  … and {len(changed) - len(shown):,} more")
    return "\n".join(lines)


def tuning_report(scores: LanguageScores, config: LanguageConfig, changes: Mapping[str, float] | None = None,
                  names: Sequence[str] | None = None, examples: int = 2) -> str:
    """Return everything `roots tune` prints before an export: the summary, the effect of the
    candidate `changes` (`filter.side` → cutoff), then per filter (default: every filter that is on)
    its cutoff table and `examples` documents each side of its margin."""
    changes = dict(changes or {})
    candidate = with_cutoffs(config, changes)
    parts = [summary(scores, config)]
    if changes:
        before, after = int(removed(scores, config).sum()), int(removed(scores, candidate).sum())
        tried = ", ".join(f"{key}={_number(value)}" for key, value in changes.items())
        parts.append(f"with {tried}: quality_filter removes {after:,} ({100 * after / len(scores):.1f}%), "
                     f"{after - before:+,} documents")
        parts.append(format_changes(scores, config, candidate, limit=2 * examples))
    if names is None:
        names = [name for name in SCORES if getattr(config.filters, name) is not None]
    for name in names:
        if getattr(config.filters, name) is None:
            parts.append(f"\n{name}: off in {config.code}.yaml")
            continue
        for side in sides(name):
            key = f"{name}.{side}"
            tried = {"--set": changes[key]} if key in changes else None
            # "current" is the file's cutoff, shown with the other candidates in place.
            base = with_cutoffs(candidate, {key: cutoff_value(config, name, side)}) if tried else candidate
            parts.append("\n" + format_table(cutoff_table(scores, base, name, side, tried)))
            if examples and len(scores.present(name)):
                shown = margins(scores, candidate, name, side, examples)
                parts.append(format_margins(shown, candidate, name, side))
    return "\n".join(parts)
