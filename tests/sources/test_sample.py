"""A source's `sample` share: which documents a run uses, and how the ledger shows the rest."""

from __future__ import annotations

import pytest

from roots_pipeline.errors import RecipeError
from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import run_recipe
from roots_pipeline.sources.read import is_sampled
from tests.conftest import DEMO

RECIPE = """\
name: sampled
output: {out}
sources:
  - kind: oscar
    paths: ["{demo}/oscar/en_part_1.jsonl.gz"]
    sample: {share}
"""


def run_with(tmp_path, share):
    path = tmp_path / f"r{share}.yaml"
    path.write_text(RECIPE.format(out=tmp_path / f"out{share}", demo=DEMO, share=share))
    (entry,) = run_recipe(load_recipe(str(path)), [], show_progress=False).stats["entries"]
    return entry


def test_a_share_of_the_documents_is_read_and_the_rest_is_a_note(tmp_path):
    whole = run_with(tmp_path, 1.0)
    third = run_with(tmp_path, 0.3)
    assert whole["in"]["docs"] == 97 and "sample:skipped" not in whole["notes"]
    assert third["in"]["docs"] + third["notes"]["sample:skipped"] == 97
    assert 15 <= third["in"]["docs"] <= 45  # 97 documents at 30 %: a hash, not an exact count
    assert third["kept"]["docs"] == third["in"]["docs"]


def test_sampling_is_by_id_and_nested():
    ids = [f"{i * 0x9E3779B97F4A7C15 % 2**64:016x}" for i in range(2000)]
    small = {i for i in ids if is_sampled(i, 0.1)}
    large = {i for i in ids if is_sampled(i, 0.5)}
    assert small <= large and 120 <= len(small) <= 280 and 900 <= len(large) <= 1100
    assert all(is_sampled(i, 1.0) for i in ids)


@pytest.mark.parametrize("share", ["0", "1.5", "-0.2"])
def test_a_share_outside_0_1_is_refused(tmp_path, share):
    path = tmp_path / "r.yaml"
    path.write_text(RECIPE.format(out=tmp_path / "out", demo=DEMO, share=share))
    with pytest.raises(RecipeError, match=r"sources\[0\].sample: must be a share in \(0, 1\]"):
        load_recipe(str(path))
