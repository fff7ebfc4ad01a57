"""The filter-tuning notebooks in filters/: committed without outputs, and run headless on a demo run."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from roots_pipeline.lang.config import read_language_file
from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "filters").glob("*.ipynb"))


def parameters_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    (cell,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    return cell


def test_there_is_a_notebook_per_concern():
    assert [path.name for path in NOTEBOOKS] == [
        "01_score_histograms.ipynb", "02_cutoff_effects.ipynb", "03_margin_examples_and_export.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_are_stripped(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (path.name, cell.id)
        assert set(cell.metadata) <= {"tags"}, (path.name, cell.id)  # no execution times, no collapsed state
    assert "widgets" not in notebook.metadata  # widget state is output too
    assert notebook.metadata.kernelspec.name == "python3"
    assert 'run = "../out/demo"' in parameters_cell(notebook).source


def execute(path: Path, **parameters: object) -> nbformat.NotebookNode:
    """Run a notebook in filters/ with its parameters cell replaced, as papermill would; return it."""
    notebook = nbformat.read(path, as_version=4)
    cell = parameters_cell(notebook)
    lines = cell.source.splitlines()
    for name, value in parameters.items():
        (index,) = [i for i, line in enumerate(lines) if line.startswith(f"{name} = ")]
        lines[index] = f"{name} = {value!r}"
    cell.source = "\n".join(lines)
    # Raises CellExecutionError, with the cell and its traceback, when any cell fails.
    NotebookClient(notebook, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def text_of(notebook: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.outputs)


def images_of(notebook: nbformat.NotebookNode) -> int:
    return sum("image/png" in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs)


def test_score_histograms_runs_headless(demo_run):
    notebook = execute(REPO / "filters" / "01_score_histograms.ipynb", run=str(demo_run), lang="es")
    text = text_of(notebook)
    assert "documents scored by quality_filter" in text and "closed_class_words     removes" in text
    assert images_of(notebook) == 1


def test_cutoff_effects_runs_headless(demo_run):
    notebook = execute(REPO / "filters" / "02_cutoff_effects.ipynb", run=str(demo_run), lang="es",
                       candidates={"lang_id.min": 0.5}, curve="lang_id.min")
    text = text_of(notebook)
    assert "with lang_id.min=0.5: quality_filter removes" in text and "\nnumber_words.max (" in text
    assert images_of(notebook) == 1


def test_margin_examples_and_export_runs_headless_and_writes_the_copy(demo_run, es_copy):
    notebook = execute(REPO / "filters" / "03_margin_examples_and_export.ipynb", run=str(demo_run), lang="es",
                       filter_name="lang_id", side="min", new_cutoff=0.7, write=True,
                       language_file=str(es_copy))
    text = text_of(notebook)
    assert "documents at the margin of lang_id.min = 0.8:" in text
    assert "-  lang_id: {min: 0.8}\n+  lang_id: {min: 0.7}\n" in text
    assert read_language_file(es_copy).filters.lang_id.min == 0.7
    assert images_of(notebook) == 1
