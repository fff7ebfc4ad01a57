"""Charged anchors against the suffix array: MB/s on one core, shuffle and memory per byte, and
where the time goes, on real text.

    python bench/anchors.py [--mb 5 50] [--dup-rate 0.2] [--group-mb 64] [--bundle-mb 4]
                            [--repeat 3] [--profile] [--json figures.json]

Corpora (the generator is `bench/suffix_array.py`'s):

* demo: every document the demo recipe reads from tests/data/demo (nine languages, 1.4 MB);
* generated: `--mb` MB in the demo's languages and proportions, the demo's words resampled, with
  `--dup-rate` of the segments copied from earlier documents (the demo repeated and mutated);
  and the same texts pooled as one language, for one suffix array of the whole size.

Per language, documents in id order (the order key is (0, id)), as the stage will see them:

* anchors: `find_duplicate_spans_by_anchors`, the whole in-process algorithm, sized as the stage
  would size it: M = context bytes / `--group-mb` groups (3.65 context bytes per byte of text),
  the documents in a random order cut into bundles of `--bundle-mb` of text (so a group merges
  packed values whose documents interleave in reading order);
* suffix array: `suffix_array.duplicate_spans`, one suffix array over the language.

The process is pinned to one CPU and times are its CPU seconds (`time.process_time`: on a
shared machine, wall time also counts other processes' turns); the two sides alternate
`--repeat` times and the best of each is kept. Spans must be identical (exit 1 otherwise).

Then, on the largest generated corpus: the phases timed one by one (anchor records; groups,
gathering and zstd; unpacking and reordering; window hashes and the sort; verification and
spans), records and context bytes per input byte, packed bytes per input byte for several
group counts, and the peak memory (tracemalloc, which sees numpy's buffers) of resolving the
largest group, per byte of its context. `--profile` adds cProfile's top functions.

Measured in the module docstrings of `dedup.anchors` and `dedup.anchor_groups` and in
bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import random
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# bench/suffix_array.py, beside this script: the demo reader and the corpus generator.
from suffix_array import demo_records, generate, read_jsonl

from roots_pipeline.dedup import anchor_groups
from roots_pipeline.dedup.anchor_groups import find_duplicate_spans_by_anchors, resolve_group, spans_by_doc
from roots_pipeline.dedup.anchors import (
    anchor_records,
    pack_records,
    split_groups,
    unpack_group,
    unpack_records,
)
from roots_pipeline.dedup.suffix_array import duplicate_spans

MB = 1024 * 1024
MIN_BYTES = 50
CONTEXT_PER_BYTE = 3.65  # measured below; the stage would learn it from its sizing step


@dataclass(frozen=True)
class Sizing:
    """How the stage would cut a language: context MB per group, text MB per bundle."""

    group_mb: float
    bundle_mb: float

    def groups(self, text_bytes: int) -> int:
        return max(1, round(CONTEXT_PER_BYTE * text_bytes / (self.group_mb * MB)))

    def bundles(self, text_bytes: int) -> int:
        return max(1, round(text_bytes / (self.bundle_mb * MB)))


def by_language(records: list[dict[str, str]]) -> dict[str, tuple[list[bytes], list[tuple[int, int]]]]:
    """Return, per language, the texts in id order and their order keys (0, id)."""
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for record in records:
        grouped[record["lang"]].append(record)
    result = {}
    for lang, members in sorted(grouped.items()):
        members.sort(key=lambda r: r["id"])
        texts = [r["text"].encode("utf-8") for r in members]
        result[lang] = (texts, [(0, int(r["id"], 16)) for r in members])
    return result


def shuffled(texts: list[bytes], orders: list[tuple[int, int]], seed: int) -> tuple[list[bytes], list]:
    """Return the texts and keys in a random order: bundles then hold documents from all over."""
    index = list(range(len(texts)))
    random.Random(seed).shuffle(index)
    return [texts[i] for i in index], [orders[i] for i in index]


def best_of(repeat: int, sides: dict[str, Callable[[], Any]]) -> tuple[dict[str, float], dict[str, Any]]:
    """Run the sides alternately `repeat` times; return each side's best seconds and last result."""
    best = {name: float("inf") for name in sides}
    results = {}
    for _ in range(repeat):
        for name, run in sides.items():
            started = time.process_time()
            results[name] = run()
            best[name] = min(best[name], time.process_time() - started)
    return best, results


