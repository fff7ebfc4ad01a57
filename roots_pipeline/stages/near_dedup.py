"""`minhash_dedup`: MinHash-LSH near-duplicate removal, one survivor per cluster, per language.

ROOTS removed near-duplicates with SimHash; this stage uses MinHash with LSH banding, the method
of most later corpora (datatrove, text-dedup, NeMo-Curator, RedPajama). The steps, each a Beam
step, none holding a dataset:

1. **Sign** (per batch): shingles (`dedup.minhash.shingles`: lowercased, punctuation dropped;
   word n-grams, or character n-grams for languages written without spaces), datasketch-compatible
   signatures of `num_perm` values, and per LSH band a 64-bit hash of the band's values
   (`band_hashes`), the (bands, rows) datasketch's `MinHashLSH` picks for `lsh_threshold` (by
   default the highest step of 0.05 below `threshold` whose bands find 99% of the pairs at
   `threshold`). The signatures go to the batch's signature file in the run's scratch folder
   (`dedup.signature_files`), never into a shuffle. A band's (hash, document number) entries are
   packed, 16 bytes each, into one bytes value per (language, band, shard) and batch, with the
   batch's number (`band_entries`; `band_shards` groups per band, by hash; a document number is
   the id's 16 hex digits as an int64, so numbers sort as ids). Documents of different languages
   are never compared; documents of one language are, across datasets and sources. Documents
   without any shingle (empty, or only punctuation) pass untouched.
2. **Candidates** (`GroupByKey` by (language, band, shard)): sorting a group's entries by hash
   finds its buckets, and each bucket gives candidate edges (`dedup.minhash.bucket_pairs`, the
   edges of `bucket_candidates`): every pair in a bucket of at most `ALL_PAIRS_UP_TO` (8)
   members, else a star around its smallest member and a path through its members in id order,
   so a near-copy meets the smallest member and its neighbours in id order, never all pairs of a
   big bucket. The groups a bundle brings are sorted together (a small corpus has thousands of
   groups of a few entries); each edge, packed with its second end's batch, goes to the batch of
   its first (smaller) end.
3. **Verification** (`GroupByKey` by batch): the edges the bands repeat are dropped, and each edge
   whose two ends are in the batch is checked against their signatures in the batch's file: it
   stays if they estimate a Jaccard similarity of at least `threshold` (`agreements_needed` equal
   values). The others go, with their first ends' signatures (once per first end and batch), to
   their second end's batch (`GroupByKey`), where the same check is made. The bands are chosen for
   `lsh_threshold` < `threshold` so that pairs at the threshold are candidates almost surely
   (0.999 of the pairs of Jaccard 0.7 at the defaults, where datasketch's bands for 0.7 at 128
   permutations find 0.44 of them); verification removes the false candidates that lets in
   (datasketch's LSH does not verify). `dedup/minhash.py` has the measurements.
4. **Components**: `max_rounds` rounds of Kiveris et al.'s large-star and small-star steps, each a
   `GroupByKey` by node; the graph cannot tell Beam when it is done, so the rounds are a fixed
   number. A node is 32 bytes that sort as (reading order, id, batch id)
   (`dedup.signature_files`). From the second round on, a small-star step tells each node's one
   smaller neighbour that the node is its leaf, and a large-star step whose node has only such
   leaves (`dedup.minhash.finished_star`: a whole component, a star around its smallest node,
   which no later step would change) gives their labels at once and sends nothing on: on a
   typical corpus the rounds after the second carry almost nothing. The edges left after the
   rounds get their labels from a last pair of steps, the smallest node of the cluster (nodes
   sort by reading order, `Document.order`), which also check that the rounds sufficed: each node
   whose neighbours disagree is counted in the `minhash_dedup:unconverged` note (it then takes
   the smallest label it saw: a document of its own cluster, possibly not the survivor). Labels
   are those of the rounds run in full (`dedup.minhash.components_in_memory`, tested equal for
   any graph and number of rounds). Ten rounds contract a chain of about a thousand
   near-copies, and random graphs of any size seen in testing (5 rounds at 10,000 nodes).
5. **Join**: labels joined to their batches by batch id (as `dedup_document` does), so batches
   keep their documents and order. In every cluster the first document in reading order
   survives, the same on every runner; the others are rejected as `minhash_dedup:duplicate` (a
   duplicate in the ledger) with `meta["duplicate_of"]` = `meta["cluster"]` = the survivor's id and
   `meta["minhash"]` = `config_name`.

Notes: `minhash_dedup:config:<config_name>` (documents signed under that configuration, which
names the parameters in every run's stats), `minhash_dedup:no_shingles` (documents passed without
a signature), `minhash_dedup:clusters` (clusters of two or more documents, counted where their
survivor is) and `minhash_dedup:unconverged`.

Memory per worker. Signing: one batch's 4-byte shingle hashes and signatures (num_perm x 4 bytes a
document: 1.3 MB for a batch's 1,000 documents at 320), one document's shingles, and num_perm x
8,192 hash products (10 MiB at 320). Candidates: the groups sorted together, fewer than `_GATHERED`
(1,048,576) entries of 16 bytes besides the last one gathered, about 4 times that while sorted, and
their candidate edges (about 70 bytes each, fewer than 2 per entry of a big bucket, at most 3.5 in
a small one); a group holds 16 bytes per document of the language / `band_shards` (about 250 MB
sorted for 16 million documents of a language at the default 4 shards: raise `band_shards` for
bigger languages), and a bucket gives edges for its `BUCKET_HELD` (1,024) smallest members plus a
star, whatever its size. Verification: one batch's signature file (num_perm x 4 + 24 bytes a
document: 1.3 MB), its documents' distinct candidate edges, 24 bytes each (about twice that while
the bands' repeats are dropped; a giant bucket's smallest member has an edge to each member), and
4,096 compared pairs of signatures (10 MiB); in the second end's batch, its file and one item from
another batch (at most that batch's signatures and 16 bytes an edge). Components: one node's
distinct neighbours per step, which for a cluster's smallest node is the whole cluster, about 100
bytes per member. The join: one batch with its documents' labels. A giant bucket (thousands of
boilerplate pages) costs fewer than two candidate edges per member, never all pairs.

Disk: the scratch folder holds each signature once (num_perm x 4 + 24 bytes a document, 1.3 KB at
320); it is deleted with `scratch/` when the run ends.

Shuffle: the band entries, bands x 16 bytes (0.85 KB per document at the defaults' 53 x 6); each
candidate edge once per band that finds it, 24 bytes; per edge between two batches its first
end's signature, once per first end and batch, and 16 bytes; the component steps' edges until
their component is a finished star. On `bench/near_dup.py` (batches of 1,000 documents): 1.7 KB
per document, where joining signatures to edges took 6.3 KB (figures in `bench/README.md`). On
the DirectRunner, which holds a shuffle in its own process until it is read, this is what the
driver holds per document, besides the documents themselves at the join.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import apache_beam as beam
import numpy as np
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue

from roots_pipeline.dedup.minhash import (
    ALL_PAIRS_UP_TO,
    BUCKET_HELD,
    ENTRY,
    SHINGLE_KINDS,
    agreements_needed,
    band_entries,
    band_hashes,
    bucket_pairs,
    final_label,
    finished_star,
    large_star,
    leaf_of,
    lsh_threshold_for,
    optimal_bands_rows,
    parent_messages,
    shingle_hashes,
    shingle_kind,
    shingles,
    signatures,
    small_star,
)
from roots_pipeline.dedup.signature_files import (
    BatchSignatures,
    Node,
    document_id,
    document_number,
    node_ids,
    read_signatures,
    write_signatures,
)
from roots_pipeline.document import Document
from roots_pipeline.errors import OptionError, require_positive
from roots_pipeline.ledger import Tally
from roots_pipeline.options import option
from roots_pipeline.stages.apply import NOTES, REJECTED
from roots_pipeline.stages.base import CorpusOutputs, CorpusStage, register
from roots_pipeline.stages.batch_join import BATCHES, keyed_batches, unpacked
from roots_pipeline.worker.coder import DocumentBatch
from roots_pipeline.worker.fs import join

AUTO = "auto"
MAX_PERMUTATIONS = 1024  # 4 KiB per signature; choosing (bands, rows) for 1024 already takes 1.6 s
# Version of the shingling (normalisation, joining): part of `config_name`, bumped when it changes.
_SHINGLING_VERSION = 1
# Tagged outputs: edges with an end in another batch, and labels of finished stars.
_OTHER_BATCH = "other_batch"
_LABELS = "labels"
# A candidate edge, packed for the shuffle to its first end's batch: the two ends' document
# numbers (the first the smaller) and the batch number (`document_number` of the batch id) of the second.
_CANDIDATE = np.dtype([("first", "<i8"), ("second", "<i8"), ("second_batch", "<i8")])
# An edge to verify in its second end's batch: the row of its first end among those sent with it,
# and its second end's number.
_PAIR = np.dtype([("first", "<i8"), ("second", "<i8")])
# Band entries whose buckets `_BucketCandidates` finds in one pass (16 MiB), or one group's if more.
_GATHERED = 1 << 20
# Signatures compared at once in a verification: 4,096 x 320 values of each end, 10 MiB with the
# comparison.
_COMPARED = 4096


@register
@dataclass(frozen=True)
class MinhashDedup(CorpusStage):
    """Remove near-duplicates: documents of one language whose shingle sets' Jaccard similarity
    (estimated by MinHash-LSH) reaches `threshold`, transitively; see the module docstring.

    Defaults: word 5-grams (`shingle: auto` switches to character 5-grams for zh, yue, ja, th, lo,
    km, my), 320 permutations, seed 1, candidates from the LSH bands for `lsh_threshold` (by
    default `dedup.minhash.lsh_threshold_for`: 0.5, 53 bands of 6 rows, for 0.7), verified at
    `threshold` 0.7, 10 rounds of components; `band_shards` (4 groups per band) sets memory and
    parallelism, never results. Measured on `bench/near_dup.py` (see `dedup/minhash.py`):
    pairwise F1 0.980 against exact-Jaccard truth
    (0.979 on average over 8 MinHash seeds, none below 0.958), where datasketch's 128
    permutations and bands for 0.7 without verification give 0.913; fewer permutations estimate
    too coarsely near the threshold (256: 0.964 on average, down to 0.924).
    """

    name = "minhash_dedup"
    ngram: int = option(5, "shingle length in words or characters")
    shingle: str = option(AUTO, "characters for zh, yue, ja, th, lo, km, my; words otherwise",
                          choices=(AUTO, *SHINGLE_KINDS))
    num_perm: int = option(320, "permutations")
    threshold: float = option(0.7, "Jaccard similarity of near-duplicates")
    lsh_threshold: float | None = option(None, "similarity the LSH bands are chosen for (by default "
                                               "dedup.minhash.lsh_threshold_for(threshold))")
    seed: int = option(1, "permutation seed (datasketch's default is 1)")
    max_rounds: int = option(10, "rounds of the connected-components search")
    band_shards: int = option(4, "groups per band: sets memory and parallelism, never results")

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "ngram", "num_perm", "max_rounds", "band_shards")
        if self.shingle not in (AUTO, *SHINGLE_KINDS):
            kinds = " or ".join(map(repr, SHINGLE_KINDS))
            raise OptionError("shingle", f"{self.shingle!r}: use {AUTO!r}, {kinds}")
        if self.num_perm > MAX_PERMUTATIONS:
            raise OptionError("num_perm", f"at most {MAX_PERMUTATIONS}, got {self.num_perm}")
        if not 0.0 < self.threshold < 1.0:
            raise OptionError("threshold", f"must be a Jaccard similarity between 0 and 1 (exclusive), "
                                           f"got {self.threshold}")
        if self.lsh_threshold is not None and not 0.0 < self.lsh_threshold <= self.threshold:
            raise OptionError("lsh_threshold", f"must be above 0 and at most threshold ({self.threshold}): "
                                               f"it picks the LSH bands that find candidates, which are then "
                                               f"verified at threshold; got {self.lsh_threshold}")
        if not 0 <= self.seed < 2**32:
            raise OptionError("seed", f"must be from 0 to 2**32 - 1 (numpy's RandomState), got {self.seed}")

    @property
    def banding_threshold(self) -> float:
        """The Jaccard the LSH bands are chosen for: `lsh_threshold`, by default `lsh_threshold_for`'s
        (the bands then find 99% of the pairs at `threshold`; 0.5 for 0.7 at 320 permutations)."""
        if self.lsh_threshold is not None:
            return self.lsh_threshold
        return lsh_threshold_for(self.threshold, self.num_perm)

    @property
    def bands_rows(self) -> tuple[int, int]:
        """The LSH (bands, rows) that find candidates: datasketch's for `banding_threshold`, `num_perm`."""
        return optimal_bands_rows(self.banding_threshold, self.num_perm)

    @property
    def config_name(self) -> str:
        """A name for the parameters, e.g. `minhash_5a_256p_t0.7_l0.5_1f2e3d4c`, that changes with each.

        The letter is the shingle kind (`a`uto, `w`ords, `c`haracters); the hash covers every
        setting that changes which documents are removed, so outputs of different settings
        never pass for one another.
        """
        bands, rows = self.bands_rows
        settings = {"shingle": self.shingle, "ngram": self.ngram, "num_perm": self.num_perm,
                    "seed": self.seed, "threshold": self.threshold, "lsh_threshold": self.banding_threshold,
                    "bands": bands, "rows": rows,
                    "verification": "pairs-star-path", "bucket_held": BUCKET_HELD,
                    "all_pairs_up_to": ALL_PAIRS_UP_TO,
                    "max_rounds": self.max_rounds, "scheme": "affine32", "shingling": _SHINGLING_VERSION}
        digest = hashlib.blake2b(json.dumps(settings, sort_keys=True).encode(), digest_size=4).hexdigest()
        return (f"minhash_{self.ngram}{self.shingle[0]}_{self.num_perm}p_t{self.threshold:g}"
                f"_l{self.banding_threshold:g}_{digest}")

    def kind_of(self, lang: str) -> str:
        """Return the shingle kind used for documents of `lang`."""
        return shingle_kind(lang) if self.shingle == AUTO else self.shingle

    def expand_stage(self, batches: beam.PCollection, label: str, scratch: str) -> CorpusOutputs:
        folder = join(scratch, label)
        need = agreements_needed(self.threshold, self.num_perm)
        signed = batches | f"{label}_Sign" >> beam.ParDo(_SignBatch(self, folder)).with_outputs(
            NOTES, main="bands")
        first_ends = (
            signed.bands
            | f"{label}_GroupBuckets" >> beam.GroupByKey()
            | f"{label}_BucketCandidates" >> beam.ParDo(_BucketCandidates())
            | f"{label}_GroupByFirstEnd" >> beam.GroupByKey()
            | f"{label}_VerifyInBatch" >> beam.ParDo(_VerifyFirstEnds(folder, need)).with_outputs(
                _OTHER_BATCH, main="edges")
        )
        across = (
            first_ends[_OTHER_BATCH]
            | f"{label}_GroupBySecondEnd" >> beam.GroupByKey()
            | f"{label}_VerifyAcross" >> beam.ParDo(_VerifySecondEnds(folder, need))
        )
        edges = (first_ends.edges, across) | f"{label}_Verified" >> beam.Flatten()
        finished = []
        for index in range(self.max_rounds):
            large = (
                edges
                | f"{label}_LargeStar{index}_Group" >> beam.GroupByKey()
                | f"{label}_LargeStar{index}" >> beam.FlatMapTuple(_large_star).with_outputs(
                    _LABELS, main="edges")
            )
            finished.append(large[_LABELS])
            edges = (
                large.edges
                | f"{label}_SmallStar{index}_Group" >> beam.GroupByKey()
                | f"{label}_SmallStar{index}" >> beam.FlatMapTuple(_small_star, index < self.max_rounds - 1)
            )
        labels = (
            edges
            | f"{label}_Parents_Group" >> beam.GroupByKey()
            | f"{label}_Parents" >> beam.FlatMapTuple(parent_messages)
            | f"{label}_GroupParents" >> beam.GroupByKey()
            | f"{label}_Label" >> beam.MapTuple(_labelled)
        )
        labels = (labels, *finished) | f"{label}_Labels" >> beam.Flatten()
        by_batch = keyed_batches(batches, label, scratch)
        split_fn = _SplitNearDuplicates(self.name, self.config_name)
        split = (
            {BATCHES: by_batch, "labels": labels}
            | f"{label}_Join" >> beam.CoGroupByKey()
            | f"{label}_Split" >> beam.ParDo(split_fn).with_output_types(DocumentBatch).with_outputs(
                REJECTED, NOTES, main="kept")
        )
        notes = (signed[NOTES], split[NOTES]) | f"{label}_Notes" >> beam.Flatten()
        return CorpusOutputs(split.kept, split[REJECTED], notes)


