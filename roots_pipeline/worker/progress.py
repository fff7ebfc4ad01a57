"""Live progress for local runs: documents read and written per stage while the pipeline runs.

The DirectRunner reports Beam Metrics only when a run ends, so DoFns also drop small JSON
snapshots of their counts into a local folder that a thread in the `roots` process sums and
prints. This is enabled only for local runners (the CLI passes no folder otherwise); on Dataflow
the same counts are Beam Metrics, shown in its console.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from apache_beam.metrics import Metrics

_FLUSH_SECONDS = 1.0


class ProgressCounter:
    """Counts events of one stage in one worker: Beam Metrics always, snapshots when local."""

    def __init__(self, folder: str | None, stage: str) -> None:
        self._folder = folder
        self._stage = stage
        self._counts: Counter[str] = Counter()
        self._metrics: dict[str, object] = {}
        self._file = Path(folder) / f"{stage}.{os.getpid()}.{uuid.uuid4().hex[:8]}.json" if folder else None
        self._flushed = 0.0

    def add(self, event: str, n: int = 1) -> None:
        """Count n events named `event` (e.g. `read`, `kept`, `rejected`)."""
        if n <= 0:
            return
        counter = self._metrics.get(event)
        if counter is None:
            counter = self._metrics[event] = Metrics.counter(self._stage, event)
        counter.inc(n)  # type: ignore[attr-defined]
        self._counts[event] += n
        if self._file is not None and time.monotonic() - self._flushed > _FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write this worker's snapshot (atomically, so the reader never sees half a file)."""
        if self._file is None:
            return
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"stage": self._stage, "counts": self._counts}))
        os.replace(tmp, self._file)
        self._flushed = time.monotonic()


def read_snapshots(folder: str) -> dict[str, Counter[str]]:
    """Sum every worker's snapshot per stage."""
    totals: dict[str, Counter[str]] = {}
    for path in Path(folder).glob("*.json"):
        try:
            snap = json.loads(path.read_text())
        except (OSError, ValueError):  # replaced while reading; the next poll gets it
            continue
        totals.setdefault(snap["stage"], Counter()).update(snap["counts"])
    return totals


def format_progress(totals: dict[str, Counter[str]], elapsed: float, order: Sequence[str] = ()) -> str:
    """Render one status line: `[12s] read oscar 1,204 · clean_text kept 1,180 · …`.

    Reads come first and writes last; stages in between follow `order` (the recipe's).
    """
    rank = {name: index for index, name in enumerate(order)}
    parts = []
    for stage in sorted(totals, key=lambda name: _stage_order(name, rank)):
        counts = totals[stage]
        parts.append(f"{stage} " + " ".join(f"{event} {n:,}" for event, n in sorted(counts.items())))
    return f"[{elapsed:5.0f}s] " + (" · ".join(parts) if parts else "starting…")


def _stage_order(stage: str, rank: dict[str, int]) -> tuple[int, int, str]:
    group = 0 if stage.startswith("read") else 2 if stage.startswith("write") else 1
    return (group, rank.get(stage, len(rank)), stage)


class ProgressDisplay:
    """A background thread printing the summed snapshots to stderr while the pipeline runs."""

    def __init__(self, folder: str, order: Sequence[str] = (), interval: float | None = None) -> None:
        self._folder = folder
        self._order = tuple(order)
        self._tty = sys.stderr.isatty()
        self._interval = interval or (1.0 if self._tty else 10.0)
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="roots-progress", daemon=True)

    def __enter__(self) -> ProgressDisplay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._print(final=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._print(final=False)

    def _print(self, final: bool) -> None:
        line = format_progress(read_snapshots(self._folder), time.monotonic() - self._start, self._order)
        write_status_line(line, self._tty, final)


def write_status_line(line: str, tty: bool, final: bool) -> None:
    """Show a progress line on stderr: on a terminal, in place of the previous one (cut to one row,
    or the next refresh could not erase the wrapped part; `final` keeps it); in a log, a line each."""
    if tty:
        width = shutil.get_terminal_size().columns
        line = line if len(line) < width else line[: width - 2] + "…"
        sys.stderr.write("\r\x1b[2K" + line + ("\n" if final else ""))
    else:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
