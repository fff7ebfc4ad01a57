"""What a new run replaces in its folder, and the checks that keep it from deleting anything else.

A re-run must not mix its outputs with the previous run's (a language that is gone, shards cut
differently), so the previous outputs are deleted; failures must never destroy them (DESIGN.md #8),
so they are deleted only once the new job exists. `run_recipe` lists them before it submits the
job (`outputs_to_replace`) and deletes exactly that list once the runner has accepted the job
(`delete_outputs`). Listing first matters where the job runs elsewhere: by the time the driver
deletes, a fast worker may have written its first files, which were not on the list.
"""

from __future__ import annotations

import os
from typing import Any

from apache_beam.io.filesystems import FileSystems

from roots_pipeline.errors import RootsError
from roots_pipeline.output.run_folder import DRY_RUN_FILES, PIPELINE_FILES, PIPELINE_FOLDERS, RUN, run_path
from roots_pipeline.worker.fs import is_remote


def check_run_folder(run_dir: str, splits: list[list[Any]]) -> None:
    """Refuse a run folder that holds anything but an earlier run (or dry run), or that holds the inputs.

    Re-running clears `data/`, `rejects/` and `scratch/`; that must never delete a user's own files.
    """
    if not is_remote(run_dir):
        if os.path.exists(run_dir) and not os.path.isdir(run_dir):
            raise RootsError(f"output {run_dir} is a file, not a folder")
        present = sorted(os.listdir(run_dir)) if os.path.isdir(run_dir) else []
        foreign = [name for name in present if name not in DRY_RUN_FILES]
        if foreign and RUN not in present:
            raise RootsError(f"output folder {run_dir} is not empty and holds no earlier run "
                             f"({', '.join(foreign[:3])}…): choose an empty or new folder")
    cleared = [os.path.abspath(run_path(run_dir, name)) + os.sep for name in PIPELINE_FOLDERS]
    inside = [s.file.path for group in splits for s in group
              if os.path.abspath(s.file.path).startswith(tuple(cleared))]
    if inside:
        raise RootsError(f"input {inside[0]} lies inside the output folder {run_dir}, which a run clears")


def outputs_to_replace(run_dir: str) -> list[str]:
    """Return every file (or object) of a previous run in `run_dir` that a new run replaces."""
    files = [run_path(run_dir, name) for name in PIPELINE_FILES]
    found = [path for path in files if FileSystems.exists(path)]
    for name in PIPELINE_FOLDERS:
        folder = run_path(run_dir, name)
        if is_remote(run_dir):  # a folder is a prefix; `**` matches at any depth
            found += [m.path for m in FileSystems.match([f"{folder}/**"])[0].metadata_list]
        else:
            found += [os.path.join(parent, file) for parent, _, files in os.walk(folder) for file in files]
    return found


def delete_outputs(run_dir: str, listed: list[str]) -> None:
    """Delete the files `outputs_to_replace` listed, then the local folders they leave empty."""
    present = [path for path in listed if FileSystems.exists(path)]
    if present:
        FileSystems.delete(present)
    if not is_remote(run_dir):
        for name in PIPELINE_FOLDERS:
            _remove_empty_folders(run_path(run_dir, name))


def _remove_empty_folders(folder: str) -> None:
    for parent, _, _ in os.walk(folder, topdown=False):  # children before their parent
        if not os.listdir(parent):
            os.rmdir(parent)


def delete_folders(run_dir: str, names: tuple[str, ...]) -> None:
    """Delete folders of the run folder, on a local disk or an object store (where a folder is
    only a prefix: a trailing / deletes everything under it; `**` matches at any depth)."""
    if is_remote(run_dir):
        old = [f"{run_dir}/{name}/" for name in names
               if FileSystems.match([f"{run_dir}/{name}/**"], limits=[1])[0].metadata_list]
    else:
        old = [run_path(run_dir, name) for name in names if os.path.isdir(run_path(run_dir, name))]
    if old:
        FileSystems.delete(old)
