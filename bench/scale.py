"""Scaling of the full OSCAR recipe: throughput, memory and time per stage on corpora of growing size.

For each size (`--sizes`, MB of UTF-8 text), a corpus is generated from the demo texts
(`tests/data/demo`: the OSCAR files and the catalogue data of each `--langs` language), then
`roots run` runs the recipe (`--recipe`, default `pipelines/oscar.yaml`: clean_text,
quality_filter, minhash_dedup, pii_redaction, suffix_array_dedup) on it as a user would, in a
subprocess, on the DirectRunner with `--direct_running_mode=multi_processing` and
`--direct_num_workers=--workers`.

The corpus. Sampling the ~1,100 demo documents with replacement would make 99 % of a 100 MB corpus
exact copies, so the duplicate rate would follow the size instead of being set. Each generated
document is therefore a demo document of its language drawn at random with the words of every
line shuffled (the characters, for languages MinHash shingles by character: zh…): the same
lines, words, characters and vocabulary, so the quality filter sees the same statistics (its
rejection rates are printed), but text that is new at the scale of the dedup stages (5-word
shingles, 50-byte substrings). Then `--exact` of the documents are exact copies and `--near` are
near copies (`--near-edits` random word insertions, deletions or substitutions) of earlier
generated documents of the language. Deterministic with `--seed`. Equal text per language, in
`<lang>_part_N.jsonl.gz` files of at most `--file-mb` MB of text (at least two per language, so
splits parallelise), `{"text": ...}` per line.

Figures per size, all from runs in this process's lifetime:

* wall time of the pipeline (`run.json`'s `wall_seconds`: planning, Beam, ledger) and of the
  `roots run` process (also Python start-up, imports and the data cards written after the run);
  the CPU seconds (user + system) of that process and its workers; documents read, docs/s, MB/s
  of input text, seconds per MB;
* peak RSS per process, by psutil polling the process tree every `--poll` seconds (a peak shorter
  than that can be missed): the `roots run` process, which on the DirectRunner is also the runner
  holding every shuffle and every collection passed between fused steps in memory, and the
  largest of the SDK worker processes, where the stages' code runs and to which their stated
  bounds apply; plus `getrusage(RUSAGE_CHILDREN).ru_maxrss` of a wrapper process around
  `roots run`, the exact peak of the single largest process of the tree (not a sum);
* wall time per stage: Beam does not report one, so for sizes up to `--stage-timing-max-mb` the
  recipe is also run with only its first k stages (k = 0 … n-1, same sources, same options) and
  each stage's time, wall and CPU, is the difference between consecutive prefixes (k = 0: reading
  and writing alone). A difference also includes the change in what is written (a filter that
  removes a fifth of the documents makes the writing cheaper), so it is an estimate; on a shared
  machine wall-time differences move with other users' load (small ones can even be negative),
  CPU-time ones much less. `--repeat` keeps the fastest of several runs.

Time per MB at 1 GB is compared with the one at 100 MB (the issue's target: within 1.5 ×), and
the worker peaks with the bounds the dedup stages state (`stages/near_dedup.py`,
`stages/substring_dedup.py`). Sizes run in ascending order; one whose runs would, projected from
the sizes already run, take more than `--max-minutes` or more RSS than `--max-rss-gb` is not run,
a run whose process tree goes over `--max-rss-gb` is killed (this bench's own processes only),
and the output says which sizes did not run and why. `--without STAGE` drops stages from the
recipe. A measurement: it exits 0 whatever the figures (2 when the recipe cannot be loaded);
`--json` writes them.

    python bench/scale.py [--sizes 10,100,1000] [--workers 2] [--stage-timing-max-mb 10]
                          [--without STAGE] [--workdir DIR] [--json F]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import psutil
import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import yaml

from roots_pipeline.dedup.minhash import shingle_kind
from roots_pipeline.errors import RootsError
from roots_pipeline.recipe import load_recipe
from roots_pipeline.sources.files import Limits, open_decompressed
from roots_pipeline.sources.oscar import file_language
from roots_pipeline.stages.near_dedup import MinhashDedup
from roots_pipeline.stages.substring_dedup import BUFFER_MB, CONTEXT_PER_BYTE, SuffixArrayDedup

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "tests" / "data" / "demo"
RECIPE = ROOT / "pipelines" / "oscar.yaml"
MB = 1024 * 1024
# Languages whose demo documents mostly pass the quality filter (hi loses all of its 16).
LANGS = ("en", "es", "fr", "id", "pt", "zh")
# Part of the corpus manifest: a corpus built by another version of the generator is rebuilt.
GENERATOR_VERSION = 1
RESERVOIR = 4096  # earlier documents of a language that copies are drawn from
TARGET_RATIO = 1.5  # time per MB at 1 GB / time per MB at 100 MB, from the issue
# Run by a wrapper process around `roots run`: its RUSAGE_CHILDREN figures are that run's alone
# (the peak RSS of its largest process, KiB, and the CPU seconds of the whole tree).
_WRAPPER = ("import resource, subprocess, sys\n"
            "rc = subprocess.call(sys.argv[2:])\n"
            "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}')\n"
            "sys.exit(rc)\n")


# --- the corpus ---------------------------------------------------------------------------------

def demo_texts(demo: Path, langs: tuple[str, ...]) -> dict[str, list[str]]:
    """Return every demo text (OSCAR files and catalogue data) of each language, in a fixed order."""
    pools: dict[str, list[str]] = {lang: [] for lang in langs}
    for path in sorted((demo / "oscar").glob("*.jsonl*")):
        lang = file_language(path.name)
        if lang in pools:
            with open_decompressed(str(path), Limits()) as stream:
                for line in stream:
                    if line.strip():
                        record = json.loads(line)
                        pools[lang].append(record.get("text", record.get("content")))
    for folder in sorted((demo / "catalogue").iterdir()):  # save_to_disk folders: <name>_<lang>
        lang = folder.name.rsplit("_", 1)[1]
        if lang in pools:
            for shard in sorted(folder.glob("*.arrow")):
                with pa.memory_map(str(shard)) as handle:
                    pools[lang].extend(pyarrow.ipc.open_stream(handle).read_all().column("text").to_pylist())
    for folder in sorted((demo / "catalogue_files").iterdir()):
        lang = folder.name.rsplit("_", 1)[1]
        if lang not in pools:
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix == ".parquet":
                pools[lang].extend(pq.read_table(path).column("text").to_pylist())
            elif path.suffix == ".jsonl":
                with path.open(encoding="utf-8") as handle:
                    pools[lang].extend(json.loads(line)["content"] for line in handle if line.strip())
    empty = [lang for lang, texts in pools.items() if not texts]
    if empty:
        raise SystemExit(f"no demo text for {', '.join(empty)} under {demo}: choose --langs among "
                         f"the languages of its oscar/ and catalogue folders")
    return {lang: [t for t in texts if t and t.strip()] for lang, texts in pools.items()}


def scramble(text: str, rng: random.Random, by_chars: bool) -> str:
    """Return text with the words (or characters) of each line shuffled: same statistics, new text."""
    lines = []
    for line in text.split("\n"):
        tokens = list(line) if by_chars else line.split()
        rng.shuffle(tokens)
        lines.append(("" if by_chars else " ").join(tokens))
    return "\n".join(lines)


def edit(text: str, rng: random.Random, by_chars: bool, edits: int) -> str:
    """Return a near copy: `edits` random insertions, deletions or substitutions of a word (or
    character), the inserted ones drawn from the document itself."""
    lines = [list(line) if by_chars else line.split() for line in text.split("\n")]
    for _ in range(edits):
        filled = [tokens for tokens in lines if tokens]
        if not filled:
            break
        tokens = rng.choice(filled)
        donor = rng.choice(rng.choice(filled))
        where = rng.randrange(len(tokens))
        operation = rng.randrange(3)
        if operation == 0:
            tokens[where] = donor
        elif operation == 1 and len(tokens) > 1:
            del tokens[where]
        else:
            tokens.insert(where, donor)
    return "\n".join(("" if by_chars else " ").join(tokens) for tokens in lines)


@dataclass
class LanguagePart:
    """What the generator wrote for one language."""

    files: int = 0
    docs: int = 0
    text_bytes: int = 0
    exact: int = 0
    near: int = 0


@dataclass
class Corpus:
    """One generated corpus: its folder, glob and what it holds, per language."""

    folder: str
    params: dict[str, Any]
    langs: dict[str, LanguagePart] = field(default_factory=dict)
    build_s: float = 0.0
    reused: bool = False

    @property
    def pattern(self) -> str:
        return f"{self.folder}/*.jsonl.gz"

    @property
    def docs(self) -> int:
        return sum(part.docs for part in self.langs.values())

    @property
    def text_mb(self) -> float:
        return sum(part.text_bytes for part in self.langs.values()) / MB

    @property
    def files(self) -> int:
        return sum(part.files for part in self.langs.values())


def write_language(folder: Path, lang: str, texts: list[str], target: int, args: argparse.Namespace,
                   rng: random.Random) -> LanguagePart:
    """Write `target` bytes of text of one language: scrambled demo documents, exact and near copies."""
    by_chars = shingle_kind(lang) == "characters"
    part = LanguagePart(files=max(2, math.ceil(target / (args.file_mb * MB))))
    earlier: list[str] = []  # a reservoir sample of the documents generated so far
    with contextlib.ExitStack() as stack:
        handles = [stack.enter_context(gzip.GzipFile(folder / f"{lang}_part_{n + 1}.jsonl.gz", "wb", mtime=0))
                   for n in range(part.files)]
        while part.text_bytes < target:
            draw = rng.random()
            if earlier and draw < args.exact:
                text = rng.choice(earlier)
                part.exact += 1
            elif earlier and draw < args.exact + args.near:
                text = edit(rng.choice(earlier), rng, by_chars, args.near_edits)
                part.near += 1
            else:
                text = scramble(rng.choice(texts), rng, by_chars)
                if len(earlier) < RESERVOIR:
                    earlier.append(text)
                else:
                    slot = rng.randrange(part.docs + 1)
                    if slot < RESERVOIR:
                        earlier[slot] = text
            line = json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
            handles[part.docs % part.files].write(line + b"\n")
            part.docs += 1
            part.text_bytes += len(text.encode("utf-8"))
    return part


def build_corpus(workdir: Path, size_mb: float, pools: dict[str, list[str]],
                 args: argparse.Namespace) -> Corpus:
    """Generate (or reuse, when its manifest matches) the corpus of `size_mb` MB of text."""
    params = {"generator": GENERATOR_VERSION, "size_mb": size_mb, "langs": list(pools), "seed": args.seed,
              "exact": args.exact, "near": args.near, "near_edits": args.near_edits,
              "file_mb": args.file_mb, "demo": str(args.demo)}
    folder = workdir / f"corpus-{size_mb:g}MB"
    manifest = folder / "manifest.json"
    if manifest.exists():
        saved = json.loads(manifest.read_text())
        if saved["params"] == params:
            langs = {lang: LanguagePart(**part) for lang, part in saved["langs"].items()}
            return Corpus(str(folder / "data"), params, langs, saved["build_s"], reused=True)
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "data").mkdir(parents=True)
    started = time.perf_counter()
    target = int(size_mb * MB / len(pools))
    corpus = Corpus(str(folder / "data"), params)
    for lang, texts in pools.items():
        rng = random.Random(f"{args.seed}:{size_mb:g}:{lang}")
        corpus.langs[lang] = write_language(folder / "data", lang, texts, target, args, rng)
    corpus.build_s = time.perf_counter() - started
    manifest.write_text(json.dumps({"params": params, "build_s": corpus.build_s,
                                    "langs": {k: asdict(v) for k, v in corpus.langs.items()}}, indent=2))
    return corpus


# --- running the recipe -------------------------------------------------------------------------

def stage_name(entry: Any) -> str:
    """Return the name of a recipe's stage entry (`name` or `{name: options}`)."""
    return entry if isinstance(entry, str) else next(iter(entry))


