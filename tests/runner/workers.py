"""Helpers for the runner tests: a Beam worker pool in its own process, and a `roots` without network.

The pool is Beam's own servicer (`worker_pool_main`, process mode: each worker a fresh `python`
process, as Flink, Spark and Dataflow Runner v2 start them), bound to 127.0.0.1 instead of every
interface. Its workers run the `python` found first on the PATH it is given.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

_POOL = """
import sys, grpc
from apache_beam.portability.api import beam_fn_api_pb2_grpc
from apache_beam.runners.worker.worker_pool_main import BeamFnExternalWorkerPoolServicer
from apache_beam.utils import thread_pool_executor
server = grpc.server(thread_pool_executor.shared_unbounded_instance())
port = server.add_insecure_port("127.0.0.1:0")
beam_fn_api_pb2_grpc.add_BeamFnExternalWorkerPoolServicer_to_server(
    BeamFnExternalWorkerPoolServicer(use_process=True), server)
server.start()
print(port, flush=True)
sys.stdin.read()  # serve until the test closes stdin or kills the process group
"""


def python_on_path(folder: Path, *flags: str) -> Path:
    """Return `folder` holding a `python` that runs this interpreter with `flags` (`-I -S`: one
    without any installed package, as on a worker whose PATH lacks them)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "python"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} {' '.join(flags)} \"$@\"\n")
    script.chmod(0o755)
    return folder


@contextlib.contextmanager
def worker_pool(path_dir: Path, cwd: Path, timeout: float = 60.0) -> Iterator[str]:
    """Start a worker pool whose workers run `path_dir/python`; yield its address; kill it and its
    workers on the way out."""
    env = {**os.environ, "PATH": f"{path_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    process = subprocess.Popen([sys.executable, "-c", _POOL], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, cwd=cwd, env=env, start_new_session=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        assert ready, f"the worker pool did not start within {timeout} s"
        port = int(process.stdout.readline())
        yield f"127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def closed_port() -> int:
    """Return a port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_file(path: Path, process: subprocess.Popen, timeout: float = 60.0) -> str:
    """Return the text of `path` once `process` has written it; fail if it exits or times out first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, "the process ended before writing " + path.name
        assert time.monotonic() < deadline, f"{path.name} did not appear within {timeout} s"
        time.sleep(0.05)
    return path.read_text()


def main_offline() -> None:
    """Run `roots` with every connection and name lookup beyond this machine refused."""
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo
    local = {"127.0.0.1", "::1", "localhost", None}

    def connect(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if isinstance(address, tuple) and host not in local:
            raise AssertionError(f"network attempted: {address}")
        real_connect(self, address)

    def lookup(host: object, *args: object, **kwargs: object) -> object:
        if host not in local:
            raise AssertionError(f"name lookup attempted: {host}")
        return real_lookup(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.getaddrinfo = lookup
    from roots_pipeline.cli.main import main

    sys.exit(main())
