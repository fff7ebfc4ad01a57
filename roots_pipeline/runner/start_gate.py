"""The moment a job on Beam's FnApiRunner in this process has its workers: bounded, and announced.

The FnApiRunner runs a job where `pipeline.run()` is called (DirectRunner) or in a thread of this
process (PortableRunner `--job_endpoint embed`, a Python job server). It translates the pipeline
into fused stages, then asks for the workers of the first stage just before it sends them the first
bundle. Two things are attached to that request (`WorkerHandlerManager.get_worker_handlers`):

- **Workers that never come.** A worker of an EXTERNAL, PROCESS or DOCKER environment is a process
  that must connect back to the runner. Beam waits for it forever: a worker pool whose `python`
  lacks Apache Beam starts a process that dies at once, and the run hangs with no error. Here the
  runner waits at most `timeout` seconds for each worker to connect, then stops the run with an
  error (`WorkersDidNotStart`) that names the environment and the likely cause.
- **The job exists.** When the first workers have connected, the gate armed by `run_recipe` fires
  once: the job is built, translated, accepted by its runner and about to run, and only now are
  the previous outputs of the run folder deleted (DESIGN.md #8). A run that fails before this
  point leaves them as they were.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from apache_beam.runners.portability.fn_api_runner.worker_handlers import (
    BeamFnControlServicer,
    DockerSdkWorkerHandler,
    ExternalWorkerHandler,
    GrpcWorkerHandler,
    SubprocessSdkWorkerHandler,
    WorkerHandlerManager,
)

from roots_pipeline import __version__
from roots_pipeline.errors import RootsError

WORKER_START_SECONDS = 120.0
NO_WORKER = "no worker connected to the runner within"
_POLL_SECONDS = 0.05


class WorkersDidNotStart(RootsError):
    """A worker environment started no worker that connected to the runner in time."""


class StartGate:
    """Calls `on_start` once, when the FnApiRunner of this process has the first workers of a job.

    Use as a context manager around `pipeline.run()` and the wait for the job; `fired` says whether
    the job got that far, `error` holds what stopped it there (for a job run in another thread)."""

    _active: StartGate | None = None

    def __init__(self, on_start: Callable[[], None], timeout: float = WORKER_START_SECONDS) -> None:
        self._on_start = on_start
        self.timeout = timeout
        self.fired = False
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> StartGate:
        install()
        assert StartGate._active is None, "one run at a time in a process"
        StartGate._active = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        StartGate._active = None

    def fire(self) -> None:
        """Call `on_start` unless it was called already."""
        with self._lock:
            if not self.fired:
                self._on_start()
                self.fired = True


def _waiting_for_workers(get: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    @functools.wraps(get)
    def get_worker_handlers(self: WorkerHandlerManager, environment_id: str | None,
                            num_workers: int) -> list[Any]:
        gate = StartGate._active
        try:
            handlers = get(self, environment_id, num_workers)
            for handler in handlers:
                _wait_until_connected(handler, gate.timeout if gate else WORKER_START_SECONDS)
            if gate:
                gate.fire()
        except BaseException as exc:
            if gate:
                gate.error = exc
            raise
        return handlers

    return get_worker_handlers


def _wait_until_connected(handler: Any, timeout: float) -> None:
    """Return once the worker of `handler` has connected its control channel; raise after `timeout`."""
    if not isinstance(handler, GrpcWorkerHandler):  # an embedded worker: it is this process
        return
    connection = handler.control_conn
    deadline = time.monotonic() + timeout
    while connection._state == BeamFnControlServicer.UNSTARTED_STATE:
        if time.monotonic() > deadline:
            raise WorkersDidNotStart(_cause(handler, timeout))
        time.sleep(_POLL_SECONDS)


def _cause(handler: Any, timeout: float) -> str:
    needs = f"apache-beam and roots-pipeline {__version__} installed"
    waited = f"{NO_WORKER} {timeout:g} s"
    if isinstance(handler, ExternalWorkerHandler):
        pool = handler._external_payload.endpoint.url
        return (f"{waited}: the worker pool at {pool} accepted the request but its worker never started. "
                f"Beam's worker pool (worker_pool_main) runs `python` from its own PATH, which needs "
                f"{needs}; the pool's log says what failed")
    if isinstance(handler, SubprocessSdkWorkerHandler):
        command = handler._worker_command_line.decode(errors="replace")
        return f"{waited}: the worker command `{command}` did not start; it needs {needs}"
    if isinstance(handler, DockerSdkWorkerHandler):
        return f"{waited}: the container {handler._container_image} did not start a worker; it needs {needs}"
    return f"{waited} ({type(handler).__name__}); the worker environment needs {needs}"


def install() -> None:
    """Make this process's FnApiRunner wait for workers at most a bounded time, and fire armed gates.
    Idempotent."""
    if getattr(WorkerHandlerManager, "_roots_gate", False):
        return
    WorkerHandlerManager.get_worker_handlers = _waiting_for_workers(WorkerHandlerManager.get_worker_handlers)
    WorkerHandlerManager._roots_gate = True