def write_recipe(base: dict[str, Any], corpus: Corpus, stages: int, folder: Path) -> Path:
    """Write the recipe with the corpus as its sources and only its first `stages` stages."""
    recipe = dict(base)
    recipe["name"] = f"{base.get('name', 'scale')}-{stages}"
    recipe["output"] = str(folder / f"run-{stages}")
    recipe["sources"] = [{**spec, "paths": [corpus.pattern]} for spec in base["sources"]]
    recipe["stages"] = base["stages"][:stages]
    path = folder / f"recipe-{stages}.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True))
    return path


@dataclass
class Run:
    """One `roots run`: times, peaks and the ledger's totals."""

    stages: int
    pipeline_s: float
    process_s: float
    driver_peak_mb: float
    worker_peak_mb: float
    workers_seen: int
    tree_peak_mb: float
    largest_maxrss_mb: float
    cpu_s: float
    docs_in: int
    bytes_in: int
    kept: int
    rejected_by_reason: dict[str, int]
    duplicate: int
    notes: dict[str, int]


class RunFailed(Exception):
    """`roots run` exited with an error: the size has no figures, and the report says why."""


class OverMemory(Exception):
    """A run stopped because its process tree went over `--max-rss-gb`."""

    def __init__(self, stages: int, seconds: float, tree_mb: float) -> None:
        super().__init__(f"stopped after {seconds:.0f} s: process tree at {tree_mb / 1024:.2f} GiB")
        self.stages, self.seconds, self.tree_mb = stages, seconds, tree_mb


