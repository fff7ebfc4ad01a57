"""The demo run the tuning tests read: built once per session, in a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import run_recipe
from tests.conftest import REPO

DEMO_RECIPE = REPO / "pipelines" / "demo.yaml"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """Return the folder of a finished demo run (never out/demo: tests write only to tmp)."""
    out = tmp_path_factory.mktemp("tuning") / "demo"
    run_recipe(load_recipe(str(DEMO_RECIPE)).with_output(str(out)), [], show_progress=False)
    return out


@pytest.fixture
def es_copy(tmp_path) -> Path:
    """Return a copy of languages/es.yaml with its word lists, to export into."""
    folder = tmp_path / "languages"
    folder.mkdir()
    shutil.copyfile(REPO / "languages" / "es.yaml", folder / "es.yaml")
    shutil.copytree(REPO / "languages" / "es", folder / "es")
    return folder / "es.yaml"
