"""Recipe validation: every mistake is one clear error naming the file and the key."""

from __future__ import annotations

import textwrap

import pytest

from roots_pipeline.errors import RecipeError
from roots_pipeline.recipe import adhoc_recipe, load_recipe
from roots_pipeline.sources.specs import CatalogueSource, OscarSource
from roots_pipeline.stages.remove_small_docs import RemoveSmallDocs
from tests.conftest import DEMO, REPO


def write(tmp_path, body: str):
    path = tmp_path / "r.yaml"
    path.write_text(textwrap.dedent(body).replace("DEMO", str(DEMO)))
    return str(path)


GOOD = """
name: t
output: out
sources:
  - kind: oscar
    paths: [DEMO/oscar/*.jsonl.gz]
stages:
  - clean_text
  - remove_small_docs: {min_bytes: 10}
"""


def test_demo_recipe_loads_with_paths_relative_to_its_folder():
    recipe = load_recipe(str(REPO / "pipelines" / "demo.yaml"))
    assert recipe.output == str(REPO / "out" / "demo")
    kinds = {s.kind for s in recipe.sources}
    assert kinds == {"catalogue", "oscar", "pseudo_crawl"}
    assert all(p.startswith(str(REPO)) for s in recipe.sources for p in s.paths)


def test_good_recipe(tmp_path):
    recipe = load_recipe(write(tmp_path, GOOD))
    assert isinstance(recipe.sources[0], OscarSource)
    assert recipe.stages[1] == RemoveSmallDocs(min_bytes=10)
    assert recipe.output == str(tmp_path / "out")
    assert len(recipe.digest) == 64


@pytest.mark.parametrize("change, key, message", [
    (("name: t", "name: t\ncolour: red"), "colour", "unknown key"),
    (("name: t", "name: 3"), "name", "must be a string"),
    (("    paths: [DEMO/oscar/*.jsonl.gz]", "    paths: [DEMO/oscar/*.nothing]"), "sources[0].paths[0]",
     "no file or folder matches"),
    (("  - kind: oscar", "  - kind: usenet"), "sources[0].kind", "must be one of"),
    (("  - kind: oscar", "  - kind: oscar\n    langue: fr"), "sources[0].langue", "unknown key"),
    (("  - kind: oscar", "  - kind: oscar\n    lang: klingon"), "sources[0].lang", "unknown language"),
    (("  - clean_text", "  - dedup_everything"), "stages[0]", "unknown stage"),
    (("{min_bytes: 10}", "{min_bytes: ten}"), "stages[1].remove_small_docs.min_bytes", "must be an integer"),
    (("{min_bytes: 10}", "{min_bytes: true}"), "stages[1].remove_small_docs.min_bytes", "must be an integer"),
    (("output: out", "output: out\nshards: {size_mb: big}"), "shards.size_mb", "must be a number"),
    (("output: out\n", ""), "output", "missing"),
])
def test_bad_recipes_name_file_and_key(tmp_path, change, key, message):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    assert caught.value.file == path
    assert caught.value.key == key
    assert message in caught.value.problem
    assert "\n" not in str(caught.value)


def test_not_yaml_and_missing_file(tmp_path):
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(write(tmp_path, "name: [unclosed"))
    with pytest.raises(RecipeError, match="cannot read"):
        load_recipe(str(tmp_path / "nope.yaml"))


def test_catalogue_needs_a_language_and_a_dataset_name(tmp_path):
    body = f"""
    name: t
    output: out
    sources:
      - kind: catalogue
        paths: [{DEMO}/catalogue/manpages_fr]
    """
    with pytest.raises(RecipeError, match=r"sources\[0\].lang: missing"):
        load_recipe(write(tmp_path, body))
    recipe = load_recipe(write(tmp_path, body + "    lang: fra\n"))
    source = recipe.sources[0]
    assert isinstance(source, CatalogueSource)
    assert (source.lang, source.dataset) == ("fr", "manpages_fr")


def test_adhoc_sources(tmp_path):
    recipe = adhoc_recipe([f"oscar={DEMO}/oscar/en_*.gz,{DEMO}/oscar/id_*.gz"], None, str(tmp_path),
                          [("clean_text", {})])
    assert recipe.sources[0].paths[1].endswith("id_*.gz")
    with pytest.raises(RecipeError, match="KIND=PATH"):
        adhoc_recipe(["oscar"], None, str(tmp_path), [])
    with pytest.raises(RecipeError, match=r"needs --lang CODE"):
        adhoc_recipe([f"catalogue={DEMO}/catalogue/manpages_fr"], None, str(tmp_path), [])
    with pytest.raises(RecipeError, match="both named 'oscar'"):
        adhoc_recipe([f"oscar={DEMO}/oscar/en_part_1.jsonl.gz", f"oscar={DEMO}/oscar/id_part_1.jsonl.gz"],
                     None, str(tmp_path), [])
    trailing = adhoc_recipe([f"oscar={DEMO}/oscar/en_part_1.jsonl.gz,"], None, str(tmp_path), [])
    assert trailing.sources[0].paths == (f"{DEMO}/oscar/en_part_1.jsonl.gz",)
    with pytest.raises(RecipeError, match=r"--out: no filesystem for hf://"):  # Beam has none for hf://
        adhoc_recipe([f"oscar={DEMO}/oscar/en_part_1.jsonl.gz"], None, "hf://bucket/run", [])