def compare(corpus: str, languages, sizing: Sizing, repeat: int) -> dict[str, Any]:
    """Time both sides on every language of a corpus; check the spans are identical."""
    size = sum(len(t) for texts, _ in languages.values() for t in texts)
    jobs = {lang: shuffled(texts, orders, 7) for lang, (texts, orders) in languages.items()}
    plan = {lang: (sizing.groups(sum(map(len, texts))), sizing.bundles(sum(map(len, texts))))
            for lang, (texts, _) in languages.items()}

    def anchors() -> list:
        return [find_duplicate_spans_by_anchors(texts, orders, MIN_BYTES, groups=plan[lang][0],
                                                bundles=plan[lang][1])
                for lang, (texts, orders) in jobs.items()]

    def suffix_array() -> list:
        return [duplicate_spans(texts, MIN_BYTES) for texts, _ in languages.values()]

    seconds, results = best_of(repeat, {"anchors": anchors, "suffix_array": suffix_array})
    identical = True
    for (lang, (_, orders)), found, expected in zip(languages.items(), results["anchors"],
                                                    results["suffix_array"], strict=True):
        back = dict(zip(jobs[lang][1], found, strict=True))
        identical &= [back[key] for key in orders] == expected
    removed = sum(end - start for spans in results["suffix_array"] for doc in spans for start, end in doc)
    return {"corpus": corpus, "mb": size / MB, "languages": len(languages), "identical": identical,
            "removed_pct": 100 * removed / size, "seconds": seconds,
            "groups": max(groups for groups, _ in plan.values()),
            "bundles": max(bundles for _, bundles in plan.values()),
            "mb_per_s": {name: size / MB / s for name, s in seconds.items()}}


def bundled(texts: list[bytes], orders: list, bundles: int) -> list:
    """Return the anchor records of each bundle of a language (documents in a random order)."""
    texts, orders = shuffled(texts, orders, 7)
    cuts = np.linspace(0, len(texts), bundles + 1).astype(int).tolist()
    return [anchor_records(texts[a:b], orders[a:b], np.arange(a, b), MIN_BYTES)
            for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def phases(languages, sizing: Sizing, repeat: int) -> dict[str, float]:
    """Return ns per input byte of each phase of the algorithm, the driver's steps timed apart
    (best of `repeat`)."""
    size = sum(len(t) for texts, _ in languages.values() for t in texts)
    best: dict[str, float] = defaultdict(lambda: float("inf"))
    for _ in range(repeat):
        spent: dict[str, float] = defaultdict(float)
        clock = [time.process_time()]

        def tick(name: str, spent: dict[str, float] = spent, clock: list[float] = clock) -> None:
            now = time.process_time()
            spent[name] += now - clock[0]
            clock[0] = now

        for texts, orders in languages.values():
            text_bytes = sum(map(len, texts))
            texts, orders = shuffled(texts, orders, 7)
            bundles, groups = sizing.bundles(text_bytes), sizing.groups(text_bytes)
            cuts = np.linspace(0, len(texts), bundles + 1).astype(int).tolist()
            packed: dict[int, list[bytes]] = defaultdict(list)
            tick("other")
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                records = anchor_records(texts[a:b], orders[a:b], np.arange(a, b), MIN_BYTES)
                tick("1 anchor records: gram hashes, sliding minima")
                for group, members in split_groups(records, groups).items():
                    packed[group].append(pack_records(members))
                tick("2 groups, contexts gathered, zstd")
            for values in packed.values():
                group = unpack_group(values).reading_order()
                tick("3 unpack, reading order")
                position_bits = max(1, (len(group.data) - 1).bit_length())
                anchor_groups._sorted_keys(group, np.uint64((1 << position_bits) - 1))
                tick("4 window hashes, sort")
                docs, starts = anchor_groups.duplicate_windows(group)
                spans_by_doc(docs, starts, MIN_BYTES)
                tick("5 resolve (4 again) and spans")
        for name, seconds in spent.items():
            best[name] = min(best[name], seconds)
    result = {name: 1e9 * seconds / size for name, seconds in sorted(best.items())}
    # `duplicate_windows` ran phase 4 again: phase 5 is reported net of it.
    result["5 verification, locating, spans"] = result.pop("5 resolve (4 again) and spans") - \
        result["4 window hashes, sort"]
    return result


def shuffle_and_memory(languages, sizing: Sizing) -> dict[str, Any]:
    """Return records and context bytes per input byte, packed bytes per input byte for the
    stage's sizing and for fixed group counts, and the peak memory of resolving the largest
    group per byte of its context."""
    size = sum(len(t) for texts, _ in languages.values() for t in texts)
    records_count = context = 0
    packed_bytes: dict[str, int] = defaultdict(int)
    largest: list[bytes] = []
    largest_context = 0
    for texts, orders in languages.values():
        text_bytes = sum(map(len, texts))
        made = bundled(texts, orders, sizing.bundles(text_bytes))
        records_count += sum(len(records) for records in made)
        context += sum(int(records.context_lengths.sum()) for records in made)
        counts = [("sized", sizing.groups(text_bytes)), *((str(m), m) for m in (1, 16, 256, 4096))]
        for name, groups in counts:
            values: dict[int, list[bytes]] = defaultdict(list)
            for records in made:
                for group, members in split_groups(records, groups).items():
                    values[group].append(pack_records(members))
            packed_bytes[name] += sum(len(value) for group in values.values() for value in group)
            if name == "sized":
                for group in values.values():
                    group_context = sum(int(unpack_records(v).context_lengths.sum()) for v in group)
                    if group_context > largest_context:
                        largest, largest_context = group, group_context
    tracemalloc.start()
    resolve_group(largest)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"records_per_byte": records_count / size, "context_per_byte": context / size,
            "packed_per_byte": {name: total / size for name, total in packed_bytes.items()},
            "group_context_mb": largest_context / MB,
            "group_peak_per_context_byte": (peak + sum(map(len, largest))) / largest_context}


