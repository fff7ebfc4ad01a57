"""Ingest throughput per source kind: the Beam pipeline against a plain Python loop, in one process.

For each source kind (oscar, catalogue, pseudo_crawl) the bundled demo data is replicated into a
temporary corpus, then read twice, interleaved, best of `--repeat`:

* the baseline: a plain loop over the same files with the same libraries (gzip/zstandard + json,
  pyarrow, warcio + trafilatura), applying the same text stages (`clean_text`, dropping empty
  documents) and writing the kept documents as Arrow, so both sides read, work and write;
* the pipeline: `run_recipe` on a one-kind recipe with the default stages, on the DirectRunner in
  `in_memory` mode (one thread), with the whole process pinned to one CPU.

Beam's fixed per-run cost (graph construction, runner start-up, the ledger's final steps) is
measured on a tiny input and reported apart; ratios are printed raw and with it subtracted.
Targets from the issue: pipeline time ≤ 1.25 × baseline for pseudo_crawl (trafilatura dominates),
≤ 2 × for oscar and catalogue (parsing is cheap, so per-element overhead shows). This is a
measurement: it exits 0 whatever the ratios; `--json` writes the figures.

    python bench/ingest.py [--scale 1.0] [--repeat 2] [--json figures.json] [--profile DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gzip
import io
import json
import os
import platform
import pstats
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

import apache_beam as beam
import datasets
import pyarrow as pa
import trafilatura
import yaml
import zstandard
from warcio.archiveiterator import ArchiveIterator

from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import run_recipe
from roots_pipeline.sources.html_text import charset_of, decode_html
from roots_pipeline.stages import DEFAULT_STAGES
from roots_pipeline.stages.clean_text import clean_text

DEMO = Path(__file__).resolve().parent.parent / "tests" / "data" / "demo"
BEAM_ARGS = ["--direct_running_mode=in_memory"]
MB = 1024 * 1024
KINDS = ("oscar", "catalogue", "pseudo_crawl")
# Pipeline time / baseline time allowed by the issue.
TARGETS = {"oscar": 2.0, "catalogue": 2.0, "pseudo_crawl": 1.25}
# Copies of the demo data per kind at --scale 1: each Beam run takes a few seconds on one core,
# long enough that timer noise is small, short enough that the bench takes about two minutes.
BASE_COPIES = {"oscar": 60, "catalogue": 150, "pseudo_crawl": 20}
OSCAR_PARTS = 2  # files per language in the oscar corpus
_OSCAR_NAME = re.compile(r"^(?P<lang>[A-Za-z_]+?)(?P<meta>_meta)?_part_\d+(?P<ext>\.jsonl\.(?:gz|zst))$")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_ARROW_SCHEMA = pa.schema([(name, pa.string()) for name in ("text", "lang", "url", "meta")])
_ARROW_BATCH = 1000


@dataclass(frozen=True)
class Corpus:
    """One source kind's bench input: recipe source entries, the files read, the uncompressed size."""

    kind: str
    sources: list[dict[str, Any]]
    files: list[Path]
    input_bytes: int


@dataclass(frozen=True)
class Count:
    """Documents read (records that became a document or a rejection) and documents kept."""

    docs_in: int
    kept: int


@dataclass
class Figures:
    """What the bench reports for one source kind."""

    kind: str
    docs: int
    input_mb: float
    baseline_s: float
    pipeline_s: float
    fixed_s: float
    target: float

    @property
    def ratio_raw(self) -> float:
        return self.pipeline_s / self.baseline_s

    @property
    def ratio_net(self) -> float:
        return max(self.pipeline_s - self.fixed_s, 0.0) / self.baseline_s

    def as_dict(self) -> dict[str, Any]:
        """Return the figures with the derived rates, for `--json`."""
        return {**asdict(self), "baseline_docs_per_s": self.docs / self.baseline_s,
                "baseline_mb_per_s": self.input_mb / self.baseline_s,
                "pipeline_docs_per_s": self.docs / self.pipeline_s,
                "pipeline_mb_per_s": self.input_mb / self.pipeline_s,
                "ratio_raw": self.ratio_raw, "ratio_net": self.ratio_net,
                "pass_raw": self.ratio_raw <= self.target, "pass_net": self.ratio_net <= self.target}


# --- building the corpus ------------------------------------------------------------------------

