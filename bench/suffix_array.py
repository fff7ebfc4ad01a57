"""Exact-substring dedup as the corpus grows: the `suffix_array_dedup` stage (charged anchors) on
Beam against one suffix array over the same text, time per MB at a fixed part size, shuffle,
worker memory, and a projected cost per language on a cluster.

    python bench/suffix_array.py [--real-mb 4,16] [--real-part-mb 1] [--gen-mb 200,1000]
                                 [--gen-part-mb 128] [--workers 2] [--json figures.json]

Corpora, written as JSON lines (id, order, lang, text) to a temporary folder deleted at the end;
each smaller size is a prefix of the larger one, so the sizes differ only in how much there is:

* real: English man pages from this machine (`/usr/share/man/man*/*.gz`, troff sources, one
  document per page, in path order): real text, with the real repetition of licence headers,
  macros and boilerplate (`--real-mb` sizes, `--real-part-mb` parts);
* generated: documents in the demo's languages and proportions, each a sequence of segments of
  64-1,024 characters: with probability `--dup-rate` a copy of a stretch of an earlier document
  of its language, otherwise fresh text sampled word by word from the demo's words (`--gen-mb`,
  `--gen-part-mb`).

For each corpus and size, each in its own process:

* **suffix array**: per language, `suffix_array.duplicate_spans` over the documents in reading
  order, one array per language: what the stage's answer must equal, and the single-array
  baseline (CPU seconds, one core);
* **anchors**: the stage's algorithm in one process (`find_duplicate_spans_by_anchors` with the
  stage's number of groups and bundles of its buffer size), checked span for span against the
  suffix array, and the packed records' bytes: what the stage writes to its scratch files and
  reads back (its shuffles carry their places);
* **stage**: a Beam pipeline reading the JSON lines, with the stage and without it, on the
  DirectRunner's `multi_processing` mode with `--workers` workers and the fixes `roots run`
  applies to it (`runner.direct_runner_fixes`, two heap arenas); the stage's CPU seconds (all
  processes) and wall seconds are the difference, and the largest worker's peak RSS (psutil,
  polled) is its memory. Its counts (documents changed, bytes removed) must equal the algorithm's.

Targets (issue 16): at a fixed part size, time per MB of the larger corpus over the smaller at
most 1.3; the stage at least 2 MB/s per core, and within 2x of the single suffix array; the
worker's memory not growing with the corpus. It exits 1 only if an exactness or count check
fails; timings are measurements, never asserted.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

MB = 1024 * 1024
MIN_BYTES = 50
MAX_TOKEN_BYTES = 24
SEGMENT_CHARS = (64, 1024)
REPO = Path(__file__).resolve().parent.parent
MAN_PAGES = Path("/usr/share/man")
# A 100-worker cluster of the projection: one core a worker, at the measured constants.
CLUSTER_WORKERS = 100
PROJECTED_GB = (1, 10, 100, 500)


# --- corpora ------------------------------------------------------------------------------------

def man_page_records(megabytes: float) -> list[dict[str, Any]]:
    """Return English man pages (troff sources) in path order, about `megabytes` MB of them."""
    records, total = [], 0
    for path in sorted(MAN_PAGES.glob("man*/*.gz")):
        try:
            text = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        except (OSError, EOFError):
            continue
        records.append({"lang": "en", "text": text})
        total += len(text.encode("utf-8"))
        if total >= megabytes * MB:
            break
    return records


def demo_texts() -> dict[str, list[str]]:
    """Return the texts the demo recipe reads, per language."""
    from roots_pipeline.document import Document
    from roots_pipeline.recipe import load_recipe
    from roots_pipeline.sources.read import plan_source

    recipe = load_recipe(str(REPO / "pipelines" / "demo.yaml"))
    texts: dict[str, list[str]] = defaultdict(list)
    for index, spec in enumerate(recipe.sources):
        for split in plan_source(spec, recipe.limits, f"sources[{index}]", index):
            for item in split.read():
                if isinstance(item, Document):
                    texts[item.lang].append(item.text)
    return texts


def tokens(text: str) -> Iterator[str]:
    """Yield the whitespace tokens of a text, tokens over MAX_TOKEN_BYTES cut into 8 characters."""
    for token in text.split():
        if len(token.encode("utf-8")) <= MAX_TOKEN_BYTES:
            yield token
        else:
            yield from (token[i:i + 8] for i in range(0, len(token), 8))


def generated_records(megabytes: float, dup_rate: float, seed: int) -> Iterator[dict[str, Any]]:
    """Yield documents, about `megabytes` MB, in the demo's languages with copied segments."""
    rng = random.Random(seed)
    demo = demo_texts()
    words = {lang: [w for text in texts for w in tokens(text)] for lang, texts in demo.items()}
    langs = sorted(lang for lang in words if words[lang])
    weights = [len(demo[lang]) for lang in langs]
    recent: dict[str, list[str]] = defaultdict(list)
    total = 0
    while total < megabytes * MB:
        lang = rng.choices(langs, weights)[0]
        target = len(rng.choice(demo[lang]))
        segments, size = [], 0
        while size < target:
            length = rng.randint(*SEGMENT_CHARS)
            if recent[lang] and rng.random() < dup_rate:
                source = rng.choice(recent[lang])
                start = rng.randrange(max(1, len(source) - length))
                segment = source[start:start + length]
            else:
                segment = " ".join(rng.choices(words[lang], k=length // 4))[:length]
            segments.append(segment)
            size += len(segment)
        text = "\n".join(segments)
        pool = recent[lang]
        pool.append(text)
        if len(pool) > 2000:
            pool[rng.randrange(len(pool))] = pool.pop()
        total += len(text.encode("utf-8"))
        yield {"lang": lang, "text": text}


def write_prefixes(records: Iterator[dict[str, Any]], sizes_mb: list[float], folder: Path,
                   name: str) -> dict[float, Path]:
    """Write one JSON lines file per size, each a prefix of the same stream of documents, with ids
    and reading-order keys (the line number)."""
    from roots_pipeline.document import document_id

    paths = {size: folder / f"{name}-{size:g}.jsonl" for size in sizes_mb}
    handles = {size: path.open("w", encoding="utf-8") for size, path in paths.items()}
    total = 0
    for number, record in enumerate(records):
        line = json.dumps({"id": document_id("oscar", name, "corpus.jsonl", number), "order": number,
                           **record}, ensure_ascii=False) + "\n"
        total += len(record["text"].encode("utf-8"))
        for size, handle in list(handles.items()):
            handle.write(line)
            if total >= size * MB:
                handle.close()
                del handles[size]
        if not handles:
            break
    for handle in handles.values():
        handle.close()
    return paths


def read_languages(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Return a corpus's records per language, in reading order."""
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            by_lang[record["lang"]].append(record)
    return by_lang


# --- children -----------------------------------------------------------------------------------

def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_algorithms(corpus: Path, part_mb: float) -> dict[str, Any]:
    """Both algorithms in this process, one language at a time: CPU seconds, spans compared, the
    packed bytes the stage would shuffle, and the counts the stage must report."""
    import numpy as np

    from roots_pipeline.dedup.anchor_groups import find_duplicate_spans_by_anchors
    from roots_pipeline.dedup.anchors import anchor_records, pack_records, split_groups
    from roots_pipeline.dedup.suffix_array import character_spans, duplicate_spans, remove_spans
    from roots_pipeline.stages.substring_dedup import BUFFER_MB, SuffixArrayDedup, _plan

    stage = SuffixArrayDedup(part_mb=part_mb)
    figures: dict[str, Any] = defaultdict(float)
    figures["groups"] = 0
    mismatches = []
    for lang, records in sorted(read_languages(corpus).items()):
        data = [r["text"].encode("utf-8") for r in records]
        orders = np.array([(0, r["order"]) for r in records], dtype=np.uint64)
        size = sum(len(d) for d in data if len(d) >= MIN_BYTES)
        plan = _plan(lang, size, stage.part_bytes)[1]
        bundles = max(1, math.ceil(size / (BUFFER_MB * MB)))
        figures["groups"] = max(figures["groups"], plan.groups)
        figures["text_bytes"] += sum(map(len, data))
        started = cpu_seconds()
        reference = duplicate_spans(data, MIN_BYTES)
        figures["suffix_array_s"] += cpu_seconds() - started
        started = cpu_seconds()
        found = find_duplicate_spans_by_anchors(data, orders, MIN_BYTES, groups=plan.groups, bundles=bundles)
        figures["anchors_s"] += cpu_seconds() - started
        if found != reference:
            mismatches.append(lang)
        cuts = np.linspace(0, len(data), bundles + 1).astype(int).tolist()
        for begin, end in zip(cuts[:-1], cuts[1:], strict=True):
            made = anchor_records(data[begin:end], orders[begin:end], np.arange(begin, end), MIN_BYTES)
            figures["packed_bytes"] += sum(len(pack_records(group))
                                           for group in split_groups(made, plan.groups).values())
            figures["context_bytes"] += int(made.context_lengths.sum())
        for record, spans in zip(records, reference, strict=True):
            cut = character_spans(record["text"], spans)
            if cut:
                figures["docs_changed"] += 1
                figures["bytes_removed"] += len(record["text"].encode()) - len(
                    remove_spans(record["text"], cut).encode())
    return {**figures, "mismatched_languages": mismatches}


def child_pipeline(corpus: Path, part_mb: float, with_stage: bool, workers: int, out: Path) -> dict[str, Any]:
    """Read the corpus into document batches and run the stage (or not) on Beam; write its counts."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from roots_pipeline.document import Document
    from roots_pipeline.ledger import sum_counts
    from roots_pipeline.runner.direct_runner_fixes import apply_direct_runner_fixes
    from roots_pipeline.stages.substring_dedup import SuffixArrayDedup
    from roots_pipeline.worker.coder import DocumentBatch
    from roots_pipeline.worker.glibc_heap import limit_malloc_arenas

    # What `roots run` does for a local runner: without the fixes, Beam 2.77's multi_processing
    # mode loses batches and sends a worker its share of a shuffle as one message at 1 GB.
    limit_malloc_arenas()
    apply_direct_runner_fixes()

    def documents(lines: list[str]) -> list[Document]:
        records = [json.loads(line) for line in lines]
        return [Document(r["id"], r["text"], "oscar", "bench", r["lang"], order=r["order"]) for r in records]

    def counts(batch: list[Document], outcome: str) -> list[tuple[str, tuple[int, int]]]:
        return [(outcome, (len(batch), sum(d.nbytes for d in batch)))]

    options = PipelineOptions(["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}",
                               "--default_sdk_harness_log_level=ERROR"])
    with beam.Pipeline(options=options) as pipeline:
        batches = (pipeline
                   | "Read" >> beam.io.ReadFromText(str(corpus))
                   | "Batch" >> beam.BatchElements(min_batch_size=1000, max_batch_size=1000)
                   | "Parse" >> beam.Map(documents).with_output_types(DocumentBatch))
        if with_stage:
            stage = SuffixArrayDedup(part_mb=part_mb)
            outputs = stage.expand_stage(batches, "sa", str(out.parent / "scratch"))
            tallies = [outputs.kept | "CountKept" >> beam.FlatMap(counts, "kept"),
                       outputs.rejected | "CountRejected" >> beam.FlatMap(counts, "rejected"),
                       outputs.notes | "Notes" >> beam.MapTuple(lambda key, count: (key[4], count))]
        else:
            tallies = [batches | "CountRead" >> beam.FlatMap(counts, "kept")]
        _ = (tallies
             | "All" >> beam.Flatten()
             | "Sum" >> beam.CombinePerKey(sum_counts)
             | "Gather" >> beam.combiners.ToDict()
             | "Write" >> beam.Map(lambda totals: out.write_text(json.dumps(totals))))
    return json.loads(out.read_text())


# --- the parent ---------------------------------------------------------------------------------

@dataclass
class Process:
    """A child's result with its process tree's wall and CPU seconds and peak RSS per role."""

    result: dict[str, Any]
    wall_s: float
    cpu_s: float
    worker_peak: int
    driver_peak: int


def run_child(*args: str) -> Process:
    """Run this script as a child with `args`; poll its process tree for CPU time and memory."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, __file__, "--child", *args, "--out", out.name])
        root = psutil.Process(child.pid)
        peaks: dict[int, tuple[str, int]] = {}
        cpu: dict[int, float] = {}
        while child.poll() is None:
            for proc in [root, *root.children(recursive=True)]:
                try:
                    with proc.oneshot():
                        role = "worker" if "sdk_worker_main" in " ".join(proc.cmdline()) else "driver"
                        rss = proc.memory_info().rss
                        times = proc.cpu_times()
                except psutil.Error:
                    continue
                peaks[proc.pid] = (role, max(rss, peaks.get(proc.pid, (role, 0))[1]))
                cpu[proc.pid] = times.user + times.system
            time.sleep(0.5)
        wall = time.perf_counter() - started
        if child.returncode:
            raise SystemExit(f"child {' '.join(args)} failed with exit code {child.returncode}")
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = json.loads(Path(out.name).read_text())
    # Processes that ended between polls keep their last sample; the direct child's exact CPU
    # time comes from the kernel once it is reaped.
    total_cpu = max(sum(cpu.values()), children.ru_utime + children.ru_stime - run_child.cpu_before)
    run_child.cpu_before = children.ru_utime + children.ru_stime
    return Process(result, wall, total_cpu,
                   max((rss for role, rss in peaks.values() if role == "worker"), default=0),
                   max((rss for role, rss in peaks.values() if role == "driver"), default=0))


run_child.cpu_before = 0.0


@dataclass
class Row:
    corpus: str
    size_mb: float
    part_mb: float
    text_mb: float
    groups: int
    suffix_array_mb_s: float  # one core
    anchors_mb_s: float  # one core, in process
    stage_mb_s_core: float  # MB per CPU second of the stage on Beam, all processes
    stage_s_per_mb: float  # wall
    stage_cpu_s_per_mb: float
    stage_vs_suffix_array: float  # CPU time ratio
    packed_per_byte: float
    context_per_byte: float
    worker_peak_mib: float
    driver_peak_mib: float
    exact: bool
    counts_agree: bool


def measure(corpus: str, path: Path, size_mb: float, part_mb: float, workers: int) -> Row:
    algorithms = run_child("algorithms", str(path), str(part_mb)).result
    base = run_child("pipeline", str(path), str(part_mb), "0", str(workers))
    staged = run_child("pipeline", str(path), str(part_mb), "1", str(workers))
    text_mb = algorithms["text_bytes"] / MB
    stage_cpu = max(1e-9, staged.cpu_s - base.cpu_s)
    stage_wall = max(1e-9, staged.wall_s - base.wall_s)
    notes = staged.result
    changed = notes.get("suffix_array_dedup:docs_changed", [0, 0])[0]
    removed = notes.get("suffix_array_dedup:bytes_removed", [0, 0])[0]
    return Row(corpus, size_mb, part_mb, round(text_mb, 2), int(algorithms["groups"]),
               text_mb / algorithms["suffix_array_s"], text_mb / algorithms["anchors_s"],
               text_mb / stage_cpu, stage_wall / text_mb, stage_cpu / text_mb,
               stage_cpu / algorithms["suffix_array_s"],
               algorithms["packed_bytes"] / algorithms["text_bytes"],
               algorithms["context_bytes"] / algorithms["text_bytes"],
               staged.worker_peak / MB, staged.driver_peak / MB,
               not algorithms["mismatched_languages"],
               (changed, removed) == (algorithms["docs_changed"], algorithms["bytes_removed"]))


def table(rows: list[Row]) -> str:
    header = ("corpus", "MB", "part MB", "groups", "SA MB/s", "anchors MB/s", "stage MB/s/core",
              "stage s/MB", "stage CPU s/MB", "stage/SA", "records B/B", "worker MiB", "driver MiB",
              "exact", "counts")
    lines = [header]
    for r in rows:
        lines.append((r.corpus, f"{r.text_mb:,.1f}", f"{r.part_mb:g}", str(r.groups),
                      f"{r.suffix_array_mb_s:.2f}", f"{r.anchors_mb_s:.2f}", f"{r.stage_mb_s_core:.2f}",
                      f"{r.stage_s_per_mb:.3f}",
                      f"{r.stage_cpu_s_per_mb:.3f}", f"{r.stage_vs_suffix_array:.2f}x",
                      f"{r.packed_per_byte:.2f}", f"{r.worker_peak_mib:,.0f}", f"{r.driver_peak_mib:,.0f}",
                      "yes" if r.exact else "NO", "agree" if r.counts_agree else "DIFFER"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in lines)


def growth(rows: list[Row]) -> list[str]:
    """Time per MB of each corpus's larger size over its smaller, wall and CPU (target <= 1.3)."""
    found = []
    for corpus in dict.fromkeys(r.corpus for r in rows):
        mine = sorted((r for r in rows if r.corpus == corpus), key=lambda r: r.text_mb)
        for small, large in zip(mine, mine[1:], strict=False):
            # Wall time is the difference of two runs on a shared machine: on a small corpus it can
            # be noise; CPU seconds of the process tree are the figure the target is read on.
            wall = (f"{large.stage_s_per_mb / small.stage_s_per_mb:.2f}x wall"
                    if min(large.stage_s_per_mb, small.stage_s_per_mb) > 1e-6 else "wall n/a")
            cpu = large.stage_cpu_s_per_mb / small.stage_cpu_s_per_mb
            verdict = "PASS" if cpu <= 1.3 else "OVER"
            found.append(f"{corpus}: {large.text_mb:,.0f} MB over {small.text_mb:,.0f} MB at "
                         f"{small.part_mb:g} MB parts: time per MB {wall}, {cpu:.2f}x CPU "
                         f"(target <= 1.3: {verdict})")
    return found


def cost_table(row: Row, part_mb: float) -> str:
    """Project a language of 1-500 GB on CLUSTER_WORKERS one-core workers from a row's constants."""
    lines = [f"Projected from {row.corpus} {row.text_mb:,.0f} MB ({row.stage_cpu_s_per_mb:.3f} CPU s/MB, "
             f"{row.packed_per_byte:.2f} bytes of records a byte), {part_mb:g} MB parts, "
             f"{CLUSTER_WORKERS} one-core workers:",
             f"| text of one language | groups | CPU-hours | wall hours on {CLUSTER_WORKERS} workers "
             "| records written and read "
             "| RAM per group |",
             "|---|---|---|---|---|---|"]
    for gigabytes in PROJECTED_GB:
        text_mb = gigabytes * 1024
        groups = math.ceil(text_mb * row.context_per_byte / part_mb)
        cpu_hours = text_mb * row.stage_cpu_s_per_mb / 3600
        lines.append(f"| {gigabytes:,} GB | {groups:,} | {cpu_hours:,.1f} | "
                     f"{cpu_hours / CLUSTER_WORKERS:,.2f} | {gigabytes * row.packed_per_byte:,.0f} GB | "
                     f"{part_mb * 5.8 / 1024:.2f} GB |")
    return "\n".join(lines)


def sizes(value: str) -> list[float]:
    return [float(part) for part in value.split(",") if part]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--real-mb", type=sizes, default=[4.0, 16.0], help="man-page corpus sizes (4,16)")
    parser.add_argument("--real-part-mb", type=float, default=1.0, help="their part size (default 1)")
    parser.add_argument("--gen-mb", type=sizes, default=[200.0, 1000.0], help="generated sizes (200,1000)")
    parser.add_argument("--gen-part-mb", type=float, default=128.0, help="their part size (default 128)")
    parser.add_argument("--dup-rate", type=float, default=0.2, help="share of copied segments (0.2)")
    parser.add_argument("--workers", type=int, default=2, help="DirectRunner worker processes (2)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def child(args: argparse.Namespace) -> None:
    kind, corpus, part_mb, *rest = args.child
    if kind == "algorithms":
        result = child_algorithms(Path(corpus), float(part_mb))
    else:
        with_stage, workers = rest
        result = child_pipeline(Path(corpus), float(part_mb), with_stage == "1", int(workers),
                                args.out.with_suffix(".counts"))
    args.out.write_text(json.dumps(result))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args)
        return 0
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {args.workers} Beam workers")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="sa-bench-") as folder:
        work = Path(folder)
        plans = []
        if args.real_mb:
            if not MAN_PAGES.is_dir():
                print(f"no {MAN_PAGES}: the real-text corpus is left out")
            else:
                records = man_page_records(max(args.real_mb))
                paths = write_prefixes(iter(records), args.real_mb, work, "man-pages")
                plans += [("man pages", paths[size], size, args.real_part_mb) for size in args.real_mb]
        if args.gen_mb:
            records = generated_records(max(args.gen_mb), args.dup_rate, args.seed)
            paths = write_prefixes(records, args.gen_mb, work, "generated")
            plans += [("generated", paths[size], size, args.gen_part_mb) for size in args.gen_mb]
        for corpus, path, size, part_mb in plans:
            print(f"measuring {corpus} {size:g} MB, {part_mb:g} MB parts …", flush=True)
            rows.append(measure(corpus, path, size, part_mb, args.workers))
    print(table(rows))
    for line in growth(rows):
        print(line)
    for row in rows:
        print(f"{row.corpus} {row.text_mb:,.0f} MB: stage {row.stage_mb_s_core:.2f} MB/s per core "
              f"(target >= 2), {row.stage_vs_suffix_array:.2f}x the single suffix array's CPU time "
              "(target <= 2), "
              f"context {row.context_per_byte:.2f} bytes per byte")
    largest = max(rows, key=lambda r: r.text_mb)
    print()
    print(cost_table(largest, largest.part_mb))
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2))
    return 0 if all(row.exact and row.counts_agree for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
