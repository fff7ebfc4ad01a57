"""`malformed.jsonl`: every input record that could not become a document, with file and offset."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator

import apache_beam as beam

from roots_pipeline.document import Malformed
from roots_pipeline.ledger import Count, Key, Tally
from roots_pipeline.output.atomic import write_atomically


def _write(records: Iterable[Malformed], path: str) -> None:
    """Write the records sorted by all their fields, so the file is identical on every run."""
    lines = [json.dumps(dataclasses.asdict(r), ensure_ascii=False) + "\n"
             for r in sorted(records, key=dataclasses.astuple)]
    write_atomically(path, "".join(lines).encode("utf-8"))


def _count(record: Malformed) -> Iterator[tuple[Key, Count]]:
    tally = Tally()
    tally.malformed(record, "malformed")
    return tally.items()


class WriteMalformed(beam.PTransform):
    """Collect Malformed records into one sorted file; outputs their ledger counts.

    The records are small (no text), so gathering them in one place is cheap even when a corpus
    has many; the file is written even when empty, so its absence always means a failed run.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path

    def expand(self, records: beam.PCollection) -> beam.PCollection:
        _ = records | "Gather" >> beam.combiners.ToList() | "Write" >> beam.Map(_write, self._path)
        return records | "Count" >> beam.FlatMap(_count)
