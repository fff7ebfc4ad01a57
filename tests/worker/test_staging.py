"""Models named by URL: listed and copied through Beam's filesystems, loaded from local disk."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
import sentencepiece
from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.localfilesystem import LocalFileSystem

from roots_pipeline.errors import RecipeError, RootsError
from roots_pipeline.filters.quality import QualityScorer
from roots_pipeline.lang.identify import packaged_model, resolve_model
from roots_pipeline.options import build_options
from roots_pipeline.runner.clearing import delete_folders
from roots_pipeline.stages.quality_filter import QualityFilter
from roots_pipeline.worker.fs import file_names, local_file
from tests.conftest import DATA, DEMO

SCHEME = "fakebucket://"


class FakeBucket(LocalFileSystem):
    """A filesystem with its own URL scheme over local files: what gs:// is to Beam, testable."""

    @classmethod
    def scheme(cls) -> str:
        return "fakebucket"

    def _local(self, url: str) -> str:
        return url.removeprefix(SCHEME)

    def split(self, path):
        head, tail = super().split(self._local(path))
        return SCHEME + head, tail

    def _list(self, dir_or_prefix):
        for meta in super()._list(self._local(dir_or_prefix)):
            yield FileMetadata(SCHEME + meta.path, meta.size_in_bytes, meta.last_updated_in_seconds)

    def exists(self, path):
        return super().exists(self._local(path))

    def metadata(self, path):
        meta = super().metadata(self._local(path))
        return FileMetadata(path, meta.size_in_bytes, meta.last_updated_in_seconds)

    def open(self, path, *args, **kwargs):
        return super().open(self._local(path), *args, **kwargs)

    def delete(self, paths):
        for path in map(self._local, paths):  # as on GCS, a prefix ending in / goes with all under it
            shutil.rmtree(path) if path.endswith("/") else Path(path).unlink()


@pytest.fixture(scope="module")
def bucket(tmp_path_factory):
    """English perplexity models and the lid model in a 'bucket' folder."""
    folder = tmp_path_factory.mktemp("bucket")
    models = folder / "models"
    models.mkdir()
    sentencepiece.SentencePieceTrainer.train(
        input=str(DATA / "lm" / "corpus.en.txt"), model_prefix=str(models / "en.sp"), vocab_size=300,
        minloglevel=2)
    (models / "en.sp.vocab").unlink()
    shutil.copy(DATA / "lm" / "lmplz_o3.en.arpa", models / "en.arpa")
    shutil.copy(packaged_model(), folder / "lid.176.ftz")
    return folder


def test_a_bucket_folder_is_listed_and_its_models_load_from_local_copies(bucket):
    url = SCHEME + str(bucket / "models")
    assert file_names(url) == ["en.arpa", "en.sp.model"]
    with gzip.open(DEMO / "oscar" / "en_part_1.jsonl.gz", "rt", encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line, _ in zip(lines, range(5), strict=False)]
    remote = QualityScorer(models=url).score(texts, "en")
    local = QualityScorer(models=str(bucket / "models")).score(texts, "en")
    assert [scores for _, scores, _ in remote] == [scores for _, scores, _ in local]
    assert all("perplexity" in scores for _, scores, _ in remote)
    copy = local_file(url + "/en.arpa")
    assert copy != url + "/en.arpa"
    assert Path(copy).read_bytes() == (bucket / "models" / "en.arpa").read_bytes()


def test_the_stage_accepts_bucket_paths_and_checks_the_pairs(bucket, tmp_path):
    stage = build_options(QualityFilter, {"models": SCHEME + str(bucket / "models"),
                                          "lid_model": SCHEME + str(bucket / "lid.176.ftz")}, "r.yaml", "s")
    lid = resolve_model(stage.lid_model)
    assert lid.endswith("lid.176.ftz") and "://" not in lid
    half = tmp_path / "half"
    half.mkdir()
    shutil.copy(bucket / "models" / "en.arpa", half / "en.arpa")
    with pytest.raises(RecipeError, match="en.arpa has no SentencePiece model beside it"):
        build_options(QualityFilter, {"models": SCHEME + str(half)}, "r.yaml", "s")
    with pytest.raises(RecipeError, match="holds no <lang>.sp.model"):
        build_options(QualityFilter, {"models": SCHEME + str(tmp_path / "nothing")}, "r.yaml", "s")
    with pytest.raises(RootsError, match="language-id model not found"):
        resolve_model(SCHEME + str(tmp_path / "lid.bin"))


def test_run_folders_in_a_bucket_are_deleted_at_any_depth(tmp_path):
    # The scratch folder's files sit two levels down (scratch/<step>/<file>).
    run = tmp_path / "run"
    (run / "scratch" / "suffix_array_dedup3").mkdir(parents=True)
    (run / "scratch" / "suffix_array_dedup3" / "en-0-1.bin").write_bytes(b"text")
    (run / "data" / "en").mkdir(parents=True)
    delete_folders(SCHEME + str(run), ("scratch", "rejects"))
    assert not (run / "scratch").exists()
    assert (run / "data" / "en").is_dir()
