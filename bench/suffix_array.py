"""Exact-substring dedup throughput and memory: the suffix-array algorithm and the
`suffix_array_dedup` stage, on the demo texts and on a generated corpus with a known share of
copied text, with the removed spans checked against a brute-force search.

    python bench/suffix_array.py [--mb 200] [--dup-rate 0.2] [--part-mb 128] [--small-part-mb 16]
                                 [--sample-kb 1024] [--json figures.json]

Corpora, written as jsonl (id, lang, text) to a temporary folder deleted at the end:

* demo: every document the demo recipe reads from tests/data/demo (catalogue Arrow, parquet and
  jsonl; OSCAR jsonl.gz/.zst; WARC pages through trafilatura), with the package's own readers;
* generated: `--mb` MB of documents in the demo's languages and proportions, each a sequence of
  segments of 64-1,024 characters: with probability `--dup-rate` a segment is a copy of a
  stretch of an earlier document of its language, otherwise fresh text sampled word by word from
  the demo's words of that language (long tokens cut to 8 characters), so repeats of 50 bytes
  come almost only from the injected copies and the share removed should come out close to the
  share injected.

Each measurement runs in its own process; its peak memory is that process's VmHWM (its
`ru_maxrss` as the parent sees it would also count the parent's pages at fork time):

* algorithm: per language, documents in id order, `find_duplicate_spans` with parts of
  `--part-mb` (then `--small-part-mb`, to show what pair jobs cost), spans snapped and cut as the
  stage does; seconds exclude reading the jsonl;
* stage: `SuffixArrayDedup` in a Beam pipeline (DirectRunner, in_memory) reading the jsonl,
  and the same pipeline without the stage; the stage's time is the difference;
* one job: the whole generated corpus as one suffix array, run as the stage runs a job: texts
  read from part files (`dedup.part_files`) into the joined corpus, then
  `joined_duplicate_spans`, for the RAM per byte of text that the module docstring states
  ((peak - resident before the job) / text bytes).

The brute-force check takes the first `--sample-kb` of one language of each corpus (in file
order), sorts it by id, cuts it into 4 parts, and compares the spans with those found by a set
of every 50-byte window seen so far. It is a measurement, not a test: no timing is asserted; it
exits 1 only if the brute-force check or the stage's counts disagree with the algorithm.

Measured on the 2-core development machine (shared with other jobs), 200 MB, dup rate 0.2:
algorithm 3.14 MB/s with 128 MB parts (2.45 MB/s with 16 MB parts, 14 suffix arrays instead of
10), stage on Beam 2.27 MB/s net (peak 1.7 GB for the whole in-memory pipeline), one 200 MB job
read from part files 2.98 MB/s at 6.22 bytes of RAM per byte of text; 18.98 % of bytes removed
for 18.50 % injected; brute-force samples identical. (Before the jobs read part files: stage
1.78 MB/s, peak 2.0 GB, 7.25 bytes per byte, with the algorithm at 1.85 MB/s on a busier
machine.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MB = 1024 * 1024
MIN_BYTES = 50
MAX_TOKEN_BYTES = 24
SEGMENT_CHARS = (64, 1024)
REPO = Path(__file__).resolve().parent.parent
BEAM_ARGS = ["--direct_running_mode=in_memory"]


# --- corpora ------------------------------------------------------------------------------------

def demo_records() -> list[dict[str, str]]:
    """Return (id, lang, text) of every document the demo recipe reads, with the package's readers."""
    from roots_pipeline.document import Document
    from roots_pipeline.recipe import load_recipe
    from roots_pipeline.sources.read import plan_source

    recipe = load_recipe(str(REPO / "pipelines" / "demo.yaml"))
    return [{"id": item.id, "lang": item.lang, "text": item.text}
            for index, spec in enumerate(recipe.sources)
            for split in plan_source(spec, recipe.limits, f"sources[{index}]", index)
            for item in split.read() if isinstance(item, Document)]


