"""What a cutoff removes, on stored scores: alone, together with the other filters, and at its margin.

Every decision is `filters.scorer.failed_filters`, the rule the `quality_filter` stage applies, so a
prediction here is what a run with the same cutoffs does. It is not called once per document:
one side of a cutoff fails a prefix (min) or a suffix (max) of the documents sorted by score, so
a binary search finds that side's count in a few calls, whatever the number of documents. A
filter with both sides (number_words) is searched one side at a time, the other side moved out
of the way of every stored score.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from roots_pipeline.errors import OptionError, RootsError
from roots_pipeline.filters import SCORES
from roots_pipeline.filters.scorer import failed_filters
from roots_pipeline.lang.config import LanguageConfig
from roots_pipeline.tuning.scores import LanguageScores, read_texts

Side = Literal["min", "max"]
QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


def sides(name: str) -> tuple[Side, ...]:
    """Return the cutoffs a filter can have ("min", "max" or both), checking that the name exists."""
    spec = SCORES.get(name)
    if spec is None:
        raise RootsError(f"{name}: no such filter (filters: {', '.join(SCORES)})")
    return (("min",) if spec.has_min_cutoff else ()) + (("max",) if spec.has_max_cutoff else ())


def cutoff_value(config: LanguageConfig, name: str, side: Side) -> float | None:
    """Return one side of a filter's cutoff in `config`, None when the filter is off."""
    cutoff = getattr(config.filters, name)
    return None if cutoff is None else getattr(cutoff, side)


def with_cutoffs(config: LanguageConfig, changes: Mapping[str, float]) -> LanguageConfig:
    """Return `config` with cutoffs changed, keyed `filter.side` (`closed_class_words.min`).

    Values are checked as the language file's loader checks them; a whole-number cutoff
    (number_words) must be a whole number. Only filters that are on can be tuned: turning one on
    also takes settings that are not cutoffs (an n-gram length), so it is an edit by hand.
    """
    filters = config.filters
    for key, value in changes.items():
        name, _, side = key.partition(".")
        if side not in sides(name):
            allowed = " or ".join(f"{name}.{s}" for s in sides(name))
            raise RootsError(f"{key}: not a cutoff (use {allowed})")
        cutoff = getattr(filters, name)
        if cutoff is None:
            raise RootsError(f"{key}: the {name} filter is off in {config.code}.yaml; turn it on by hand "
                             "first (languages/README.md)")
        filters = dataclasses.replace(filters, **{name: _replace(cutoff, key, side, value)})
    return dataclasses.replace(config, filters=filters)


