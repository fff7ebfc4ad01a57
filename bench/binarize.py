"""Binarizing throughput: `roots binarize` against Megatron's `preprocess_data.py` way of doing it,
on the same documents with the same tokenizer, in one process, on all of this machine's cores.

The corpus: the demo texts (tests/data/demo: the OSCAR files and the catalogue datasets, nine
languages) repeated to `--mb` MB, written as a run folder (`data/<lang>/` Arrow shards, the layout
`roots run` writes) in a temporary folder. The tokenizer: a byte-level BPE trained on the same
texts (`--vocab-size`, special tokens `<unk> <s> </s> <pad>`), or `--tokenizer PATH`.

* **roots binarize** — `roots_pipeline.megatron.binarize.binarize`, what the command runs, with
  `--append-eod`: batched `encode_batch_fast` on the Rust thread pool, numpy, the streaming writer.
* **baseline, N workers** — `preprocess_data.py`'s shape: the shards' texts fed to a
  `multiprocessing.Pool(N)` with `imap(encode, texts, 32)`, each worker calling
  `tokenizer.encode(text).ids` per document and appending EOD, the main process calling
  megatron-core's `IndexedDatasetBuilder.add_document` per document and `finalize`. Empty
  documents are skipped (Megatron-DeepSpeed's rule). With N = 1 the loop runs in-process.

Every run's outputs are compared byte for byte (`.bin` and `.idx` of every language); the script
exits 1 if they differ. Timings are the best of `--repeat`, the sides interleaved in rotating
order; "CPU s" is the CPU time of that run (threads and pool workers), which other load on the
machine disturbs less than wall time. The speed-up is baseline time / roots binarize time, i.e.
the ratio of tokens per second; the issue's target is ≥ 2.

    python bench/binarize.py [--mb 8] [--repeat 3] [--workers 1 2] [--tokenizer PATH] [--json F]
"""

from __future__ import annotations

import argparse
import filecmp
import gzip
import io
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import tokenizers
import zstandard
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from roots_pipeline.document import Document, document_id
from roots_pipeline.megatron.binarize import BinarizeOptions, binarize, shard_files
from roots_pipeline.megatron.tokenizer import LoadedTokenizer, load_tokenizer
from roots_pipeline.output.shards import shard_name, shard_schema, to_record_batch

DEMO = Path(__file__).resolve().parent.parent / "tests" / "data" / "demo"
TARGET = 2.0
MB = 1e6
SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>"]
EOD = "</s>"
_ROWS_PER_BATCH = 1000


def demo_texts(demo: Path) -> dict[str, list[str]]:
    """Return the demo corpus's texts per language: the OSCAR files and the catalogue datasets."""
    texts: dict[str, list[str]] = {}
    for path in sorted((demo / "oscar").glob("*.jsonl.*")):
        raw = path.read_bytes()
        data = (gzip.decompress(raw) if path.suffix == ".gz"
                else zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read())
        for line in data.decode("utf-8").splitlines():
            record = json.loads(line)
            texts.setdefault(path.name.split("_")[0], []).append(record.get("text") or record.get("content"))
    for folder in sorted((demo / "catalogue").iterdir()):  # named <corpus>_<lang>
        for shard in shard_files(str(folder)):
            table = pa.ipc.open_stream(pa.memory_map(shard)).read_all()
            texts.setdefault(folder.name.rsplit("_", 1)[1], []).extend(table.column("text").to_pylist())
    return texts


