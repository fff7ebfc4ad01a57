"""A Beam coder for `Document`: one pickle of its fields, and a size estimate that encodes nothing.

Without it Beam falls back to pickling each document whole and, to estimate element sizes, encodes
a sample of every collection's first elements — a measurable share of a cheap source's run time.
"""

from __future__ import annotations

import pickle

import apache_beam as beam

from roots_pipeline.document import Document


class DocumentCoder(beam.coders.Coder):
    """Encodes a document as the pickled tuple of its fields."""

    def encode(self, doc: Document) -> bytes:
        return pickle.dumps(document_fields(doc), pickle.HIGHEST_PROTOCOL)

    def decode(self, data: bytes) -> Document:
        return Document(*pickle.loads(data))

    def is_deterministic(self) -> bool:
        return False  # dict order in meta/scores; documents are never used as keys

    def estimate_size(self, doc: Document) -> int:
        return len(doc.text) + 100


def document_fields(doc: Document) -> tuple:
    """Return the document's fields in `Document`'s order: `Document(*fields)` rebuilds it."""
    return (doc.id, doc.text, doc.source, doc.dataset, doc.lang, doc.url, doc.meta, doc.scores, doc.reasons,
            doc.notes, doc.order)


beam.coders.registry.register_coder(Document, DocumentCoder)

# The element type of every document collection; declaring it is what makes Beam use the coder.
DocumentBatch = list[Document]