class TreeMonitor:
    """Peak RSS per process of a process tree, by polling (psutil)."""

    def __init__(self, root: int) -> None:
        self.root = psutil.Process(root)
        self.peaks: dict[int, int] = {}
        self.roles: dict[int, str] = {}
        self.tree_peak = 0

    def poll(self) -> int:
        """Record the RSS of every process below the root (the wrapper itself is not counted) and
        return their sum."""
        total = 0
        try:
            children = self.root.children(recursive=True)
        except psutil.Error:
            return 0
        for proc in children:
            try:
                rss = proc.memory_info().rss
                if proc.pid not in self.roles:  # Beam starts each worker through `sh -c`: "other"
                    command = proc.cmdline()
                    self.roles[proc.pid] = (
                        "worker" if "sdk_worker_main" in " ".join(command) and "python" in command[0]
                        else "driver" if proc.ppid() == self.root.pid else "other")
            except psutil.Error:  # ended meanwhile
                continue
            total += rss
            self.peaks[proc.pid] = max(self.peaks.get(proc.pid, 0), rss)
        self.tree_peak = max(self.tree_peak, total)
        return total

    def stop(self) -> None:
        """Kill the tree this monitor watches (processes this bench started), leaves first."""
        try:
            processes = [*reversed(self.root.children(recursive=True)), self.root]
        except psutil.Error:
            return
        for proc in processes:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(processes, timeout=30)

    def peak(self, role: str) -> int:
        return max((rss for pid, rss in self.peaks.items() if self.roles.get(pid) == role), default=0)

    def count(self, role: str) -> int:
        return sum(1 for r in self.roles.values() if r == role)


