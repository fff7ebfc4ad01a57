"""What a new run replaces: listed before the job is submitted, deleted once it is accepted, on a
local disk and in a bucket; files written after the listing survive."""

from __future__ import annotations

import shutil
from pathlib import Path

from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.localfilesystem import LocalFileSystem

from roots_pipeline.runner.clearing import delete_outputs, outputs_to_replace

SCHEME = "clearbucket://"


class Bucket(LocalFileSystem):
    """Local files under a URL scheme of their own, where a folder is a prefix: as gs:// is to Beam."""

    @classmethod
    def scheme(cls) -> str:
        return SCHEME.removesuffix("://")

    def split(self, path):
        head, tail = super().split(path.removeprefix(SCHEME))
        return SCHEME + head, tail

    def _list(self, dir_or_prefix):
        for meta in super()._list(dir_or_prefix.removeprefix(SCHEME)):
            yield FileMetadata(SCHEME + meta.path, meta.size_in_bytes, meta.last_updated_in_seconds)

    def exists(self, path):
        return super().exists(path.removeprefix(SCHEME))

    def delete(self, paths):
        for path in (p.removeprefix(SCHEME) for p in paths):
            shutil.rmtree(path) if path.endswith("/") else Path(path).unlink()


def previous_run(run):
    for name in ("data/en/data-00000-of-00001.arrow", "data/xx/state.json", "rejects/en/state.json",
                 "scratch/suffix_array_dedup3/en-0-1.bin", "stats.json", "run.json", "_SUCCESS",
                 "pipeline.pb", "cards/README.md", "fertility/report.json"):
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_text(name)


def test_only_the_listed_outputs_of_the_previous_run_are_deleted(tmp_path):
    for where, prefix in (("local", ""), ("bucket", SCHEME)):
        run = tmp_path / where
        previous_run(run)
        listed = outputs_to_replace(prefix + str(run))
        assert len(listed) == 8  # cards and fertility are kept until redone
        (run / "data" / "en" / "data-00000-of-00002.arrow").write_text("new")  # the new job's first file
        delete_outputs(prefix + str(run), listed)
        left = sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())
        assert left == ["cards/README.md", "data/en/data-00000-of-00002.arrow", "fertility/report.json"]
        if not prefix:  # emptied local folders go too
            assert not (run / "rejects").exists() and not (run / "scratch").exists()
