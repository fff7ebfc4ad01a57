"""`roots score`: the quality filter's scores and decisions for JSON lines, outside any pipeline.

Each input line is a JSON object with a string `text`; it is written back with every field
unchanged plus `scores` (ROOTS's eight scores by name, computed exactly as the `quality_filter`
stage computes them, on the stage-A text) and `rejected_by` (every filter it fails, in ROOTS's
order). Lines are scored in batches so the models are called once per batch.

A line that cannot be scored (not UTF-8, not JSON, no string `text`) either stops the command —
after every line before it has been written, so the output is a complete prefix — or, when the
caller passes `on_bad`, is reported to it and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from roots_pipeline.errors import RootsError
from roots_pipeline.filters.quality import QualityScorer
from roots_pipeline.sources.json_line import decode_json_line

BATCH_LINES = 256


def _parse(line: bytes, where: str, first: bool) -> dict:
    try:
        record = decode_json_line(line, first)
    except UnicodeDecodeError as exc:
        raise RootsError(f"{where}: not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise RootsError(f"{where}: not JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise RootsError(f"{where}: not JSON (nested too deeply)") from exc
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise RootsError(f"{where}: expected a JSON object with a string `text` field")
    return record


def score_lines(lines: Iterable[bytes], lang: str, scorer: QualityScorer, name: str = "<stdin>",
                on_bad: Callable[[RootsError], None] | None = None) -> Iterator[str]:
    """Yield one output line per scorable non-blank input line, in order.

    A bad line raises RootsError naming `name` and its line number once the lines before it are
    yielded; with `on_bad`, the error is passed to it instead and the line is skipped.
    """
    batch: list[dict] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            batch.append(_parse(line, f"{name}:{number}", first=number == 1))
        except RootsError as exc:
            if on_bad is None:
                yield from _score_batch(batch, lang, scorer)
                raise
            on_bad(exc)
            continue
        if len(batch) >= BATCH_LINES:
            yield from _score_batch(batch, lang, scorer)
            batch = []
    yield from _score_batch(batch, lang, scorer)


def _score_batch(records: list[dict], lang: str, scorer: QualityScorer) -> Iterator[str]:
    if not records:
        return
    results = scorer.score([record["text"] for record in records], lang)
    for record, (_, scores, failed) in zip(records, results, strict=True):
        record["scores"] = scores
        record["rejected_by"] = failed
        yield json.dumps(record, ensure_ascii=False)