def write_run(texts: dict[str, list[str]], megabytes: float, run: Path) -> tuple[int, float]:
    """Write the texts, each language repeated alike to about `megabytes` MB in all, as a run
    folder; return (documents, MB of text)."""
    size = sum(len(t.encode("utf-8")) for values in texts.values() for t in values)
    copies = max(1, round(megabytes * MB / size))
    documents = 0
    for lang, values in texts.items():
        folder = run / "data" / lang
        folder.mkdir(parents=True)
        name = shard_name(0, 1)
        schema = shard_schema(False)
        with pa.OSFile(str(folder / name), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
            batch: list[Document] = []
            for position in range(copies * len(values)):
                text = values[position % len(values)]
                doc_id = document_id("oscar", lang, "bench", position)
                batch.append(Document(doc_id, text, "oscar", "bench", lang))
                if len(batch) == _ROWS_PER_BATCH:
                    writer.write_batch(to_record_batch(batch, False))
                    batch = []
            if batch:
                writer.write_batch(to_record_batch(batch, False))
        documents += copies * len(values)
        (folder / "state.json").write_text(json.dumps({"_data_files": [{"filename": name}]}))
    return documents, copies * size / MB


def train_tokenizer(texts: dict[str, list[str]], vocab_size: int, path: Path) -> None:
    """Train a byte-level BPE (BLOOM's kind and special tokens) on the texts and save it."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator((t for values in texts.values() for t in values), trainer)
    tokenizer.save(str(path))


# --- the baseline: preprocess_data.py's loop --------------------------------------------------

_worker: tuple[Tokenizer, int] | None = None


def _initialize(path: str, eod: int) -> None:
    """Pool initializer, as preprocess_data.py's Encoder.initializer: one tokenizer per worker."""
    global _worker
    _worker = (Tokenizer.from_file(path), eod)


def _encode(text: str) -> list[int]:
    """One document, as preprocess_data.py's Encoder.encode with --append-eod (no sentence split)."""
    assert _worker is not None
    tokenizer, eod = _worker
    ids = tokenizer.encode(text).ids
    return ids + [eod] if ids else ids


def baseline(run: Path, tokenizer: LoadedTokenizer, out: Path, workers: int) -> int:
    """Write every language's dataset the preprocess_data.py way; return the tokens written."""
    from megatron.core.datasets.indexed_dataset import DType, IndexedDatasetBuilder

    assert tokenizer.eod_id is not None
    dtype = DType.optimal_dtype(tokenizer.vocab_size)
    tokens = 0
    pool = None
    if workers > 1:
        # The parent's tokenizer has run threads: say so to the forked workers, as the library asks,
        # and give the parent its threads back once they exist.
        previous = os.environ.get("TOKENIZERS_PARALLELISM")
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
        pool = multiprocessing.get_context("fork").Pool(workers, _initialize,
                                                        (tokenizer.path, tokenizer.eod_id))
        if previous is None:
            del os.environ["TOKENIZERS_PARALLELISM"]
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = previous
    else:
        _initialize(tokenizer.path, tokenizer.eod_id)
    try:
        for lang_folder in sorted((run / "data").iterdir()):
            prefix = out / f"{lang_folder.name}_text_document"
            builder = IndexedDatasetBuilder(f"{prefix}.bin", dtype=dtype)
            texts = _texts_of(lang_folder)
            encoded = pool.imap(_encode, texts, 32) if pool else map(_encode, texts)
            for ids in encoded:
                if ids:
                    builder.add_document(ids, [len(ids)])
                    tokens += len(ids)
            builder.finalize(f"{prefix}.idx")
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return tokens


def _texts_of(lang_folder: Path) -> Iterator[str]:
    for shard in shard_files(str(lang_folder)):
        for batch in pa.ipc.open_stream(pa.memory_map(shard)):
            yield from batch.column("text").to_pylist()


# --- measuring ------------------------------------------------------------------------------

def ours(run: Path, tokenizer: LoadedTokenizer, out: Path) -> int:
    """Run the binarizer as `roots binarize RUN --append-eod --out OUT --force --quiet` does."""
    result = binarize(str(run), str(out), tokenizer, BinarizeOptions(force=True), show_progress=False)
    return int(result.report["totals"]["tokens"])


def identical(left: Path, right: Path) -> bool:
    """Return whether every .bin/.idx in `left` has a byte-identical twin in `right`, and vice versa."""
    names = sorted(p.name for p in left.glob("*_text_document.*"))
    return names == sorted(p.name for p in right.glob("*_text_document.*")) and bool(names) and all(
        filecmp.cmp(left / name, right / name, shallow=False) for name in names)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mb", type=float, default=8.0, help="MB of text in the corpus (default 8)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the best is kept")
    parser.add_argument("--workers", type=int, nargs="+", default=sorted({1, os.cpu_count() or 1}),
                        help="baseline worker counts (default: 1 and this machine's cores)")
    parser.add_argument("--tokenizer", type=Path, help="a tokenizer.json with </s> (default: train one)")
    parser.add_argument("--vocab-size", type=int, default=32000, help="vocabulary of the trained tokenizer")
    parser.add_argument("--demo", type=Path, default=DEMO, help="the demo data to repeat")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


@dataclass
class Side:
    """One way of binarizing the corpus and its best run."""

    name: str
    workers: int  # 0: roots binarize
    tokens: int = 0
    seconds: float = float("inf")
    cpu_seconds: float = float("inf")  # of that run: this process's threads and its workers

    @property
    def folder(self) -> str:
        return "roots" if not self.workers else f"baseline-{self.workers}"

    def as_dict(self, megabytes: float, reference: Side) -> dict[str, Any]:
        """Return the figures with rates and the ratio to `reference` (roots binarize), for `--json`."""
        return {**asdict(self), "tokens_per_s": self.tokens / self.seconds,
                "mb_per_s": megabytes / self.seconds, "speed_up": self.seconds / reference.seconds}


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the baseline's pool workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def run_side(side: Side, run: Path, tokenizer: LoadedTokenizer, out: Path) -> None:
    """Binarize the corpus one way into `out` and keep the run if it is the side's fastest."""
    out.mkdir(parents=True, exist_ok=True)
    started, cpu = time.perf_counter(), cpu_seconds()
    tokens = ours(run, tokenizer, out) if not side.workers else baseline(run, tokenizer, out, side.workers)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    print(f"{side.name}: {seconds:.2f} s, {cpu:.2f} CPU s", file=sys.stderr)
    side.tokens = tokens
    if seconds < side.seconds:
        side.seconds, side.cpu_seconds = seconds, cpu


def table(sides: list[Side], megabytes: float) -> str:
    """Render the sides as a table with each baseline's time over roots binarize's."""
    ours_side = sides[0]
    header = ("side", "tokens", "time s", "CPU s", "tokens/s", "MB/s", "speed-up")
    rows = [header]
    for side in sides:
        ratio = side.seconds / ours_side.seconds
        verdict = "" if side is ours_side else f"{ratio:.2f} x {'PASS' if ratio >= TARGET else 'UNDER'}"
        rows.append((side.name, f"{side.tokens:,}", f"{side.seconds:.2f}", f"{side.cpu_seconds:.2f}",
                     f"{side.tokens / side.seconds:,.0f}", f"{megabytes / side.seconds:.2f}", verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
                     for row in rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", module="megatron")  # "Transformer Engine and Apex are not installed"
    import megatron.core  # imported before timing: it takes seconds (torch)

    with tempfile.TemporaryDirectory(prefix="roots-bench-") as temporary:
        root = Path(temporary)
        texts = demo_texts(args.demo)
        documents, megabytes = write_run(texts, args.mb, root / "run")
        path = args.tokenizer
        if path is None:
            path = root / "tokenizer.json"
            train_tokenizer(texts, args.vocab_size, path)
        tokenizer = load_tokenizer(str(path), EOD)
        print(f"corpus: {len(texts)} languages, {documents:,} documents, {megabytes:.1f} MB; tokenizer: "
              f"{tokenizer.vocab_size:,} tokens ({tokenizer.dtype.name})", file=sys.stderr)
        sides = [Side("roots binarize", 0)] + [Side(f"baseline, {n} worker{'s' if n > 1 else ''}", n)
                                               for n in args.workers]
        same = True
        for attempt in range(args.repeat):
            # Rotate the order so that no side always runs after the same one.
            for side in sides[attempt % len(sides):] + sides[:attempt % len(sides)]:
                run_side(side, root / "run", tokenizer, root / "out" / side.folder)
            for side in sides[1:]:
                if not identical(root / "out" / sides[0].folder, root / "out" / side.folder):
                    print(f"OUTPUTS DIFFER: roots binarize vs {side.name}", file=sys.stderr)
                    same = False
        print(f"\nroots-pipeline binarize bench: {os.cpu_count()} cores, {megabytes:.1f} MB, best of "
              f"{args.repeat}, tokenizers {tokenizers.__version__}, "
              f"megatron-core {megatron.core.__version__}")
        print(table(sides, megabytes))
        print(f"outputs byte-identical: {'yes' if same else 'NO'}; speed-up = baseline time / roots time, "
              f"target >= {TARGET:g}")
        if args.json:
            args.json.write_text(json.dumps({
                "mb": megabytes, "documents": documents, "vocab_size": tokenizer.vocab_size,
                "cores": os.cpu_count(), "python": platform.python_version(), "identical": same,
                "sides": [side.as_dict(megabytes, sides[0]) for side in sides]}, indent=2) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