def roots_command() -> list[str]:
    """Return the command that runs the `roots` CLI of this environment."""
    script = Path(sys.executable).with_name("roots")
    return [str(script)] if script.exists() else [sys.executable, "-m", "roots_pipeline.cli"]


def run_recipe_process(recipe: Path, folder: Path, stages: int, args: argparse.Namespace) -> Run:
    """Run `roots run` on the recipe in a subprocess, polling its memory; return its figures."""
    output = folder / f"run-{stages}"
    usage_file = folder / f"usage-{stages}"
    log = folder / f"log-{stages}.txt"
    command = [*roots_command(), "run", str(recipe), "--out", str(output), "--force", "--quiet",
               "--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"]
    started = time.perf_counter()
    with log.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, str(usage_file), *command],
                                stdout=sink, stderr=subprocess.STDOUT)
        monitor = TreeMonitor(proc.pid)
        while proc.poll() is None:
            total = monitor.poll()
            if total > args.max_rss_gb * 1024 * MB:
                monitor.stop()
                proc.wait()
                shutil.rmtree(output, ignore_errors=True)
                raise OverMemory(stages, time.perf_counter() - started, total / MB)
            time.sleep(args.poll)
    process_s = time.perf_counter() - started
    if proc.returncode:
        last = (log.read_text(errors="replace").strip().splitlines() or [""])[-1]
        raise RunFailed(f"roots run exited with {proc.returncode} ({last}); log: {log}")
    run_info = json.loads((output / "run.json").read_text())
    stats = json.loads((output / "stats.json").read_text())
    reasons: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for entry in stats["entries"]:
        totals["in"] += entry["in"]["docs"]
        totals["bytes"] += entry["in"]["bytes"]
        totals["kept"] += entry["kept"]["docs"]
        totals["duplicate"] += entry["duplicate"]["docs"]
        for reason, count in entry["rejected"].get("by_reason", {}).items():
            reasons[reason] += count["docs"]
        notes.update(entry.get("notes", {}))
    shutil.rmtree(output, ignore_errors=True)  # a 1 GB run writes about as much
    maxrss_kib, cpu_s = usage_file.read_text().split()
    return Run(stages, run_info["wall_seconds"], process_s, monitor.peak("driver") / MB,
               monitor.peak("worker") / MB, monitor.count("worker"), monitor.tree_peak / MB,
               float(maxrss_kib) / 1024, float(cpu_s), totals["in"], totals["bytes"], totals["kept"],
               dict(reasons), totals["duplicate"], dict(notes))


# --- bounds -------------------------------------------------------------------------------------

def suffix_array_bound_mb(corpus: Corpus, part_mb: float) -> float:
    """Return the suffix_array_dedup per-worker bound of `stages/substring_dedup.py` for this
    corpus, in MB: a group of at most `part_mb` of anchor context (`CONTEXT_PER_BYTE` bytes per
    byte of the largest language's input text, an upper bound: the filters before it remove some)
    at 6 bytes of RAM per byte, or a bundle's `BUFFER_MB` of text at 4 bytes per byte while it
    becomes records, whichever is larger."""
    largest = max(part.text_bytes for part in corpus.langs.values())
    group = min(part_mb * MB, CONTEXT_PER_BYTE * largest)
    return max(6 * group, 4 * min(BUFFER_MB * MB, largest)) / MB


def minhash_bound_mb(corpus: Corpus, num_perm: int, band_shards: int) -> float:
    """Return the minhash_dedup per-worker bound of `stages/near_dedup.py` for this corpus, in MB
    (without one cluster's neighbours, 150 bytes per member, and one batch): the signing block
    (num_perm x 4,096 x 4 bytes), one (language, band, shard) group of 16 bytes per document of
    the largest language / band_shards, 2.5 times that while sorted, and a bucket's 1,024 held
    members."""
    largest = max(part.docs for part in corpus.langs.values())
    return (num_perm * 4096 * 4 + 2.5 * 16 * largest / band_shards + 1024 * 40) / MB


# --- reporting ----------------------------------------------------------------------------------

@dataclass
class SizeResult:
    """Everything measured for one size."""

    size_mb: float
    corpus: Corpus
    full: Run
    prefixes: list[Run]
    sa_bound_mb: float
    mh_bound_mb: float

    @property
    def s_per_mb(self) -> float:
        return self.full.pipeline_s / self.corpus.text_mb

    @property
    def beyond_bounds_mb(self) -> float:
        """The largest worker's peak minus the larger of the dedup stages' stated bounds: what the
        issue asks not to grow with the corpus."""
        return self.full.worker_peak_mb - max(self.sa_bound_mb, self.mh_bound_mb)


