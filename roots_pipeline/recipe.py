"""Recipes: YAML files naming the sources, the stages with their options, and the output folder.

Loading validates everything a run needs before Beam starts: unknown keys, wrong types, unknown
stage names, unknown language codes, paths that match nothing. Each problem is a RecipeError
naming the file and the key (`sources[1].paths[0]`). Relative paths are relative to the recipe's
own folder, so a recipe runs the same from any working directory. See pipelines/README.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from apache_beam.io.filesystems import FileSystems

from roots_pipeline.errors import RecipeError, require_positive
from roots_pipeline.lang.codes import canonical_language
from roots_pipeline.options import StrictLoader, build_options, check_type
from roots_pipeline.sources.files import Limits
from roots_pipeline.sources.specs import SOURCE_SPECS, CatalogueSource, PseudoCrawlSource, SourceSpec
from roots_pipeline.stages import STAGES
from roots_pipeline.stages.base import Stage
from roots_pipeline.worker.fs import is_remote


@dataclass(frozen=True)
class Shards:
    """How output shards are cut: about `size_mb` of text each, per language."""

    size_mb: float = 256.0
    write_rejects: bool = True

    def __post_init__(self) -> None:
        require_positive(self, "size_mb")


@dataclass(frozen=True)
class Recipe:
    """A validated recipe, ready to build a pipeline from."""

    file: str
    name: str
    output: str
    sources: tuple[SourceSpec, ...]
    stages: tuple[Stage, ...]
    shards: Shards = Shards()
    limits: Limits = Limits()
    description: str = ""
    digest: str = ""

    def with_output(self, output: str) -> Recipe:
        """Return the same recipe writing to another run folder."""
        return dataclasses.replace(self, output=output)


_TOP_LEVEL = {"name", "description", "output", "sources", "stages", "shards", "limits"}


def load_recipe(path: str, inputs: Sequence[str] = ()) -> Recipe:
    """Read and validate a recipe file; `inputs` replace some sources' paths (`roots run --input`,
    see `_override_inputs`), and only the paths finally used must exist."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise RecipeError(path, "(file)", f"cannot read: {exc.strerror}") from exc
    try:
        data = yaml.load(raw, Loader=StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).replace('in "<byte string>"', "").split())
        raise RecipeError(path, "(file)", f"not valid YAML: {problem}") from exc
    if not isinstance(data, dict):
        raise RecipeError(path, "(file)", "must be a mapping with keys " + ", ".join(sorted(_TOP_LEVEL)))
    for key in data:
        if key not in _TOP_LEVEL:
            expected = ", ".join(sorted(_TOP_LEVEL))
            raise RecipeError(path, str(key), f"unknown key (expected one of {expected})")
    for key in ("name", "output", "sources"):
        if key not in data:
            raise RecipeError(path, key, "missing")
    folder = os.path.dirname(os.path.abspath(path))
    name = check_type(data["name"], str, path, "name")
    output = resolve_path(check_type(data["output"], str, path, "output"), folder)
    _check_filesystem(output, path, "output")
    sources_raw = check_type(data["sources"], list, path, "sources")
    if not sources_raw:
        raise RecipeError(path, "sources", "needs at least one source")
    sources = tuple(_source(item, path, f"sources[{i}]", folder) for i, item in enumerate(sources_raw))
    _check_distinct(sources, path, "sources")
    replaced = _override_inputs(sources, inputs)
    for i, (spec, new) in enumerate(zip(sources, replaced, strict=True)):
        if spec is new:
            _check_paths(spec.paths, path, f"sources[{i}].paths")
    sources = replaced
    stage_items = check_type(data.get("stages", []), list, path, "stages")
    stages = tuple(_stage(item, path, f"stages[{i}]", folder, sources) for i, item in enumerate(stage_items))
    return Recipe(
        file=os.path.abspath(path),
        name=name,
        output=output,
        sources=sources,
        stages=stages,
        shards=build_options(Shards, data.get("shards") or {}, path, "shards"),
        limits=build_options(Limits, data.get("limits") or {}, path, "limits"),
        description=check_type(data.get("description", ""), str, path, "description"),
        digest=hashlib.sha256(raw).hexdigest(),
    )


