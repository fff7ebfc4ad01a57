"""`minhash_dedup`: MinHash-LSH near-duplicate removal, one survivor per cluster, per language.

ROOTS removed near-duplicates with SimHash; this stage uses MinHash with LSH banding, the method
of most later corpora (datatrove, text-dedup, NeMo-Curator, RedPajama). The steps, each a Beam
step, none holding a dataset:

1. **Sign** (per batch): shingles (`dedup.minhash.shingles`: lowercased, punctuation dropped;
   word n-grams, or character n-grams for languages written without spaces), datasketch-compatible
   signatures of `num_perm` values, and per LSH band a 64-bit hash of the band's values
   (`band_hashes`), the (bands, rows) datasketch's `MinHashLSH` picks for `lsh_threshold` (by
   default the highest step of 0.05 below `threshold` whose bands find 99% of the pairs at
   `threshold`). A band's (hash, document number) entries are packed, 16 bytes each, into one
   bytes value per (language, band, shard) and batch (`band_entries`; `band_shards` groups per
   band, by hash); the signature goes once per document, keyed by its document number (the id's
   16 hex digits as an int64, so numbers sort as ids). Documents of different languages are never
   compared; documents of one language are, across datasets and sources. Documents without any
   shingle (empty, or only punctuation) pass untouched.
2. **Candidates** (`GroupByKey` by (language, band, shard)): sorting a group's entries by hash
   finds its buckets (`bucket_edges`), and each bucket gives candidate edges
   (`dedup.minhash.bucket_candidates`): every pair in a bucket of at most `ALL_PAIRS_UP_TO` (8)
   members, else a star around its smallest member and a path through its members in id order,
   so a near-copy meets the smallest member and its neighbours in id order, never all pairs of a
   big bucket. `Distinct` merges the edges the bands repeat.
3. **Verification**: one join by document number (`CoGroupByKey` of the signatures with the
   edges, keyed by each end) gives each edge its two ends' nodes and signatures, and a
   `GroupByKey` by edge compares them: the edge stays if they estimate a Jaccard similarity of
   at least `threshold` (`agreements_needed` equal values). The bands are chosen for
   `lsh_threshold` < `threshold` so that pairs at the threshold are candidates almost surely
   (0.999 of the pairs of Jaccard 0.7 at the defaults, where datasketch's bands for 0.7 at 128
   permutations find 0.44 of them); verification removes the false candidates that lets in
   (datasketch's LSH does not verify). `dedup/minhash.py` has the measurements.
4. **Components**: `max_rounds` rounds of Kiveris et al.'s large-star and small-star steps, each a
   `GroupByKey` by node; the graph cannot tell Beam when it is done, so the rounds are a fixed
   number. A last pair of steps gives every node its label, the smallest node of its cluster
   (nodes sort by reading order, `Document.order`), and checks that the rounds sufficed: each
   node whose neighbours disagree is counted in the `minhash_dedup:unconverged` note (it then
   takes the smallest label it saw: a document of its own cluster, possibly not the survivor).
   Ten rounds contract a chain of about a thousand near-copies, and random graphs of any size
   seen in testing (5 rounds at 10,000 nodes).
5. **Join**: labels joined to their batches by batch id (as `dedup_document` does), so batches
   keep their documents and order. In every cluster the first document in reading order
   survives, the same on every runner; the others are rejected as `minhash_dedup:duplicate` (a
   duplicate in the ledger) with `meta["duplicate_of"]` = `meta["cluster"]` = the survivor's id and
   `meta["minhash"]` = `config_name`.

Notes: `minhash_dedup:config:<config_name>` (documents signed under that configuration, which
names the parameters in every run's stats), `minhash_dedup:no_shingles` (documents passed without
a signature), `minhash_dedup:clusters` (clusters of two or more documents, counted where their
survivor is) and `minhash_dedup:unconverged`.

Memory per worker: one batch's 4-byte shingle hashes, one document's shingles and a block of
num_perm x 4,096 hash products (5 MiB at 320) while signing; for candidates, one (language, band,
shard) group: 16 bytes per document of the language / `band_shards`, about 2.5 times that while
sorted (`bucket_edges`; 160 MB for 16 million documents of a language at the default 4 shards:
raise `band_shards` for bigger languages), and a bucket's `BUCKET_HELD` (1,024) smallest members
whatever its size; at the join, one document's signature and its candidate edges (a giant bucket's
smallest member has an edge to each member), then one edge's two signatures; one node's distinct
neighbours per round, which for a cluster's smallest node is the whole cluster, about 150 bytes per
member; one batch with its documents' labels at the join. A giant bucket (thousands of boilerplate
pages) costs fewer than two candidate edges per member, never all pairs.

Shuffle: the band entries, bands x 16 bytes, 0.85 KB per document at the defaults' 53 x 6; the
signature once (4 x num_perm bytes, the node and number, 1.3 KB at 320); per distinct candidate
edge its two ends' signatures (2.6 KB) and its numbers: 4.8 KB per document on `bench/near_dup.py`
(figures in `bench/README.md`). On the DirectRunner, which holds a shuffle in its own process
until it is read, this is what the driver holds per document.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import apache_beam as beam
import numpy as np

from roots_pipeline.dedup.minhash import (
    ALL_PAIRS_UP_TO,
    BUCKET_HELD,
    ENTRY,
    SHINGLE_KINDS,
    agreements_needed,
    band_entries,
    band_hashes,
    both_ways,
    bucket_edges,
    close_enough,
    final_label,
    large_star,
    lsh_threshold_for,
    optimal_bands_rows,
    parent_messages,
    shingle_hashes,
    shingle_kind,
    shingles,
    signatures,
    small_star,
)
from roots_pipeline.document import Document
from roots_pipeline.errors import OptionError, require_positive
from roots_pipeline.ledger import Tally
from roots_pipeline.options import option
from roots_pipeline.stages.apply import NOTES, REJECTED
from roots_pipeline.stages.base import CorpusOutputs, CorpusStage, register
from roots_pipeline.stages.batch_join import BATCHES, keyed_batches, unpacked
from roots_pipeline.worker.coder import DocumentBatch

Node = tuple[int, str, str]  # (reading order, document id, id of its batch's first document)
Candidate = tuple[int, int]  # a candidate edge: (smaller, larger document number, `_node_number`)
AUTO = "auto"
MAX_PERMUTATIONS = 1024  # 4 KiB per signature; choosing (bands, rows) for 1024 already takes 1.6 s
SIGNATURES = "signatures"
# Version of the shingling (normalisation, joining): part of `config_name`, bumped when it changes.
_SHINGLING_VERSION = 1


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
        signed = batches | f"{label}_Sign" >> beam.ParDo(_SignBatch(self)).with_outputs(
            NOTES, SIGNATURES, main="bands")
        candidates = (
            signed.bands
            | f"{label}_GroupBuckets" >> beam.GroupByKey()
            | f"{label}_BucketCandidates" >> beam.FlatMapTuple(_bucket_candidates)
            | f"{label}_DistinctCandidates" >> beam.Distinct()
        )
        edges = _verified(candidates, signed[SIGNATURES], agreements_needed(self.threshold, self.num_perm),
                          f"{label}_Verify")
        for index in range(self.max_rounds):
            edges = _star_step(edges, large_star, f"{label}_LargeStar{index}")
            edges = _star_step(edges, small_star, f"{label}_SmallStar{index}")
        labels = (
            _star_step(edges, parent_messages, f"{label}_Parents")
            | f"{label}_GroupParents" >> beam.GroupByKey()
            | f"{label}_Label" >> beam.MapTuple(_labelled)
        )
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


class _SignBatch(beam.DoFn):
    """Yields ((language, band, shard), packed entries) per band group of the batch's documents
    with shingles (`band_entries`), (document number, (node, signature bytes)) once per document
    (`signatures`), and the `config`/`no_shingles` notes."""

    def __init__(self, stage: MinhashDedup) -> None:
        self._stage = stage
        self._bands, self._rows = stage.bands_rows
        self._signed = f"{stage.name}:config:{stage.config_name}"
        self._empty = f"{stage.name}:no_shingles"

    def process(self, batch: list[Document]) -> Iterator[object]:
        stage, tally = self._stage, Tally()
        hashes, nodes, langs = [], [], []
        for doc in batch:
            where = (doc.source, doc.dataset, doc.lang, "note")
            found = shingles(doc.text, stage.ngram, stage.kind_of(doc.lang))
            if not found:
                tally.add((*where, self._empty))
                continue
            tally.add((*where, self._signed))
            hashes.append(shingle_hashes(found))
            nodes.append((doc.order, doc.id, batch[0].id))
            langs.append(doc.lang)
        rows = signatures(hashes, stage.num_perm, stage.seed)
        numbers = np.array([_node_number(node) for node in nodes], dtype=np.int64)
        for node, number, row in zip(nodes, numbers.tolist(), rows, strict=True):
            yield beam.pvalue.TaggedOutput(SIGNATURES, (number, (node, row.tobytes())))
        banded = band_hashes(rows, self._bands, self._rows)
        for lang in sorted(set(langs)):
            mine = np.array([own == lang for own in langs])
            for (band, shard), packed in band_entries(banded[mine], numbers[mine], stage.band_shards):
                yield (lang, band, shard), packed
        for entry in tally.items():
            yield beam.pvalue.TaggedOutput(NOTES, entry)


def _node_number(node: Node) -> int:
    """Return the document id of a node as a signed 64-bit number that sorts as the ids do.

    Ids are 16 lowercase hex digits (`document.document_id`); shifted into int64's range, the
    numbers take Beam's 10-byte varint encoding, where half of the unsigned values would be
    pickled."""
    doc_id = node[1]
    assert len(doc_id) == 16 and doc_id == doc_id.lower(), doc_id
    return int(doc_id, 16) - 2**63


def _bucket_candidates(_key: object, packed: Iterable[bytes]) -> Iterator[Candidate]:
    """Return the candidate edges of one (language, band, shard) group's buckets."""
    return bucket_edges(np.frombuffer(b"".join(packed), dtype=ENTRY))


