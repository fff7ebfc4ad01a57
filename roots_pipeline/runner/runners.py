"""Which Beam runner a run uses, where its workers are, and what that allows.

`roots run` supports the runners whose way of starting a job it knows:

- DirectRunner (the default): the job runs in this process, on Beam's FnApiRunner; its workers
  see this machine's files. Beam's own DirectRunner first hands a pipeline to PrismRunner, which
  downloads a binary from GitHub, and falls back to the FnApiRunner when that fails (`beam_runner`
  skips that try: the same runner on every machine, with or without internet).
- PortableRunner `--job_endpoint embed`: the same FnApiRunner in this process, running the
  workers of the pipeline's environment (`--environment_type`); they see this machine's files
  unless they are DOCKER containers.
- PortableRunner with another endpoint, FlinkRunner, SparkRunner, PrismRunner: a job server outside
  this process runs the job; the workers see this machine's files only in a LOOPBACK environment
  (workers in this process: the default of Flink's `[local]`/`[auto]` master, Spark's `local`
  master and Prism).
- DataflowRunner: Google Cloud Dataflow runs the job on its own machines.

Where workers may not see this machine's files, a local run folder is refused unless the user says
(`--shared-out`) that every worker mounts it at the same path: each worker would otherwise write
its shards to its own disk. Other runners are refused, each with its reason: the Dask runner loses
outputs this pipeline relies on, the test and interactive runners wait inside `run()` (so the old
outputs could not be cleared between the job's acceptance and its first write), and the
bundle-based direct runner is Beam's legacy local runner, which the DirectRunner replaces.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
from dataclasses import dataclass
from typing import Any

from apache_beam.options.pipeline_options import (
    FlinkRunnerOptions,
    PipelineOptions,
    PortableOptions,
    SetupOptions,
    SparkRunnerOptions,
    StandardOptions,
)
from apache_beam.portability.api import beam_provision_api_pb2
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.runners.portability.fn_api_runner.fn_runner import ExtendedProvisionInfo
from apache_beam.runners.portability.portable_runner import JobServiceHandle
from apache_beam.runners.runner import PipelineRunner

from roots_pipeline import __version__
from roots_pipeline.errors import RootsError
from roots_pipeline.worker.fs import is_remote

EMBED = "embed"
LOOPBACK = "LOOPBACK"
DOCKER = "DOCKER"
EXTERNAL = "EXTERNAL"
# Beam's own defaults: FlinkRunner's masters that start a local Flink (flink_runner.MAGIC_HOST_NAMES),
# SparkRunner's local masters (spark_runner.LOCAL_MASTER_PATTERN). With no --environment_type,
# these and Prism run the workers in this process (LOOPBACK).
_LOCAL_FLINK = ("[local]", "[auto]")
_LOCAL_SPARK = re.compile(r"^local(\[.+\])?$")
_DASK = ("DaskRunner: Beam 2.77's Dask runner drops the outputs of multi-output ParDos and of "
         "finish_bundle, which this pipeline uses for its rejects and ledger; use DirectRunner on one "
         "machine, or FlinkRunner or SparkRunner on a cluster")
SUPPORTED = "DirectRunner, PortableRunner, FlinkRunner, SparkRunner, PrismRunner or DataflowRunner"


@dataclass(frozen=True)
class Runner:
    """The runner of a run: Beam's class name, whether Beam's FnApiRunner runs the job in this
    process, the workers' environment type, and whether the workers see this machine's files."""

    name: str
    in_process: bool
    environment: str
    local_files: bool

    @property
    def direct(self) -> bool:
        """Whether this is the DirectRunner (whose workers report progress through local files)."""
        return self.in_process and self.name != "PortableRunner"


def beam_options(beam_args: list[str]) -> PipelineOptions:
    """Return Beam's options for these arguments, or raise RootsError with Beam's own complaint."""
    options = PipelineOptions(beam_args)
    complaint = io.StringIO()
    try:
        with contextlib.redirect_stderr(complaint):
            options.get_all_options(retain_unknown_options=True)
    except SystemExit as exc:  # Beam's argparse rejected a value and printed why
        lines = [line for line in complaint.getvalue().splitlines() if line.strip()]
        raise RootsError(f"Beam options: {lines[-1] if lines else exc}") from None
    return options


def describe_runner(options: PipelineOptions) -> Runner:
    """Return the runner the options name, or raise RootsError when `roots run` cannot use it."""
    from apache_beam.runners.runner import create_runner

    given = options.view_as(StandardOptions).runner or "DirectRunner"
    if "dask" in given.lower():  # named in full only, and its module needs `dask`: refuse it by name
        raise RootsError(f"--runner {given}: not supported: {_DASK}")
    try:
        runner = create_runner(given)
    except ImportError as exc:
        raise RootsError(f"--runner {given}: {exc}") from exc
    except (ValueError, AttributeError) as exc:  # Beam's message lists runners roots cannot use
        raise RootsError(f"Beam options: --runner {given}: no such runner; roots run supports "
                         f"{SUPPORTED}") from exc
    lineage = [cls.__name__ for cls in type(runner).__mro__]
    name = lineage[0]
    portable = options.view_as(PortableOptions)
    if name.startswith(("Test", "Interactive")):
        raise RootsError(f"--runner {given}: not supported: it waits for the job inside run(), so the "
                         f"previous outputs could not be kept until the job starts; use {SUPPORTED}")
    if "SwitchingDirectRunner" in lineage or "FnApiRunner" in lineage:
        return Runner("FnApiRunner" if "FnApiRunner" in lineage else "DirectRunner", True, "EMBEDDED", True)
    if "DataflowRunner" in lineage:
        _require_gcp(given)
        return Runner(name, False, DOCKER, False)
    if "PortableRunner" in lineage:
        environment = (portable.environment_type or _default_environment(lineage, options)).upper()
        if portable.job_endpoint == EMBED:
            return Runner(name, True, environment, environment != DOCKER)
        return Runner(name, False, environment, environment == LOOPBACK)
    raise RootsError(f"--runner {given}: not supported by roots run (use {SUPPORTED})")


def beam_runner(runner: Runner) -> PipelineRunner | None:
    """Return the runner object a pipeline for `runner` is built with, or None to let Beam create
    the one the options name: for the DirectRunner, the FnApiRunner it falls back to."""
    return _DirectFnApiRunner() if runner.name == "DirectRunner" else None


class _DirectFnApiRunner(FnApiRunner):
    """Beam's FnApiRunner, given the options as Beam's DirectRunner gives them when it runs a
    pipeline: in the provision info, where its workers read them."""

    def run_pipeline(self, pipeline: Any, options: PipelineOptions) -> Any:
        encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
        provision = beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)
        self._provision_info = ExtendedProvisionInfo(provision)
        return super().run_pipeline(pipeline, options)


def _default_environment(lineage: list[str], options: PipelineOptions) -> str:
    """Return the environment type the runner picks when none is given, as its `default_environment` does."""
    if "FlinkRunner" in lineage and options.view_as(FlinkRunnerOptions).flink_master in _LOCAL_FLINK:
        return LOOPBACK
    if "SparkRunner" in lineage and _LOCAL_SPARK.match(options.view_as(SparkRunnerOptions).spark_master_url):
        return LOOPBACK
    if "PrismRunner" in lineage:
        return LOOPBACK
    return DOCKER


def _require_gcp(given: str) -> None:
    try:  # the runner imports its client only when it runs
        importlib.import_module("apache_beam.runners.dataflow.internal.apiclient")
    except ImportError as exc:
        raise RootsError(f"--runner {given} needs apache-beam[gcp] ({exc}): "
                         "pip install 'apache-beam[gcp]>=2.77,<2.78'") from exc


def check_run_folder_reachable(runner: Runner, run_dir: str, shared_out: bool) -> None:
    """Refuse a local run folder that the runner's workers would not share (see the module's table)."""
    if runner.local_files or shared_out or is_remote(run_dir):
        return
    raise RootsError(
        f"{run_dir} is a local folder, but {runner.name}'s workers ({runner.environment} environment) "
        "do not run in this process and would each write to their own disk: give a folder every worker "
        f"reaches (--out gs://BUCKET/…, s3://…), or add --shared-out if {run_dir} is on a filesystem every "
        "worker mounts at the same path")


def staging_warning(runner: Runner, options: PipelineOptions) -> str | None:
    """Return a warning when the runner's workers will lack this package, saying how to stage it."""
    if runner.in_process or runner.environment in (LOOPBACK, EXTERNAL):
        return None  # workers run this Python, or a worker pool the user installed
    setup = options.view_as(SetupOptions)
    if setup.extra_packages or setup.setup_file or setup.requirements_file:
        return None
    return (f"roots-pipeline is not staged for {runner.name}'s workers, which need it unless their image "
            "has it: build it with `pip wheel --no-deps . -w dist` and add "
            f"--extra_package dist/roots_pipeline-{__version__}-py3-none-any.whl")
