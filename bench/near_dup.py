"""Near-duplicate detection: the `minhash_dedup` stage's algorithm against datasketch, on copies of
real documents with controlled edits, scored against exact Jaccard truth, in one process and end
to end through `roots dedup`.

The corpus: the demo texts (OSCAR, catalogue; 7 + 5 languages), or every `*.txt` file under
`--input` (one document each, language `--lang`). A share of them (`--share`) become clusters:
1 to `--copies` copies each, every copy edited independently at the cluster's edit rate (cycling
through `--rates`): that share of its tokens (words; characters for zh and ja) each inserted,
deleted or substituted with a token of another document, and half the copies with two paragraphs
swapped. Truth: pairs of the same language whose exact Jaccard similarity of the stage's shingle
sets is at least the threshold, and clusters as the connected components of those pairs (the stage
removes transitively too). Scores are pairwise over documents in the same cluster.

Sides, timed alternately, best of `--repeat`, the process pinned to one core, in CPU seconds of the
process (the sides are single-threaded and read nothing, so on an idle machine this is their wall
time; on a shared one, wall time also counts other processes' turns on the core). The bench's own
objects are frozen out of Python's collector first (`gc.freeze`): collections that walked them
made datasketch 7% slower than in a script of its own.

* **datasketch** (the baseline) — what one writes with the library: per document
  `MinHash(num_perm, seed).update_batch(shingles)` and `MinHashLSH(threshold, num_perm).insert`
  (one index per language), then `query` per document and union-find over the results, with
  `--baseline-num-perm` permutations (128, the library's default), and once more with the
  stage's `num_perm` (320: the baseline of the end-to-end side); its candidates are not
  verified. `tuned`: with the two speed-ups its documentation offers;
* **ours** — the stage's own functions in one process, at the stage's defaults (`--num-perm`,
  `--lsh-threshold` change them): `shingles`, `shingle_hashes` and `signatures` per batch of
  1,000 documents, `band_hashes` for the bands of `lsh_threshold`, `band_entries` packed per
  (language, band, shard), `bucket_pairs` over all groups at once, the distinct candidate edges
  verified at `threshold`, and `components_finishing_stars`, i.e. the stage without Beam's
  per-element cost; checked to give the same clusters and survivors as the reference functions
  (each bucket's `bucket_candidates`, `verified_edges`, `components_in_memory`); and once more
  with `lsh_threshold` = `threshold` (datasketch's bands, verified), to show what choosing the
  bands for a lower threshold brings;
* **Beam** — the `minhash_dedup` stage itself on the DirectRunner (`in_memory`), once, in wall
  seconds, checked to give the same clusters as `ours`, with the bytes each of its grouping steps
  receives (what the runner's process holds until the group is read) (`--no-beam` skips it);
* **roots dedup**, end to end — `roots dedup --method minhash RUN OUT` with the stage's
  options, a child process on the same core, in CPU seconds of that process (and wall): RUN is a
  run folder holding the documents (written as JSON lines, one file per language, and read by
  `roots run` without stages, not timed), because a JSON lines input takes one `--lang`, and the
  languages fastText would identify are not the bench's. Its start-up is the same command on a
  run folder of 20 of the documents, as many languages; net = whole run - start-up. Its
  baseline is datasketch above with the same shingles, num_perm (320), seed and threshold, used
  directly in this process (no reading or writing); its clusters are checked against `ours`
  (`--no-cli` skips it).

Both shingle with the same function, so the ratio measures signatures, banding, verification and
clustering (and, end to end, reading and writing the corpus too). Targets: issue 4, F1 >= 0.95
against the exact-Jaccard truth and ours >= 2 x datasketch's documents per second; issue 19,
`roots dedup` >= 2 x datasketch net of start-up, start-up <= 2 s. `--sweep` first prints F1 over
num_perm x lsh_threshold and several MinHash seeds: the measurement the defaults come from. A
measurement: it exits 0 whatever the figures; `--json` writes them.

    python bench/near_dup.py [--input DIR --lang en] [--share 0.5] [--copies 4] [--repeat 3] [--sweep]
                             [--no-beam] [--no-cli] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import gzip
import io
import json
import math
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import apache_beam as beam
import datasketch
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse
import zstandard
from apache_beam.options.pipeline_options import PipelineOptions

from roots_pipeline.dedup.minhash import (
    CHARACTERS,
    ENTRY,
    agreements_needed,
    band_entries,
    band_hashes,
    bucket_candidates,
    bucket_pairs,
    components_finishing_stars,
    components_in_memory,
    optimal_bands_rows,
    shingle_hashes,
    shingles,
    signatures,
    verified_edges,
)
from roots_pipeline.document import Document
from roots_pipeline.output.shard_reader import shard_batches
from roots_pipeline.stages.near_dedup import MinhashDedup
from roots_pipeline.worker.coder import DocumentBatch

DEMO = Path(__file__).resolve().parent.parent / "tests" / "data" / "demo"
TARGET_F1 = 0.95
TARGET_SPEEDUP = 2.0
BATCH = 1000
STARTUP_DOCUMENTS = 20
TARGET_STARTUP = 2.0
# The `roots` command next to this Python, else the module.
_SCRIPT = Path(sys.executable).with_name("roots")
ROOTS = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "roots_pipeline.cli"]

Corpus = list[tuple[str, str]]  # (lang, text)


# --- the corpus -----------------------------------------------------------------------------------

def demo_documents() -> Corpus:
    """Return (lang, text) of every OSCAR and catalogue demo document, in a fixed order."""
    found: Corpus = []
    for path in sorted((DEMO / "oscar").glob("*.jsonl.*")):
        raw = path.read_bytes()
        data = gzip.decompress(raw) if path.suffix == ".gz" else zstandard.ZstdDecompressor().stream_reader(
            io.BytesIO(raw)).read()
        records = [json.loads(line) for line in data.decode().splitlines()]
        found += [(path.name.split("_")[0], r.get("text") or r.get("content") or "") for r in records]
    for folder in sorted((DEMO / "catalogue").iterdir()):
        for path in sorted(folder.glob("*.arrow")):
            with pa.memory_map(str(path)) as source:
                texts = pa.ipc.open_stream(source).read_all().column("text").to_pylist()
            found += [(folder.name.split("_")[1], text) for text in texts]
    for path in sorted((DEMO / "catalogue_files").glob("*/*.parquet")):
        found += [(path.parent.name.split("_")[1], t) for t in pq.read_table(path).column("text").to_pylist()]
    for path in sorted((DEMO / "catalogue_files").glob("*/*.jsonl")):
        lang = path.parent.name.split("_")[1]
        found += [(lang, json.loads(line)["content"]) for line in path.read_text("utf-8").splitlines()]
    return [(lang, text) for lang, text in found if text.strip()]


def folder_documents(folder: str, lang: str) -> Corpus:
    """Return (lang, text) of every `*.txt` file under `folder`, one document each."""
    return [(lang, path.read_text("utf-8", errors="replace")) for path in sorted(Path(folder).rglob("*.txt"))]


def edited_copy(text: str, characters: bool, rate: float, donor: list[str], rng: random.Random) -> str:
    """Return `text` with `rate` of its tokens inserted, deleted or substituted; half the time
    two of its paragraphs swapped too."""
    paragraphs = text.split("\n")
    if len(paragraphs) > 1 and rng.random() < 0.5:
        i, j = rng.sample(range(len(paragraphs)), 2)
        paragraphs[i], paragraphs[j] = paragraphs[j], paragraphs[i]
    tokens = list("\n".join(paragraphs)) if characters else "\n".join(paragraphs).split(" ")
    for _ in range(round(rate * len(tokens))):
        position = rng.randrange(len(tokens))
        operation = rng.choice(("insert", "delete", "substitute"))
        if operation == "insert":
            tokens.insert(position, rng.choice(donor))
        elif operation == "delete" and len(tokens) > 1:
            del tokens[position]
        else:
            tokens[position] = rng.choice(donor)
    return ("" if characters else " ").join(tokens)


def build_corpus(base: Corpus, stage: MinhashDedup, share: float, copies: int, rates: list[float],
                 seed: int) -> tuple[Corpus, list[float | None]]:
    """Return the documents (originals, then copies) and each one's cluster edit rate (None: no copies)."""
    rng = random.Random(seed)
    donors: dict[str, list[str]] = defaultdict(list)
    for lang, text in base:
        characters = stage.kind_of(lang) == CHARACTERS
        donors[lang] += list(text.replace(" ", "")) if characters else text.split()
    chosen = sorted(rng.sample(range(len(base)), round(share * len(base))))
    rate_of: list[float | None] = [None] * len(base)
    docs = list(base)
    for number, index in enumerate(chosen):
        lang, text = base[index]
        rate = rates[number % len(rates)]
        rate_of[index] = rate
        for _ in range(rng.randint(1, copies)):
            docs.append((lang, edited_copy(text, stage.kind_of(lang) == CHARACTERS, rate, donors[lang], rng)))
            rate_of.append(rate)
    return docs, rate_of


