"""Beam's Python job server, with the fixes `roots run` applies to the FnApiRunner in its own process.

    python -m roots_pipeline.runner.job_server --port 8099
    roots run … --runner PortableRunner --job_endpoint localhost:8099 --environment_type EXTERNAL \\
        --environment_config localhost:50000 --shared-out

Beam's own (`python -m apache_beam.runners.portability.local_job_service_main`) runs each job on an
FnApiRunner in the job server's process, where `roots run` cannot patch it: without the
DirectRunner fixes (`direct_runner_fixes`) it can silently drop whole batches at scale, and it waits
forever for workers that never start. This entry point applies both (`start_gate.install`), then
runs Beam's job server with the same options, except `--background`, which would start Beam's
unpatched one.
"""

from __future__ import annotations

import logging
import sys

from apache_beam.runners.portability import local_job_service_main

from roots_pipeline.runner import start_gate
from roots_pipeline.runner.direct_runner_fixes import apply_direct_runner_fixes


def main(argv: list[str] | None = None) -> None:
    """Serve Beam's job API with the fixes applied; `argv` as Beam's job server takes them."""
    argv = sys.argv[1:] if argv is None else argv
    if "--background" in argv:
        sys.exit("roots job server: --background would start Beam's unpatched server; run this in the "
                 "background yourself (nohup, systemd, &)")
    apply_direct_runner_fixes()
    start_gate.install()
    local_job_service_main.run(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)  # as Beam's: the jobs it runs and their errors
    main()
