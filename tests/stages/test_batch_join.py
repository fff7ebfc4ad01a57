"""Batches wait for the dedup stages' joins in scratch files, and come back as the same documents
in order; the join itself carries only their places."""

import json

import apache_beam as beam

from roots_pipeline.document import Document
from roots_pipeline.stages.batch_join import keyed_batches, unpacked
from roots_pipeline.worker.coder import DocumentBatch
from roots_pipeline.worker.fs import ScratchAppender, read_place

BATCH = [Document("00000000000000b2", "deux", "oscar", "oscar", "fr", meta={"k": [1, 2]},
                  scores={"perplexity": 12.5}, reasons=["r"], notes=["pii:EMAIL"], order=7),
         Document("00000000000000a1", "un", "catalogue", "wiki", "fr", url="https://x.org/1")]


def test_batches_go_to_scratch_files_and_come_back_equal_in_order(tmp_path):
    with beam.Pipeline() as pipeline:
        batches = pipeline | beam.Create([BATCH, [], BATCH[1:]]).with_output_types(DocumentBatch)
        places = keyed_batches(batches, "x", str(tmp_path / "scratch"))
        _ = (places | beam.Map(json.dumps)
             | beam.io.WriteToText(str(tmp_path / "places"), shard_name_template=""))
    found = [json.loads(line) for line in (tmp_path / "places").read_text().splitlines()]
    assert sorted(batch_id for batch_id, _ in found) == ["00000000000000a1", "00000000000000b2"]  # none empty
    for batch_id, place in found:
        path, _, length = place
        assert path.startswith(str(tmp_path / "scratch" / "x-batches")) and length > 0
        [batch] = list(unpacked([tuple(place)]))
        assert batch == (BATCH if batch_id == "00000000000000b2" else BATCH[1:])


def test_values_appended_to_a_scratch_file_are_read_back_by_place(tmp_path):
    file = ScratchAppender(str(tmp_path / "scratch"))
    places = [file.append(data) for data in (b"first", b"", b"third value")]
    file.close()
    assert [read_place(place) for place in places] == [b"first", b"", b"third value"]
    assert len({path for path, _, _ in places}) == 1