def shingle_sets(docs: Corpus, stage: MinhashDedup) -> list[list[bytes]]:
    return [shingles(text, stage.ngram, stage.kind_of(lang)) for lang, text in docs]


def truth_labels(docs: Corpus, found: list[list[bytes]], threshold: float) -> tuple[list[int], int]:
    """Return each document's truth cluster (smallest member) and the number of pairs >= threshold.

    Exact Jaccard of every pair sharing a shingle, as a sparse product (documents x shingles),
    per language; clusters are the connected components of the pairs at or above the threshold.
    """
    parent = list(range(len(docs)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    pairs = 0
    by_lang: dict[str, list[int]] = defaultdict(list)
    for index, (lang, _) in enumerate(docs):
        if found[index]:
            by_lang[lang].append(index)
    for members in by_lang.values():
        vocabulary: dict[bytes, int] = {}
        rows, cols = [], []
        for row, index in enumerate(members):
            for shingle in set(found[index]):
                rows.append(row)
                cols.append(vocabulary.setdefault(shingle, len(vocabulary)))
        matrix = scipy.sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)),
                                         shape=(len(members), len(vocabulary)))
        sizes = np.asarray(matrix.sum(axis=1)).ravel()
        shared = scipy.sparse.triu(matrix @ matrix.T, k=1).tocoo()
        jaccard = shared.data / (sizes[shared.row] + sizes[shared.col] - shared.data)
        for a, b in zip(shared.row[jaccard >= threshold], shared.col[jaccard >= threshold], strict=True):
            pairs += 1
            ra, rb = root(members[a]), root(members[b])
            parent[max(ra, rb)] = min(ra, rb)
    return [root(i) for i in range(len(docs))], pairs