def decompressed_size(path: Path) -> int:
    """Return the uncompressed size of a .gz/.zst file: the MB of MB/s are bytes parsed, not stored."""
    with open_stream(path) as stream:
        return sum(len(chunk) for chunk in iter(lambda: stream.read(MB), b""))


def open_stream(path: Path) -> BinaryIO:
    """Open a possibly compressed file as a buffered, line-iterable binary stream."""
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if path.name.endswith(".zst"):
        reader = zstandard.ZstdDecompressor().stream_reader(path.open("rb"), read_across_frames=True)
        return io.BufferedReader(reader, MB)
    return path.open("rb")


def build_oscar(demo: Path, root: Path, copies: int) -> Corpus:
    """Write each demo OSCAR file `copies` times over, as `OSCAR_PARTS` files per language.

    Copies are concatenated (gzip members and zstd frames may follow one another) rather than
    written as separate files: real OSCAR parts hold hundreds of MB, and thousands of 80-document
    files would measure per-file set-up instead of per-document work.
    """
    folder = root / "oscar"
    folder.mkdir(parents=True)
    files, total = [], 0
    for source in sorted((demo / "oscar").iterdir()):
        match = _OSCAR_NAME.match(source.name)
        if not match:
            continue
        size = decompressed_size(source)
        data = source.read_bytes()
        parts = min(OSCAR_PARTS, copies)
        for part in range(1, parts + 1):
            target = folder / f"{match['lang']}{match['meta'] or ''}_part_{part}{match['ext']}"
            repeats = copies // parts + (1 if part <= copies % parts else 0)
            target.write_bytes(data * repeats)
            files.append(target)
            total += size * repeats
    return Corpus("oscar", [{"kind": "oscar", "paths": [f"{folder}/*.jsonl.*"]}], files, total)


def build_catalogue(demo: Path, root: Path, copies: int) -> Corpus:
    """Write one save_to_disk dataset per demo dataset, each the demo one concatenated `copies` times."""
    sources, files = [], []
    for source in sorted(p for p in (demo / "catalogue").iterdir() if (p / "state.json").exists()):
        loaded = datasets.load_from_disk(str(source))
        target = root / "catalogue" / source.name
        datasets.concatenate_datasets([loaded] * copies).save_to_disk(str(target))
        listed = json.loads((target / "state.json").read_text())["_data_files"]
        files += [target / entry["filename"] for entry in listed]
        # Demo folders are named `<corpus>_<lang>`.
        sources.append({"kind": "catalogue", "paths": [str(target)], "lang": source.name.rsplit("_", 1)[1],
                        "dataset": source.name})
    return Corpus("catalogue", sources, files, sum(f.stat().st_size for f in files))


def build_pseudo_crawl(demo: Path, root: Path, copies: int) -> Corpus:
    """Copy every demo WARC file `copies` times (no seed list, so every HTML page is extracted)."""
    folder = root / "pseudo_crawl"
    folder.mkdir(parents=True)
    files, total = [], 0
    for source in sorted((demo / "pseudo_crawl").glob("*.warc.gz")):
        size = decompressed_size(source)
        for copy in range(copies):
            target = folder / f"{source.name.removesuffix('.warc.gz')}-{copy:04d}.warc.gz"
            shutil.copyfile(source, target)
            files.append(target)
            total += size
    return Corpus("pseudo_crawl", [{"kind": "pseudo_crawl", "paths": [f"{folder}/*.warc.gz"]}], files, total)


def build_tiny_demo(demo: Path, root: Path) -> Path:
    """Copy the demo folder cut to one record per file (per dataset), and return the copy.

    A corpus built from it has the same recipe shape as the real one (same sources, same files),
    so its pipeline run costs what a run costs whatever its input: Beam's fixed per-run cost.
    """
    tiny = root / "tiny-demo"
    (tiny / "oscar").mkdir(parents=True)
    for source in sorted((demo / "oscar").iterdir()):
        if _OSCAR_NAME.match(source.name):
            with open_stream(source) as stream:
                first = stream.readline()
            packed = (zstandard.ZstdCompressor().compress(first) if source.name.endswith(".zst")
                      else gzip.compress(first))
            (tiny / "oscar" / source.name).write_bytes(packed)
    for source in sorted(p for p in (demo / "catalogue").iterdir() if (p / "state.json").exists()):
        first_row = datasets.load_from_disk(str(source)).select(range(1))
        first_row.save_to_disk(str(tiny / "catalogue" / source.name))
    (tiny / "pseudo_crawl").mkdir()
    for source in sorted((demo / "pseudo_crawl").glob("*.warc.gz")):
        (tiny / "pseudo_crawl" / source.name).write_bytes(first_response(source))
    return tiny


