"""`minhash_dedup`: MinHash-LSH near-duplicate removal, one survivor per cluster, per language.

ROOTS removed near-duplicates with SimHash; this stage uses MinHash with LSH banding, the method
of most later corpora (datatrove, text-dedup, NeMo-Curator, RedPajama). The steps, each a Beam
step, none holding a dataset:

1. **Sign** (per batch): shingles (`dedup.minhash.shingles`: lowercased, punctuation dropped;
   word n-grams, or character n-grams for languages written without spaces), datasketch-compatible
   signatures of `num_perm` values, and one key per LSH band, the (bands, rows) datasketch's
   `MinHashLSH` picks for `lsh_threshold` (by default the highest step of 0.05 below `threshold`
   whose bands find 99% of the pairs at `threshold`), each with the node only, and the node's
   signature once. Keys are (language, band): documents of different languages are never
   compared; documents of one language are, across datasets and sources. Documents without any
   shingle (empty, or only punctuation) pass untouched.
2. **Candidates** (`GroupByKey` on band keys, node ids only): each bucket gives candidate edges
   (`dedup.minhash.bucket_candidates`): every pair in a bucket of at most `ALL_PAIRS_UP_TO` (8)
   members, else a star around its smallest member and a path through its members in id order,
   so a near-copy meets the smallest member and its neighbours in id order, never all pairs of a
   big bucket. `Distinct` merges the edges the bands repeat.
3. **Verification**: two joins by node (`CoGroupByKey` with the signatures): each edge keyed by
   its smaller end takes that end's signature, is keyed by its larger end and compared with its
   signature there; it stays if the signatures estimate a Jaccard similarity of at least
   `threshold` (`agreements_needed` equal values). The bands are chosen for `lsh_threshold` <
   `threshold` so that pairs at the threshold are candidates almost surely (0.999 of the pairs of
   Jaccard 0.7 at the defaults, where datasketch's bands for 0.7 at 128 permutations find 0.44 of
   them); verification removes the false candidates that lets in (datasketch's LSH does not
   verify). `dedup/minhash.py` has the measurements.
4. **Components**: `max_rounds` rounds of Kiveris et al.'s large-star and small-star steps, each a
   `GroupByKey` by node; the graph cannot tell Beam when it is done, so the rounds are a fixed
   number. A last pair of steps gives every node its label, the smallest document id of its
   cluster, and checks that the rounds sufficed: each node whose neighbours disagree is counted in
   the `minhash_dedup:unconverged` note (it then takes the smallest label it saw: a document of
   its own cluster, possibly not the survivor). Ten rounds contract a chain of about a thousand
   near-copies, and random graphs of any size seen in testing (5 rounds at 10,000 nodes).
5. **Join**: labels joined to their batches by batch id (as `dedup_document` does), so batches
   keep their documents and order. In every cluster the document with the smallest id survives,
   the same on every runner; the others are rejected as `minhash_dedup:duplicate` (a duplicate in
   the ledger) with `meta["duplicate_of"]` = `meta["cluster"]` = the survivor's id and
   `meta["minhash"]` = `config_name`.

Notes: `minhash_dedup:config:<config_name>` (documents signed under that configuration, which
names the parameters in every run's stats), `minhash_dedup:no_shingles` (documents passed without
a signature), `minhash_dedup:clusters` (clusters of two or more documents, counted where their
survivor is) and `minhash_dedup:unconverged`.

Memory per worker: one batch's 4-byte shingle hashes, one document's shingles and a block of
num_perm x 4,096 hash products (5 MiB at 320) while signing; in a bucket, its `BUCKET_HELD`
(1,024) smallest node ids (about 100 bytes each) whatever the bucket's size (a bigger one is read
again for the rest, each given one star edge); at the first join, one node's signature and the
other ends of its edges (node ids: a giant bucket's smallest member holds every member's); at the
second, one node's signature and those of its candidates' smaller ends, at most bands x
(`ALL_PAIRS_UP_TO` - 1) signatures (480 KB at the defaults; under 2 per band, 140 KB, outside
small buckets); one node's distinct neighbours per round, which for a cluster's smallest node is
the whole cluster, about 150 bytes per member; one batch with its documents' labels at the join. A
giant bucket (thousands of boilerplate pages) costs fewer than two candidate edges per member,
never all pairs.

Shuffle: band keys carry node ids only, bands x (4 x rows + 2 + the node) bytes, about 3.1 KB
per document at the defaults' 53 x 6; the signature (4 x num_perm bytes and the node, 1.3 KB at
320) twice, once per join; and per distinct candidate edge about 1.4 KB (the smaller end's
signature, at the second join) plus the edge's node ids before `Distinct`. Measured with Beam's
coder on `bench/near_dup.py` (half its documents with near-copies): 7.7 KB per document (3.1 KB
keys, 2.6 KB signatures, 1.3 KB edges with signatures, 0.7 KB candidates), where carrying the
signature in every band took 71 KB.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import apache_beam as beam

from roots_pipeline.dedup.minhash import (
    ALL_PAIRS_UP_TO,
    BUCKET_HELD,
    SHINGLE_KINDS,
    agreements_needed,
    band_keys,
    both_ways,
    bucket_candidates,
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
from roots_pipeline.document_coder import DocumentBatch
from roots_pipeline.errors import OptionError, require_positive
from roots_pipeline.ledger import Tally
from roots_pipeline.stages.apply import NOTES, REJECTED
from roots_pipeline.stages.base import CorpusOutputs, CorpusStage

Node = tuple[str, str]  # (document id, id of its batch's first document): sorts by document id
AUTO = "auto"
MAX_PERMUTATIONS = 1024  # 4 KiB per signature; choosing (bands, rows) for 1024 already takes 1.6 s
SIGNATURES = "signatures"
# Version of the shingling (normalisation, joining): part of `config_name`, bumped when it changes.
_SHINGLING_VERSION = 1


@dataclass(frozen=True)
class MinhashDedup(CorpusStage):
    """Remove near-duplicates: documents of one language whose shingle sets' Jaccard similarity
    (estimated by MinHash-LSH) reaches `threshold`, transitively; see the module docstring.

    Defaults: word 5-grams (`shingle: auto` switches to character 5-grams for zh, yue, ja, th, lo,
    km, my), 320 permutations, seed 1, candidates from the LSH bands for `lsh_threshold` (by
    default `dedup.minhash.lsh_threshold_for`: 0.5, 53 bands of 6 rows, for 0.7), verified at
    `threshold` 0.7, 10 rounds of components. Measured on
    `bench/near_dup.py` (see `dedup/minhash.py`): pairwise F1 0.980 against exact-Jaccard truth
    (0.979 on average over 8 MinHash seeds, none below 0.958), where datasketch's 128
    permutations and bands for 0.7 without verification give 0.913; fewer permutations estimate
    too coarsely near the threshold (256: 0.964 on average, down to 0.924).
    """

    name = "minhash_dedup"
    ngram: int = 5
    shingle: str = AUTO
    num_perm: int = 320
    threshold: float = 0.7
    lsh_threshold: float | None = None
    seed: int = 1
    max_rounds: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "ngram", "num_perm", "max_rounds")
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

    def expand_stage(self, batches: beam.PCollection, label: str) -> CorpusOutputs:
        signed = batches | f"{label}_Sign" >> beam.ParDo(_SignBatch(self)).with_outputs(
            NOTES, SIGNATURES, main="bands")
        candidates = (
            signed.bands
            | f"{label}_GroupBuckets" >> beam.GroupByKey()
            | f"{label}_BucketCandidates" >> beam.FlatMap(_bucket_candidates)
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
        by_batch = batches | f"{label}_ByBatch" >> beam.FlatMap(_keyed_batch)
        split_fn = _SplitNearDuplicates(self.name, self.config_name)
        split = (
            {"batches": by_batch, "labels": labels}
            | f"{label}_Join" >> beam.CoGroupByKey()
            | f"{label}_Split" >> beam.ParDo(split_fn).with_output_types(DocumentBatch).with_outputs(
                REJECTED, NOTES, main="kept")
        )
        notes = (signed[NOTES], split[NOTES]) | f"{label}_Notes" >> beam.Flatten()
        return CorpusOutputs(split.kept, split[REJECTED], notes)


class _SignBatch(beam.DoFn):
    """Yields ((language, band key), node) per band of each document with shingles, (node,
    signature bytes) once per document (`signatures`), and the `config`/`no_shingles` notes."""

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
            nodes.append((doc.id, batch[0].id))
            langs.append(doc.lang)
        rows = signatures(hashes, stage.num_perm, stage.seed)
        for node, lang, row, keys in zip(nodes, langs, rows, band_keys(rows, self._bands, self._rows),
                                         strict=True):
            yield beam.pvalue.TaggedOutput(SIGNATURES, (node, row.tobytes()))
            for key in keys:
                yield (lang, key), node
        for entry in tally.items():
            yield beam.pvalue.TaggedOutput(NOTES, entry)


def _bucket_candidates(bucket: tuple[object, Iterable[Node]]) -> Iterator[tuple[Node, Node]]:
    """Return the candidate edges, (smaller, larger node), of one (band key, members) bucket."""
    return bucket_candidates(bucket[1])


def _verified(candidates: beam.PCollection, signed: beam.PCollection, need: int,
              label: str) -> beam.PCollection:
    """Keep the candidate edges whose ends' signatures agree in at least `need` values.

    Two joins by node: the edges keyed by their smaller end take its signature and are keyed by
    their larger end, where they meet its signature and are compared.
    """
    halves = (
        {SIGNATURES: signed, "edges": candidates}
        | f"{label}_JoinSmaller" >> beam.CoGroupByKey()
        | f"{label}_AttachSmaller" >> beam.FlatMapTuple(_attach_smaller)
    )
    return (
        {SIGNATURES: signed, "edges": halves}
        | f"{label}_JoinLarger" >> beam.CoGroupByKey()
        | f"{label}_Compare" >> beam.FlatMapTuple(_compared, need)
    )


def _attach_smaller(node: Node, joined: dict[str, Iterable]) -> Iterator[tuple[Node, tuple[Node, bytes]]]:
    """Yield (larger end, (node, node's signature)) for each candidate edge whose smaller end is `node`."""
    for signature in joined[SIGNATURES]:
        for larger in joined["edges"]:
            yield larger, (node, signature)


def _compared(node: Node, joined: dict[str, Iterable], need: int = 0) -> Iterator[tuple[Node, Node]]:
    """Yield (smaller end, node) for each candidate edge ending at `node` whose signatures are close.

    `need` is always passed; Beam's `FlatMapTuple` only accepts extra arguments with defaults."""
    for signature in joined[SIGNATURES]:
        for smaller, other in joined["edges"]:
            if close_enough(other, signature, need):
                yield smaller, node


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
    (label, _), converged = final_label(parents)
    doc_id, batch_id = node
    return batch_id, (doc_id, label, converged)


def _keyed_batch(batch: list[Document]) -> Iterator[tuple[str, list[Document]]]:
    if batch:
        yield batch[0].id, batch


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
        for batch in parts["batches"]:
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