def main_table(results: list[SizeResult]) -> str:
    """Throughput and memory per size."""
    head = (f"{'size':>6} {'files':>5} {'docs in':>9} {'text MB':>8} {'pipe s':>7} {'proc s':>7} "
            f"{'cpu s':>7} {'docs/s':>7} {'MB/s':>6} {'s/MB':>6}  {'driver':>7} {'worker':>7} {'tree':>7} "
            f"{'maxrss':>7}  {'SA bound':>8} {'MH bound':>8} {'beyond':>7}")
    lines = [head, "-" * len(head)]
    for r in results:
        f = r.full
        lines.append(
            f"{r.size_mb:>4g}MB {r.corpus.files:>5} {f.docs_in:>9,} {r.corpus.text_mb:>8.1f} "
            f"{f.pipeline_s:>7.1f} {f.process_s:>7.1f} {f.cpu_s:>7.0f} {f.docs_in / f.pipeline_s:>7,.0f} "
            f"{r.corpus.text_mb / f.pipeline_s:>6.2f} {r.s_per_mb:>6.2f}  {f.driver_peak_mb:>7,.0f} "
            f"{f.worker_peak_mb:>7,.0f} {f.tree_peak_mb:>7,.0f} {f.largest_maxrss_mb:>7,.0f}  "
            f"{r.sa_bound_mb:>8,.0f} {r.mh_bound_mb:>8,.0f} {r.beyond_bounds_mb:>7,.0f}")
    lines += [
        "pipe s = run.json wall_seconds (planning + Beam + ledger); proc s = the whole `roots run`",
        "process (+ start-up, imports, data cards); cpu s = user + system CPU seconds of that process",
        "and its workers; docs/s, MB/s and s/MB use pipe s and the input text (UTF-8, MiB).",
        "Peak RSS in MiB: driver = the `roots run` process (also the DirectRunner, which holds",
        "shuffles in memory), worker = largest SDK worker process, tree = largest sum over the tree",
        "(psutil polling); maxrss = getrusage(RUSAGE_CHILDREN).ru_maxrss around `roots run`: the",
        "exact peak of the largest single process. SA bound = suffix_array_dedup's stated group memory",
        "(6 B per byte of anchor context, at most part_mb; or 4 B per byte of a 32 MB record buffer);",
        "MH bound = minhash_dedup's per-worker working set (signing block, one band group of the",
        "largest language); both on top of a worker's own baseline. beyond = worker peak minus the",
        "larger bound: a worker's baseline, which should not grow with the corpus.",
    ]
    return "\n".join(lines)


def stage_table(results: list[SizeResult], names: list[str]) -> str:
    """Wall time per stage (differences between prefix runs) and the peaks after adding each stage."""
    timed = [r for r in results if r.prefixes]
    if not timed:
        return "per-stage timing: not measured (no size within --stage-timing-max-mb)"
    columns = ["read+write", *names]
    width = max(12, *(len(c) + 1 for c in columns))
    head = f"{'size':>6}  " + "".join(f"{c:>{width}}" for c in columns)
    lines = [head, "-" * len(head)]
    for r in timed:
        walls = [run.pipeline_s for run in r.prefixes]
        cpus = [run.cpu_s for run in r.prefixes]
        cells = [f"{walls[0]:.1f} s", *(f"{b - a:+.1f} s" for a, b in zip(walls, walls[1:], strict=False))]
        lines.append(f"{r.size_mb:>4g}MB  " + "".join(f"{c:>{width}}" for c in cells))
        cells = [f"{cpus[0]:.0f} cpu", *(f"{b - a:+.0f} cpu" for a, b in zip(cpus, cpus[1:], strict=False))]
        lines.append(f"{'':>6}  " + "".join(f"{c:>{width}}" for c in cells))
        peaks = [f"{run.driver_peak_mb:,.0f}/{run.worker_peak_mb:,.0f}" for run in r.prefixes]
        lines.append(f"{'':>6}  " + "".join(f"{c:>{width}}" for c in peaks))
    lines += [
        "line 1: pipeline wall time of the prefix run without stages (read+write), then each",
        "stage's difference between the prefix runs with and without it; line 2: the same in CPU",
        "seconds of the `roots run` process and its workers (less sensitive to other users of a",
        "shared machine; includes start-up and data cards); line 3: driver/worker peak RSS (MiB) of",
        "the prefix run ending with that stage. The last column is the full run.",
    ]
    return "\n".join(lines)


def dedup_table(results: list[SizeResult]) -> str:
    """What the planted duplicates became, and the quality filter's rejections, per size."""
    head = (f"{'size':>6} {'planted exact':>13} {'near':>7} {'QF rejected':>11} {'MH dup':>8} "
            f"{'SA changed':>10} {'SA MB cut':>9} {'SA rejected':>11} {'kept':>9}")
    lines = [head, "-" * len(head)]
    for r in results:
        f = r.full
        quality = sum(n for reason, n in f.rejected_by_reason.items() if reason.startswith("quality_filter:"))
        sa_rejected = sum(n for reason, n in f.rejected_by_reason.items()
                          if reason.startswith("suffix_array_dedup:"))
        exact = sum(p.exact for p in r.corpus.langs.values())
        near = sum(p.near for p in r.corpus.langs.values())
        lines.append(
            f"{r.size_mb:>4g}MB {exact:>13,} {near:>7,} {quality:>11,} {f.duplicate:>8,} "
            f"{f.notes.get('suffix_array_dedup:docs_changed', 0):>10,} "
            f"{f.notes.get('suffix_array_dedup:bytes_removed', 0) / MB:>9.2f} {sa_rejected:>11,} "
            f"{f.kept:>9,}")
    lines.append("MH dup = documents minhash_dedup removed (exact copies are near-duplicates too, so it")
    lines.append("should be close to the planted copies that passed the quality filter);")
    lines.append("SA = suffix_array_dedup (changed documents, MB cut, rejected as too short after).")
    return "\n".join(lines)