def _replace(cutoff: object, key: str, side: str, value: float) -> object:
    """Return a cutoff dataclass with one side changed, validated by the dataclass itself."""
    if not math.isfinite(value):
        raise RootsError(f"{key}: must be a finite number, got {value!r}")
    if typing.get_type_hints(type(cutoff))[side] is int:
        if not float(value).is_integer():
            raise RootsError(f"{key}: must be a whole number, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    try:
        return dataclasses.replace(cutoff, **{side: value})  # type: ignore[type-var]
    except OptionError as exc:  # it names the field at fault: the other side, for a max below a min
        raise RootsError(f"{key.partition('.')[0]}.{exc.field}: {exc.problem}") from exc


def failing(scores: LanguageScores, config: LanguageConfig, name: str) -> np.ndarray:
    """Return a mask of the documents that filter `name` removes with `config`'s cutoffs (alone)."""
    mask = np.zeros(len(scores), dtype=bool)
    if getattr(config.filters, name) is None:
        return mask
    order = scores.present(name)
    for side in sides(name):
        count = _count(scores, config, name, side)
        mask[order[:count] if side == "min" else order[len(order) - count:]] = True
    return mask


def removed(scores: LanguageScores, config: LanguageConfig) -> np.ndarray:
    """Return a mask of the documents `quality_filter` removes with `config`: any filter fails."""
    mask = np.zeros(len(scores), dtype=bool)
    for name in SCORES:
        mask |= failing(scores, config, name)
    return mask


def _count(scores: LanguageScores, config: LanguageConfig, name: str, side: Side) -> int:
    """Return how many documents one side of a filter's cutoff removes, by binary search."""
    values = scores.sorted_values(name)
    only = _one_side(config, name, side, values)

    def fails(position: int) -> bool:
        return bool(failed_filters({name: values[position].item()}, only))

    low, high = 0, len(values)  # find the first position that passes (min) or fails (max)
    while low < high:
        middle = (low + high) // 2
        if fails(middle) == (side == "min"):
            low = middle + 1
        else:
            high = middle
    return low if side == "min" else len(values) - low


def _one_side(config: LanguageConfig, name: str, side: Side, values: np.ndarray) -> LanguageConfig:
    """Return `config` with the other side of a two-sided filter passing every stored score."""
    other = {"min": "max", "max": "min"}[side]
    if other not in sides(name) or not len(values):
        return config
    current = cutoff_value(config, name, other)
    assert current is not None
    bound = max(current, math.ceil(values[-1])) if other == "max" else min(current, math.floor(values[0]))
    return with_cutoffs(config, {f"{name}.{other}": bound})


@dataclass(frozen=True)
class CutoffRow:
    """One candidate cutoff and the documents it removes: by its filter alone and with the others."""

    label: str  # "current", a caller's label, or the quantile of the scores it sits at ("q0.05")
    cutoff: float
    removed_alone: int
    removed_together: int


@dataclass(frozen=True)
class CutoffTable:
    """Candidate cutoffs for one side of one filter, on `documents` scored documents."""

    name: str
    side: Side
    documents: int
    with_score: int  # documents that have this score (a model or word list may be missing)
    rows: tuple[CutoffRow, ...]


def cutoff_table(scores: LanguageScores, config: LanguageConfig, name: str, side: Side,
                 candidates: Mapping[str, float] | None = None,
                 quantiles: Sequence[float] = QUANTILES) -> CutoffTable:
    """Return what `config`'s cutoff ("current") removes, and each candidate in its place.

    Candidates are `candidates` (label → cutoff) and the stored scores at `quantiles`, each of
    which removes a round share of the documents. The other filters keep `config`'s cutoffs.
    """
    sides(name)
    current = cutoff_value(config, name, side)
    if current is None:
        raise RootsError(f"{name}.{side}: the {name} filter is off in {config.code}.yaml")
    present = scores.sorted_values(name)
    at_quantiles = np.quantile(present, quantiles, method="inverted_cdf") if len(present) else ()
    labelled = [("current", float(current)), *(candidates or {}).items()]
    rows = []
    for label, value in labelled + [(f"q{q:g}", float(v)) for q, v in zip(quantiles, at_quantiles,
                                                                           strict=False)]:
        try:
            candidate = with_cutoffs(config, {f"{name}.{side}": value})
        except RootsError:
            if (label, value) in labelled:
                raise
            continue  # a quantile the filter's other side rules out (a max below the min) is no candidate
        rows.append(CutoffRow(label, value, int(failing(scores, candidate, name).sum()),
                              int(removed(scores, candidate).sum())))
    return CutoffTable(name, side, len(scores), len(present), tuple(rows))


@dataclass(frozen=True)
class Margin:
    """A document near a cutoff: `inside` = this filter keeps it; `others` = filters that remove it
    anyway (changing this cutoff does not bring it back); `kept_in_run` = it is in data/."""

    id: str
    score: float
    inside: bool
    others: tuple[str, ...]
    kept_in_run: bool
    text: str


def margins(scores: LanguageScores, config: LanguageConfig, name: str, side: Side,
            count: int = 3) -> list[Margin]:
    """Return up to `count` documents just inside and just outside one side of a cutoff, by score.

    These are the documents a small change of the cutoff decides: reading them says whether the
    cutoff sits in the right place.
    """
    if cutoff_value(config, name, side) is None:
        raise RootsError(f"{name}.{side}: the {name} filter is off in {config.code}.yaml")
    order = scores.present(name)
    boundary = _count(scores, config, name, side)
    if side == "max":
        boundary = len(order) - boundary
    chosen = order[max(0, boundary - count): boundary + count]
    texts = read_texts(scores, [scores.ids[i] for i in chosen])
    result = []
    for position, index in enumerate(chosen, start=max(0, boundary - count)):
        failed = failed_filters(scores.scores_of(index), config)
        result.append(Margin(
            id=scores.ids[index], score=float(scores.values[name][index]),
            inside=(position >= boundary) == (side == "min"),
            others=tuple(f for f in failed if f != name), kept_in_run=bool(scores.kept[index]),
            text=texts[scores.ids[index]]))
    return result
