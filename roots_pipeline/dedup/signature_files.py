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
    orders     n × 16 bytes        each document's reading order (`Document.order`), big-endian
    rows       n × num_perm × uint32   the signatures, in the order of `numbers`

A reader finds a document by binary search in `numbers`.

Nodes. The components' node of a document is 32 bytes: its reading order (16, big-endian), its
id and the id of its batch's first document (8 each, big-endian). Bytes compare as the tuple
(order, id, batch id) does, so the smallest node of a cluster is its first document in reading
order, and Beam encodes a node as it is, where an order above 2**63 in a tuple is pickled.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from roots_pipeline.worker.fs import create_raw, open_raw

_HEADER = struct.Struct("<QQ")
_ORDER = 16  # bytes of a reading order
_NODE = np.dtype([("order", f"V{_ORDER}"), ("id", ">u8"), ("batch", ">u8")])
Node = bytes  # reading order (16 bytes), document id (8), batch id (8): see the module docstring


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
    places = np.frombuffer(b"".join(order.to_bytes(_ORDER, "big") for order in orders), dtype=f"V{_ORDER}")
    by_number = np.argsort(numbers, kind="stable")
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
    orders: np.ndarray  # 16-byte big-endian reading orders (numpy void)
    rows: np.ndarray  # (documents x num_perm) uint32

    def positions(self, numbers: np.ndarray) -> np.ndarray:
        """Return the rows of documents by number; each must be in the batch."""
        found = np.searchsorted(self.numbers, numbers)
        assert (found < len(self.numbers)).all() and (self.numbers[found] == numbers).all(), (
            f"documents missing from the signatures of batch {self.batch_id}")
        return found

    def nodes(self, positions: np.ndarray) -> list[Node]:
        """Return the components' nodes of the documents at rows (see the module docstring)."""
        packed = np.empty(len(positions), dtype=_NODE)
        packed["order"] = self.orders[positions]
        packed["id"] = self.numbers[positions].astype(np.uint64) ^ np.uint64(1 << 63)
        packed["batch"] = document_number(self.batch_id) + (1 << 63)
        data = packed.tobytes()
        return [data[start:start + _NODE.itemsize] for start in range(0, len(data), _NODE.itemsize)]


def node_ids(node: Node) -> tuple[str, str]:
    """Return (document id, batch id) of a node."""
    return node[_ORDER:_ORDER + 8].hex(), node[_ORDER + 8:].hex()


def read_signatures(path: str, batch_id: str) -> BatchSignatures:
    """Read the signatures `write_signatures` wrote for the batch whose first document is `batch_id`."""
    with open_raw(path) as handle:
        data = handle.read()
    count, num_perm = _HEADER.unpack_from(data)
    offset = _HEADER.size
    numbers = np.frombuffer(data, dtype="<i8", count=count, offset=offset)
    offset += numbers.nbytes
    orders = np.frombuffer(data, dtype=f"V{_ORDER}", count=count, offset=offset)
    offset += orders.nbytes
    rows = np.frombuffer(data, dtype="<u4", count=count * num_perm, offset=offset).reshape(count, num_perm)
    assert offset + rows.nbytes == len(data), f"{path}: {len(data)} bytes, expected {offset + rows.nbytes}"
    return BatchSignatures(batch_id, numbers, orders, rows)