def _verified(candidates: beam.PCollection, signed: beam.PCollection, need: int,
              label: str) -> beam.PCollection:
    """Keep the candidate edges whose ends' signatures agree in at least `need` values, as node edges.

    One join by document number gives each edge, keyed by each of its ends, that end's node and
    signature; grouped by edge, the two halves are compared. Signatures are shuffled once per
    document and twice per candidate edge.
    """
    return (
        {SIGNATURES: signed, "edges": candidates | f"{label}_ByBothEnds" >> beam.FlatMap(_by_both_ends)}
        | f"{label}_JoinSignatures" >> beam.CoGroupByKey()
        | f"{label}_Halves" >> beam.FlatMapTuple(_edge_halves)
        | f"{label}_GroupHalves" >> beam.GroupByKey()
        | f"{label}_Compare" >> beam.FlatMapTuple(_compared, need)
    )


def _by_both_ends(edge: Candidate) -> Iterator[tuple[int, Candidate]]:
    """Yield the edge keyed by each of its ends, to meet both ends' signatures."""
    yield edge[0], edge
    yield edge[1], edge


def _edge_halves(number: int, joined: dict[str, Iterable]) -> Iterator[tuple[Candidate, tuple[Node, bytes]]]:
    """Yield (edge, (node, signature)) for each candidate edge with an end at document `number`."""
    for node, signature in joined[SIGNATURES]:
        for edge in joined["edges"]:
            yield edge, (node, signature)