def _signature_path(folder: str, batch_id: str) -> str:
    return join(folder, f"{batch_id}.sig")


class _SignBatch(beam.DoFn):
    """Writes the signatures of the batch's documents with shingles to its signature file
    (`dedup.signature_files`) and yields ((language, band, shard), (batch number, packed
    entries)) per band group of them (`band_entries`), and the `config`/`no_shingles` notes."""

    def __init__(self, stage: MinhashDedup, folder: str) -> None:
        self._stage = stage
        self._folder = folder
        self._bands, self._rows = stage.bands_rows
        self._signed = f"{stage.name}:config:{stage.config_name}"
        self._empty = f"{stage.name}:no_shingles"

    def process(self, batch: list[Document]) -> Iterator[object]:
        stage, tally = self._stage, Tally()
        hashes, numbers, orders, langs = [], [], [], []
        for doc in batch:
            where = (doc.source, doc.dataset, doc.lang, "note")
            found = shingles(doc.text, stage.ngram, stage.kind_of(doc.lang))
            if not found:
                tally.add((*where, self._empty))
                continue
            tally.add((*where, self._signed))
            hashes.append(shingle_hashes(found))
            numbers.append(document_number(doc.id))
            orders.append(doc.order)
            langs.append(doc.lang)
        if hashes:
            rows = signatures(hashes, stage.num_perm, stage.seed)
            numbered = np.array(numbers, dtype=np.int64)
            write_signatures(_signature_path(self._folder, batch[0].id), numbered, orders, rows)
            banded = band_hashes(rows, self._bands, self._rows)
            batch_number = document_number(batch[0].id)
            for lang in sorted(set(langs)):
                mine = np.array([own == lang for own in langs])
                for (band, shard), packed in band_entries(banded[mine], numbered[mine], stage.band_shards):
                    yield (lang, band, shard), (batch_number, packed)
        for entry in tally.items():
            yield beam.pvalue.TaggedOutput(NOTES, entry)