def first_response(path: Path) -> bytes:
    """Return the bytes of a .warc.gz up to the end of its first response record.

    Each record of a .warc.gz is its own gzip member, so a prefix cut at a record boundary is
    itself a valid WARC file.
    """
    data = path.read_bytes()
    with io.BytesIO(data) as handle:
        records = ArchiveIterator(handle)
        seen_response = False
        for record in records:
            if seen_response:
                return data[:records.offset]
            seen_response = record.rec_type == "response"
    return data


BUILDERS: dict[str, Callable[[Path, Path, int], Corpus]] = {
    "oscar": build_oscar, "catalogue": build_catalogue, "pseudo_crawl": build_pseudo_crawl}


# --- the baseline: plain loops ------------------------------------------------------------------

class ArrowSink:
    """Writes rows to one Arrow IPC stream in batches, like the pipeline's shards (minus sorting)."""

    def __init__(self, path: Path) -> None:
        self._handle = path.open("wb")
        self._writer = pa.ipc.new_stream(self._handle, _ARROW_SCHEMA)
        self._rows: list[dict[str, Any]] = []

    def add(self, text: str, lang: str, url: str | None, meta: dict[str, Any]) -> None:
        self._rows.append({"text": text, "lang": lang, "url": url,
                           "meta": json.dumps(meta, ensure_ascii=False, default=str)})
        if len(self._rows) >= _ARROW_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_batch(pa.RecordBatch.from_pylist(self._rows, schema=_ARROW_SCHEMA))
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()
        self._handle.close()


def keep(text: str) -> str | None:
    """Apply the default stages' logic (clean_text, drop empty documents); None means rejected."""
    text = clean_text(text)
    return text if text else None


def oscar_document(record: dict[str, Any]) -> tuple[Any, str | None, dict[str, Any]]:
    """Return (text, url, meta) of an OSCAR record in the 21.09 or the 22.01/23.01 layout."""
    if "content" in record:
        headers = record.get("warc_headers") or {}
        metadata = record.get("metadata") or {}
        meta = {k: metadata[k] for k in ("harmful_pp", "quality_warnings", "categories") if metadata.get(k)}
        return record["content"], headers.get("warc-target-uri"), meta
    headers = (record.get("meta") or {}).get("headers") or {}
    return record.get("text"), headers.get("warc-target-uri"), {"oscar_id": record.get("id")}


def baseline_oscar(corpus: Corpus, out: Path) -> Count:
    """Decompress, json.loads and build a document per line; write the kept ones as Arrow."""
    docs_in = kept = 0
    for path in corpus.files:
        lang = path.name.split("_", 1)[0]
        sink = ArrowSink(out / f"{path.name}.arrow")
        with open_stream(path) as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                text, url, meta = oscar_document(json.loads(line))
                docs_in += 1
                text = keep(text)
                if text is not None:
                    kept += 1
                    sink.add(text, lang, url, {"file": path.name, "line": number, **meta})
        sink.close()
    return Count(docs_in, kept)


def baseline_catalogue(corpus: Corpus, out: Path) -> Count:
    """Read the Arrow files memory-mapped, batch by batch, to_pylist; write the kept rows as Arrow."""
    docs_in = kept = 0
    for index, path in enumerate(corpus.files):
        lang = path.parent.name.rsplit("_", 1)[1]
        sink = ArrowSink(out / f"{index}.arrow")
        row = 0
        with pa.memory_map(str(path)) as handle:
            for batch in pa.ipc.open_stream(handle):
                for record in batch.to_pylist():
                    text = keep(record.pop("text"))
                    docs_in += 1
                    row += 1
                    if text is not None:
                        kept += 1
                        sink.add(text, lang, None, {"file": path.name, "row": row, **record})
        sink.close()
    return Count(docs_in, kept)


def extract(html: str, url: str) -> str:
    """trafilatura with the options of roots_pipeline.sources.html_text.extract_text."""
    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=True,
                               include_links=False, include_images=False, deduplicate=False,
                               with_metadata=False, output_format="txt")
    return text or ""


