"""Building and running the Beam pipeline of a recipe (`pipeline`), on the driver: Beam's own
command-line options told apart from ours (`beam_args`) and the fixes applied to Beam's local
runner (`direct_runner_fixes`). What runs inside the workers is in `roots_pipeline.worker`."""