@pytest.mark.parametrize("change, key, message", [
    (("output: out", "output: out\nshards: {size_mb: 0}"), "shards.size_mb", "greater than 0"),
    (("output: out", "output: out\nlimits: {max_record_mb: -1}"), "limits.max_record_mb", "greater than 0"),
    (("{min_bytes: 10}", "{min_bytes: -5}"), "stages[1].remove_small_docs.min_bytes", "greater than 0"),
    (("  - clean_text", "  - clean_text: {max_blank_lines: -7}"), "stages[0].clean_text.max_blank_lines",
     "-1 (keep all)"),
    (("name: t", "name: t\nname: u"), "(file)", "key 'name' appears twice"),
    (("output: out", "output: hf://bucket/out"), "output", "install apache-beam[gcp]"),
    (("output: out", "output: out\nshards: {size_mb: .inf}"), "shards.size_mb", "finite"),
    (("name: t", "name: t\n? [a, b]\n: 1"), "(file)", "a key must be a plain value"),
])
def test_out_of_range_values_duplicate_keys_and_unreachable_filesystems(tmp_path, change, key, message):
    with pytest.raises(RecipeError) as caught:
        load_recipe(write(tmp_path, GOOD.replace(*change)))
    assert caught.value.key == key and message in caught.value.problem


def test_two_sources_with_one_dataset_name_are_refused(tmp_path):
    body = GOOD.replace("stages:", "  - kind: oscar\n    paths: [DEMO/oscar/*.zst]\nstages:")
    with pytest.raises(RecipeError, match="both named 'oscar'"):
        load_recipe(write(tmp_path, body))


def test_default_catalogue_names(tmp_path):
    body = f"""
    name: t
    output: out
    sources:
      - kind: catalogue
        paths: ["{DEMO}/catalogue_files/manpages_es/*.parquet"]
        lang: es
      - kind: catalogue
        paths: ["{DEMO}/catalogue/manpages_fr"]
        hub: org/name
        lang: fr
    """
    with pytest.raises(RecipeError, match=r"sources\[1\]: .*either `paths` or `hub`"):
        load_recipe(write(tmp_path, body))
    recipe = load_recipe(write(tmp_path, body.split("      - kind: catalogue\n        paths: [\"" + str(DEMO)
                                                    + "/catalogue/manpages_fr")[0]))
    assert recipe.sources[0].dataset == "manpages_es"


def test_input_overrides_replace_a_source_s_paths(tmp_path, monkeypatch):
    demo = str(REPO / "pipelines" / "demo.yaml")
    recipe = load_recipe(demo)
    monkeypatch.chdir(DEMO)
    changed = load_recipe(demo, ["oscar=oscar/en_part_1.jsonl.gz,oscar/fr_meta_*.zst",
                                 "manpages_fr=catalogue_files/manpages_es/"])
    oscar = next(spec for spec in changed.sources if spec.dataset == "oscar")
    assert oscar.paths == (str(DEMO / "oscar" / "en_part_1.jsonl.gz"), str(DEMO / "oscar" / "fr_meta_*.zst"))
    fr = next(spec for spec in changed.sources if spec.dataset == "manpages_fr")
    assert fr.paths == (str(DEMO / "catalogue_files" / "manpages_es"),) and fr.lang == "fr"
    unchanged = [a for a, b in zip(recipe.sources, changed.sources, strict=True) if a == b]
    assert len(unchanged) == len(recipe.sources) - 2
    with pytest.raises(RecipeError, match="several sources: write DATASET=PATH"):
        load_recipe(demo, ["oscar/en_part_1.jsonl.gz"])
    with pytest.raises(RecipeError, match="no source has dataset 'wiki'"):
        load_recipe(demo, ["wiki=oscar/"])
    with pytest.raises(RecipeError, match="no file or folder matches"):
        load_recipe(demo, ["oscar=nothing/*.gz"])


def test_a_placeholder_path_is_fine_when_input_replaces_it(tmp_path, monkeypatch):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(textwrap.dedent("""\
        name: r
        output: out
        sources:
          - kind: oscar
            paths: [/path/to/your/oscar/*.jsonl.zst]
        """))
    with pytest.raises(RecipeError, match=r"sources\[0\].paths\[0\]: no file or folder matches"):
        load_recipe(str(recipe))
    monkeypatch.chdir(DEMO)
    (spec,) = load_recipe(str(recipe), ["oscar/*.jsonl.gz"]).sources
    assert spec.paths == (str(DEMO / "oscar" / "*.jsonl.gz"),)
