"""`roots dedup`: one deduplication stage on any corpus, without writing a recipe.

The input is JSON lines (or any catalogue format: parquet, Arrow, a `save_to_disk` folder) or the
run folder of an earlier `roots run`, whose `data/<lang>/` shards are read language by language.
The command builds a one-stage recipe and runs it like `roots run`, so the output folder is a run
folder (shards, rejects, `stats.json` with the ledger) with two files added for people who want
plain JSON lines:

- `survivors.jsonl`: every kept record with all its input fields, `text` as the stage left it;
- `duplicates.jsonl`: one line per record the stage removed or changed — `duplicate_of` and
  `cluster` for a removed copy, `removed_spans` for text cut by the suffix-array stage,
  `lines_removed` for template lines, `reason` for a record dropped for what was left of it.

Records are named by their own `id` field when they have one, else by the document id the run
gave them (which the shards and rejects also carry).
"""

from __future__ import annotations

import argparse
import json
import os
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from roots_pipeline.cli.run import add_runner_arguments, dry_run, dry_run_asked
from roots_pipeline.errors import RootsError
from roots_pipeline.lang.codes import UNDETERMINED
from roots_pipeline.options import described_options
from roots_pipeline.output.run_folder import DATA, DUPLICATES, REJECTS, SURVIVORS, is_run_folder
from roots_pipeline.output.shard_reader import shard_batches
from roots_pipeline.recipe import Recipe, command_line_recipe
from roots_pipeline.stages import STAGES

# `--method` → the stage it runs (each is also a recipe stage under that name)
METHODS: dict[str, str] = {
    "exact": "dedup_document",
    "lines": "dedup_template_soft",
    "minhash": "minhash_dedup",
    "suffix-array": "suffix_array_dedup",
}

_METAVARS = {int: "N", float: "X"}
_EPILOG = """\
OUTPUT is a run folder (data/ and rejects/ shards, stats.json) plus survivors.jsonl (every kept
record, all its fields, with the stage's text) and duplicates.jsonl (one line per record removed
or changed: duplicate_of and cluster, removed_spans, lines_removed, or the reason it was dropped).
Of a group of copies the first in the input's order (line or row order; a run folder's shards
language by language, in file order) survives, the same on every runner.
Beam options (e.g. --direct_running_mode=multi_processing) pass through as for `roots run`.
Each method's options are its stage's recipe options (pipelines/README.md), with - for _.

examples:
  roots dedup --method exact --lang fr docs.jsonl out/fr_exact
  roots dedup --method minhash --lang zh --threshold 0.8 docs.jsonl.gz out/zh_near
  roots dedup --method suffix-array --min-bytes 100 out/demo out/demo_substrings
  roots dedup --method lines --lang en --text-field content pages.parquet out/en_lines
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `roots dedup` to the `roots` subparsers; return its parser.

    Each method's flags are generated from its stage's options (`options.option` fields): name,
    type, default and help are the stage's own.
    """
    parser = commands.add_parser(
        "dedup", help="run one deduplication stage on JSON lines or a run's shards, without a recipe",
        description="Deduplicate a corpus with one method and write the survivors and what was removed.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", metavar="INPUT",
                        help="JSON lines (.jsonl[.gz|.zst]), parquet/Arrow/save_to_disk data, "
                             "or a run folder")
    parser.add_argument("output", metavar="OUTPUT", help="output folder (a run folder; created)")
    parser.add_argument("--method", required=True, choices=tuple(METHODS),
                        help="exact: normalised-text copies; lines: template lines repeated across "
                             "documents; minhash: near-duplicates; suffix-array: repeated substrings")
    parser.add_argument("--lang", metavar="CODE",
                        help="the documents' language (for a run folder: only this one); without it, each "
                             "document of a file takes the language fastText lid.176 identifies")
    parser.add_argument("--text-field", default="text", metavar="NAME",
                        help="field holding the text (default: text)")
    parser.add_argument("--force", action="store_true", help="run even if OUTPUT is complete and current")
    parser.add_argument("--quiet", action="store_true", help="no live progress line")
    add_runner_arguments(parser)
    for method, stage in METHODS.items():
        options = described_options(STAGES[stage])
        if not options:
            continue
        group = parser.add_argument_group(method)
        for field, hint in options:
            kind = next(t for t in typing.get_args(hint) or (hint,) if t is not type(None))
            default = "" if field.default is None else f" (default {field.default})"
            choices = field.metadata["choices"] or None
            group.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, type=kind,
                               choices=choices, metavar=None if choices else _METAVARS.get(kind, "VALUE"),
                               help=field.metadata["help"] + default)
    return parser


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Run the method's stage, print the summary table and where the JSON lines are."""
    from roots_pipeline.cli.summary import summary_table, warn_if_nothing
    from roots_pipeline.runner.pipeline import run_recipe

    options = {}
    for method, stage in METHODS.items():
        for field, _ in described_options(STAGES[stage]):
            value = getattr(args, field.name)
            if value is None:
                continue
            if method != args.method:
                raise RootsError(f"--{field.name.replace('_', '-')} applies to --method {method}")
            options[field.name] = value
    recipe = dedup_recipe(args.method, args.input, args.output, args.lang, args.text_field, options)
    if dry_run_asked(beam_args):
        return dry_run(recipe, beam_args, args.shared_out)
    result = run_recipe(recipe, beam_args, force=args.force, show_progress=not args.quiet,
                        shared_out=args.shared_out)
    print(summary_table(result.stats, result.wall_seconds))
    exported = export_json_lines(result.run_dir, args.text_field)
    print(f"{exported.survivors:,} records in {result.run_dir}/{SURVIVORS}; "
          f"{exported.duplicates:,} removed or changed, listed in {result.run_dir}/{DUPLICATES}")
    warn_if_nothing(result.stats, result.run_dir)
    return 0