def pair_scores(predicted: list[int], truth: list[int], subset: Iterable[int]) -> tuple[float, float, float]:
    """Return pairwise (precision, recall, F1) over the documents of `subset`, from cluster labels."""
    def pairs(counts: Iterable[int]) -> int:
        return sum(n * (n - 1) // 2 for n in counts)

    members = list(subset)
    both = pairs(Counter((predicted[i], truth[i]) for i in members).values())
    found = pairs(Counter(predicted[i] for i in members).values())
    expected = pairs(Counter(truth[i] for i in members).values())
    precision = both / found if found else 1.0
    recall = both / expected if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# --- the sides ------------------------------------------------------------------------------------

def run_datasketch(docs: Corpus, stage: MinhashDedup, num_perm: int, tuned: bool = False) -> list[int]:
    """Cluster with datasketch as its documentation shows; return each document's cluster label.

    `num_perm` permutations and `MinHashLSH(stage.threshold)`: the library has no verification,
    so its candidates are its near-duplicates. `tuned`: with the two speed-ups its documentation
    offers, permutations drawn once and passed to every `MinHash`, and the (bands, rows) passed to
    each language's `MinHashLSH` rather than optimised again per index.
    """
    indexes: dict[str, datasketch.MinHashLSH] = {}
    sketches: dict[int, tuple[str, datasketch.MinHash]] = {}
    shared = datasketch.MinHash(num_perm=num_perm, seed=stage.seed).permutations if tuned else None
    params = optimal_bands_rows(stage.threshold, num_perm) if tuned else None
    for index, (lang, text) in enumerate(docs):
        found = shingles(text, stage.ngram, stage.kind_of(lang))
        if not found:
            continue
        if tuned:
            sketch = datasketch.MinHash(num_perm=num_perm, seed=stage.seed, permutations=shared,
                                        scheme="affine32")
        else:
            sketch = datasketch.MinHash(num_perm=num_perm, seed=stage.seed)
        sketch.update_batch(found)
        if lang not in indexes:
            indexes[lang] = datasketch.MinHashLSH(threshold=stage.threshold, num_perm=num_perm, params=params)
        indexes[lang].insert(index, sketch)
        sketches[index] = (lang, sketch)
    parent = list(range(len(docs)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for index, (lang, sketch) in sketches.items():
        for other in indexes[lang].query(sketch):
            ra, rb = root(index), root(other)
            parent[max(ra, rb)] = min(ra, rb)
    return [root(i) for i in range(len(docs))]


# Per batch: the (document number, language) of its documents with shingles, and their signatures.
SignedBatch = tuple[list[tuple[int, str]], np.ndarray]


def sign(docs: Corpus, stage: MinhashDedup) -> list[SignedBatch]:
    """Return the signatures of the documents with shingles, computed per batch as the stage does."""
    signed = []
    for start in range(0, len(docs), BATCH):
        hashes, members = [], []
        for index in range(start, min(start + BATCH, len(docs))):
            lang, text = docs[index]
            found = shingles(text, stage.ngram, stage.kind_of(lang))
            if found:
                hashes.append(shingle_hashes(found))
                members.append((index, lang))
        signed.append((members, signatures(hashes, stage.num_perm, stage.seed)))
    return signed


def cluster(count: int, signed: list[SignedBatch], stage: MinhashDedup) -> list[int]:
    """Return the cluster label of each of `count` documents by the stage's functions over
    signatures from `sign`: band entries per (language, band, shard), the candidates of all
    groups' buckets at once (`bucket_pairs`), verification of the distinct edges, and the
    components by the stage's steps (`components_finishing_stars`)."""
    groups = _band_groups(signed, stage)
    entries = np.frombuffer(b"".join(packed for group in groups.values() for packed in group), dtype=ENTRY)
    group_of = np.repeat(np.arange(len(groups)), [sum(map(len, group)) // ENTRY.itemsize
                                                  for group in groups.values()])
    left, right = bucket_pairs(entries["hash"], entries["number"], groups=group_of)
    edges = np.unique(np.stack([entries["number"][left], entries["number"][right]], axis=1), axis=0)
    signature_of = np.zeros((count, stage.num_perm), dtype=np.uint32)  # the stage's signature files
    for members, rows_of in signed:
        signature_of[[index for index, _ in members]] = rows_of
    need = agreements_needed(stage.threshold, stage.num_perm)
    close = np.count_nonzero(signature_of[edges[:, 0]] == signature_of[edges[:, 1]], axis=1) >= need
    labels = components_finishing_stars(map(tuple, edges[close].tolist()), stage.max_rounds)
    return [labels[i][0] if i in labels else i for i in range(count)]


def cluster_reference(count: int, signed: list[SignedBatch], stage: MinhashDedup) -> list[int]:
    """Return the cluster labels `cluster` must give, by the reference functions: each bucket's
    `bucket_candidates`, `verified_edges` and `components_in_memory`."""
    signature_of = {index: row.tobytes() for members, rows_of in signed
                    for (index, _), row in zip(members, rows_of, strict=True)}
    candidates = []
    for group in _band_groups(signed, stage).values():
        entries = np.frombuffer(b"".join(group), dtype=ENTRY)
        for bucket in np.unique(entries["hash"]):
            candidates += bucket_candidates(entries["number"][entries["hash"] == bucket].tolist())
    edges = list(verified_edges(candidates, signature_of.__getitem__, stage.threshold))
    labels = components_in_memory(edges, stage.max_rounds)
    return [labels[i][0] if i in labels else i for i in range(count)]


def _band_groups(signed: list[SignedBatch], stage: MinhashDedup) -> dict[tuple[str, int, int], list[bytes]]:
    """Return the stage's packed (band hash, node) entries per (language, band, shard), node = index."""
    bands, rows = stage.bands_rows
    groups: dict[tuple[str, int, int], list[bytes]] = defaultdict(list)
    for members, rows_of in signed:
        banded = band_hashes(rows_of, bands, rows)
        langs = np.array([lang for _, lang in members])
        numbers = np.array([index for index, _ in members], dtype=np.int64)
        for lang in sorted(set(langs.tolist())):
            mine = langs == lang
            for (band, shard), packed in band_entries(banded[mine], numbers[mine], stage.band_shards):
                groups[(lang, band, shard)].append(packed)
    return groups


def run_ours(docs: Corpus, stage: MinhashDedup) -> list[int]:
    """Cluster with the stage's functions in one process; return each document's cluster label."""
    return cluster(len(docs), sign(docs, stage), stage)


def run_beam(docs: Corpus, stage: MinhashDedup) -> tuple[list[int], float, Counter[str]]:
    """Run the stage on the DirectRunner; return each document's cluster label, the seconds taken
    and the bytes each of its grouping steps received."""
    batches = [[Document(f"{i:016x}", text, "bench", "bench", lang, order=i) for i, (lang, text) in
                enumerate(docs[start:start + BATCH], start)] for start in range(0, len(docs), BATCH)]
    with tempfile.TemporaryDirectory(prefix="roots-bench-near-dup-") as scratch, counted_shuffles() as sizes:
        started = time.perf_counter()
        with beam.Pipeline(options=PipelineOptions(["--direct_running_mode=in_memory"])) as pipeline:
            created = pipeline | beam.Create(batches).with_output_types(DocumentBatch)
            outputs = stage.expand_stage(created, "near", f"{scratch}/scratch")
            _ = (outputs.rejected
                 | beam.FlatMap(lambda batch: [f"{d.id} {d.meta['duplicate_of']}" for d in batch])
                 | beam.io.WriteToText(f"{scratch}/removed"))
        seconds = time.perf_counter() - started
        survivor_of = dict(line.split() for path in Path(scratch).glob("removed*")
                           for line in path.read_text().splitlines())
    stage_sizes = Counter({name.split("near_", 1)[1]: size for name, size in sizes.items()
                           if "near_" in name})
    return [int(survivor_of.get(f"{i:016x}", f"{i:x}"), 16) for i in range(len(docs))], seconds, stage_sizes


# --- the command line, end to end ------------------------------------------------------------------

def write_run_folder(docs: Corpus, indexes: list[int], folder: Path, name: str) -> Path:
    """Return a run folder of `roots run` holding the documents at `indexes`, one language each.

    The documents are written as JSON lines, one file per language, records `{"id": index,
    "text": ...}` in index order; `roots run` reads them with one catalogue source per language
    and no stage (not timed). Its `data/<lang>/` shards are what `roots dedup` reads language by
    language: the way to give it documents of several known languages (a JSON lines input takes
    one `--lang`, or the languages fastText identifies, which are not the bench's).
    """
    sources = []
    for lang in sorted({docs[i][0] for i in indexes}):
        path = folder / f"{name}_{lang}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for index in indexes:
                if docs[index][0] == lang:
                    handle.write(json.dumps({"id": index, "text": docs[index][1]}, ensure_ascii=False) + "\n")
        sources.append({"kind": "catalogue", "paths": [str(path)], "lang": lang, "dataset": f"bench_{lang}"})
    recipe = folder / f"{name}.yaml"
    recipe.write_text(json.dumps({"name": name, "output": str(folder / name), "sources": sources,
                                  "stages": []}))
    subprocess.run([*ROOTS, "run", str(recipe), "--quiet"], check=True, stdout=subprocess.DEVNULL)
    return folder / name


def run_cli(run_dir: Path, out: Path, stage: MinhashDedup) -> tuple[float, float]:
    """Run `roots dedup --method minhash` on a run folder with the stage's options, as a child
    process on this process's core; return its (CPU seconds, wall seconds)."""
    options = ["--threshold", str(stage.threshold), "--num-perm", str(stage.num_perm)]
    if stage.lsh_threshold is not None:
        options += ["--lsh-threshold", str(stage.lsh_threshold)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*ROOTS, "dedup", "--method", "minhash", *options, str(run_dir), str(out), "--quiet",
                    "--force"], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def cli_labels(run_dir: Path, out: Path, count: int) -> list[int]:
    """Return each document's cluster label from `roots dedup`'s `duplicates.jsonl` (a document not
    listed is its own label). On a run folder it names records by the run's document ids, which
    that run's shards map back to the indexes the bench wrote."""
    index_of = {}
    for lang in os.listdir(run_dir / "data"):
        for batch in shard_batches(str(run_dir / "data" / lang)):
            for doc_id, meta in zip(batch.column("id").to_pylist(), batch.column("meta").to_pylist(),
                                    strict=True):
                index_of[doc_id] = json.loads(meta)["id"]
    assert len(index_of) == count, (len(index_of), count)
    label = list(range(count))
    for line in (out / "duplicates.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        label[index_of[record["id"]]] = index_of[record["duplicate_of"]]
    return label


def startup_indexes(docs: Corpus, count: int) -> list[int]:
    """Return `count` documents for the start-up run: the first of each language in turn, so that
    it reads as many languages as the whole corpus (each is a source and a shard folder)."""
    by_lang: dict[str, list[int]] = defaultdict(list)
    for index, (lang, _) in enumerate(docs):
        by_lang[lang].append(index)
    chosen: list[int] = []
    for rank in range(max(map(len, by_lang.values()))):
        chosen += [indexes[rank] for indexes in by_lang.values() if rank < len(indexes)]
    return sorted(chosen[:count])


@contextlib.contextmanager
def counted_shuffles() -> Iterator[Counter[str]]:
    """Count the encoded bytes each grouping step of the DirectRunner (in_memory) receives, by
    step name: what its process holds until the group is read."""
    from apache_beam.runners.portability.fn_api_runner import execution

    sizes: Counter[str] = Counter()
    names: dict[int, str] = {}
    get_buffer, append = execution.BundleContextManager.get_buffer, execution.GroupingBuffer.append

    def named_buffer(self, buffer_id: bytes, transform_id: str):  # Beam's own signature
        found = get_buffer(self, buffer_id, transform_id)
        if isinstance(found, execution.GroupingBuffer):
            names[id(found)] = buffer_id.decode().split(":", 1)[1]
        return found

    def counted_append(self, elements_data: bytes) -> None:
        sizes[names.get(id(self), "?")] += len(elements_data)
        append(self, elements_data)

    execution.BundleContextManager.get_buffer = named_buffer
    execution.GroupingBuffer.append = counted_append
    try:
        yield sizes
    finally:
        execution.BundleContextManager.get_buffer = get_buffer
        execution.GroupingBuffer.append = append


# --- measurement ----------------------------------------------------------------------------------

def sweep(docs: Corpus, truth: list[int], stage: MinhashDedup, num_perms: list[int],
          lsh_thresholds: list[float], seeds: int) -> None:
    """Print F1 (mean and lowest over MinHash seeds 1..`seeds`) for each num_perm x lsh_threshold:
    the measurement the stage's defaults come from (the main table gives the chosen one's speed;
    `--num-perm` and `--lsh-threshold` give another's).

    One seed's F1 is one draw: near the threshold a pair's estimated Jaccard falls either side of
    it by chance, and one such pair can split or join a cluster of dozens, so the seeds' mean
    chooses and the lowest shows the spread.
    """
    print(f"  sweep: F1 over MinHash seeds 1..{seeds}, threshold {stage.threshold}")
    print(f"  {'num_perm':>8}{'lsh_threshold':>14}{'bands x rows':>14}{'mean F1':>9}{'lowest':>8}")
    for num_perm in num_perms:
        signed = {seed: sign(docs, replace(stage, num_perm=num_perm, seed=seed))
                  for seed in range(1, seeds + 1)}
        for lsh_threshold in lsh_thresholds:
            if lsh_threshold > stage.threshold:
                continue
            option = replace(stage, num_perm=num_perm, lsh_threshold=lsh_threshold)
            f1s = [pair_scores(cluster(len(docs), signed[seed], replace(option, seed=seed)), truth,
                               range(len(docs)))[2] for seed in signed]
            bands, rows = option.bands_rows
            print(f"  {num_perm:>8}{lsh_threshold:>14g}{f'{bands} x {rows}':>14}{np.mean(f1s):>9.3f}"
                  f"{min(f1s):>8.3f}", flush=True)
    print()


def main() -> int:
    defaults = MinhashDedup()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", help="folder of *.txt documents (default: the demo corpus)")
    parser.add_argument("--lang", default="en", help="language of the --input documents")
    parser.add_argument("--share", type=float, default=0.5, help="share of documents given near-copies")
    parser.add_argument("--copies", type=int, default=4, help="most near-copies per document")
    parser.add_argument("--rates", default="0,0.01,0.02,0.05,0.1,0.2,0.3",
                        help="edit rates, cycled over clusters")
    parser.add_argument("--threshold", type=float, default=defaults.threshold)
    parser.add_argument("--num-perm", type=int, default=defaults.num_perm)
    parser.add_argument("--lsh-threshold", type=float, default=defaults.lsh_threshold,
                        help="Jaccard the LSH bands are chosen for (default: lsh_threshold_for's)")
    parser.add_argument("--baseline-num-perm", type=int, default=128,
                        help="datasketch's permutations (128: its default, the usual configuration)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="seed of the edits")
    parser.add_argument("--no-beam", action="store_true", help="skip the run of the Beam stage")
    parser.add_argument("--no-cli", action="store_true", help="skip the runs of roots dedup")
    parser.add_argument("--sweep", action="store_true", help="first print F1 over the options below")
    parser.add_argument("--sweep-num-perm", default="128,192,256,320,384")
    parser.add_argument("--sweep-lsh-threshold", default="0.5,0.6,0.7")
    parser.add_argument("--sweep-seeds", type=int, default=8, help="MinHash seeds per sweep point")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, like the other benches

    stage = MinhashDedup(threshold=args.threshold, num_perm=args.num_perm, lsh_threshold=args.lsh_threshold)
    base = folder_documents(args.input, args.lang) if args.input else demo_documents()
    rates = [float(rate) for rate in args.rates.split(",")]
    docs, rate_of = build_corpus(base, stage, args.share, args.copies, rates, args.seed)
    truth, truth_pairs = truth_labels(docs, shingle_sets(docs, stage), args.threshold)
    chars = sum(len(text) for _, text in docs)
    print(f"{len(docs):,} documents ({len(base):,} originals + {len(docs) - len(base):,} edited copies), "
          f"{len({lang for lang, _ in docs})} languages, {chars / len(docs):,.0f} characters on average")
    print(f"truth: {truth_pairs:,} pairs with exact Jaccard >= {stage.threshold}, "
          f"{sum(n > 1 for n in Counter(truth).values()):,} clusters; one core\n")
    if args.sweep:
        sweep(docs, truth, stage, [int(n) for n in args.sweep_num_perm.split(",")],
              [float(t) for t in args.sweep_lsh_threshold.split(",")], args.sweep_seeds)

    unlowered = replace(stage, lsh_threshold=stage.threshold)
    sides = {"datasketch": lambda: run_datasketch(docs, stage, args.baseline_num_perm),
             "datasketch, tuned": lambda: run_datasketch(docs, stage, args.baseline_num_perm, tuned=True),
             "datasketch, same num_perm": lambda: run_datasketch(docs, stage, stage.num_perm),
             "datasketch, same num_perm, tuned":
                 lambda: run_datasketch(docs, stage, stage.num_perm, tuned=True),
             "ours": lambda: run_ours(docs, stage), "ours, unlowered": lambda: run_ours(docs, unlowered)}
    labels = {name: side() for name, side in sides.items()}  # warm-up
    # The bench's own objects (Beam's modules, the corpus, the truth) out of the collector's way:
    # timed in here, each side should pay for its own objects only, as in a script of its own.
    gc.collect()
    gc.freeze()
    reference = cluster_reference(len(docs), sign(docs, stage), stage)
    print(f"ours: same clusters as the reference functions (each bucket's candidates, verified_edges, "
          f"components_in_memory): {'yes' if reference == labels['ours'] else 'NO'}")
    timings = dict.fromkeys(sides, math.inf)
    with tempfile.TemporaryDirectory(prefix="roots-bench-near-dup-cli-") as folder:
        cli = {}
        if not args.no_cli:
            whole = write_run_folder(docs, list(range(len(docs))), Path(folder), "documents")
            few = write_run_folder(docs, startup_indexes(docs, STARTUP_DOCUMENTS), Path(folder), "startup")
            cli = {"roots dedup, start-up": lambda: run_cli(few, Path(folder) / "startup_out", stage),
                   "roots dedup": lambda: run_cli(whole, Path(folder) / "documents_out", stage)}
        cli_cpu, cli_wall = dict.fromkeys(cli, math.inf), dict.fromkeys(cli, math.inf)
        paired: list[float] = []  # per repeat: datasketch (same num_perm) / roots dedup net
        for _ in range(args.repeat):  # the sides in turn, so that a busy machine slows them alike
            this_round = {}
            for name, side in sides.items():
                started = time.process_time()
                side()
                this_round[name] = time.process_time() - started
                timings[name] = min(timings[name], this_round[name])
            for name, run in cli.items():
                cpu, wall = run()
                this_round[name] = cpu
                cli_cpu[name], cli_wall[name] = min(cli_cpu[name], cpu), min(cli_wall[name], wall)
            if cli:
                net = this_round["roots dedup"] - this_round["roots dedup, start-up"]
                paired.append(this_round["datasketch, same num_perm"] / net if net > 0 else math.inf)
        if cli:
            labels["roots dedup"] = cli_labels(whole, Path(folder) / "documents_out", len(docs))
    rates_per_second = {name: len(docs) / seconds for name, seconds in timings.items()}
    scores = {name: pair_scores(found, truth, range(len(docs))) for name, found in labels.items()}
    beam_rate, shuffled = None, Counter()
    if not args.no_beam:
        beam_labels, seconds, shuffled = run_beam(docs, stage)
        beam_rate = len(docs) / seconds
        same = _partition(beam_labels) == _partition(labels["ours"])
        print(f"Beam stage: same clusters as 'ours': {'yes' if same else 'NO'}")

    bands, rows = stage.bands_rows
    baseline_bands, baseline_rows = optimal_bands_rows(stage.threshold, args.baseline_num_perm)
    same_bands, same_rows = optimal_bands_rows(stage.threshold, stage.num_perm)
    print(f"ours: {stage.config_name}: {stage.ngram}-gram shingles ({stage.shingle}: words; characters for "
          f"zh/ja/...), num_perm {stage.num_perm}, seed {stage.seed}, candidates from lsh_threshold "
          f"{stage.banding_threshold:g} -> {bands} bands x {rows} rows, verified (pairs, star and path) "
          f"at threshold {stage.threshold}")
    print(f"baseline: datasketch MinHash(num_perm={args.baseline_num_perm}, seed={stage.seed}) + MinHashLSH("
          f"threshold={stage.threshold}) -> {baseline_bands} bands x {baseline_rows} rows, candidates "
          f"unverified; with the same num_perm ({stage.num_perm}): {same_bands} bands x {same_rows} rows\n")
    print(f"  {'side':<40}{'precision':>10}{'recall':>8}{'F1':>8}{'docs/s':>10}")
    names = {"datasketch": "datasketch MinHash + MinHashLSH",
             "datasketch, tuned": "datasketch, tuned",
             "datasketch, same num_perm": f"datasketch, num_perm={stage.num_perm}",
             "datasketch, same num_perm, tuned": f"datasketch, num_perm={stage.num_perm}, tuned",
             "ours": "ours (stage functions, defaults)",
             "ours, unlowered": f"ours, lsh_threshold={stage.threshold}"}
    for name, label in names.items():
        precision, recall, f1 = scores[name]
        print(f"  {label:<40}{precision:>10.3f}{recall:>8.3f}{f1:>8.3f}{rates_per_second[name]:>10,.0f}")
    if beam_rate is not None:
        print(f"  {'minhash_dedup stage, DirectRunner':<40}{'(same as ours)':>26}{beam_rate:>10,.0f}")
    print("\n  F1 by edit rate (pairs within clusters of that rate), ours:")
    by_rate = {}
    for rate in rates:
        members = [i for i, r in enumerate(rate_of) if r == rate]
        by_rate[rate] = pair_scores(labels["ours"], truth, members)
        precision, recall, f1 = by_rate[rate]
        print(f"    {rate:>5.2f}  P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f}")
    f1 = scores["ours"][2]
    speedup = rates_per_second["ours"] / rates_per_second["datasketch"]
    print(f"\n  F1 {f1:.3f} (target >= {TARGET_F1}): {'met' if f1 >= TARGET_F1 else 'NOT met'}")
    tuned_speedup = rates_per_second["ours"] / rates_per_second["datasketch, tuned"]
    print(f"  stage functions: {speedup:.2f}x datasketch (target >= {TARGET_SPEEDUP:.0f}x): "
          f"{'met' if speedup >= TARGET_SPEEDUP else 'NOT met'}; {tuned_speedup:.2f}x tuned datasketch")
    end_to_end = None
    if cli_cpu:
        end_to_end = report_end_to_end(len(docs), stage, cli_cpu, cli_wall, timings, paired,
                                       _partition(labels["roots dedup"]) == _partition(labels["ours"]))
    if shuffled:
        report_shuffles(len(docs), shuffled)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "documents": len(docs), "originals": len(base), "config": stage.config_name,
            "num_perm": stage.num_perm, "threshold": stage.threshold,
            "lsh_threshold": stage.banding_threshold, "bands": bands, "rows": rows,
            "baseline_num_perm": args.baseline_num_perm,
            "baseline_bands": baseline_bands, "baseline_rows": baseline_rows, "truth_pairs": truth_pairs,
            "scores": {name: dict(zip(("precision", "recall", "f1"), s, strict=True))
                       for name, s in scores.items()},
            "f1_by_rate": {str(rate): s[2] for rate, s in by_rate.items()},
            "docs_per_second": rates_per_second, "beam_docs_per_second": beam_rate, "speedup": speedup,
            "speedup_over_tuned": tuned_speedup, "end_to_end": end_to_end,
            "shuffle_bytes_per_document": {name: size / len(docs) for name, size in shuffled.items()},
            "python": platform.python_version()}, indent=2) + "\n")
    return 0


def report_end_to_end(count: int, stage: MinhashDedup, cpu: dict[str, float], wall: dict[str, float],
                      timings: dict[str, float], paired: list[float], same: bool) -> dict[str, object]:
    """Print `roots dedup` net of start-up against datasketch used directly; return the figures.

    The ratio is of the best times of each side; `paired` holds it per repeat, each side's times
    taken back to back, which a machine whose speed drifts between repeats disturbs less."""
    startup, total = cpu["roots dedup, start-up"], cpu["roots dedup"]
    net = total - startup
    baseline = timings["datasketch, same num_perm"]
    ratio = baseline / net
    print(f"\n  end to end: roots dedup --method minhash on a run folder of the documents (data/<lang>/, "
          f"{stage.num_perm} permutations, threshold {stage.threshold}), a child process on this core, "
          f"CPU seconds (wall); start-up = the same command on {STARTUP_DOCUMENTS} documents of as many "
          f"languages; same clusters as ours: {'yes' if same else 'NO'}")
    startup_wall = wall["roots dedup, start-up"]
    print(f"    start-up, {STARTUP_DOCUMENTS} documents   {startup:6.2f} s ({startup_wall:.2f} s wall; "
          f"target <= {TARGET_STARTUP:g} s: {'met' if startup_wall <= TARGET_STARTUP else 'NOT met'})")
    print(f"    {count:,} documents        {total:6.2f} s ({wall['roots dedup']:.2f} s wall)")
    print(f"    net of start-up         {net:6.2f} s   {count / net:,.0f} docs/s")
    print(f"    datasketch, same shingles, num_perm={stage.num_perm}, seed={stage.seed}, "
          f"threshold={stage.threshold}, used directly: {baseline:.2f} s -> roots dedup {ratio:.2f}x "
          f"(target >= {TARGET_SPEEDUP:.0f}x): {'met' if ratio >= TARGET_SPEEDUP else 'NOT met'}")
    paired_median = statistics.median(paired)
    print(f"    per repeat: {', '.join(f'{ratio:.2f}x' for ratio in paired)} (median {paired_median:.2f}x)")
    tuned = timings["datasketch, same num_perm, tuned"]
    default = timings["datasketch"]
    print(f"    the same tuned: {tuned:.2f} s ({tuned / net:.2f}x); datasketch's default 128 permutations: "
          f"{default:.2f} s ({default / net:.2f}x)")
    return {"startup_cpu": startup, "startup_wall": startup_wall, "total_cpu": total,
            "total_wall": wall["roots dedup"], "net_cpu": net, "datasketch_same_num_perm": baseline,
            "speedup": ratio, "speedup_per_repeat": paired, "speedup_median": paired_median,
            "speedup_over_tuned": tuned / net, "speedup_over_default": default / net, "same_clusters": same}


def report_shuffles(count: int, shuffled: Counter[str]) -> None:
    """Print the bytes per document each grouping step of the stage received on the DirectRunner."""
    joined = sum(size for name, size in shuffled.items() if name.startswith("Join"))
    steps = sorted(((name, size) for name, size in shuffled.items() if not name.startswith("Join")),
                   key=lambda item: -item[1])
    total = sum(size for _, size in steps)
    print(f"\n  shuffle per document, the stage on the DirectRunner (batches of {BATCH:,}): "
          f"{total / count / 1000:.2f} KB, and {joined / count / 1000:.2f} KB joining the documents back")
    print("    " + ", ".join(f"{name} {size / count / 1000:.2f}" for name, size in steps if size))


def _partition(labels: list[int]) -> set[frozenset[int]]:
    """Return the clusters of two or more documents, as sets of document numbers."""
    groups: dict[int, set[int]] = defaultdict(set)
    for index, label in enumerate(labels):
        groups[label].add(index)
    return {frozenset(group) for group in groups.values() if len(group) > 1}


if __name__ == "__main__":
    sys.exit(main())
