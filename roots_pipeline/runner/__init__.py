"""Building and running the Beam pipeline of a recipe (`pipeline`), on the driver: Beam's own
command-line options told apart from ours (`beam_args`), which runners are supported and where
their workers are (`runners`), the pipeline a runner would receive (`translate`, for dry runs),
when a run folder's previous outputs are deleted (`clearing`, `start_gate`), the fixes applied to
Beam's FnApiRunner (`direct_runner_fixes`) and a job server that applies them (`job_server`).
What runs inside the workers is in `roots_pipeline.worker`."""