def adhoc_recipe(sources: list[str], lang: str | None, output: str, stages: list[tuple[str, dict]]) -> Recipe:
    """Build a recipe from `--source KIND=PATH[,PATH…]` arguments, checked like a file's."""
    items = []
    for arg in sources:
        kind, sep, paths = arg.partition("=")
        if not sep or not paths.strip(","):
            raise RecipeError("command line", f"--source {arg}", "expected KIND=PATH[,PATH…]")
        if kind == "catalogue" and not lang:
            raise RecipeError("command line", f"--source {arg}", "a catalogue source needs --lang CODE")
        item: dict[str, Any] = {"kind": kind, "paths": [p for p in paths.split(",") if p]}
        if lang:
            item["lang"] = lang
        items.append((f"--source {arg}", item))
    return command_line_recipe(items, output, stages)


def command_line_recipe(sources: list[tuple[str, dict[str, Any]]], output: str,
                        stages: list[tuple[str, dict]]) -> Recipe:
    """Build a recipe from source entries (each with the argument that named it, for errors) and
    stages given on the command line, checked as a recipe file's are; paths are relative to the
    working directory."""
    where = "command line"
    specs = [_source(item, where, named, os.getcwd()) for named, item in sources]
    for (named, _), spec in zip(sources, specs, strict=True):
        _check_paths(spec.paths, where, f"{named}.paths")
    _check_distinct(specs, where, "--source")
    built = tuple(_stage({name: options}, where, f"stage {name}", os.getcwd(), specs)
                  for name, options in stages)
    digest = hashlib.sha256(repr((specs, built)).encode()).hexdigest()
    return Recipe(where, "adhoc", check_output(output), tuple(specs), built, digest=digest)


def _override_inputs(specs: tuple[SourceSpec, ...], overrides: Sequence[str]) -> tuple[SourceSpec, ...]:
    """Return the sources with the paths of some replaced, as `roots run --input` asks.

    Each override is `DATASET=PATH[,PATH…]`, naming the source by its dataset name, or just
    `PATH[,PATH…]` when the recipe has one source; paths are relative to the working directory and
    must exist. A `hub` source becomes a `paths` source.
    """
    where = "command line"
    replaced = list(specs)
    by_dataset = {spec.dataset: index for index, spec in enumerate(specs)}
    for arg in overrides:
        name, sep, paths = arg.partition("=")
        if not sep:
            if len(specs) != 1:
                raise RecipeError(where, f"--input {arg}", "the recipe has several sources: write "
                                  f"DATASET=PATH with one of {', '.join(map(str, by_dataset))}")
            name, paths = str(specs[0].dataset), arg
        if name not in by_dataset:
            raise RecipeError(where, f"--input {arg}", f"no source has dataset {name!r} "
                                                       f"(datasets: {', '.join(map(str, by_dataset))})")
        resolved = tuple(resolve_path(p, os.getcwd()) for p in paths.split(",") if p)
        if not resolved:
            raise RecipeError(where, f"--input {arg}", "expected at least one path")
        _check_paths(resolved, where, f"--input {arg}")
        index = by_dataset[name]
        changes: dict[str, Any] = {"paths": resolved}
        if isinstance(specs[index], CatalogueSource):
            changes.update(hub=None, hub_config=None)
        replaced[index] = dataclasses.replace(specs[index], **changes)
    return tuple(replaced)


def check_output(output: str) -> str:
    """Resolve a run folder given on the command line (relative to the working directory)."""
    path = resolve_path(output, os.getcwd())
    _check_filesystem(path, "command line", "--out")
    return path


def _check_distinct(sources: Any, file: str, key: str) -> None:
    """Refuse two sources with the same kind and dataset name: their ids would collide."""
    seen: set[tuple[str, str | None]] = set()
    for spec in sources:
        if (spec.kind, spec.dataset) in seen:
            raise RecipeError(file, key, f"two {spec.kind} sources are both named {spec.dataset!r}: "
                                         "give each a distinct `dataset` (or list all paths in one source)")
        seen.add((spec.kind, spec.dataset))