def baseline_pseudo_crawl(corpus: Corpus, out: Path) -> Count:
    """warcio over each file, trafilatura on every HTML response; write the kept pages as Arrow.

    Pages are decoded with the package's `decode_html` (a charset lookup and one regex) so that
    trafilatura receives exactly the string it receives in the pipeline.
    """
    docs_in = kept = 0
    for path in corpus.files:
        sink = ArrowSink(out / f"{path.name}.arrow")
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle, arc2warc=True):
                if record.rec_type != "response":
                    continue
                docs_in += 1
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                content_type = record.http_headers.get_header("Content-Type") if record.http_headers else None
                if not content_type or content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
                    continue
                html = decode_html(record.content_stream().read(), charset_of(content_type))
                text = keep(extract(html, url))
                if text is not None:
                    kept += 1
                    sink.add(text, "und", url, {"file": path.name, "content_type": content_type})
        sink.close()
    return Count(docs_in, kept)


BASELINES: dict[str, Callable[[Corpus, Path], Count]] = {
    "oscar": baseline_oscar, "catalogue": baseline_catalogue, "pseudo_crawl": baseline_pseudo_crawl}


# --- the pipeline -------------------------------------------------------------------------------

def write_recipe(corpus: Corpus, root: Path) -> Path:
    """Write a one-kind recipe with the default stages; load_recipe then validates it as users' are."""
    recipe = {"name": f"bench-{corpus.kind}", "output": str(root / f"run-{corpus.kind}"),
              "sources": corpus.sources,
              "stages": [{name: dict(options)} for name, options in DEFAULT_STAGES]}
    path = root / f"{corpus.kind}.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def run_pipeline(recipe_path: Path, profiler: cProfile.Profile | None = None) -> Count:
    """Run the recipe once (forced, so every run does the whole work) and return its ledger totals."""
    recipe = load_recipe(str(recipe_path))
    if profiler is not None:
        profiler.enable()
    try:
        result = run_recipe(recipe, BEAM_ARGS, force=True, show_progress=False)
    finally:
        if profiler is not None:
            profiler.disable()
    rows = result.stats["balance"]
    return Count(sum(r["in"] for r in rows), sum(r["kept"] for r in rows))


# --- timing -------------------------------------------------------------------------------------

def timed(work: Callable[[], Count]) -> tuple[float, Count]:
    """Return (seconds, result) of one call."""
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def fresh_folder(root: Path, name: str) -> Path:
    """Return an empty folder (the baseline's output), removing what the previous repetition wrote."""
    folder = root / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def measure_fixed_cost(tiny: Corpus, root: Path, repeat: int) -> float:
    """Best pipeline time of the kind's recipe on the tiny corpus: Beam's fixed per-run cost."""
    recipe = write_recipe(tiny, root)
    return min(timed(lambda: run_pipeline(recipe))[0] for _ in range(repeat))


def measure(corpus: Corpus, root: Path, repeat: int, fixed_s: float) -> Figures:
    """Time baseline and pipeline alternately, `repeat` times each; keep the best of each."""
    recipe = write_recipe(corpus, root)
    baseline_times, pipeline_times = [], []
    for _ in range(repeat):
        seconds, base = timed(lambda: BASELINES[corpus.kind](corpus, fresh_folder(root, "baseline")))
        baseline_times.append(seconds)
        seconds, piped = timed(lambda: run_pipeline(recipe))
        pipeline_times.append(seconds)
    if base != piped:
        print(f"warning: {corpus.kind}: baseline read/kept {base.docs_in}/{base.kept} documents, "
              f"pipeline {piped.docs_in}/{piped.kept}: the two do not do the same work", file=sys.stderr)
    return Figures(corpus.kind, piped.docs_in, corpus.input_bytes / MB, min(baseline_times),
                   min(pipeline_times), fixed_s, TARGETS[corpus.kind])


def profile_pipeline(corpus: Corpus, root: Path, folder: Path, top: int = 25) -> None:
    """Profile one pipeline run; save `<kind>.prof` and print the top roots_pipeline functions."""
    profiler = cProfile.Profile()
    run_pipeline(write_recipe(corpus, root), profiler)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{corpus.kind}.prof"
    profiler.dump_stats(str(path))
    print(f"\n--- profile of the {corpus.kind} pipeline run ({path}), by own time then cumulative ---")
    stats = pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime")
    stats.print_stats(top)
    stats.sort_stats("cumulative").print_stats("roots_pipeline", top)


# --- reporting ----------------------------------------------------------------------------------