def profile(languages, sizing: Sizing) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for texts, orders in languages.values():
        text_bytes = sum(map(len, texts))
        texts, orders = shuffled(texts, orders, 7)
        find_duplicate_spans_by_anchors(texts, orders, MIN_BYTES, groups=sizing.groups(text_bytes),
                                        bundles=sizing.bundles(text_bytes))
    profiler.disable()
    with tempfile.NamedTemporaryFile("w+", suffix=".txt") as out:
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        out.seek(0)
        return out.read()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizing = Sizing(args.group_mb, args.bundle_mb)
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    demo = demo_records()
    corpora = [("demo", by_language(demo))]
    with tempfile.TemporaryDirectory(prefix="roots-bench-anchors-") as temporary:
        for megabytes in args.mb:
            path = Path(temporary) / f"generated-{megabytes:g}.jsonl"
            generate(demo, megabytes, args.dup_rate, args.seed, path)
            generated = read_jsonl(path)
            corpora.append((f"generated {megabytes:g} MB", by_language(generated)))
            # All languages as one: one suffix array of the whole size, to show how each side scales.
            corpora.append(("  pooled, one language", by_language([r | {"lang": "all"} for r in generated])))

    print(f"roots-pipeline charged-anchors bench: min_bytes {MIN_BYTES}, groups of {args.group_mb:g} MB of "
          f"context, bundles of {args.bundle_mb:g} MB of text, best of {args.repeat}, Python "
          f"{platform.python_version()}, numpy {np.__version__}, pinned to CPU {cpu} of {os.cpu_count()}")
    head = (f"{'corpus':<21}{'MB':>6}{'langs':>6}{'removed':>9}{'M':>5}{'bundles':>8}{'anchors MB/s':>13}"
            f"{'SA MB/s':>9}{'SA s / anchors s':>17}  spans")
    print(head + "\n" + "-" * len(head))
    rows = []
    for name, languages in corpora:
        row = compare(name, languages, sizing, args.repeat)
        rows.append(row)
        speed, seconds = row["mb_per_s"], row["seconds"]
        print(f"{name:<21}{row['mb']:>6.1f}{row['languages']:>6}{row['removed_pct']:>8.2f}%{row['groups']:>5}"
              f"{row['bundles']:>8}{speed['anchors']:>13.2f}{speed['suffix_array']:>9.2f}"
              f"{seconds['suffix_array'] / seconds['anchors']:>17.2f}  "
              f"{'identical' if row['identical'] else 'DIFFERENT'}", flush=True)
    print("M, bundles: the most of any language of the corpus")

    name, largest = corpora[-1]
    timed = phases(largest, sizing, args.repeat)
    print(f"\nwhere the time goes, {name} (ns per input byte, phases timed apart):")
    for phase, nanoseconds in timed.items():
        print(f"  {phase:<48}{nanoseconds:>7.1f}")
    print(f"  {'total':<48}{sum(timed.values()):>7.1f}")
    model = shuffle_and_memory(largest, sizing)
    packed = model["packed_per_byte"]
    print(f"\ncost model, {name}: {model['records_per_byte']:.4f} records and "
          f"{model['context_per_byte']:.2f} context bytes per input byte")
    print("packed (zstd) bytes per input byte: " + ", ".join(
        f"{value:.2f} {'as sized' if groups == 'sized' else f'with {groups} groups'}"
        for groups, value in packed.items()))
    print(f"resolving the largest group ({model['group_context_mb']:.1f} MB of context): peak "
          f"{model['group_peak_per_context_byte']:.2f} bytes per byte of context (packed values included)")
    if args.profile:
        print("\n" + profile(largest, sizing))
    if args.json:
        figures = {"rows": rows, "phases_ns_per_byte": timed, "model": model}
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if all(row["identical"] for row in rows) else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[5.0, 50.0],
                        help="sizes of the generated corpora (default 5 50)")
    parser.add_argument("--dup-rate", type=float, default=0.2, help="share of copied segments (default 0.2)")
    parser.add_argument("--group-mb", type=float, default=64.0, help="context MB per group (default 64)")
    parser.add_argument("--bundle-mb", type=float, default=4.0, help="text MB per bundle (default 4)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side, the best kept (default 3)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top functions")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