def write_jsonl(records: list[dict[str, str]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def tokens(text: str) -> Iterator[str]:
    """Yield the whitespace tokens of a text, tokens over MAX_TOKEN_BYTES cut into 8 characters."""
    for token in text.split():
        if len(token.encode("utf-8")) <= MAX_TOKEN_BYTES:
            yield token
        else:
            yield from (token[i:i + 8] for i in range(0, len(token), 8))


@dataclass
class Generated:
    """What was generated: documents, text bytes, and bytes copied from earlier documents."""

    docs: int
    bytes: int
    injected_bytes: int


def generate(demo: list[dict[str, str]], megabytes: float, dup_rate: float, seed: int,
             path: Path) -> Generated:
    """Write a corpus of about `megabytes` MB in the demo's languages with copied segments."""
    from roots_pipeline.document import document_id

    rng = random.Random(seed)
    words: dict[str, list[str]] = defaultdict(list)
    lengths: dict[str, list[int]] = defaultdict(list)
    weights: dict[str, int] = defaultdict(int)  # documents: lengths are drawn from the same language
    for record in demo:
        words[record["lang"]].extend(tokens(record["text"]))
        lengths[record["lang"]].append(len(record["text"]))
        weights[record["lang"]] += 1
    langs = sorted(lang for lang in words if words[lang])
    recent: dict[str, list[str]] = defaultdict(list)  # the last documents of each language
    total = injected = number = 0
    with path.open("w", encoding="utf-8") as handle:
        while total < megabytes * MB:
            lang = rng.choices(langs, [weights[lang] for lang in langs])[0]
            target = rng.choice(lengths[lang])
            segments, size = [], 0
            while size < target:
                length = rng.randint(*SEGMENT_CHARS)
                if recent[lang] and rng.random() < dup_rate:
                    source = rng.choice(recent[lang])
                    start = rng.randrange(max(1, len(source) - length))
                    segment = source[start:start + length]
                    injected += len(segment.encode("utf-8"))
                else:
                    segment = " ".join(rng.choices(words[lang], k=length // 4))[:length]
                segments.append(segment)
                size += len(segment)
            text = "\n".join(segments)
            pool = recent[lang]
            pool.append(text)
            if len(pool) > 2000:
                pool[rng.randrange(len(pool))] = pool.pop()
            doc_id = document_id("oscar", f"generated_{lang}", "generated.jsonl", number)
            handle.write(json.dumps({"id": doc_id, "lang": lang, "text": text}, ensure_ascii=False) + "\n")
            total += len(text.encode("utf-8"))
            number += 1
    return Generated(number, total, injected)


# --- measurements, each in a child process ------------------------------------------------------

def resident_bytes(field: str) -> int:
    """Return this process's VmHWM (peak) or VmRSS (current) in bytes, from /proc/self/status.

    Not the child's ru_maxrss as the parent sees it: on Linux that also counts the parent's
    resident pages at fork time, which here hold the generated corpus.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child_algorithm(corpus: Path, part_mb: float) -> dict[str, Any]:
    """Dedup every language as the stage does, in one process; time it without the reading."""
    from roots_pipeline.dedup.suffix_array import (
        character_spans,
        find_duplicate_spans,
        pair_jobs,
        plan_parts,
        remove_spans,
    )
    from roots_pipeline.stages.substring_dedup import too_short

    by_lang: dict[str, list[dict[str, str]]] = defaultdict(list)
    for record in read_jsonl(corpus):
        by_lang[record["lang"]].append(record)
    part_bytes = int(part_mb * MB)
    started = time.perf_counter()
    text_bytes = removed = changed = dropped = jobs = max_parts = 0
    for lang, records in sorted(by_lang.items()):
        records.sort(key=lambda r: r["id"])
        data = [r["text"].encode("utf-8") for r in records]
        text_bytes += sum(map(len, data))
        parts = len(plan_parts([len(d) + 1 for d in data], part_bytes))
        max_parts = max(max_parts, parts)
        jobs += len(pair_jobs(parts))
        for record, found in zip(records, find_duplicate_spans(data, MIN_BYTES, part_bytes), strict=True):
            spans = character_spans(record["text"], found)
            if spans:
                text = remove_spans(record["text"], spans)
                removed += len(record["text"].encode("utf-8")) - len(text.encode("utf-8"))
                changed += 1
                dropped += too_short(text, lang, None)
    return {"seconds": time.perf_counter() - started, "text_bytes": text_bytes, "bytes_removed": removed,
            "docs_changed": changed, "docs_dropped": dropped, "jobs": jobs, "max_parts": max_parts,
            "peak_rss": resident_bytes("VmHWM")}


def child_pipeline(corpus: Path, part_mb: float | None, out: Path) -> dict[str, Any]:
    """Run a Beam pipeline reading the jsonl, with the stage (or without, when part_mb is None)."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from roots_pipeline.document import Document
    from roots_pipeline.ledger import sum_counts
    from roots_pipeline.stages.substring_dedup import SuffixArrayDedup
    from roots_pipeline.worker.coder import DocumentBatch

    def documents(lines: list[str]) -> list[Document]:
        records = [json.loads(line) for line in lines]
        return [Document(r["id"], r["text"], "oscar", f"generated_{r['lang']}", r["lang"]) for r in records]

    def counts(batch: list[Document], outcome: str) -> list[tuple[str, tuple[int, int]]]:
        return [(outcome, (len(batch), sum(d.nbytes for d in batch)))]

    started = time.perf_counter()
    with beam.Pipeline(options=PipelineOptions(BEAM_ARGS)) as pipeline:
        batches = (pipeline
                   | "Read" >> beam.io.ReadFromText(str(corpus))
                   | "Batch" >> beam.BatchElements(min_batch_size=1000, max_batch_size=1000)
                   | "Parse" >> beam.Map(documents).with_output_types(DocumentBatch))
        if part_mb is None:
            tallies = [batches | "CountRead" >> beam.FlatMap(counts, "kept")]
        else:
            stage = SuffixArrayDedup(part_mb=part_mb)
            outputs = stage.expand_stage(batches, "sa", str(out.parent / "scratch"))
            tallies = [outputs.kept | "CountKept" >> beam.FlatMap(counts, "kept"),
                       outputs.rejected | "CountRejected" >> beam.FlatMap(counts, "rejected"),
                       outputs.notes | "Notes" >> beam.MapTuple(lambda key, count: (key[4], count))]
        _ = (tallies
             | "All" >> beam.Flatten()
             | "Sum" >> beam.CombinePerKey(sum_counts)
             | "Gather" >> beam.combiners.ToDict()
             | "Write" >> beam.Map(lambda totals: out.write_text(json.dumps(totals))))
    totals = json.loads(out.read_text())
    return {"seconds": time.perf_counter() - started, "peak_rss": resident_bytes("VmHWM"), **totals}


def child_job(folder: Path) -> dict[str, Any]:
    """Run one suffix-array job as the stage does, from part files; report the resident memory
    before it, so the parent can tell the job's own RAM per byte."""
    from roots_pipeline.dedup.part_files import read_job
    from roots_pipeline.dedup.suffix_array import joined_duplicate_spans

    before = resident_bytes("VmRSS")
    started = time.perf_counter()
    texts = read_job(str(path) for path in folder.iterdir())
    found = joined_duplicate_spans(texts.corpus, texts.lengths, MIN_BYTES)
    seconds = time.perf_counter() - started
    removed = sum(end - start for spans in found for start, end in spans)
    return {"seconds": seconds, "text_bytes": int(texts.lengths.sum()), "rss_before_texts": before,
            "bytes_in_spans": removed, "peak_rss": resident_bytes("VmHWM")}


def measure(*args: str) -> tuple[dict[str, Any], float]:
    """Run this script as a child with `args`; return its JSON result and its peak RSS in MB."""
    process = subprocess.run([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, text=True,
                             check=False)
    if process.returncode:
        raise SystemExit(f"measurement {' '.join(args)} failed with exit code {process.returncode}")
    result = json.loads(process.stdout.strip().splitlines()[-1])
    return result, result["peak_rss"] / MB


# --- brute force --------------------------------------------------------------------------------

def brute_force(texts: list[bytes], n: int) -> list[list[tuple[int, int]]]:
    """Byte spans covered by windows of n bytes seen earlier, from a set of every window so far."""
    seen: set[bytes] = set()
    result = []
    for data in texts:
        covered = bytearray(len(data))
        for start in range(len(data) - n + 1):
            window = data[start:start + n]
            if window in seen:
                covered[start:start + n] = b"\x01" * n
            else:
                seen.add(window)
        spans: list[tuple[int, int]] = []
        start = covered.find(1)
        while start >= 0:
            end = covered.find(0, start)
            end = len(data) if end < 0 else end
            spans.append((start, end))
            start = covered.find(1, end)
        result.append(spans)
    return result


def brute_force_check(records: list[dict[str, str]], sample_bytes: int) -> dict[str, Any]:
    """Compare the partitioned algorithm with the brute force on the first documents (file order:
    the generated copies come from recent documents, so they fall in the sample) of the language
    with the most text, up to `sample_bytes`, in id order and cut into 4 parts."""
    from roots_pipeline.dedup.suffix_array import character_spans, find_duplicate_spans

    by_lang: dict[str, list[dict[str, str]]] = defaultdict(list)
    for record in records:
        by_lang[record["lang"]].append(record)
    lang = max(by_lang, key=lambda code: sum(len(r["text"]) for r in by_lang[code]))
    chosen, size = [], 0
    for record in by_lang[lang]:
        if size >= sample_bytes:
            break
        chosen.append(record)
        size += len(record["text"].encode("utf-8"))
    sample = [record["text"] for record in sorted(chosen, key=lambda r: r["id"])]
    data = [text.encode("utf-8") for text in sample]
    expected = brute_force(data, MIN_BYTES)
    found = find_duplicate_spans(data, MIN_BYTES, max(1, size // 4))
    chars_equal = all(character_spans(t, a) == character_spans(t, b)
                      for t, a, b in zip(sample, found, expected, strict=True))
    return {"lang": lang, "docs": len(data), "bytes": size, "spans": sum(map(len, expected)),
            "bytes_in_spans": sum(e - s for spans in expected for s, e in spans),
            "identical": found == expected and chars_equal}


# --- the bench ----------------------------------------------------------------------------------

@dataclass
class Row:
    """One line of the table."""

    corpus: str
    what: str
    text_mb: float
    seconds: float
    peak_mb: float
    jobs: str = ""
    removed_pct: float | None = None
    changed: int | None = None
    dropped: int | None = None
    note: str = ""

    @property
    def mb_per_s(self) -> float:
        return self.text_mb / self.seconds if self.seconds > 0 else float("inf")


def table(rows: list[Row]) -> str:
    head = (f"{'corpus':<10}{'measurement':<30}{'text MB':>8}{'jobs':>7}{'s':>8}{'MB/s':>7}{'peak MB':>9}"
            f"{'removed':>9}{'changed':>9}{'dropped':>8}  note")
    lines = [head, "-" * len(head)]
    for r in rows:
        removed = f"{r.removed_pct:.2f}%" if r.removed_pct is not None else ""
        changed = "" if r.changed is None else r.changed
        dropped = "" if r.dropped is None else r.dropped
        lines.append(f"{r.corpus:<10}{r.what:<30}{r.text_mb:>8.1f}{r.jobs:>7}{r.seconds:>8.2f}"
                     f"{r.mb_per_s:>7.2f}{r.peak_mb:>9,.0f}{removed:>9}{changed:>9}{dropped:>8}  {r.note}")
    lines += ["text MB = UTF-8 text deduplicated; jobs = suffix arrays built, k(k-1)/2 per language of k",
              "parts (1 when k = 1); peak MB = VmHWM of the measuring process (Python, Beam, the corpus",
              "and the jobs); removed = bytes by which texts shrank / text bytes; dropped = changed",
              "documents left under their language's minimum of words; the stage's seconds are the",
              "pipeline's with the stage minus the same pipeline's without it (reading the jsonl)."]
    return "\n".join(lines)


def algorithm_row(corpus: str, path: Path, part_mb: float) -> Row:
    result, peak = measure("algorithm", str(path), str(part_mb))
    return Row(corpus, f"algorithm, parts of {part_mb:g} MB", result["text_bytes"] / MB, result["seconds"],
               peak, f"{result['jobs']}", 100 * result["bytes_removed"] / result["text_bytes"],
               result["docs_changed"], result["docs_dropped"], f"max {result['max_parts']} parts a language")


def stage_row(corpus: str, path: Path, part_mb: float, text_bytes: int, root: Path) -> tuple[Row, dict]:
    read, _ = measure("pipeline", str(path), "none", str(root / "read.json"))
    staged, peak = measure("pipeline", str(path), str(part_mb), str(root / "stage.json"))
    changed = staged.get("suffix_array_dedup:docs_changed", [0, 0])[0]
    removed = staged.get("suffix_array_dedup:bytes_removed", [0, 0])[0]
    dropped = staged.get("rejected", [0, 0])[0]
    row = Row(corpus, f"stage on Beam, parts of {part_mb:g} MB", text_bytes / MB,
              staged["seconds"] - read["seconds"], peak, "", 100 * removed / text_bytes, changed, dropped,
              f"pipeline {staged['seconds']:.1f} s, without the stage {read['seconds']:.1f} s")
    return row, staged


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child)))
        return 0
    rows: list[Row] = []
    failures = []
    checks = {}
    with tempfile.TemporaryDirectory(prefix="roots-bench-sa-") as temporary:
        root = Path(temporary)
        demo = demo_records()
        demo_path = root / "demo.jsonl"
        write_jsonl(demo, demo_path)
        demo_bytes = sum(len(r["text"].encode("utf-8")) for r in demo)
        started = time.perf_counter()
        generated_path = root / "generated.jsonl"
        generated = generate(demo, args.mb, args.dup_rate, args.seed, generated_path)
        print(f"generated {generated.docs:,} documents, {generated.bytes / MB:.1f} MB, "
              f"{100 * generated.injected_bytes / generated.bytes:.1f}% copied, in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr)

        for name, path, text_bytes in (("demo", demo_path, demo_bytes),
                                       ("generated", generated_path, generated.bytes)):
            checks[name] = brute_force_check(read_jsonl(path), args.sample_kb * 1024)
            if not checks[name]["identical"]:
                failures.append(f"{name}: spans differ from the brute-force search")
            algorithm = algorithm_row(name, path, args.part_mb)
            rows.append(algorithm)
            if name == "generated":
                rows.append(algorithm_row(name, path, args.small_part_mb))
                algorithm.note += f"; {100 * generated.injected_bytes / generated.bytes:.2f}% injected"
            print(f"{name}: algorithm done", file=sys.stderr)
            row, staged = stage_row(name, path, args.part_mb, text_bytes, root)
            rows.append(row)
            print(f"{name}: stage done", file=sys.stderr)
            if (row.changed, row.dropped) != (algorithm.changed, algorithm.dropped) or \
                    abs(row.removed_pct - algorithm.removed_pct) > 1e-9:
                failures.append(f"{name}: the stage's counts {staged} differ from the algorithm's")

        part_files = root / "part-files"
        write_part_files(generated_path, part_files)
        job, peak = measure("job", str(part_files))
        per_byte = (peak * MB - job["rss_before_texts"]) / job["text_bytes"]
        rows.append(Row("generated", "one job, whole corpus", job["text_bytes"] / MB, job["seconds"], peak,
                        "1", note=f"{per_byte:.2f} B of RAM per byte of text beyond the interpreter"))

    print(f"\nroots-pipeline suffix-array bench: {args.mb:g} MB generated, dup rate {args.dup_rate:g}, "
          f"min_bytes {MIN_BYTES}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(table(rows))
    for name, check in checks.items():
        print(f"brute-force check, {name}: {check['docs']} {check['lang']} documents, "
              f"{check['bytes'] / 1024:,.0f} kB, 4 parts, {check['spans']} spans of "
              f"{check['bytes_in_spans']:,} bytes: {'identical' if check['identical'] else 'DIFFERENT'}")
    for failure in failures:
        print(f"FAILED: {failure}")
    if args.json:
        figures = {"mb": args.mb, "dup_rate": args.dup_rate, "generated": asdict(generated),
                   "rows": [asdict(r) | {"mb_per_s": r.mb_per_s} for r in rows], "brute_force": checks}
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if failures else 0


def write_part_files(corpus: Path, folder: Path) -> None:
    """Write the corpus's texts, in file order, to two part files (as two workers would) for `child_job`."""
    from roots_pipeline.dedup.part_files import PartFileWriter

    folder.mkdir()
    writers = [PartFileWriter(str(folder / f"part-{n}.bin")) for n in range(2)]
    for number, record in enumerate(read_jsonl(corpus)):
        writers[number % 2].add(record["id"], record["id"], record["text"].encode("utf-8"))
    for writer in writers:
        writer.close()


def run_child(command: list[str]) -> dict[str, Any]:
    kind, *rest = command
    if kind == "algorithm":
        return child_algorithm(Path(rest[0]), float(rest[1]))
    if kind == "pipeline":
        return child_pipeline(Path(rest[0]), None if rest[1] == "none" else float(rest[1]), Path(rest[2]))
    assert kind == "job", kind
    return child_job(Path(rest[0]))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mb", type=float, default=200.0, help="size of the generated corpus (default 200)")
    parser.add_argument("--dup-rate", type=float, default=0.2,
                        help="share of segments copied from earlier documents (default 0.2)")
    parser.add_argument("--part-mb", type=float, default=128.0, help="the stage's part size (default 128)")
    parser.add_argument("--small-part-mb", type=float, default=16.0,
                        help="a second, smaller part size for the algorithm alone (default 16)")
    parser.add_argument("--sample-kb", type=int, default=1024, help="brute-force sample size (default 1024)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
