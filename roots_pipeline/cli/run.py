"""`roots run`: a recipe, or the default stages on ad-hoc `--source` inputs, on Apache Beam."""

from __future__ import annotations

import argparse
import os
from importlib import resources
from typing import TYPE_CHECKING

from roots_pipeline.errors import RootsError

if TYPE_CHECKING:
    from roots_pipeline.recipe import Recipe

DEFAULT_RECIPE = "pipelines/demo.yaml"

_EPILOG = """\
Any other --option is passed to Apache Beam unchanged, e.g.
  --direct_running_mode=multi_processing --direct_num_workers=0   (one worker per core)
  --runner DataflowRunner --project P --region R --temp_location gs://B/tmp \\
      --extra_package dist/roots_pipeline-VERSION-py3-none-any.whl --out gs://B/runs/x
  --dry_run                  build and translate the pipeline for the runner, run nothing: writes
                             OUT/pipeline.pb (Runner API) and OUT/pipeline.json, changes nothing else

examples:
  roots run                                   the demo recipe on the bundled data
  roots run demo --out out/x                  a recipe by name, writing elsewhere
  roots run path/to/my.yaml                   a recipe file
  roots run pipelines/oscar.yaml --input 'dumps/*.jsonl.zst' --out out/oscar
                                              a recipe with its one source's paths replaced
  roots run my.yaml --input wiki_fr=data/wiki_fr/ --input crawl=crawl/*.warc.gz
                                              several sources, named by their dataset
  roots run --source oscar='dumps/fr_*.jsonl.gz' --out out/fr
  roots run --source catalogue=my_dataset/ --lang sw --out out/sw
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `roots run` to the `roots` subparsers; return its parser."""
    parser = commands.add_parser(
        "run", help="run a recipe (default pipelines/demo.yaml) or the default stages on --source inputs",
        description="Run a recipe, or the default stages on ad-hoc inputs, on Apache Beam.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", nargs="?",
                        help="recipe YAML, or a name in pipelines/ such as `demo` "
                             f"(default: {DEFAULT_RECIPE})")
    parser.add_argument("--source", action="append", metavar="KIND=PATH[,PATH…]",
                        help="an input instead of a recipe: KIND is catalogue, oscar or pseudo_crawl; "
                             "PATH may be a glob; repeatable")
    parser.add_argument("--lang", metavar="CODE",
                        help="language of the --source inputs (required for catalogue)")
    parser.add_argument("--out", metavar="DIR", help="run folder (overrides the recipe's `output`)")
    parser.add_argument("--input", action="append", metavar="[DATASET=]PATH[,PATH…]",
                        help="replace the paths of the recipe's source with this dataset name (just PATH "
                             "when it has one source); PATH may be a glob; repeatable")
    parser.add_argument("--force", action="store_true",
                        help="run even if the outputs are complete and current")
    parser.add_argument("--quiet", action="store_true", help="no live progress line")
    add_runner_arguments(parser)
    return parser


def add_runner_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options about where the runner's workers are (shared by the commands that run a pipeline)."""
    parser.add_argument("--shared-out", action="store_true",
                        help="the local run folder is on a filesystem every worker mounts at the same path "
                             "(needed to write a local folder from DataflowRunner or a remote job server)")


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Run the recipe, print the summary table and where the outputs are; return the exit code."""
    from roots_pipeline.cli.card import cards_after_run
    from roots_pipeline.cli.summary import summary_table, warn_if_nothing
    from roots_pipeline.output.run_folder import MALFORMED_FILE
    from roots_pipeline.recipe import adhoc_recipe, check_output, load_recipe
    from roots_pipeline.runner.pipeline import run_recipe

    if args.source:
        if args.recipe or args.input:
            raise RootsError("give either a recipe (with --input to change its paths) or --source inputs, "
                             "not both")
        if not args.out:
            raise RootsError("--source needs --out DIR (where the run's outputs go)")
        from roots_pipeline.stages import DEFAULT_STAGES

        recipe = adhoc_recipe(args.source, args.lang, args.out, list(DEFAULT_STAGES))
    else:
        if args.lang:
            raise RootsError("--lang applies to --source inputs; a recipe sets `lang` per source")
        recipe = load_recipe(recipe_path(args.recipe), args.input or ())
        if args.out:
            recipe = recipe.with_output(check_output(args.out))
    if dry_run_asked(beam_args):
        return dry_run(recipe, beam_args, args.shared_out)
    result = run_recipe(recipe, beam_args, force=args.force, show_progress=not args.quiet,
                        shared_out=args.shared_out)
    if result.skipped:
        print(f"{result.run_dir} is complete and current (use --force to run again); its last run:")
    print(summary_table(result.stats, result.wall_seconds))
    print(f"outputs: {result.run_dir}/ (data/, rejects/, stats.json, malformed.jsonl)")
    print(cards_after_run(result.run_dir, result.skipped))
    malformed = sum(r["malformed"] for r in result.stats["balance"])
    if malformed:
        print(f"{malformed:,} malformed input records: see {result.run_dir}/{MALFORMED_FILE}")
    warn_if_nothing(result.stats, result.run_dir)
    return 0


def dry_run_asked(beam_args: list[str]) -> bool:
    """Return whether the Beam options ask for a dry run (`--dry_run`, `--dry_run=True`…)."""
    from roots_pipeline.runner.beam_args import take_dry_run

    return take_dry_run(beam_args)[0]


def dry_run(recipe: Recipe, beam_args: list[str], shared_out: bool) -> int:
    """Translate the recipe for its runner without running it; print the summary; return 0."""
    from roots_pipeline.output.run_folder import PIPELINE_PROTO, PIPELINE_SUMMARY
    from roots_pipeline.runner.pipeline import dry_run_recipe
    from roots_pipeline.runner.translate import summary_lines

    done = dry_run_recipe(recipe, beam_args, shared_out)
    print(f"dry run on {done.summary['runner']}: the pipeline was built and translated; nothing ran "
          "and nothing was deleted")
    for line in summary_lines(done.summary):
        print(f"  {line}")
    print(f"pipeline: {done.run_dir}/{PIPELINE_PROTO} (Runner API), summary: {PIPELINE_SUMMARY}")
    return 0


def recipe_path(given: str | None) -> str:
    """Resolve a recipe argument: a path, else a name in ./pipelines/, else a packaged recipe."""
    if given and (os.path.exists(given) or os.sep in given or given.endswith((".yaml", ".yml"))):
        return given
    name = (given or "demo") + ".yaml"
    local = os.path.join("pipelines", name)
    if os.path.exists(local):
        return local
    if name == "demo.yaml":
        raise RootsError("the demo runs on the data in a repository checkout (tests/data/demo): run it "
                         "from the repository's folder, or give a recipe or --source inputs")
    packaged = resources.files("roots_pipeline.pipelines").joinpath(name)
    return str(packaged) if packaged.is_file() else (given or DEFAULT_RECIPE)