# Fields the catalogue reader adds to a record's metadata; not part of the user's record.
_READER_FIELDS = ("file", "row", "byte")
# What a stage records in `meta` about the text it changed.
_CHANGES = ("removed_spans", "lines_removed")


def dedup_recipe(method: str, input_path: str, output: str, lang: str | None, text_field: str,
                 options: dict[str, Any]) -> Recipe:
    """Return the one-stage recipe `roots dedup` runs."""
    if method not in METHODS:
        raise RootsError(f"unknown method {method!r} (known: {', '.join(METHODS)})")
    if os.path.abspath(input_path) == os.path.abspath(output):
        raise RootsError(f"{output}: the output folder must not be the input")
    sources: list[tuple[str, dict[str, Any]]] = []
    if is_run_folder(input_path):
        data = os.path.join(input_path, DATA)
        for code in sorted(os.listdir(data)):
            folder = os.path.join(data, code)
            if os.path.isfile(os.path.join(folder, "state.json")) and (lang is None or lang == code):
                sources.append((f"{folder}", {"kind": "catalogue", "paths": [folder], "lang": code,
                                              "dataset": code}))
        if not sources:
            raise RootsError(f"{data}: no shards" + (f" for language {lang!r}" if lang else ""))
    else:
        sources.append((input_path, {"kind": "catalogue", "paths": [input_path],
                                     "lang": lang or UNDETERMINED, "text_column": text_field}))
    stages = [(METHODS[method], options)]
    if any(entry["lang"] == UNDETERMINED for _, entry in sources):
        # Documents of no declared language take lid.176's top language, as `roots run` gives them,
        # and are deduplicated per identified language.
        stages.insert(0, ("language_id", {}))
    return command_line_recipe(sources, output, stages)


@dataclass(frozen=True)
class Export:
    """How many records each JSON lines file got."""

    survivors: int
    duplicates: int


def export_json_lines(run_dir: str, text_field: str) -> Export:
    """Write `survivors.jsonl` and `duplicates.jsonl` from a finished run's shards and rejects.

    Reads one record batch at a time, only the columns it writes, and `data/` once (its changed
    records go to `duplicates.jsonl` as its survivors are written); holds only the ids of the
    survivors that removed copies point at, to name them by the records' own ids.
    """
    wanted: set[str] = set()
    for row in _rows(os.path.join(run_dir, REJECTS), ("meta",)):
        wanted.update(row["meta"][key] for key in ("duplicate_of", "cluster") if row["meta"].get(key))
    names: dict[str, Any] = {}
    survivors = duplicates = 0
    with _Replacement(os.path.join(run_dir, SURVIVORS)) as out, \
            _Replacement(os.path.join(run_dir, DUPLICATES)) as changed:
        for row in _rows(os.path.join(run_dir, DATA), ("id", "text", "meta")):
            record = _record(row, text_field)
            if row["id"] in wanted:
                names[row["id"]] = _name(row)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            survivors += 1
            change = {key: row["meta"][key] for key in _CHANGES if key in row["meta"]}
            if change:
                changed.write(json.dumps({"id": _name(row), **change}, ensure_ascii=False) + "\n")
                duplicates += 1
        for row in _rows(os.path.join(run_dir, REJECTS), ("id", "meta", "reasons")):
            entry: dict[str, Any] = {"id": _name(row)}
            survivor = row["meta"].get("duplicate_of")
            if survivor:
                entry["duplicate_of"] = names.get(survivor, survivor)
                if "cluster" in row["meta"]:  # the cluster is named by its survivor's document id
                    entry["cluster"] = names.get(row["meta"]["cluster"], row["meta"]["cluster"])
            else:
                entry["reason"] = ",".join(row["reasons"])
            for key in _CHANGES:
                if key in row["meta"]:
                    entry[key] = row["meta"][key]
            changed.write(json.dumps(entry, ensure_ascii=False) + "\n")
            duplicates += 1
    return Export(survivors, duplicates)


def _rows(folder: str, columns: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """Yield `columns` of the rows of every shard under `folder/<lang>/`, language by language, in
    order, `meta` decoded."""
    if not os.path.isdir(folder):
        return
    for code in sorted(os.listdir(folder)):
        if os.path.isfile(os.path.join(folder, code, "state.json")):
            for batch in shard_batches(os.path.join(folder, code), columns):
                for row in batch.to_pylist():
                    row["meta"] = json.loads(row["meta"])
                    yield row


def _record(row: dict[str, Any], text_field: str) -> dict[str, Any]:
    """Return the user's record: the fields the reader kept in `meta`, with the (new) text."""
    record = {key: value for key, value in row["meta"].items()
              if key not in _READER_FIELDS and key not in _CHANGES}
    record[text_field] = row["text"]
    return record


def _name(row: dict[str, Any]) -> Any:
    """Return how the user knows a record: its own `id` field, else the run's document id."""
    own = row["meta"].get("id")
    return own if own is not None else row["id"]


class _Replacement:
    """A text file written in memory-bounded pieces to a temporary name, renamed when complete."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._temporary = f"{path}.tmp-{os.getpid()}"

    def __enter__(self) -> TextIO:
        self._handle = open(self._temporary, "w", encoding="utf-8")  # noqa: SIM115 (closed in __exit__)
        return self._handle

    def __exit__(self, kind: object, *rest: object) -> None:
        self._handle.close()
        if kind is None:
            os.replace(self._temporary, self._path)
        else:
            os.unlink(self._temporary)
