"""The shards' schema carries the features `datasets` itself would write for it, so
`datasets.load_from_disk` restores them exactly, without the run importing `datasets`."""

import json

import datasets
import pytest

from roots_pipeline.output.shards import shard_schema


@pytest.mark.parametrize("with_reasons", [False, True])
def test_the_schema_metadata_is_what_datasets_writes(with_reasons):
    ours = shard_schema(with_reasons)
    features = datasets.Features.from_arrow_schema(ours.remove_metadata())
    assert ours.equals(features.arrow_schema, check_metadata=True)
    assert json.loads(ours.metadata[b"huggingface"])["info"]["features"] == features.to_dict()
