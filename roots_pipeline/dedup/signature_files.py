"""Files that keep a batch's MinHash signatures for the `minhash_dedup` stage's verification,
instead of a shuffle.

Why files. Verifying a candidate edge needs both ends' signatures (1.3 KB each at 320
permutations). Joined through shuffles, every signature travelled once and twice more per
candidate edge, and the DirectRunner's process holds a shuffle until it is read. Written once
by the step that computes them, one file per batch in the run's scratch folder, they are read
by the steps that verify the edges of that batch's documents: the shuffles carry document
numbers and batch numbers only (see `stages.near_dedup`).

One file per batch, named by the id of the batch's first document, written and read whole
through Beam `FileSystems` (a scratch folder on `gs://` or `s3://` works as a local one does).
Layout, little-endian:

    documents  uint64              n, the batch's documents that have a signature
    num_perm   uint64
    numbers    n × int64           document numbers (the id's 16 hex digits - 2**63), ascending
    orders     n × 2 × uint64      each document's reading order (`Document.order`), high 64 bits
                                   then low 64 bits
    rows       n × num_perm × uint32   the signatures, in the order of `numbers`

A reader finds a document by binary search in `numbers`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from roots_pipeline.worker.fs import create_raw, open_raw

_HEADER = struct.Struct("<QQ")
_LOW = (1 << 64) - 1
_ORDERS = np.dtype([("high", "<u8"), ("low", "<u8")])
Node = tuple[int, str, str]  # (reading order, document id, id of its batch's first document)


def document_number(doc_id: str) -> int:
    """Return a document id (16 lowercase hex digits) as a signed 64-bit number that sorts as the ids do.

    Shifted into int64's range, numbers take Beam's varint encoding and numpy's int64, where half of
    the unsigned values would be pickled."""
    assert len(doc_id) == 16 and doc_id == doc_id.lower(), doc_id
    return int(doc_id, 16) - 2**63


def document_id(number: int) -> str:
    """Return the document id of a `document_number`."""
    return f"{number + 2**63:016x}"


def write_signatures(path: str, numbers: np.ndarray, orders: list[int], rows: np.ndarray) -> None:
    """Write one batch's signatures: `numbers` (int64), reading `orders` and `rows` (documents x
    num_perm, uint32), in any order; the file holds them sorted by number."""
    assert len(numbers) == len(orders) == len(rows) and rows.dtype == np.uint32, (len(numbers), rows.dtype)
    assert all(0 <= order < 1 << 128 for order in orders), "a reading order takes at most 128 bits"
    by_number = np.argsort(numbers, kind="stable")
    places = np.empty(len(orders), dtype=_ORDERS)
    places["high"] = [order >> 64 for order in orders]
    places["low"] = [order & _LOW for order in orders]
    with create_raw(path) as handle:
        handle.write(_HEADER.pack(len(numbers), rows.shape[1] if rows.ndim == 2 else 0))
        handle.write(np.ascontiguousarray(numbers[by_number], dtype="<i8").tobytes())
        handle.write(places[by_number].tobytes())
        handle.write(np.ascontiguousarray(rows[by_number], dtype="<u4").tobytes())


@dataclass(frozen=True)
class BatchSignatures:
    """One batch's signatures as written by `write_signatures`."""

    batch_id: str
    numbers: np.ndarray  # int64, ascending
    orders: np.ndarray  # `_ORDERS`
    rows: np.ndarray  # (documents x num_perm) uint32

    def positions(self, numbers: np.ndarray) -> np.ndarray:
        """Return the rows of documents by number; each must be in the batch."""
        found = np.searchsorted(self.numbers, numbers)
        assert (found < len(self.numbers)).all() and (self.numbers[found] == numbers).all(), (
            f"documents missing from the signatures of batch {self.batch_id}")
        return found

    def node(self, position: int) -> Node:
        """Return the components' node of the document at a row: (reading order, id, batch id)."""
        high, low = self.orders[position].tolist()
        return (high << 64) | low, document_id(int(self.numbers[position])), self.batch_id


def read_signatures(path: str, batch_id: str) -> BatchSignatures:
    """Read the signatures `write_signatures` wrote for the batch whose first document is `batch_id`."""
    with open_raw(path) as handle:
        data = handle.read()
    count, num_perm = _HEADER.unpack_from(data)
    offset = _HEADER.size
    numbers = np.frombuffer(data, dtype="<i8", count=count, offset=offset)
    offset += numbers.nbytes
    orders = np.frombuffer(data, dtype=_ORDERS, count=count, offset=offset)
    offset += orders.nbytes
    rows = np.frombuffer(data, dtype="<u4", count=count * num_perm, offset=offset).reshape(count, num_perm)
    assert offset + rows.nbytes == len(data), f"{path}: {len(data)} bytes, expected {offset + rows.nbytes}"
    return BatchSignatures(batch_id, numbers, orders, rows)
