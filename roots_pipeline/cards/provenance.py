"""Provenance of a run for its cards: recipe and hash, versions, runner, date, model files and checksums.

The model files are the ones the run's stages actually used: the fastText lid.176 file of
`language_id` (`model`) and `quality_filter` (`lid_model`), the packaged one when none was given,
and each `<lang>.sp.model` / `<lang>.arpa[.bin]` pair in a quality_filter `models` folder for the
run's languages. Checksums are computed now, from the files as they are when the card is
written; a file that has gone since the run is listed as missing rather than silently left out.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

from roots_pipeline.errors import RootsError
from roots_pipeline.lang.identify import resolve_model
from roots_pipeline.lm.perplexity import find_models

# Versions of what wrote the card, beside those run.json recorded for the run itself.
CARD_PACKAGES = ("datasets", "pyarrow", "matplotlib", "tokenizers", "huggingface_hub")
_LID_OPTIONS = {"language_id": "model", "quality_filter": "lid_model"}
_CHUNK = 1 << 20


def sha256_of(path: str) -> str:
    """Return the SHA-256 of a file, read in 1 MiB chunks (model files can be gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def model_files(stages: Iterable[Mapping[str, Any]], langs: Iterable[str]) -> list[dict[str, Any]]:
    """Return the model files the stages used, each with its role, path, size and checksum."""
    langs = sorted(langs)
    found: dict[str, list[str]] = {}
    for stage in stages:
        options = stage.get("options", {})
        option = _LID_OPTIONS.get(stage["name"])
        if option is not None:
            try:
                path = resolve_model(options.get(option))
            except RootsError:  # the packaged model is gone: list what was asked for as missing
                path = str(options.get(option) or "(packaged lid.176: not installed now)")
            _add_role(found, path, f"{stage['name']}: fastText lid.176")
        folder = options.get("models") if stage["name"] == "quality_filter" else None
        if folder:
            for lang in langs:
                try:
                    pair = find_models(folder, lang) if os.path.isdir(folder) else None
                except RootsError:
                    pair = None
                for path, what in zip(pair or (), ("SentencePiece", "KenLM"), strict=False):
                    _add_role(found, path, f"quality_filter: {lang} {what}")
    return [_describe(path, "; ".join(roles)) for path, roles in found.items()]


def _add_role(found: dict[str, list[str]], path: str, role: str) -> None:
    roles = found.setdefault(path, [])
    if role not in roles:
        roles.append(role)


def _describe(path: str, role: str) -> dict[str, Any]:
    if not os.path.isfile(path):
        return {"role": role, "path": path, "bytes": None, "sha256": None, "missing": True}
    return {"role": role, "path": path, "bytes": os.path.getsize(path), "sha256": sha256_of(path),
            "missing": False}


def package_versions(names: Iterable[str] = CARD_PACKAGES) -> dict[str, str | None]:
    """Return the installed version of each package (None when it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance(stats: Mapping[str, Any], run: Mapping[str, Any], langs: Iterable[str]) -> dict[str, Any]:
    """Return the provenance block every card shows."""
    recipe_file = run.get("recipe_file")
    current = sha256_of(recipe_file) if recipe_file and os.path.isfile(recipe_file) else None
    return {
        "run": stats.get("run"),
        "recipe_file": recipe_file,
        "recipe_sha256": stats.get("recipe_sha256"),
        # The recipe may have been edited since: say so instead of implying the file made this run.
        "recipe_changed_since_run": None if current is None else current != stats.get("recipe_sha256"),
        "fingerprint": run.get("fingerprint"),
        "runner": run.get("runner"),
        "beam_args": run.get("beam_args", []),
        "finished": run.get("finished"),
        "wall_seconds": run.get("wall_seconds"),
        "versions": {key: run.get(key) for key in ("roots_pipeline", "apache_beam", "python")},
        "card_versions": package_versions(),
        "model_files": model_files(run.get("stages", []), langs),
    }
