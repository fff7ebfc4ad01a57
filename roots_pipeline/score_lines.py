"""`roots score`: the quality filter's scores and decisions for JSON lines, outside any pipeline.

Each input line is a JSON object with a string `text`; it is written back with every field
unchanged plus `scores` (ROOTS's eight scores by name, computed exactly as the `quality_filter`
stage computes them, on the stage-A text) and `rejected_by` (every filter it fails, in ROOTS's
order). Lines are scored in batches so the models are called once per batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from roots_pipeline.errors import RootsError
from roots_pipeline.filters.quality import QualityScorer

BATCH_LINES = 256


def _parse(line: str, where: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RootsError(f"{where}: not JSON ({exc.msg})") from exc
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise RootsError(f"{where}: expected a JSON object with a string `text` field")
    return record


def score_lines(lines: Iterable[str], lang: str, scorer: QualityScorer,
                name: str = "<stdin>") -> Iterator[str]:
    """Yield one output line per non-blank input line, in order; a bad line raises RootsError
    naming `name` and its line number (nothing after it is scored)."""
    batch: list[dict] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        batch.append(_parse(line, f"{name}:{number}"))
        if len(batch) >= BATCH_LINES:
            yield from _score_batch(batch, lang, scorer)
            batch = []
    if batch:
        yield from _score_batch(batch, lang, scorer)


def _score_batch(records: list[dict], lang: str, scorer: QualityScorer) -> Iterator[str]:
    results = scorer.score([record["text"] for record in records], lang)
    for record, (_, scores, failed) in zip(records, results, strict=True):
        record["scores"] = scores
        record["rejected_by"] = failed
        yield json.dumps(record, ensure_ascii=False)