def _compared(edge: Candidate, halves: Iterable[tuple[Node, bytes]],
              need: int = 0) -> Iterator[tuple[Node, Node]]:
    """Yield (smaller node, larger node) when the edge's two ends' signatures are close.

    `need` is always passed; Beam's `FlatMapTuple` only accepts extra arguments with defaults."""
    for (left, first), (right, second) in itertools.combinations(sorted(halves), 2):
        if left != right and close_enough(first, second, need):
            yield left, right


def _star_step(edges: beam.PCollection, step: Callable[[Node, Iterable[Node]], Iterator[tuple[Node, Node]]],
               label: str) -> beam.PCollection:
    """Group edges by node (both ends) and apply one node-local step of the components."""
    return (
        edges
        | f"{label}_BothWays" >> beam.FlatMap(both_ways)
        | f"{label}_Group" >> beam.GroupByKey()
        | f"{label}_Step" >> beam.FlatMapTuple(step)
    )


def _labelled(node: Node, parents: Iterable[Node]) -> tuple[str, tuple[str, str, bool]]:
    """Return (batch id, (document id, survivor id, converged)) for a node of a cluster."""
    (_, label, _), converged = final_label(parents)
    _, doc_id, batch_id = node
    return batch_id, (doc_id, label, converged)


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