def linearity(results: list[SizeResult]) -> list[str]:
    """Lines comparing time per MB between consecutive sizes, and the issue's 1 GB / 100 MB check."""
    lines = []
    for small, large in zip(results, results[1:], strict=False):
        cpu_small, cpu_large = (r.full.cpu_s / r.corpus.text_mb for r in (small, large))
        lines.append(f"time per MB {large.size_mb:g} MB / {small.size_mb:g} MB: wall "
                     f"{large.s_per_mb:.2f} / {small.s_per_mb:.2f} = {large.s_per_mb / small.s_per_mb:.2f}; "
                     f"CPU {cpu_large:.2f} / {cpu_small:.2f} = {cpu_large / cpu_small:.2f}")
    by_size = {r.size_mb: r for r in results}
    if 100 in by_size and 1000 in by_size:
        ratio = by_size[1000].s_per_mb / by_size[100].s_per_mb
        verdict = "PASS" if ratio <= TARGET_RATIO else "OVER"
        lines.append(f"issue target: 1 GB / 100 MB time per MB {ratio:.2f} <= {TARGET_RATIO}: {verdict}")
    else:
        lines.append("issue target (1 GB / 100 MB time per MB <= 1.5): not measured, 100 MB and 1000 MB "
                     "did not both run")
    return lines


def size_figures(result: SizeResult) -> dict[str, Any]:
    """Return one size's figures for `--json`."""
    corpus = result.corpus
    return {"size_mb": result.size_mb, "s_per_mb": result.s_per_mb, "sa_bound_mb": result.sa_bound_mb,
            "mh_bound_mb": result.mh_bound_mb, "beyond_bounds_mb": result.beyond_bounds_mb,
            "corpus": {"files": corpus.files, "docs": corpus.docs, "text_mb": corpus.text_mb,
                       "build_s": corpus.build_s, "langs": {k: asdict(v) for k, v in corpus.langs.items()}},
            "full": asdict(result.full), "prefixes": [asdict(p) for p in result.prefixes]}


# --- main ---------------------------------------------------------------------------------------