def table(rows: list[Figures]) -> str:
    """Render the figures as a fixed-width table with both ratios and their verdicts."""
    head = (f"{'source':<13}{'docs':>8}{'in MB':>8}  {'base docs/s':>11}{'MB/s':>7}  "
            f"{'beam docs/s':>11}{'MB/s':>7}  {'fixed s':>7}  {'raw':>5}{'net':>6}  {'target':>6}  "
            f"{'raw':<5}{'net':<5}")
    lines = [head, "-" * len(head)]
    for f in rows:
        verdicts = ["PASS" if r <= f.target else "OVER" for r in (f.ratio_raw, f.ratio_net)]
        lines.append(
            f"{f.kind:<13}{f.docs:>8,}{f.input_mb:>8.1f}  {f.docs / f.baseline_s:>11,.0f}"
            f"{f.input_mb / f.baseline_s:>7.2f}  {f.docs / f.pipeline_s:>11,.0f}"
            f"{f.input_mb / f.pipeline_s:>7.2f}  {f.fixed_s:>7.2f}  {f.ratio_raw:>5.2f}{f.ratio_net:>6.2f}  "
            f"{'≤' + format(f.target, 'g'):>6}  {verdicts[0]:<5}{verdicts[1]:<5}")
    lines.append("raw = pipeline time / baseline time; net = (pipeline time - fixed s) / baseline time;")
    lines.append("fixed s = the same recipe run on a one-record-per-file copy (Beam's fixed per-run cost).")
    lines.append("in MB = uncompressed input (jsonl, Arrow, WARC) bytes; docs = records read.")
    return "\n".join(lines)


def pin_to_one_cpu() -> int | None:
    """Pin every thread of this process to one CPU, so 'one core' holds for pyarrow's pools too."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    for tid in os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else ["0"]:
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(tid), {cpu})
    return cpu


def positive(value: str) -> int:
    """An argparse type: an integer of at least 1."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the number of copies of the demo data (default 1: about 2 minutes)")
    parser.add_argument("--repeat", type=positive, default=2, help="runs of each side; the best is kept")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--demo", type=Path, default=DEMO, help="the demo data to replicate")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="after timing, profile one pipeline run per kind into DIR/<kind>.prof")
    return parser.parse_args(argv)


def build_corpora(args: argparse.Namespace, root: Path) -> list[tuple[Corpus, Corpus]]:
    """Build each requested kind's bench corpus and its tiny twin, printing their sizes."""
    tiny_demo = build_tiny_demo(args.demo, root)
    built = []
    for kind in args.kinds:
        copies = max(1, round(BASE_COPIES[kind] * args.scale))
        started = time.perf_counter()
        corpus = BUILDERS[kind](args.demo, root / "bench", copies)
        tiny = BUILDERS[kind](tiny_demo, root / "tiny", 1)
        print(f"{kind}: {copies} copies, {len(corpus.files)} files, {corpus.input_bytes / MB:.1f} MB "
              f"(built in {time.perf_counter() - started:.1f} s)", file=sys.stderr)
        built.append((corpus, tiny))
    return built


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    datasets.disable_progress_bars()  # save_to_disk's bars would bury the table
    cpu = pin_to_one_cpu()
    with tempfile.TemporaryDirectory(prefix="roots-bench-") as temporary:
        root = Path(temporary)
        built = build_corpora(args, root)
        run_pipeline(write_recipe(built[0][1], root / "tiny"))  # warm-up: first-run imports and caches
        figures = []
        for corpus, tiny in built:
            fixed_s = measure_fixed_cost(tiny, root / "tiny", args.repeat)
            figures.append(measure(corpus, root / "bench", args.repeat, fixed_s))
            done = figures[-1]
            print(f"{corpus.kind}: fixed per-run cost {fixed_s:.2f} s, baseline {done.baseline_s:.2f} s, "
                  f"pipeline {done.pipeline_s:.2f} s", file=sys.stderr)
        print(f"\nroots-pipeline ingest bench: CPU {cpu if cpu is not None else '?'} only, "
              f"DirectRunner in_memory, best of {args.repeat}, scale {args.scale:g}")
        print(table(figures))
        if args.json:
            args.json.write_text(json.dumps({
                "scale": args.scale, "repeat": args.repeat, "beam_args": BEAM_ARGS,
                "python": platform.python_version(), "apache_beam": beam.__version__, "pinned_cpu": cpu,
                "kinds": [f.as_dict() for f in figures]}, indent=2) + "\n")
        if args.profile:
            for corpus, _ in built:
                profile_pipeline(corpus, root / "bench", args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