class _BucketCandidates(beam.DoFn):
    """Yields (batch number, packed `_CANDIDATE` records) for the candidate edges of (language,
    band, shard) groups' buckets (`bucket_pairs`), one item per batch of the edges' first ends.

    The groups a bundle brings are gathered up to `_GATHERED` entries and their buckets found in
    one pass, told apart by group: a group of a small corpus holds a few dozen entries, where
    finding buckets group by group cost more in numpy's per-call overhead than in the work."""

    def start_bundle(self) -> None:
        self._parts: list[list[tuple[int, bytes]]] = []
        self._entries = 0

    def process(self, element: tuple[object, Iterable[tuple[int, bytes]]]) -> Iterator[tuple[int, bytes]]:
        parts = list(element[1])
        self._parts.append(parts)
        self._entries += sum(len(packed) for _, packed in parts) // ENTRY.itemsize
        if self._entries >= _GATHERED:
            yield from self._candidates()

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for item in self._candidates():
            yield GlobalWindows.windowed_value(item)

    def _candidates(self) -> Iterator[tuple[int, bytes]]:
        groups, self._parts, self._entries = self._parts, [], 0
        parts = [part for group in groups for part in group]
        if not parts:
            return
        sizes = [len(packed) // ENTRY.itemsize for _, packed in parts]
        entries = np.frombuffer(b"".join(packed for _, packed in parts), dtype=ENTRY)
        batch_of = np.repeat(np.array([batch for batch, _ in parts], dtype=np.int64), sizes)
        group_of = np.repeat(np.arange(len(groups), dtype=np.int64),
                             [sum(len(packed) for _, packed in group) // ENTRY.itemsize for group in groups])
        del parts, groups
        first, second = bucket_pairs(entries["hash"], entries["number"], groups=group_of)
        if not len(first):
            return
        records = np.empty(len(first), dtype=_CANDIDATE)
        records["first"] = entries["number"][first]
        records["second"] = entries["number"][second]
        records["second_batch"] = batch_of[second]
        yield from _split_by(batch_of[first], records)


def _split_by(keys: np.ndarray, records: np.ndarray) -> Iterator[tuple[int, bytes]]:
    """Yield (key, packed records) for each distinct key, the records in their order within it."""
    if not len(keys):
        return
    order = np.argsort(keys, kind="stable")
    keys, records = keys[order], records[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    for start, end in zip(starts.tolist(), [*starts[1:].tolist(), len(keys)], strict=True):
        yield int(keys[start]), records[start:end].tobytes()


def _distinct(parts: Iterable[bytes]) -> np.ndarray:
    """Return the distinct `_CANDIDATE` records of packed parts, sorted by (first, second) end.

    The bands repeat an edge up to once each; compacted whenever the parts read since the last
    compaction outnumber the distinct edges kept, the records held are at most about twice the
    distinct ones, plus one part."""
    kept = np.zeros(0, dtype=_CANDIDATE)
    pending: list[np.ndarray] = []
    waiting = 0
    for packed in parts:
        pending.append(np.frombuffer(packed, dtype=_CANDIDATE))
        waiting += len(pending[-1])
        if waiting > max(len(kept), 1 << 16):
            kept, pending, waiting = _compacted([kept, *pending]), [], 0
    return _compacted([kept, *pending])


def _compacted(arrays: list[np.ndarray]) -> np.ndarray:
    """Return the distinct records of `arrays`, sorted by (first, second) end."""
    records = np.concatenate(arrays)
    if not len(records):
        return records
    records = records[np.lexsort((records["second"], records["first"]))]
    first, second = records["first"], records["second"]
    repeated = (first[1:] == first[:-1]) & (second[1:] == second[:-1])
    return records[np.concatenate(([True], ~repeated))]


def _close(first: np.ndarray, second: np.ndarray, need: int) -> np.ndarray:
    """Return, for rows of signatures compared pairwise, whether they agree in at least `need`
    values (`agreements_needed`: the estimated Jaccard reaches the threshold); a block at a time."""
    close = np.zeros(len(first), dtype=bool)
    for low in range(0, len(first), _COMPARED):
        high = low + _COMPARED
        close[low:high] = np.count_nonzero(first[low:high] == second[low:high], axis=1) >= need
    return close


def _both_ways(first: Node, second: Node) -> Iterator[tuple[Node, Node]]:
    yield first, second
    yield second, first


class _VerifyFirstEnds(beam.DoFn):
    """For the candidate edges whose first end is in one batch: verifies those whose second end
    is in the batch too, yielding the close ones as (node, neighbour) both ways, and passes the
    others on to their second end's batch with the first ends' signatures (`_OTHER_BATCH`)."""

    def __init__(self, folder: str, need: int) -> None:
        self._folder = folder
        self._need = need

    def process(self, element: tuple[int, Iterable[bytes]]) -> Iterator[object]:
        batch_number, parts = element
        records = _distinct(parts)
        batch_id = document_id(batch_number)
        held = read_signatures(_signature_path(self._folder, batch_id), batch_id)
        firsts = held.positions(records["first"])
        inside = records["second_batch"] == batch_number
        seconds = held.positions(records["second"][inside])
        yield from _verified(held, firsts[inside], held, seconds, self._need)
        outside, firsts = records[~inside], firsts[~inside]
        for other, packed in _split_by(outside["second_batch"], np.arange(len(outside), dtype=np.int64)):
            chosen = np.frombuffer(packed, dtype=np.int64)
            rows, index = np.unique(firsts[chosen], return_inverse=True)
            pairs = np.empty(len(chosen), dtype=_PAIR)
            pairs["first"] = index
            pairs["second"] = outside["second"][chosen]
            yield beam.pvalue.TaggedOutput(_OTHER_BATCH, (other, (
                batch_number, held.numbers[rows].tobytes(), held.orders[rows].tobytes(),
                held.rows[rows].tobytes(), pairs.tobytes())))


class _VerifySecondEnds(beam.DoFn):
    """For the candidate edges whose second end is in one batch (and first end in another):
    yields the close ones as (node, neighbour) both ways."""

    def __init__(self, folder: str, need: int) -> None:
        self._folder = folder
        self._need = need

    def process(self, element: tuple[int, Iterable[tuple]]) -> Iterator[tuple[Node, Node]]:
        batch_number, sent = element
        batch_id = document_id(batch_number)
        held = read_signatures(_signature_path(self._folder, batch_id), batch_id)
        for first_batch, numbers, orders, rows, packed in sent:
            first_id = document_id(first_batch)
            firsts = BatchSignatures(first_id, np.frombuffer(numbers, dtype=np.int64),
                                     np.frombuffer(orders, dtype=held.orders.dtype),
                                     np.frombuffer(rows, dtype=np.uint32).reshape(-1, held.rows.shape[1]))
            pairs = np.frombuffer(packed, dtype=_PAIR)
            yield from _verified(firsts, pairs["first"], held, held.positions(pairs["second"]), self._need)


def _verified(first: BatchSignatures, first_rows: np.ndarray, second: BatchSignatures,
              second_rows: np.ndarray, need: int) -> Iterator[tuple[Node, Node]]:
    """Yield (node, neighbour) both ways for each pair of rows whose signatures are close."""
    close = _close(first.rows[first_rows], second.rows[second_rows], need)
    for one, other in zip(first.nodes(first_rows[close]), second.nodes(second_rows[close]), strict=True):
        yield from _both_ways(one, other)


def _large_star(node: Node, values: Iterable[Node | tuple[Node]]) -> Iterator[object]:
    """One node's large-star step (`large_star`), its edges yielded both ways; a `finished_star`
    instead yields its members' labels (`_LABELS`). `values` are the node's neighbours and, as
    1-tuples, those of them that the small-star step before found to be its leaves."""
    neighbours, leaves = set(), set()
    for value in values:
        if isinstance(value, tuple):
            leaves.add(value[0])
        else:
            neighbours.add(value)
    if finished_star(node, neighbours, leaves):
        survivor, _ = node_ids(node)
        for member in (node, *neighbours):
            doc_id, batch_id = node_ids(member)
            yield beam.pvalue.TaggedOutput(_LABELS, (batch_id, (doc_id, survivor, True)))
        return
    for neighbour, smallest in large_star(node, neighbours):
        yield from _both_ways(neighbour, smallest)


def _small_star(node: Node, neighbours: Iterable[Node], mark: bool = True) -> Iterator[tuple[Node, object]]:
    """One node's small-star step (`small_star`), its edges yielded both ways, and when `mark`,
    (neighbour, (node,)) if the node is a leaf of that neighbour (`leaf_of`).

    `mark` is always passed; Beam's `FlatMapTuple` only accepts extra arguments with defaults."""
    distinct = set(neighbours)
    for member, smallest in small_star(node, distinct):
        yield from _both_ways(member, smallest)
    leaf = leaf_of(node, distinct) if mark else None
    if leaf is not None:
        yield leaf, (node,)


def _labelled(node: Node, parents: Iterable[Node]) -> tuple[str, tuple[str, str, bool]]:
    """Return (batch id, (document id, survivor id, converged)) for a node of a cluster."""
    label, converged = final_label(parents)
    doc_id, batch_id = node_ids(node)
    return batch_id, (doc_id, node_ids(label)[0], converged)


class _SplitNearDuplicates(beam.DoFn):
    """Splits each batch into kept documents (main output) and near-duplicates (`rejected`)."""

    def __init__(self, stage: str, config_name: str) -> None:
        self._reason = f"{stage}:duplicate"
        self._clusters = f"{stage}:clusters"
        self._unconverged = f"{stage}:unconverged"
        self._config_name = config_name

    def process(self, joined: tuple[str, dict[str, list]]) -> Iterator[object]:
        _, parts = joined
        labels = {doc_id: (survivor, converged) for doc_id, survivor, converged in parts["labels"]}
        tally = Tally()
        for batch in unpacked(parts[BATCHES]):
            kept, rejected = [], []
            for doc in batch:
                found = labels.get(doc.id)
                if found is None:
                    kept.append(doc)
                    continue
                survivor, converged = found
                where = (doc.source, doc.dataset, doc.lang, "note")
                if not converged:
                    tally.add((*where, self._unconverged))
                if survivor == doc.id:
                    tally.add((*where, self._clusters))
                    kept.append(doc)
                    continue
                doc.reasons.append(self._reason)
                doc.meta.update(duplicate_of=survivor, cluster=survivor, minhash=self._config_name)
                rejected.append(doc)
            if kept:
                yield kept
            if rejected:
                yield beam.pvalue.TaggedOutput(REJECTED, rejected)
        for entry in tally.items():
            yield beam.pvalue.TaggedOutput(NOTES, entry)
