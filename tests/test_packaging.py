"""A plain, non-editable install ships the language table and the recipes."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from tests.conftest import REPO


def test_non_editable_install_ships_and_reads_its_data(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--quiet", "-w", str(tmp_path), str(REPO)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("roots_pipeline-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"roots_pipeline/languages/codes.tsv", "roots_pipeline/pipelines/demo.yaml",
            "roots_pipeline/pipelines/README.md", "roots_pipeline/languages/fr.yaml",
            "roots_pipeline/languages/sw/stopwords.txt",
            "roots_pipeline/languages/special_characters.txt"} <= names
    modules = {path.relative_to(REPO).as_posix() for path in (REPO / "roots_pipeline").rglob("*.py")}
    assert modules - names == set()  # every subpackage is listed in setup.cfg

    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
                           str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    # Run from an empty folder with only the installed copy first on the path.
    code = ("from importlib import resources; import roots_pipeline, roots_pipeline.lang.codes as c; "
            f"print(roots_pipeline.__file__.startswith({str(target)!r}), c.canonical_language('fra'), "
            "resources.files('roots_pipeline.pipelines').joinpath('demo.yaml').is_file())")
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, env=env)
    assert done.stdout.split() == ["True", "fr", "True"], done.stderr
