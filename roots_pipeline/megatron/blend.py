"""Blend weights for training: per-language sampling weights, Megatron's `--data-path` strings, and
`blend.json`, the record of what `roots binarize` wrote (read by the corpus card).

Weights: p_i ∝ (n_i / N)^alpha over the languages' token counts n_i (all splits, EOD included),
normalised to sum to 1. alpha = 1 samples in proportion to size; smaller alpha flattens the
distribution towards uniform (alpha = 0), upsampling low-resource languages as XLM (0.3 to 0.7)
and BLOOM's tokenizer sampling did. The same language weights serve every split.

`data_path.txt` (or `train/data_path.txt` and `valid/data_path.txt`) holds one line, `W1 P1 W2 P2 …`,
for `--data-path` (or `--train-data-path` / `--valid-data-path`); a dataset with no document
in a split is left out of that split's line (Megatron cannot open an empty dataset). Prefixes are
the output folder as given joined with the dataset name, so relative stays relative.

`blend.json`, schema "roots-pipeline/megatron-blend/1"; counts are integers, `prefix` values are
relative to the output folder and null for a split that got no document:

    {"schema": "roots-pipeline/megatron-blend/1",
     "input": str, "output": str,                # the folders as given
     "tokenizer": {"path": str, "sha256": str, "vocab_size": int,
                   "eod_token": str | null, "eod_id": int | null},
     "dtype": "uint16" | "int32", "text_field": str,
     "valid_fraction": float, "alpha": float,
     "splits": ["all"] | ["train", "valid"],
     "languages": {lang: {"documents": int,      # read from the shards, empty ones included
                          "empty_documents": int, # encoded to no token: skipped, never written
                          "tokens": int, "text_bytes": int,  # written, over all splits
                          "weight": float,        # sampling probability; weights sum to 1
                          "splits": {split: {"prefix": str | null, "documents": int,
                                             "tokens": int, "text_bytes": int}}}},
     "merged": {split: {"prefix": ..., "documents": ..., "tokens": ..., "text_bytes": ...}} | null,
     "data_path": {split: "W1 P1 W2 P2 …"},
     "totals": {"documents": int, "empty_documents": int, "tokens": int, "text_bytes": int}}
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from roots_pipeline.errors import RootsError
from roots_pipeline.output.atomic import write_atomically
from roots_pipeline.output.run_folder import BLEND

SCHEMA = "roots-pipeline/megatron-blend/1"
DATA_PATH_FILE = "data_path.txt"


@dataclass
class SplitCounts:
    """What one dataset file pair holds; `prefix` (relative to the output folder) is None when empty."""

    prefix: str | None = None
    documents: int = 0
    tokens: int = 0
    text_bytes: int = 0


@dataclass
class LanguageCounts:
    """One language's documents read and skipped, and what each split received."""

    documents: int = 0
    empty_documents: int = 0
    splits: dict[str, SplitCounts] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return sum(split.tokens for split in self.splits.values())

    @property
    def text_bytes(self) -> int:
        return sum(split.text_bytes for split in self.splits.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LanguageCounts:
        return cls(data["documents"], data["empty_documents"],
                   {name: SplitCounts(**split) for name, split in data["splits"].items()})


def check_alpha(alpha: float) -> None:
    """Raise RootsError unless 0 ≤ alpha ≤ 1."""
    if not (math.isfinite(alpha) and 0.0 <= alpha <= 1.0):
        raise RootsError(f"--alpha {alpha}: must be between 0 (every language equally) and 1 (in proportion "
                         "to tokens); XLM-style upsampling of small languages uses 0.3 to 0.7")


def blend_weights(tokens: dict[str, int], alpha: float) -> dict[str, float]:
    """Return each language's sampling weight, (n_i / N)^alpha normalised to sum to 1 (0 if no token)."""
    check_alpha(alpha)
    total = sum(tokens.values())
    raw = {lang: (count / total) ** alpha if count else 0.0 for lang, count in tokens.items()}
    norm = sum(raw.values())
    return {lang: value / norm if norm else 0.0 for lang, value in raw.items()}


def data_path(entries: list[tuple[float, str]]) -> str:
    """Return Megatron's `--data-path` value, `W1 P1 W2 P2 …`, for (weight, prefix) pairs."""
    return " ".join(f"{weight:.8g} {prefix}" for weight, prefix in entries)


def blend_report(*, input_path: str, out: str, tokenizer: dict[str, Any], dtype: str, text_field: str,
                 valid_fraction: float, alpha: float, splits: tuple[str, ...],
                 languages: dict[str, LanguageCounts],
                 merged: dict[str, SplitCounts] | None) -> dict[str, Any]:
    """Return the content of `blend.json` (schema in the module docstring)."""
    weights = blend_weights({lang: counts.tokens for lang, counts in languages.items()}, alpha)
    paths = {split: data_path([(weights[lang], os.path.join(out, counts.splits[split].prefix))
                               for lang, counts in languages.items() if counts.splits[split].prefix])
             for split in splits}
    per_language = {lang: {"documents": c.documents, "empty_documents": c.empty_documents,
                           "tokens": c.tokens, "text_bytes": c.text_bytes, "weight": weights[lang],
                           "splits": {name: asdict(split) for name, split in c.splits.items()}}
                    for lang, c in languages.items()}
    totals = {key: sum(entry[key] for entry in per_language.values())
              for key in ("documents", "empty_documents", "tokens", "text_bytes")}
    return {"schema": SCHEMA, "input": input_path, "output": out, "tokenizer": tokenizer, "dtype": dtype,
            "text_field": text_field, "valid_fraction": valid_fraction, "alpha": alpha,
            "splits": list(splits),
            "languages": per_language,
            "merged": {name: asdict(split) for name, split in merged.items()} if merged is not None else None,
            "data_path": paths, "totals": totals}


def write_blend(out: str, report: dict[str, Any]) -> None:
    """Write `blend.json` and each split's `data_path.txt` (atomically) into the output folder."""
    for split, line in report["data_path"].items():
        folder = out if split == "all" else os.path.join(out, split)
        path = os.path.join(folder, DATA_PATH_FILE)
        if line:
            write_atomically(path, (line + "\n").encode())
        elif os.path.exists(path):  # an earlier run's line would name datasets this run did not write
            os.remove(path)
    write_atomically(os.path.join(out, BLEND),
                     (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode())
