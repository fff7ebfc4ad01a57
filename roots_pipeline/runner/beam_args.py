"""Separates Apache Beam's own command-line options from ours, using Beam's option table.

`roots run --runner DataflowRunner recipe.yaml` must not read `DataflowRunner` as the recipe, so
each Beam option is recognised by name, together with its value when it takes one. Beam is
imported only when the table is first needed.
"""

from __future__ import annotations

import argparse
import functools

from roots_pipeline.errors import RootsError


@functools.cache
def _beam_options() -> dict[str, bool]:
    """Return every Beam option string, mapped to whether it takes a value."""
    from apache_beam.options.pipeline_options import PipelineOptions

    parser = argparse.ArgumentParser(add_help=False, conflict_handler="resolve")
    pending = list(PipelineOptions.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        cls._add_argparse_args(parser)  # Beam's own registration hook for its option classes
    return {option: action.nargs != 0 for action in parser._actions for option in action.option_strings}


def split_beam_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Return (our arguments, Beam's arguments), each in the order given."""
    known = _beam_options()
    ours: list[str] = []
    beam: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        name, has_value, _ = token.partition("=")
        if token.startswith("--") and name in known:
            beam.append(token)
            if not has_value and known[name] and index + 1 < len(argv):
                index += 1
                beam.append(argv[index])
        else:
            ours.append(token)
        index += 1
    return ours, beam


def refuse_beam_args(beam_args: list[str]) -> None:
    """Raise RootsError when a command that runs no pipeline was given Beam options."""
    if beam_args:
        raise RootsError(f"{' '.join(beam_args)}: Beam options apply to `roots run`")
