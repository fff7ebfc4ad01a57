"""Separates Apache Beam's own command-line options from ours, using the option tables of every
runner Beam ships.

`roots run --runner DataflowRunner recipe.yaml` must not read `DataflowRunner` as the recipe, so
each Beam option is recognised by name, together with its value when it takes one. The rules:

- An `--option` is never another option's value: `--dry_run --project p` is two options.
- An option that takes a value and has none (`--project` last, or before another option) is
  refused with one line, rather than left for Beam's parser to misread.
- `--dry_run` is declared by Beam with a value but meant as a switch: bare it means true, and it
  takes the next word only when that word is a boolean (`--dry_run False`). `take_dry_run` reads
  it; Beam itself would take `--dry_run=False` for true (any non-empty string is).
- Options of the runners whose option classes `import apache_beam` does not load (the Dask and
  Render runners) are recognised too: their modules are imported when an option is not found in
  Beam's core table, or, when the import fails (the Dask runner without `dask`), their options are
  read from the module's source without running it.
- An option that no runner knows is left to the `roots` parser, which refuses it; `suggest` names
  the options it may have meant and the runner each belongs to.

Beam is imported only when a table is first needed.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import functools
import importlib
import pathlib
from collections.abc import Collection
from dataclasses import dataclass

from roots_pipeline.errors import RootsError

DRY_RUN_OPTION = "--dry_run"
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}

# Which runner reads the options of each of Beam's option classes (those not named here apply to
# every runner: setup, types, debugging, filesystems…).
_RUNNER_OF_CLASS = {
    "DirectOptions": "DirectRunner",
    "GoogleCloudOptions": "DataflowRunner",
    "WorkerOptions": "DataflowRunner",
    "TestDataflowOptions": "TestDataflowRunner",
    "PortableOptions": "the portable runners (PortableRunner, FlinkRunner, SparkRunner, PrismRunner)",
    "JobServerOptions": "FlinkRunner and SparkRunner (their job server)",
    "FlinkRunnerOptions": "FlinkRunner",
    "SparkRunnerOptions": "SparkRunner",
    "PrismRunnerOptions": "PrismRunner",
    "KafkaStreamsRunnerOptions": "KafkaStreamsRunner",
}


@dataclass(frozen=True)
class BeamOption:
    """One Beam option: whether it takes a value, the class declaring it, the runner that reads it."""

    takes_value: bool
    optional_value: bool
    owner: str
    runner: str | None


@functools.cache
def _core_options() -> dict[str, BeamOption]:
    """Return the options of every option class `import apache_beam` loads."""
    from apache_beam.options.pipeline_options import PipelineOptions

    table: dict[str, BeamOption] = {}
    pending = list(PipelineOptions.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        table.update(_options_of_class(cls, _RUNNER_OF_CLASS.get(cls.__name__)))
    return table


def _options_of_class(cls: type, runner: str | None) -> dict[str, BeamOption]:
    parser = argparse.ArgumentParser(add_help=False, conflict_handler="resolve")
    cls._add_argparse_args(parser)  # Beam's own registration hook for its option classes
    return {option: BeamOption(action.nargs != 0, action.nargs == "?", cls.__name__, runner)
            for action in parser._actions for option in action.option_strings}


@functools.cache
def _runner_module_options() -> dict[str, BeamOption]:
    """Return the options declared by Beam's runner modules that `import apache_beam` does not load."""
    import apache_beam.runners

    root = pathlib.Path(apache_beam.runners.__file__).parent
    table: dict[str, BeamOption] = {}
    for path in sorted(root.rglob("*.py")):
        if path.name.endswith("_test.py"):
            continue
        source = path.read_text(encoding="utf-8")
        if "_add_argparse_args" not in source:
            continue
        tree = ast.parse(source)
        runners = [node.name for node in tree.body if isinstance(node, ast.ClassDef)
                   and node.name.endswith("Runner")]
        runner = " or ".join(runners) or None
        module = ".".join(("apache_beam", *path.relative_to(root.parent).with_suffix("").parts))
        table.update(_imported_options(module, runner) or _declared_options(tree, runner))
    return table


