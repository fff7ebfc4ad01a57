"""Builds and runs the Beam pipeline of a recipe, then turns its ledger into `stats.json`; or,
for a dry run, builds and translates it for its runner and stops there.

What the run folder holds is defined in `output.run_folder`. `stats.json` is byte-identical
across re-runs of the same inputs. `scratch/` holds files that steps pass to later steps instead
of shuffling them (the shard writers' parts); it is deleted when the pipeline finishes (and, on
runners in this process, when it fails or is interrupted; else by the next run of the recipe).
Which runners are supported, and what each allows, is in `runners`; when the previous outputs
are deleted, in `clearing` and `start_gate`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
import grpc
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, PortableOptions, TestOptions, WorkerOptions
from apache_beam.runners.runner import PipelineState

from roots_pipeline import __version__
from roots_pipeline.document import Document
from roots_pipeline.errors import LedgerImbalance, RootsError
from roots_pipeline.lang.codes import UNDETERMINED
from roots_pipeline.lang.config import languages_state
from roots_pipeline.ledger import assert_balanced, build_stats, dumps, sum_counts
from roots_pipeline.output.atomic import write_atomically
from roots_pipeline.output.malformed import WriteMalformed
from roots_pipeline.output.run_folder import (
    DATA,
    LEDGER_ROWS,
    MALFORMED_FILE,
    PIPELINE_PROTO,
    PIPELINE_SUMMARY,
    REJECTS,
    RUN,
    SCRATCH,
    SHARD_KINDS,
    STATS,
    SUCCESS,
    run_path,
)
from roots_pipeline.output.shard_reader import count_documents
from roots_pipeline.output.shards import WriteShards
from roots_pipeline.recipe import Recipe
from roots_pipeline.runner.beam_args import take_dry_run
from roots_pipeline.runner.clearing import (
    check_run_folder,
    delete_folders,
    delete_outputs,
    outputs_to_replace,
)
from roots_pipeline.runner.direct_runner_fixes import apply_direct_runner_fixes
from roots_pipeline.runner.dofn_specs import cache_dofn_specs
from roots_pipeline.runner.runners import (
    Runner,
    beam_options,
    beam_runner,
    check_run_folder_reachable,
    describe_runner,
    staging_warning,
)
from roots_pipeline.runner.start_gate import NO_WORKER, WORKER_START_SECONDS, StartGate
from roots_pipeline.runner.translate import summarize, translate
from roots_pipeline.sources.read import LEDGER, MALFORMED, ReadSource, plan_source
from roots_pipeline.stages.apply import NOTES, REJECTED, ApplyStages
from roots_pipeline.stages.base import CorpusStage, DocumentStage, Stage
from roots_pipeline.worker.coder import DocumentBatch
from roots_pipeline.worker.fs import is_remote
from roots_pipeline.worker.glibc_heap import limit_malloc_arenas
from roots_pipeline.worker.progress import ProgressDisplay


@dataclass(frozen=True)
class RunResult:
    """What a run produced: its folder, the ledger, the wall time, and whether it was skipped."""

    run_dir: str
    stats: dict[str, Any]
    wall_seconds: float
    skipped: bool


def build_pipeline(pipeline: beam.Pipeline, recipe: Recipe, splits: list[list[Any]],
                   progress_dir: str | None) -> None:
    """Add every stage of the recipe to `pipeline`."""
    run_dir = recipe.output.rstrip("/")
    # One read over every source's splits: a Flatten of several reads would copy each document
    # once more on the local runner, and each split already knows its source and dataset.
    sampled = [(split, spec.sample)
               for spec, group in zip(recipe.sources, splits, strict=True) for split in group]
    read = pipeline | "Read" >> ReadSource(sampled, progress_dir)
    ledger = [read[LEDGER]]
    scratch = run_path(run_dir, SCRATCH)
    kept, rejected, notes = _add_stages(read.docs, recipe.stages, progress_dir, scratch)
    ledger.extend(notes)
    ledger.append(kept | "WriteData" >> WriteShards(run_path(run_dir, DATA), "kept", recipe.shards.size_mb,
                                                    progress_dir, run_path(scratch, DATA)))
    ledger.append(tuple(rejected) | "WriteRejects" >> WriteShards(
        run_path(run_dir, REJECTS), "rejected", recipe.shards.size_mb, progress_dir,
        run_path(scratch, REJECTS), write=recipe.shards.write_rejects))
    ledger.append(read[MALFORMED] | "WriteMalformed" >> WriteMalformed(
        run_path(run_dir, MALFORMED_FILE)))
    _ = (
        ledger
        | "AllCounts" >> beam.Flatten()
        | "SumCounts" >> beam.CombinePerKey(sum_counts)
        | "GatherCounts" >> beam.combiners.ToList()
        | "WriteCounts" >> beam.Map(_write_text_of, run_path(run_dir, LEDGER_ROWS))
    )


def _add_stages(docs: beam.PCollection, stages: tuple[Stage, ...], progress_dir: str | None, scratch: str,
                ) -> tuple[beam.PCollection, list[beam.PCollection], list[beam.PCollection]]:
    """Add the recipe's stages: runs of document stages fused into one step, corpus stages alone,
    each given the run's `scratch` folder.

    Returns the kept documents, and the collections of rejected documents and ledger notes.
    """
    rejected: list[beam.PCollection] = []
    notes: list[beam.PCollection] = []
    for index, group in enumerate(_segments(stages)):
        if isinstance(group, CorpusStage):
            label = f"{group.name}{index}"
            selected, others = docs, None
            if group.sources or group.datasets:
                split = docs | f"Select_{label}" >> beam.ParDo(_Select(group)).with_output_types(
                    DocumentBatch).with_outputs(_OTHERS, main="selected")
                selected, others = split.selected, split[_OTHERS]
            outputs = group.expand_stage(selected, label, scratch)
            docs = outputs.kept
            if others is not None:
                docs = (outputs.kept, others) | f"Merge_{label}" >> beam.Flatten()
            rejected.append(outputs.rejected)
            notes.append(outputs.notes)
        else:
            staged = _fused(docs, group, f"Stages{index}", progress_dir)
            docs = staged.kept
            rejected.append(staged[REJECTED])
            notes.append(staged[NOTES])
    if not rejected:  # no stage at all: the read's own rejections still need a writer
        staged = _fused(docs, (), "Stages", progress_dir)
        docs, rejected, notes = staged.kept, [staged[REJECTED]], [staged[NOTES]]
    return docs, rejected, notes


def _fused(docs: beam.PCollection, stages: tuple[DocumentStage, ...], label: str,
           progress_dir: str | None) -> beam.pvalue.DoOutputsTuple:
    """Add one step running document stages over batches: outputs kept, REJECTED and NOTES."""
    return docs | label >> beam.ParDo(ApplyStages(stages, progress_dir)).with_output_types(
        DocumentBatch).with_outputs(REJECTED, NOTES, main="kept")


def _segments(stages: tuple[Stage, ...]) -> list[tuple[DocumentStage, ...] | CorpusStage]:
    """Group consecutive document stages; each corpus stage stands alone."""
    segments: list[tuple[DocumentStage, ...] | CorpusStage] = []
    run: list[DocumentStage] = []
    for stage in stages:
        if isinstance(stage, CorpusStage):
            if run:
                segments.append(tuple(run))
                run = []
            segments.append(stage)
        else:
            run.append(stage)
    if run:
        segments.append(tuple(run))
    return segments


_OTHERS = "others"


class _Select(beam.DoFn):
    """Splits batches into the documents a corpus stage selects and the others, which bypass it."""

    def __init__(self, stage: Stage) -> None:
        self._stage = stage

    def process(self, batch: list[Document]) -> Iterator[object]:
        selected = [doc for doc in batch if self._stage.applies_to(doc)]
        if selected:
            yield selected
        if len(selected) < len(batch):
            yield beam.pvalue.TaggedOutput(_OTHERS, [doc for doc in batch if not self._stage.applies_to(doc)])


def _write_text_of(rows: list, path: str) -> None:
    _write_text(path, json.dumps(sorted(rows)))


def _write_text(path: str, text: str) -> None:
    write_atomically(path, text.encode("utf-8"))


def _write_bytes(path: str, data: bytes) -> None:
    write_atomically(path, data)


def _read_text(path: str) -> str:
    with FileSystems.open(path, compression_type="uncompressed") as handle:
        return handle.read().decode("utf-8")


def plan_recipe(recipe: Recipe) -> list[list[Any]]:
    """Return the splits of every source, in recipe order (its index is the first part of its
    documents' reading order)."""
    return [plan_source(spec, recipe.limits, f"{recipe.file}: sources[{index}]", index)
            for index, spec in enumerate(recipe.sources)]


def fingerprint(recipe: Recipe, splits: list[list[Any]]) -> str:
    """Hash of what determines the outputs: recipe, stage options, every split — its file's
    path, size and mtime, and what it reads with (language, columns, the seed list…) — and the
    language files (cutoffs and word lists)."""
    material = json.dumps([__version__, recipe.digest, repr(recipe.stages), repr(recipe.shards),
                           repr(recipe.limits), [repr(split) for group in splits for split in group],
                           languages_state()])
    return hashlib.sha256(material.encode()).hexdigest()


def run_recipe(recipe: Recipe, beam_args: list[str], force: bool = False, show_progress: bool = True,
               shared_out: bool = False, worker_start_seconds: float = WORKER_START_SECONDS) -> RunResult:
    """Run a recipe (or skip it when its outputs are already complete) and return the ledger.

    The run folder's previous outputs are listed before the job is submitted and deleted only once
    the runner has accepted it: on an FnApiRunner in this process when the job's first workers have
    connected (`start_gate`), on any other runner when `run()` returns with the job submitted.
    Anything that fails earlier leaves them as they were. `shared_out` says that a local run folder
    is on a filesystem every worker mounts (required for runners whose workers run elsewhere).
    """
    started = time.monotonic()
    dry_run, beam_args = take_dry_run(beam_args)
    if dry_run:
        raise RootsError("--dry_run: translate the recipe with dry_run_recipe(), not run_recipe()")
    options, runner = _runner_for(beam_args, recipe, shared_out)
    run_dir = recipe.output.rstrip("/")
    splits = plan_recipe(recipe)
    digest = fingerprint(recipe, splits)
    marker = run_path(run_dir, SUCCESS)
    if not force and FileSystems.exists(marker) and _read_text(marker).strip() == digest:
        stats = json.loads(_read_text(run_path(run_dir, STATS)))
        previous = json.loads(_read_text(run_path(run_dir, RUN)))["wall_seconds"]
        return RunResult(run_dir, stats, previous, skipped=True)
    check_run_folder(run_dir, splits)

    if runner.in_process:
        # The runner's process and workers hold whole shuffles: let freed memory be reused.
        limit_malloc_arenas()
        # Beam's runner loses bytes sent while a timed flush waits, and sends shuffles whole.
        apply_direct_runner_fixes()
        # Keep worker processes of multi_processing mode from logging every bundle.
        options.view_as(WorkerOptions).default_sdk_harness_log_level = (
            options.view_as(WorkerOptions).default_sdk_harness_log_level or "ERROR")
    progress_dir = tempfile.mkdtemp(prefix="roots-progress-") if runner.direct and show_progress else None
    previous_outputs = outputs_to_replace(run_dir)

    def job_accepted() -> None:
        delete_outputs(run_dir, previous_outputs)
        # Marks the folder as a run folder at once, so a re-run after a failure may clear it.
        _write_text(run_path(run_dir, RUN), json.dumps({"status": "running", "fingerprint": digest}) + "\n")

    gate = StartGate(job_accepted, worker_start_seconds)
    finished = False
    try:
        pipeline = _new_pipeline(options, runner)
        build_pipeline(pipeline, recipe, splits, progress_dir)
        order = [stage.name for stage in recipe.stages]
        with gate if runner.in_process else contextlib.nullcontext(), \
                ProgressDisplay(progress_dir, order) if progress_dir else contextlib.nullcontext():
            try:
                result = pipeline.run()
                if not runner.in_process:  # run() returned with the job submitted: it exists
                    gate.fire()
                result.wait_until_finish()
            except Exception as exc:
                explained = _explained(exc, gate, options)
                if explained is exc:
                    raise
                raise explained from exc
        if result.state != PipelineState.DONE:
            raise RootsError(f"the {runner.name} job ended in state {result.state}: outputs incomplete")
        assert gate.fired, "the runner ran the job without asking for workers"
        finished = True
    finally:
        if progress_dir:
            shutil.rmtree(progress_dir, ignore_errors=True)
        if gate.fired and (finished or runner.in_process):  # a remote job may still read its scratch files
            delete_folders(run_dir, (SCRATCH,))

    stats = write_ledger(recipe)
    wall = time.monotonic() - started
    _write_text(run_path(run_dir, RUN), json.dumps({
        "status": "finished", "wall_seconds": round(wall, 3), "runner": runner.name,
        "beam_args": beam_args,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "roots_pipeline": __version__,
        "apache_beam": beam.__version__, "python": platform.python_version(), "fingerprint": digest,
        # What the run was made from, for cards and provenance without re-reading the recipe.
        "recipe_file": recipe.file,
        "sources": [dataclasses.asdict(spec) for spec in recipe.sources],
        "stages": [{"name": stage.name, "options": dataclasses.asdict(stage)} for stage in recipe.stages],
    }, indent=2) + "\n")
    assert_balanced(stats)
    if not is_remote(run_dir):  # remote outputs are not read back here
        assert_shards_match_ledger(run_dir, stats, recipe.shards.write_rejects)
    _write_text(marker, digest + "\n")
    return RunResult(run_dir, stats, wall, skipped=False)


def write_ledger(recipe: Recipe) -> dict[str, Any]:
    """Turn the ledger rows a finished pipeline wrote into `stats.json`; return the ledger."""
    run_dir = recipe.output.rstrip("/")
    written = json.loads(_read_text(run_path(run_dir, LEDGER_ROWS)))
    rows = [(tuple(key), tuple(count)) for key, count in written]
    counted = {(key[0], key[1]) for key, _ in rows}
    for spec in recipe.sources:  # a source that yielded nothing is in the ledger too, with zeros
        if (spec.kind, spec.dataset) not in counted:
            rows.append(((spec.kind, spec.dataset, spec.lang or UNDETERMINED, "in", ""), (0, 0)))
    stats = {"run": recipe.name, "recipe": os.path.basename(recipe.file), "recipe_sha256": recipe.digest,
             **build_stats(rows)}
    _write_text(run_path(run_dir, STATS), dumps(stats))
    FileSystems.delete([run_path(run_dir, LEDGER_ROWS)])
    return stats


@dataclass(frozen=True)
class DryRun:
    """What a dry run wrote: the run folder, and the summary of the pipeline (also in pipeline.json)."""

    run_dir: str
    summary: dict[str, Any]


def dry_run_recipe(recipe: Recipe, beam_args: list[str], shared_out: bool = False) -> DryRun:
    """Build the recipe's pipeline and translate it for the runner the options name, running nothing:
    write the Runner API proto to `<run>/pipeline.pb` and its summary to `<run>/pipeline.json`, and
    change nothing else. `beam_args` may hold `--dry_run` in any of its forms."""
    _, beam_args = take_dry_run(beam_args)
    options, runner = _runner_for(beam_args, recipe, shared_out)
    options.view_as(TestOptions).dry_run = True  # DataflowRunner's own: no bucket checks, no submission
    run_dir = recipe.output.rstrip("/")
    splits = plan_recipe(recipe)
    check_run_folder(run_dir, splits)
    pipeline = _new_pipeline(options, runner)
    build_pipeline(pipeline, recipe, splits, None)
    try:
        proto = translate(pipeline)
    except ValueError as exc:  # Beam's runners report bad option values this way
        raise _options_error(exc) from exc
    summary = {**summarize(proto, runner.name), "recipe": recipe.file, "beam_args": beam_args}
    _write_bytes(run_path(run_dir, PIPELINE_PROTO), proto.SerializeToString())
    _write_text(run_path(run_dir, PIPELINE_SUMMARY), json.dumps(summary, indent=2) + "\n")
    return DryRun(run_dir, summary)


def _runner_for(beam_args: list[str], recipe: Recipe, shared_out: bool) -> tuple[PipelineOptions, Runner]:
    """Return Beam's options and the runner they name, refusing a run folder the workers would not
    share; warn on stderr when the workers will lack this package."""
    options = beam_options(beam_args)
    runner = describe_runner(options)
    check_run_folder_reachable(runner, recipe.output.rstrip("/"), shared_out)
    warning = staging_warning(runner, options)
    if warning:
        print(f"roots: warning: {warning}", file=sys.stderr)
    return options, runner


def _new_pipeline(options: PipelineOptions, runner: Runner) -> beam.Pipeline:
    cache_dofn_specs()
    try:  # validates the options for the runner
        return beam.Pipeline(runner=beam_runner(runner), options=options)
    except ValueError as exc:
        raise _options_error(exc) from exc


def _options_error(exc: ValueError) -> RootsError:
    """Return Beam's complaint about its options as one line (Beam lists them one a line)."""
    return RootsError(f"Beam options: {'; '.join(filter(None, map(str.strip, str(exc).splitlines())))}")


def _explained(exc: Exception, gate: StartGate, options: PipelineOptions) -> Exception:
    """Return the error to report for a failed run: the cause found at the workers' start when
    there is one, or a RootsError when the job server did not answer or the workers could not
    import this package."""
    if isinstance(gate.error, RootsError):
        return gate.error
    if isinstance(exc, RootsError):
        return exc
    if isinstance(exc, grpc.FutureTimeoutError):  # Beam waits this long for a job server's channel
        portable = options.view_as(PortableOptions)
        endpoint = portable.job_endpoint or "its default endpoint"
        return RootsError(f"no job server answered at {endpoint} within {portable.job_server_timeout} s "
                          "(--job_server_timeout): start it, or fix --job_endpoint; the previous outputs "
                          "are as they were")
    stalled = _NO_WORKER.search(str(exc))
    if stalled:  # a job server with the bounded start (`runner.job_server`) gave up on its workers
        return RootsError(stalled.group(0))
    missing = _MISSING_MODULE.search(str(exc))
    if missing:
        return RootsError(f"the workers cannot import {missing.group(1)} ({missing.group(0)}): install "
                          f"roots-pipeline {__version__} in the workers' Python, or stage it with "
                          "`pip wheel --no-deps . -w dist` and --extra_package dist/roots_pipeline-*.whl")
    return exc


_NO_WORKER = re.compile(rf"{re.escape(NO_WORKER)}.*")
_MISSING_MODULE = re.compile(r"No module named '((?:roots_pipeline|apache_beam)[\w.]*)'")


def assert_shards_match_ledger(run_dir: str, stats: dict[str, Any], rejects_written: bool = True) -> None:
    """Raise LedgerImbalance unless every language's shards hold the documents the ledger counted
    (`rejects/` only when the recipe writes rejects).

    The ledger counts documents on their way to the writers; reading the shards back catches a
    runner that loses or repeats elements between counting and writing, which no balance of
    counts can show (the DirectRunner once did; see `direct_runner_fixes`).
    """
    kinds = SHARD_KINDS if rejects_written else (DATA,)
    expected: Counter[tuple[str, str]] = Counter()
    for entry in stats["entries"]:
        expected[(DATA, entry["lang"])] += entry["kept"]["docs"]
        if rejects_written:
            expected[(REJECTS, entry["lang"])] += entry["rejected"]["docs"] + entry["duplicate"]["docs"]
    for kind in kinds:
        folder = run_path(run_dir, kind)
        if os.path.isdir(folder):
            expected.update({(kind, lang): 0 for lang in os.listdir(folder)})
    wrong = []
    for (kind, lang), count in sorted(expected.items()):
        written = count_documents(run_path(run_dir, kind, lang))
        if written != count:
            wrong.append(f"{kind}/{lang} holds {written:,} documents, the ledger counted {count:,}")
    if wrong:
        raise LedgerImbalance("the written shards do not match the ledger: " + "; ".join(wrong)
                              + ". The runner lost or repeated documents; the outputs are incomplete.")