def sizes(value: str) -> list[float]:
    """An argparse type: comma-separated positive sizes in MB, returned in ascending order."""
    try:
        found = sorted({float(v) for v in value.split(",") if v.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"sizes in MB separated by commas, e.g. 10,100,1000: {exc}") from exc
    if not found or found[0] <= 0:
        raise argparse.ArgumentTypeError("sizes must be positive numbers of MB")
    return found


def positive(value: str) -> int:
    """An argparse type: an integer of at least 1."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def share(value: str) -> float:
    """An argparse type: a fraction from 0 to 0.5."""
    number = float(value)
    if not 0 <= number <= 0.5:
        raise argparse.ArgumentTypeError(f"a share of documents from 0 to 0.5, got {number}")
    return number


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=sizes, default=[10.0, 100.0, 1000.0],
                        help="corpus sizes in MB of text, comma-separated (default 10,100,1000)")
    parser.add_argument("--recipe", type=Path, default=RECIPE, help="recipe run (its sources are replaced)")
    parser.add_argument("--without", action="append", default=[], metavar="STAGE",
                        help="run the recipe without this stage (repeatable), e.g. to see what the others "
                             "cost at sizes where it does not fit")
    parser.add_argument("--langs", default=",".join(LANGS),
                        help=f"languages sampled, equal text each (default {','.join(LANGS)})")
    parser.add_argument("--exact", type=share, default=0.05, help="share of exact copies (default 0.05)")
    parser.add_argument("--near", type=share, default=0.05, help="share of near copies (default 0.05)")
    parser.add_argument("--near-edits", type=positive, default=3, help="word edits per near copy (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--file-mb", type=float, default=16.0,
                        help="MB of text per input file, at least two files per language (default 16)")
    parser.add_argument("--workers", type=positive, default=2, help="--direct_num_workers (default 2)")
    parser.add_argument("--repeat", type=positive, default=1,
                        help="runs of each recipe, the fastest kept, the highest peaks (default 1)")
    parser.add_argument("--stage-timing-max-mb", type=float, default=10.0,
                        help="time stages by prefix runs for sizes up to this (default 10; 0: never)")
    parser.add_argument("--max-minutes", type=float, default=60.0,
                        help="skip a size whose runs would take longer, projected from the previous "
                             "size (default 60; 0: no limit)")
    parser.add_argument("--max-rss-gb", type=float,
                        help="stop a run whose process tree goes over this RSS, and skip a size projected "
                             "over it (default: 60 %% of the memory available at start)")
    parser.add_argument("--poll", type=float, default=0.2, help="seconds between memory polls (default 0.2)")
    parser.add_argument("--demo", type=Path, default=DEMO, help="the demo data sampled")
    parser.add_argument("--workdir", type=Path,
                        help="keep corpora (reused when unchanged) and logs here (default: a temporary "
                             "folder)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def best_of(repeats: list[Run]) -> Run:
    """Return the fastest of repeated runs, with the highest peaks seen in any of them."""
    best = min(repeats, key=lambda run: run.pipeline_s)
    return replace(best, driver_peak_mb=max(r.driver_peak_mb for r in repeats),
                   worker_peak_mb=max(r.worker_peak_mb for r in repeats),
                   tree_peak_mb=max(r.tree_peak_mb for r in repeats),
                   largest_maxrss_mb=max(r.largest_maxrss_mb for r in repeats))


def measure_size(size_mb: float, corpus: Corpus, base: dict[str, Any], folder: Path,
                 args: argparse.Namespace, per_stage: bool, bounds: Bounds) -> SizeResult:
    """Run the full recipe on one corpus, then (when per_stage) its prefixes; OverMemory if the
    full run goes over `--max-rss-gb`."""
    folder.mkdir(parents=True, exist_ok=True)
    count = len(base["stages"])
    runs: dict[int, Run] = {}
    for stages in [count, *range(count)] if per_stage else [count]:
        recipe = write_recipe(base, corpus, stages, folder)
        try:
            done = runs[stages] = best_of([run_recipe_process(recipe, folder, stages, args)
                                           for _ in range(args.repeat)])
        except OverMemory as exc:
            if stages == count:
                raise
            print(f"{size_mb:g} MB, {stages} stage(s): {exc}; no per-stage timing for this size",
                  file=sys.stderr)
            break
        print(f"{size_mb:g} MB, {stages} stage(s): pipeline {done.pipeline_s:.1f} s, process "
              f"{done.process_s:.1f} s, peaks driver {done.driver_peak_mb:,.0f} MiB, worker "
              f"{done.worker_peak_mb:,.0f} MiB, tree {done.tree_peak_mb:,.0f} MiB",
              file=sys.stderr, flush=True)
    prefixes = [runs[k] for k in range(count + 1)] if len(runs) == count + 1 else []
    return SizeResult(size_mb, corpus, runs[count], prefixes, suffix_array_bound_mb(corpus, bounds.part_mb),
                      minhash_bound_mb(corpus, bounds.num_perm, bounds.band_shards))


def projected_peak_mb(results: list[SizeResult], size_mb: float) -> float:
    """Project the process tree's peak RSS at `size_mb`: linear through the last two sizes run;
    from one size, its growth over the stage-less prefix run (the fixed part: interpreters, Beam,
    reading) scaled with the size, or, without prefix runs, the whole peak scaled (an overestimate)."""
    last = results[-1]
    if len(results) >= 2:
        before = results[-2]
        slope = (last.full.tree_peak_mb - before.full.tree_peak_mb) / (last.size_mb - before.size_mb)
        return last.full.tree_peak_mb + max(slope, 0.0) * (size_mb - last.size_mb)
    fixed = last.prefixes[0].tree_peak_mb if last.prefixes else 0.0
    return fixed + max(last.full.tree_peak_mb - fixed, 0.0) * size_mb / last.size_mb


def skip_reason(results: list[SizeResult], size_mb: float, runs: int, args: argparse.Namespace) -> str | None:
    """Say why a size should not run (time or memory projected over the limits), or None."""
    if not results:
        return None
    minutes = results[-1].s_per_mb * size_mb * runs / 60
    if args.max_minutes and minutes > args.max_minutes:
        return (f"{size_mb:g} MB not run: {runs} run(s) projected at {minutes:.0f} min from "
                f"{results[-1].size_mb:g} MB's time per MB, over --max-minutes {args.max_minutes:g}")
    peak_gb = projected_peak_mb(results, size_mb) / 1024
    if peak_gb > args.max_rss_gb:
        return (f"{size_mb:g} MB not run: process tree projected at {peak_gb:.1f} GiB of RSS from the sizes "
                f"run, over --max-rss-gb {args.max_rss_gb:.1f}")
    return None


def print_report(args: argparse.Namespace, names: list[str], results: list[SizeResult],
                 skipped: list[str], part_mb: float) -> None:
    """Print the tables, the linearity check, the memory comparison and what did not run."""
    without = f" without {', '.join(args.without)}" if args.without else ""
    print(f"\nroots-pipeline scale bench: {args.recipe.name}{without} ({', '.join(names)}), DirectRunner "
          f"multi_processing x {args.workers} workers, {os.cpu_count()} CPUs, best of {args.repeat}, "
          f"languages {args.langs}, "
          f"exact {args.exact:g} / near {args.near:g} ({args.near_edits} edits), seed {args.seed}, "
          f"memory limit {args.max_rss_gb:.1f} GiB")
    if results:
        timed = [f"{r.size_mb:g} MB" for r in results if r.prefixes]
        untimed = [f"{r.size_mb:g} MB" for r in results if not r.prefixes]
        first, last = results[0], results[-1]
        print(main_table(results), "", stage_table(results, names),
              f"per-stage timing for: {', '.join(timed) or 'none'}; "
              f"full run only: {', '.join(untimed) or 'none'}",
              "", dedup_table(results), "", *linearity(results), sep="\n")
        print(f"worker peak {first.size_mb:g} MB -> {last.size_mb:g} MB: {first.full.worker_peak_mb:,.0f} -> "
              f"{last.full.worker_peak_mb:,.0f} MiB (SA bound {first.sa_bound_mb:,.0f} -> "
              f"{last.sa_bound_mb:,.0f} MiB at part_mb {part_mb:g}); driver {first.full.driver_peak_mb:,.0f} "
              f"-> {last.full.driver_peak_mb:,.0f} MiB")
        print("worker peak beyond the dedup stages' stated bounds: "
              + " -> ".join(f"{r.beyond_bounds_mb:,.0f} MiB at {r.size_mb:g} MB" for r in results))
        for small, large in zip(results, results[1:], strict=False):
            if large.full.docs_in == small.full.docs_in:
                continue
            grown = (large.full.driver_peak_mb - small.full.driver_peak_mb) * MB
            print(f"driver peak {small.size_mb:g} -> {large.size_mb:g} MB: "
                  f"{grown / (large.full.docs_in - small.full.docs_in) / 1024:.1f} KB more per document "
                  f"read (the DirectRunner holds each shuffle in this process until it is read)")
    for line in skipped:
        print(line)
    not_asked = [f"{s:g} MB" for s in (10.0, 100.0, 1000.0) if s not in args.sizes]
    if not_asked:
        print(f"not asked (--sizes): {', '.join(not_asked)}")


@dataclass(frozen=True)
class Bounds:
    """The recipe's options that the dedup stages' stated memory bounds depend on."""

    part_mb: float = SuffixArrayDedup.part_mb
    num_perm: int = MinhashDedup.num_perm
    band_shards: int = MinhashDedup.band_shards


def recipe_bounds(base: dict[str, Any], names: list[str], folder: Path, demo: Path) -> Bounds:
    """Load the recipe as `roots run` will (stage names and options checked) and return the
    suffix_array_dedup and minhash_dedup options it runs with."""
    probe = write_recipe(base, Corpus(str(demo / "oscar"), {}), len(names), folder)
    stages = {stage.name: stage for stage in load_recipe(str(probe)).stages}
    found = Bounds()
    if "suffix_array_dedup" in stages:
        found = replace(found, part_mb=stages["suffix_array_dedup"].part_mb)
    if "minhash_dedup" in stages:
        near = stages["minhash_dedup"]
        found = replace(found, num_perm=near.num_perm, band_shards=near.band_shards)
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.max_rss_gb is None:
        args.max_rss_gb = 0.6 * psutil.virtual_memory().available / 1024**3
    langs = tuple(lang.strip() for lang in args.langs.split(",") if lang.strip())
    base = yaml.safe_load(args.recipe.read_text())
    unknown = set(args.without) - {stage_name(entry) for entry in base["stages"]}
    if unknown:
        print(f"--without {', '.join(sorted(unknown))}: not a stage of {args.recipe}", file=sys.stderr)
        return 2
    base["stages"] = [entry for entry in base["stages"] if stage_name(entry) not in args.without]
    names = [stage_name(entry) for entry in base["stages"]]
    pools = demo_texts(args.demo, langs)
    with tempfile.TemporaryDirectory(prefix="roots-scale-") as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        try:  # before generating anything
            bounds = recipe_bounds(base, names, workdir, args.demo)
        except RootsError as exc:
            print(f"cannot load {args.recipe}: {exc}", file=sys.stderr)
            return 2
        results: list[SizeResult] = []
        skipped: list[str] = []
        for size_mb in args.sizes:
            per_stage = size_mb <= args.stage_timing_max_mb
            runs = (len(names) + 1 if per_stage else 1) * args.repeat
            reason = skip_reason(results, size_mb, runs, args)
            if reason is None:
                corpus = build_corpus(workdir, size_mb, pools, args)
                print(f"{size_mb:g} MB corpus: {corpus.files} files, {corpus.docs:,} documents, "
                      f"{corpus.text_mb:.1f} MB of text ({'reused, ' if corpus.reused else ''}built in "
                      f"{corpus.build_s:.0f} s)", file=sys.stderr)
                try:
                    results.append(measure_size(size_mb, corpus, base, workdir / f"runs-{size_mb:g}MB", args,
                                                per_stage, bounds))
                except OverMemory as exc:
                    reason = (f"{size_mb:g} MB: the full run was {exc} "
                              f"(over --max-rss-gb {args.max_rss_gb:.1f})")
                except RunFailed as exc:
                    reason = f"{size_mb:g} MB: no figures, {exc}"
            if reason:
                skipped.append(reason)
                print(reason, file=sys.stderr)
        print_report(args, names, results, skipped, bounds.part_mb)
        if args.json:
            args.json.write_text(json.dumps({
                "recipe": str(args.recipe), "stages": names, "workers": args.workers, "langs": list(langs),
                "python": platform.python_version(), "cpus": os.cpu_count(), "skipped": skipped,
                "bounds": asdict(bounds), "sizes": [size_figures(r) for r in results],
            }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
