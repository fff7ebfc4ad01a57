"""Batches cross the dedup stages' joins packed, and come back as the same documents in order."""

from roots_pipeline.document import Document
from roots_pipeline.stages.batch_join import pack, unpacked


def test_a_packed_batch_unpacks_to_equal_documents_in_order():
    batch = [Document("00000000000000b2", "deux", "oscar", "oscar", "fr", meta={"k": [1, 2]},
                      scores={"perplexity": 12.5}, reasons=["r"], notes=["pii:EMAIL"]),
             Document("00000000000000a1", "un", "catalogue", "wiki", "fr", url="https://x.org/1")]
    [(batch_id, packed)] = list(pack(batch))
    assert batch_id == "00000000000000b2"  # the first document's id, whatever the order of ids
    assert isinstance(packed, bytes)
    assert list(unpacked([packed])) == [batch]


def test_an_empty_batch_is_not_joined():
    assert list(pack([])) == []