def _source(item: Any, file: str, where: str, folder: str) -> SourceSpec:
    """Validate one source entry and resolve its paths."""
    item = dict(check_type(item, dict, file, where))
    kind = item.get("kind")
    if kind not in SOURCE_SPECS:
        raise RecipeError(file, f"{where}.kind", f"must be one of {', '.join(SOURCE_SPECS)} (got {kind!r})")
    spec = build_options(SOURCE_SPECS[kind], item, file, where)
    changes: dict[str, Any] = {}
    if spec.lang is not None:
        code = canonical_language(spec.lang)
        if code is None:
            raise RecipeError(file, f"{where}.lang", f"unknown language code {spec.lang!r}")
        changes["lang"] = code
    paths = tuple(resolve_path(p, folder) for p in spec.paths)
    changes["paths"] = paths
    if isinstance(spec, CatalogueSource):
        if bool(paths) == bool(spec.hub):
            raise RecipeError(file, where, "a catalogue source needs either `paths` or `hub`, not both")
        if spec.dataset is None:
            changes["dataset"] = _default_dataset_name(spec.hub, paths)
    if not paths and not isinstance(spec, CatalogueSource):
        raise RecipeError(file, f"{where}.paths", "needs at least one path")
    if isinstance(spec, PseudoCrawlSource) and spec.seeds is not None:
        changes["seeds"] = resolve_path(spec.seeds, folder)
        if not _matches(changes["seeds"]):
            raise RecipeError(file, f"{where}.seeds", f"file not found: {changes['seeds']}")
    if not 0 < spec.sample <= 1:
        raise RecipeError(file, f"{where}.sample", f"must be a share in (0, 1], got {spec.sample!r}")
    dataset = changes.get("dataset", spec.dataset)
    if not dataset or not all(c.isalnum() or c in "_.-" for c in dataset) or dataset.startswith("."):
        raise RecipeError(file, f"{where}.dataset", f"{dataset!r}: use letters, digits, '_', '.', '-'")
    return dataclasses.replace(spec, **changes)


def _check_paths(paths: tuple[str, ...], file: str, where: str) -> None:
    """Refuse a path no file or folder matches (or whose filesystem Beam cannot reach)."""
    for j, pattern in enumerate(paths):
        _check_filesystem(pattern, file, f"{where}[{j}]")
        if not _matches(pattern):
            raise RecipeError(file, f"{where}[{j}]", f"no file or folder matches {pattern}")


def _stage(item: Any, file: str, where: str, folder: str, sources: Any) -> Stage:
    """Validate one stage entry, `name` or `{name: {options}}`: path options are resolved relative
    to `folder`, and the `datasets` it selects must be datasets of the recipe's `sources`."""
    if isinstance(item, str):
        item = {item: {}}
    if not isinstance(item, dict) or len(item) != 1:
        raise RecipeError(file, where, "a stage is a name or a one-key mapping {name: {options}}")
    (name, options), = item.items()
    if name not in STAGES:
        raise RecipeError(file, where, f"unknown stage {name!r} (known: {', '.join(sorted(STAGES))})")
    cls = STAGES[name]
    options = dict(check_type(options or {}, dict, file, f"{where}.{name}"))
    for key in cls.PATH_OPTIONS:
        if isinstance(options.get(key), str):
            options[key] = resolve_path(options[key], folder)
    stage = build_options(cls, options, file, f"{where}.{name}")
    known = {spec.dataset for spec in sources}
    unknown = [d for d in stage.datasets if d not in known]
    if unknown:
        raise RecipeError(file, f"{where}.{name}.datasets", f"no source has dataset {unknown[0]!r} "
                                                            f"(datasets: {', '.join(sorted(known))})")
    return stage


def _default_dataset_name(hub: str | None, paths: tuple[str, ...]) -> str:
    """Name a catalogue dataset after its hub name (`org/name` → `org_name`) or its first path's
    last component without wildcards or extension (`…/manpages_es/*.parquet` → `manpages_es`)."""
    if hub:
        name = hub.replace("/", "_")
    else:
        parts = [p for p in paths[0].rstrip("/").split("/") if p and not any(c in p for c in "*?[")]
        name = parts[-1].split(".")[0] if parts else ""
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in name) or "catalogue"


def _check_filesystem(path: str, file: str, key: str) -> None:
    """Refuse a URL whose filesystem Beam cannot reach (e.g. gs:// without apache-beam[gcp])."""
    if not is_remote(path):
        return
    try:
        FileSystems.get_filesystem(path)
    except ValueError as exc:
        scheme = path.split("://")[0]
        hint = "install apache-beam[gcp] for gs://, apache-beam[aws] for s3://"
        raise RecipeError(file, key, f"no filesystem for {scheme}:// ({exc}); {hint}") from exc


def resolve_path(path: str, folder: str) -> str:
    """Return a path relative to the recipe's folder as absolute; URLs and absolute paths as given."""
    path = os.path.expanduser(path)
    if is_remote(path) or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(folder, path))


def _matches(pattern: str) -> bool:
    """Return whether a path or glob names at least one existing file or folder."""
    if FileSystems.exists(pattern):
        return True
    try:
        return bool(FileSystems.match([pattern])[0].metadata_list)
    except Exception:  # Beam raises BeamIOError for unreachable or malformed patterns
        return False