def _imported_options(module: str, runner: str | None) -> dict[str, BeamOption]:
    """Return the options of the module's option classes, or nothing when it cannot be imported."""
    from apache_beam.options.pipeline_options import PipelineOptions

    try:
        loaded = importlib.import_module(module)
    except Exception:  # a runner whose own dependencies are missing (dask) or broken
        return {}
    table: dict[str, BeamOption] = {}
    for value in vars(loaded).values():
        if isinstance(value, type) and issubclass(value, PipelineOptions) and value.__module__ == module:
            table.update(_options_of_class(value, runner))
    return table


def _declared_options(tree: ast.Module, runner: str | None) -> dict[str, BeamOption]:
    """Return the `add_argument("--…")` calls of a module's source, read without running it."""
    table: dict[str, BeamOption] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument"):
            continue
        names = [arg.value for arg in node.args
                 if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        keywords = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
        flag = keywords.get("action") in ("store_true", "store_false", "store_const", "count") \
            or keywords.get("nargs") == 0
        option = BeamOption(not flag, keywords.get("nargs") == "?", "", runner)
        table.update({name: option for name in names if name.startswith("--")})
    return table


def beam_option(name: str) -> BeamOption | None:
    """Return the Beam option called `name` (`--flink_master`), or None when no runner knows it."""
    return _core_options().get(name) or _runner_module_options().get(name)


def split_beam_args(argv: list[str], ours: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """Return (our arguments, Beam's arguments), each in the order given; `ours` are the option
    strings of the `roots` parsers, which win over a Beam option of the same name."""
    index, mine, beam = 0, [], []
    while index < len(argv):
        token = argv[index]
        name, has_value, _ = token.partition("=")
        option = beam_option(name) if token.startswith("--") and name not in ours else None
        if option is None:
            mine.append(token)
            index += 1
            continue
        beam.append(token)
        index += 1
        following = argv[index] if index < len(argv) else None
        if has_value or not option.takes_value or option.optional_value:
            continue
        if name == DRY_RUN_OPTION:
            if following is not None and following.lower() in _TRUE | _FALSE:
                beam.append(following)
                index += 1
        elif following is None or following.startswith("--"):
            raise RootsError(f"{name} needs a value: {name} VALUE or {name}=VALUE")
        else:
            beam.append(following)
            index += 1
    return mine, beam


def take_dry_run(beam_args: list[str]) -> tuple[bool, list[str]]:
    """Return (whether `--dry_run` asks for a dry run, the other Beam arguments).

    `--dry_run`, `--dry_run=True`, `--dry_run true` mean a dry run, `--dry_run=False` does not;
    the last one given wins, as with any option."""
    dry_run, rest, index = False, [], 0
    while index < len(beam_args):
        token = beam_args[index]
        name, has_value, value = token.partition("=")
        index += 1
        if name != DRY_RUN_OPTION:
            rest.append(token)
            continue
        if not has_value:
            following = beam_args[index] if index < len(beam_args) else ""
            if following.lower() in _TRUE | _FALSE:
                value = following
                index += 1
            else:
                value = "true"
        if value.lower() not in _TRUE | _FALSE:
            raise RootsError(f"{DRY_RUN_OPTION}={value}: give true or false (or --dry_run alone)")
        dry_run = value.lower() in _TRUE
    return dry_run, rest


def suggest(option: str) -> str:
    """Return a hint for an option no parser knows: the options it may mean and their runners."""
    name = option.partition("=")[0]
    known = {**_runner_module_options(), **_core_options()}
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.75)
    if not close:
        return "not an option of roots or of any runner Apache Beam ships"
    described = [f"{match} ({_reader(known[match])})" for match in close]
    return f"did you mean {' or '.join(described)}?"


def _reader(option: BeamOption) -> str:
    return f"an option of {option.runner}" if option.runner else "a Beam option of every runner"


def refuse_beam_args(beam_args: list[str]) -> None:
    """Raise RootsError when a command that runs no pipeline was given Beam options."""
    if beam_args:
        raise RootsError(f"{' '.join(beam_args)}: Beam options apply to `roots run`")
