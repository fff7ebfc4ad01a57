"""MinHash near-duplicate dedup: datasketch-identical signatures and LSH parameters, shingles,
candidate edges of buckets and their verification, components against union-find, and the
`minhash_dedup` stage in Beam on near-copies of demo texts (in process and with two worker processes)."""

from __future__ import annotations

import collections
import glob
import gzip
import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

import apache_beam as beam
import datasketch
import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from hypothesis import given, settings
from hypothesis import strategies as st

from roots_pipeline.dedup.minhash import (
    ALL_PAIRS_UP_TO,
    CANDIDATE_RECALL,
    CHARACTERS,
    ENTRY,
    WORDS,
    agreements_needed,
    band_entries,
    band_hashes,
    bucket_candidates,
    bucket_edges,
    bucket_pairs,
    candidate_probability,
    components_finishing_stars,
    components_in_memory,
    estimated_jaccard,
    lsh_threshold_for,
    optimal_bands_rows,
    shingle_hashes,
    shingle_kind,
    shingles,
    signatures,
    verified_edges,
)
from roots_pipeline.dedup.signature_files import (
    document_number,
    node_ids,
    read_signatures,
    write_signatures,
)
from roots_pipeline.document import Document
from roots_pipeline.errors import OptionError
from roots_pipeline.stages.near_dedup import MinhashDedup
from roots_pipeline.worker.coder import DocumentBatch
from tests.conftest import DEMO


def oscar_texts(lang: str) -> list[str]:
    with gzip.open(DEMO / "oscar" / f"{lang}_part_1.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines]


EN = oscar_texts("en")
ZH = oscar_texts("zh")


# --- signatures and LSH parameters ----------------------------------------------------------------

@pytest.mark.parametrize("num_perm", [128, 256, 320])
@pytest.mark.parametrize("seed", [1, 42])
def test_signatures_equal_datasketch_minhash(num_perm, seed):
    # Several documents of both kinds, one long enough to span blocks of the vectorised product.
    texts = [(EN[i], WORDS) for i in (0, 5, 21, 40)] + [(ZH[i], CHARACTERS) for i in (0, 20)]
    texts += [(" ".join(EN[:30]), WORDS), ("Too short", WORDS)]
    found = [shingles(text, 5, kind) for text, kind in texts]
    assert sum(map(len, found)) > 5000 and len(found[-1]) == 1
    ours = signatures([shingle_hashes(s) for s in found], num_perm, seed)
    for row, shingle_list in zip(ours, found, strict=True):
        reference = datasketch.MinHash(num_perm=num_perm, seed=seed)
        reference.update_batch(shingle_list)
        np.testing.assert_array_equal(row, reference.hashvalues)
        assert row.dtype == reference.hashvalues.dtype


def test_shingle_hashes_are_datasketch_sha1_hash32():
    found = shingles(EN[3], 5, WORDS)
    assert shingle_hashes(found).tolist() == [datasketch.hashfunc.sha1_hash32(s) for s in found]


@pytest.mark.parametrize("num_perm", [64, 128, 256, 320])
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7, 0.75, 0.8, 0.9, 0.95])
def test_bands_and_rows_equal_datasketch_lsh(threshold, num_perm):
    lsh = datasketch.MinHashLSH(threshold=threshold, num_perm=num_perm)
    assert optimal_bands_rows(threshold, num_perm) == (lsh.b, lsh.r)


@pytest.mark.parametrize("num_perm", [128, 320])
@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9])
def test_bands_for_the_lsh_threshold_find_99_percent_of_the_pairs_at_the_threshold(threshold, num_perm):
    found = lsh_threshold_for(threshold, num_perm)
    assert 0.0 < found <= threshold
    assert candidate_probability(threshold, *optimal_bands_rows(found, num_perm)) >= CANDIDATE_RECALL
    if found < threshold:  # the step above finds fewer
        above = optimal_bands_rows(round(found + 0.05, 6), num_perm)
        assert candidate_probability(threshold, *above) < CANDIDATE_RECALL
    # datasketch's own bands for 0.7 at 128 permutations find 0.44 of them.
    assert candidate_probability(0.7, *optimal_bands_rows(0.7, 128)) == pytest.approx(0.438, abs=1e-3)


def test_band_hashes_are_equal_exactly_when_a_band_of_signature_values_is():
    sig = signatures([shingle_hashes(shingles(t, 5, WORDS)) for t in EN[:3]], 128, 1)
    sig[1, 9:18] = sig[0, 9:18]  # make band 1 (rows 9..17) equal
    sig[2, 9:17] = sig[0, 9:17]  # all of band 1 but its last row
    hashes = band_hashes(sig, 14, 9)
    assert hashes.shape == (3, 14) and hashes.dtype == np.uint64
    assert np.flatnonzero(hashes[0] == hashes[1]).tolist() == [1]
    assert not (hashes[0] == hashes[2]).any()
    assert len(set(hashes.ravel().tolist())) == 3 * 14 - 1  # no other collision
    # Values past bands x rows are not part of any band.
    later = sig.copy()
    later[:, 14 * 9:] = 0
    assert (band_hashes(later, 14, 9) == hashes).all()


def test_band_entries_group_each_band_by_shard_with_equal_hashes_together():
    banded = np.array([[10, 21], [10, 22], [13, 21]], dtype=np.uint64)  # 3 documents x 2 bands
    numbers = np.array([7, -5, 2**62], dtype=np.int64)
    groups = {key: np.frombuffer(data, dtype=ENTRY).tolist()
              for key, data in band_entries(banded, numbers, 2)}
    assert groups == {(0, 0): [(10, 7), (10, -5)], (0, 1): [(13, 2**62)],
                      (1, 1): [(21, 7), (21, 2**62)], (1, 0): [(22, -5)]}
    assert list(band_entries(banded[:0], numbers[:0], 2)) == []


def test_bucket_edges_are_each_buckets_candidates_whatever_the_order():
    rng = np.random.default_rng(0)
    buckets = {1: [4, -2], 2: [9], 2**64 - 1: list(range(100, 120)), 4: [8, 3, 6], 5: [-7]}
    entries = np.array([(h, n) for h, nodes in buckets.items() for n in nodes], dtype=ENTRY)
    expected = sorted(edge for nodes in buckets.values() for edge in bucket_candidates(nodes))
    for _ in range(3):
        assert sorted(bucket_edges(rng.permutation(entries))) == expected
    assert (-2, 4) in expected and (3, 6) in expected and (100, 119) in expected
    assert list(bucket_edges(entries[:1])) == []
    assert list(bucket_edges(entries[[2, 6]])) == []  # two buckets of one member


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(-40, 40)), max_size=90,
                unique_by=lambda entry: (entry[0], entry[2])),
       st.sampled_from([(2, 1), (4, 3), (10, 8), (1024, 8), (1024, 100)]))
def test_bucket_pairs_are_each_buckets_candidates_for_many_groups_at_once(entries, limits):
    # (group, band hash, number); a number is in a group at most once, as a document in a band.
    held, all_pairs = limits
    groups, hashes, numbers = (np.array(column, dtype=dtype) for column, dtype in
                               zip(zip(*entries, strict=True) if entries else ([], [], []),
                                   (np.int64, np.uint64, np.int64), strict=True))
    left, right = bucket_pairs(hashes, numbers, held, all_pairs, groups=groups)
    found = sorted(zip(groups[left].tolist(), numbers[left].tolist(), numbers[right].tolist(), strict=True))
    buckets = collections.defaultdict(list)
    for group, band_hash, number in entries:
        buckets[(group, band_hash)].append(number)
    expected = sorted((key[0], *edge) for key, members in buckets.items()
                      for edge in bucket_candidates(members, held, all_pairs))
    assert found == expected


# --- shingles -------------------------------------------------------------------------------------

def test_word_shingles_ignore_case_and_punctuation():
    assert shingles("The cat, the DOG!  The bird.", 3, WORDS) == [b"the cat the", b"cat the dog",
                                                                 b"the dog the", b"dog the bird"]
    assert shingles("Hello, world!", 5, WORDS) == [b"hello world"]  # fewer than n words: one shingle
    assert shingles("", 5, WORDS) == shingles(" ... !! ", 5, WORDS) == []


def test_word_shingles_split_at_every_whitespace_that_str_split_knows():
    for space in (chr(c) for c in range(0x110000) if chr(c).isspace()):  # \x1c, \xa0, \u3000, ...
        assert shingles(f"One{space}two{space}{space}3", 5, WORDS) == [b"one two 3"], repr(space)


def test_character_shingles_drop_spaces_and_punctuation():
    first_two = ["兰叶春葳蕤".encode(), "叶春葳蕤桂".encode()]
    assert shingles("兰叶春葳蕤，桂华 秋皎洁。", 5, CHARACTERS)[:2] == first_two
    assert len(shingles("兰叶春葳蕤，桂华秋皎洁。", 5, CHARACTERS)) == 10 - 5 + 1
    assert shingles("欣欣", 5, CHARACTERS) == ["欣欣".encode()]


def test_auto_shingles_are_characters_where_words_are_not_spaced():
    assert [shingle_kind(code) for code in ("zh", "zh_Hant", "ja", "th", "en", "hi", "yue_Hant")] == [
        CHARACTERS, CHARACTERS, CHARACTERS, CHARACTERS, WORDS, WORDS, CHARACTERS]
    assert MinhashDedup().kind_of("zh") == CHARACTERS and MinhashDedup(shingle=WORDS).kind_of("zh") == WORDS


# --- buckets and components -----------------------------------------------------------------------

def signatures_of(*texts: str) -> list[bytes]:
    """Return the default stage's signatures of `texts` (word shingles), as buckets carry them."""
    stage = MinhashDedup()
    hashes = [shingle_hashes(shingles(text, stage.ngram, WORDS)) for text in texts]
    rows = signatures(hashes, stage.num_perm, stage.seed)
    return [row.tobytes() for row in rows]


def test_agreements_needed_is_the_exact_count_for_the_estimate():
    assert agreements_needed(0.7, 10) == 7  # 0.7 * 10 = 7.000000000000001 would ask for 8
    assert agreements_needed(0.7, 256) == 180 and agreements_needed(0.5, 128) == 64
    for threshold in (0.3, 0.5, 0.7, 0.75, 0.9):
        for num_perm in range(1, 300):
            need = agreements_needed(threshold, num_perm)
            assert need / num_perm >= threshold and (need == 0 or (need - 1) / num_perm < threshold)


def test_a_big_bucket_is_a_star_and_a_path_never_all_pairs():
    members = [f"{i:05d}" for i in range(2000, 0, -1)]
    edges = list(bucket_candidates(members))
    star = {("00001", m) for m in members if m != "00001"}
    path = {(f"{i:05d}", f"{i + 1:05d}") for i in range(2, 1024)}  # through the 1,024 smallest
    assert len(edges) == len(set(edges)) and set(edges) == star | path
    short_path = {(f"{i:05d}", f"{i + 1:05d}") for i in range(2, 16)}
    assert set(bucket_candidates(members, held=16)) == star | short_path
    assert all(a < b for a, b in edges)


def test_a_small_bucket_gives_every_pair():
    members = ["d", "b", "a", "c"]
    assert sorted(bucket_candidates(members)) == [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"),
                                                  ("c", "d")]
    assert len(list(bucket_candidates([str(i) for i in range(10, 10 + ALL_PAIRS_UP_TO)]))) == (
        ALL_PAIRS_UP_TO * (ALL_PAIRS_UP_TO - 1) // 2)
    assert list(bucket_candidates(["a"])) == []


def test_verification_removes_a_false_candidate():
    # f1 and f2 of the hand-built clusters (exact Jaccard 0.62) share two bands of the default
    # 53 x 6 but estimate 0.64: no edge, so the stage keeps both (see the stage tests' `kept`).
    texts = {name_of(d.id): d.text for batch in hand_built_clusters() for d in batch
             if name_of(d.id).startswith("f")}
    f1, f2 = signatures_of(texts["f1"], texts["f2"])
    rows = np.frombuffer(f1 + f2, dtype=np.uint32).reshape(2, -1)
    first, second = band_hashes(rows, *MinhashDedup().bands_rows)
    assert (first == second).any() and estimated_jaccard(rows[0], rows[1]) < 0.7
    signature_of = {"f1": f1, "f2": f2}.__getitem__
    assert list(verified_edges(bucket_candidates(["f2", "f1"]), signature_of, 0.7)) == []


def test_near_copies_are_verified_when_the_smallest_member_is_not_one():
    # "a" (another text) is the bucket's smallest member: checking every member against it alone
    # would lose the pair "b" ~ "c"; a small bucket's pairs, or a big one's path, keep it.
    other, text, copy, fourth, fifth = signatures_of(EN[11], EN[23], edited(EN[23], 50), EN[36], EN[75])
    signature_of = {"a": other, "b": text, "c": copy, "d": fourth, "e": fifth}.__getitem__
    assert list(verified_edges(bucket_candidates(["c", "a", "b"]), signature_of, 0.7)) == [("b", "c")]
    many = ["c", "a", "b", "d", "e"]  # as a big bucket: the star misses b ~ c, the path a-b-c-d-e has it
    assert list(verified_edges(bucket_candidates(many, all_pairs=2), signature_of, 0.7)) == [("b", "c")]


def test_candidates_do_not_depend_on_the_members_order():
    members = [f"{i:03d}" for i in range(60)]
    for held, all_pairs in ((10, 8), (1024, 8), (1024, 100)):
        expected = sorted(bucket_candidates(members, held, all_pairs))
        for seed in range(5):
            shuffled = members[:]
            random.Random(seed).shuffle(shuffled)
            assert sorted(bucket_candidates(shuffled, held, all_pairs)) == expected


def union_find_labels(edges: list[tuple[int, int]]) -> dict[int, int]:
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)
    return {x: root(x) for x in parent}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)).filter(lambda e: e[0] != e[1]),
                max_size=80))
def test_components_equal_union_find_with_enough_rounds(edges):
    labels = components_in_memory(edges, max_rounds=10)
    assert all(converged for _, converged in labels.values())
    assert {node: label for node, (label, _) in labels.items()} == union_find_labels(edges)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)).filter(lambda e: e[0] != e[1]),
                max_size=70),
       st.sampled_from([1, 2, 3, 4, 10]))
def test_finished_stars_leaving_the_rounds_change_no_label(edges, max_rounds):
    # Chains, stars and random graphs, converged or not: the stage's steps give the reference's
    # labels and convergence flags.
    assert components_finishing_stars(edges, max_rounds) == components_in_memory(edges, max_rounds)


def test_finished_stars_leave_the_rounds_with_their_labels():
    pairs = [(10, 11), (20, 21), (20, 22), (30, 33)]
    chain = [(i, i + 1) for i in range(100, 140)]
    assert components_finishing_stars(pairs + chain, 10) == components_in_memory(pairs + chain, 10)
    assert components_finishing_stars(chain, 1) == components_in_memory(chain, 1)  # not converged


def test_too_few_rounds_are_reported_and_still_label_within_the_component():
    path = [(i, i + 1) for i in range(40)]
    labels = components_in_memory(path, max_rounds=1)
    assert not all(converged for _, converged in labels.values())
    assert labels[0][0] == 0 and all(label <= node for node, (label, _) in labels.items())


# --- options --------------------------------------------------------------------------------------

@pytest.mark.parametrize("options", [{"ngram": 0}, {"num_perm": 0}, {"num_perm": 2048}, {"threshold": 0.0},
                                     {"threshold": 1.0}, {"shingle": "bytes"}, {"seed": -1},
                                     {"max_rounds": 0}, {"lsh_threshold": 0.0}, {"band_shards": 0},
                                     {"lsh_threshold": 0.8}])  # above the threshold
def test_options_out_of_range_are_refused(options):
    with pytest.raises(OptionError):
        MinhashDedup(**options)


def test_config_name_says_the_parameters_and_changes_with_any_of_them():
    name = MinhashDedup().config_name
    assert name.startswith("minhash_5a_320p_t0.7_l0.5_") and len(name.rsplit("_", 1)[1]) == 8
    assert MinhashDedup().bands_rows == (53, 6)
    assert MinhashDedup(num_perm=128, lsh_threshold=0.7).bands_rows == (14, 9)  # datasketch's for 0.7
    assert MinhashDedup(lsh_threshold=0.5).config_name == name  # the default's value, named the same
    assert MinhashDedup(threshold=0.4).banding_threshold < 0.4  # follows a lower threshold
    changes = ({"seed": 2}, {"lsh_threshold": 0.6}, {"max_rounds": 9}, {"shingle": WORDS}, {"threshold": 0.8},
               {"ngram": 4}, {"num_perm": 128})
    others = {MinhashDedup(**change).config_name for change in changes}
    assert len(others) == len(changes) and name not in others
    assert MinhashDedup(sources=("oscar",)).config_name == name  # the selection is not a parameter


# --- the stage in Beam ----------------------------------------------------------------------------

@dataclass
class Outcome:
    kept: set[str]
    rejected: dict[str, tuple[list[str], dict]]  # id -> (reasons, meta)
    notes: dict[tuple[str, str], int]  # (lang, reason) -> count


def run_stage(stage: MinhashDedup, batches: list[list[Document]], out: Path, *beam_args: str) -> Outcome:
    """Run the stage on `batches` in a DirectRunner pipeline; read back what came out."""

    # Local functions travel to worker processes by value; the test module is not importable there.
    def doc_rows(batch: list[Document]) -> list[str]:
        return [json.dumps([d.id, d.reasons, d.meta]) for d in batch]

    def note_rows(entry: tuple) -> list[str]:
        return [json.dumps(entry)]

    with beam.Pipeline(options=PipelineOptions(list(beam_args))) as pipeline:
        docs = pipeline | "Docs" >> beam.Create(batches).with_output_types(DocumentBatch)
        outputs = stage.expand_stage(docs, "near", str(out / "scratch"))
        written = (("kept", outputs.kept, doc_rows), ("rejected", outputs.rejected, doc_rows),
                   ("notes", outputs.notes, note_rows))
        for name, collection, rows in written:
            _ = (collection | f"Rows_{name}" >> beam.FlatMap(rows)
                 | f"Write_{name}" >> beam.io.WriteToText(str(out / name)))

    def read(name: str) -> list:
        return [json.loads(line) for path in sorted(glob.glob(f"{out}/{name}*"))
                for line in Path(path).read_text().splitlines()]

    notes: dict[tuple[str, str], int] = collections.Counter()
    for (_source, _dataset, lang, _outcome, reason), (count, _) in read("notes"):
        notes[(lang, reason)] += count

    def named(meta: dict) -> dict:
        return {key: name_of(value) if key in ("duplicate_of", "cluster") else value
                for key, value in meta.items()}

    return Outcome({name_of(i) for i, _, _ in read("kept")},
                   {name_of(i): (r, named(m)) for i, r, m in read("rejected")}, dict(notes))


def doc(text: str, name: str, lang: str = "en", dataset: str = "web") -> Document:
    """A document whose id spells `name` in 16 hex digits, as real ids are; ids sort as names do."""
    return Document(name.encode().hex().ljust(16, "0"), text, "oscar", dataset, lang)


def name_of(doc_id: str) -> str:
    """The `name` a test gave `doc`, also after `high_bit` (names are ASCII: their top bit is 0)."""
    return bytes.fromhex(f"{int(doc_id, 16) & (2**63 - 1):016x}").rstrip(b"\0").decode()


def high_bit(batches: list[list[Document]]) -> list[list[Document]]:
    """The same documents with the top bit of each id set: half of real ids (hashes) have it."""
    return [[replace(d, id=f"{int(d.id, 16) | 2**63:016x}") for d in batch] for batch in batches]


def edited(text: str, *positions: int) -> str:
    """Replace the words at `positions` by another word: a near-copy (each edit breaks 5 shingles)."""
    words = text.split()
    for position in positions:
        words[position] = "replaced"
    return " ".join(words)


def hand_built_clusters() -> list[list[Document]]:
    """Near-copies of two demo texts, a chain, unrelated texts, other languages, across batches.

    `c1`~`c2`~`c3` are 300-word windows of one text shifted by 40 words: each is verified a
    near-copy of the next (exact Jaccard 0.76) while `c1` and `c3`, candidates too (they share a
    band), are not (0.58), so only connected components put them together. `f1` and `f2`, two
    250-word windows 70 words apart (0.62), are a false candidate: they share bands, and stay apart.
    """
    words = EN[21].split()
    chain = [" ".join(words[start:start + 300]) for start in (0, 40, 80)]
    windows = [" ".join(EN[5].split()[start:start + 250]) for start in (0, 70)]
    return [
        [doc(edited(EN[23], 50), "a3"), doc(EN[11], "u1"), doc(chain[2], "c3"), doc(EN[23], "a2"),
         doc(windows[0], "f1")],
        [doc(EN[75], "b9"), doc(edited(EN[23], 10, 200), "a1"), doc(chain[0], "c1"), doc("", "e1"),
         doc(EN[23], "x1", lang="fr")],  # same text as a2, in another language: compared with nothing
        [doc(edited(EN[75], 100), "b5", dataset="other"), doc(chain[1], "c2"), doc(EN[36], "u2"),
         doc(windows[1], "f2"),
         doc(ZH[19], "z2", lang="zh"), doc(ZH[19][:-30], "z1", lang="zh"), doc(ZH[20], "z3", lang="zh")],
    ]


def test_the_chain_is_joined_only_through_its_middle():
    stage = MinhashDedup()
    chain = {name_of(d.id): d.text for batch in hand_built_clusters() for d in batch
             if name_of(d.id).startswith("c")}
    found = {i: shingles(text, 5, WORDS) for i, text in chain.items()}
    rows = signatures([shingle_hashes(found[i]) for i in ("c1", "c2", "c3")], stage.num_perm, stage.seed)
    c1, c2, c3 = band_hashes(rows, *stage.bands_rows)
    # All three pairs are candidates; verification keeps the first two.
    assert (c1 == c2).any() and (c2 == c3).any() and (c1 == c3).any()
    assert estimated_jaccard(rows[0], rows[1]) >= 0.7 and estimated_jaccard(rows[1], rows[2]) >= 0.7
    assert estimated_jaccard(rows[0], rows[2]) < 0.7

    def jaccard(a: str, b: str) -> float:
        return len(set(found[a]) & set(found[b])) / len(set(found[a]) | set(found[b]))

    assert jaccard("c1", "c2") >= 0.7 and jaccard("c2", "c3") >= 0.7 and jaccard("c1", "c3") < 0.7


EXPECTED_DUPLICATES = {"a2": "a1", "a3": "a1", "b9": "b5", "c2": "c1", "c3": "c1", "z2": "z1"}


def test_near_copies_and_chains_cluster_to_the_smallest_id_per_language(tmp_path):
    stage = MinhashDedup()
    result = run_stage(stage, hand_built_clusters(), tmp_path)
    assert {i: meta["duplicate_of"] for i, (_, meta) in result.rejected.items()} == EXPECTED_DUPLICATES
    for reasons, meta in result.rejected.values():
        assert reasons == ["minhash_dedup:duplicate"]
        assert meta == {"duplicate_of": meta["cluster"], "cluster": meta["cluster"],
                        "minhash": stage.config_name}
    assert result.kept == {"a1", "b5", "c1", "u1", "u2", "e1", "x1", "z1", "z3", "f1", "f2"}
    signed = f"minhash_dedup:config:{stage.config_name}"
    assert result.notes == {
        ("en", signed): 12, ("fr", signed): 1, ("zh", signed): 3, ("en", "minhash_dedup:no_shingles"): 1,
        ("en", "minhash_dedup:clusters"): 3, ("zh", "minhash_dedup:clusters"): 1}


def test_ids_with_the_top_bit_set_cluster_the_same(tmp_path):
    result = run_stage(MinhashDedup(), high_bit(hand_built_clusters()), tmp_path)
    assert {i: meta["duplicate_of"] for i, (_, meta) in result.rejected.items()} == EXPECTED_DUPLICATES


def test_band_shards_change_neither_the_results_nor_the_configuration_name(tmp_path):
    default = run_stage(MinhashDedup(), hand_built_clusters(), tmp_path / "default")
    for shards in (1, 3):
        stage = MinhashDedup(band_shards=shards)
        assert stage.config_name == MinhashDedup().config_name
        assert run_stage(stage, hand_built_clusters(), tmp_path / str(shards)) == default


def test_two_worker_processes_give_the_same_result(tmp_path):
    stage = MinhashDedup()
    batches = hand_built_clusters()
    in_process = run_stage(stage, batches, tmp_path / "one")
    processes = run_stage(stage, batches, tmp_path / "two", "--direct_running_mode=multi_processing",
                          "--direct_num_workers=2")
    assert processes == in_process
    assert {i: meta["duplicate_of"] for i, (_, meta) in in_process.rejected.items()} == EXPECTED_DUPLICATES


def test_empty_input_gives_nothing(tmp_path):
    result = run_stage(MinhashDedup(), [], tmp_path)
    assert result == Outcome(set(), {}, {})


def test_few_rounds_are_counted_as_unconverged(tmp_path):
    # Ten 300-word windows shifted by 20 words: a chain that one round cannot contract.
    words = (EN[21] + " " + EN[23]).split()
    windows = [" ".join(words[start:start + 300]) for start in range(0, 200, 20)]
    batches = [[doc(text, f"w{9 - i}") for i, text in enumerate(windows)]]
    result = run_stage(MinhashDedup(max_rounds=1), batches, tmp_path)
    assert result.notes.get(("en", "minhash_dedup:unconverged"), 0) > 0
    assert "w0" in result.kept  # the smallest id of a component always survives


# --- signature files and the stage against the reference functions ------------------------------

def test_signature_files_round_trip_and_nodes_sort_as_order_id_batch(tmp_path):
    rng = np.random.default_rng(3)
    ids = ["ffffffffffffffff", "0000000000000001", "8000000000000000", "7fffffffffffffff"]
    orders = [5, 2**127 + 3, 2**64, 0]
    rows = rng.integers(0, 2**32, size=(4, 16), dtype=np.uint32)
    path = str(tmp_path / "batch.sig")
    write_signatures(path, np.array([document_number(i) for i in ids], dtype=np.int64), orders, rows)
    held = read_signatures(path, "00000000000000aa")
    assert held.numbers.tolist() == sorted(document_number(i) for i in ids)
    positions = held.positions(np.array([document_number(i) for i in ids], dtype=np.int64))
    assert (held.rows[positions] == rows).all()
    nodes = held.nodes(positions)
    assert [node_ids(node) for node in nodes] == [(i, "00000000000000aa") for i in ids]
    as_tuples = [(order, doc_id, "00000000000000aa") for order, doc_id in zip(orders, ids, strict=True)]
    assert sorted(range(4), key=nodes.__getitem__) == sorted(range(4), key=as_tuples.__getitem__)


def reference_duplicates(batches: list[list[Document]], stage: MinhashDedup) -> dict[str, str]:
    """Return {removed name: survivor name} by the reference functions: each (language, band)
    bucket's `bucket_candidates` by document number, `verified_edges`, and `components_in_memory`
    over (reading order, id, batch id) nodes; clusters keep their smallest node."""
    docs = [(d, batch[0].id) for batch in batches for d in batch]
    found = [(d, batch_id, shingles(d.text, stage.ngram, stage.kind_of(d.lang))) for d, batch_id in docs]
    signed = [(d, batch_id, hashes) for d, batch_id, hashes in found if hashes]
    rows = signatures([shingle_hashes(hashes) for _, _, hashes in signed], stage.num_perm, stage.seed)
    bands = band_hashes(rows, *stage.bands_rows)
    buckets = collections.defaultdict(list)
    for (d, _, _), banded in zip(signed, bands, strict=True):
        for band, band_hash in enumerate(banded.tolist()):
            buckets[(d.lang, band, band_hash)].append(document_number(d.id))
    candidates = [edge for members in buckets.values() for edge in bucket_candidates(members)]
    signature_of = {document_number(d.id): row.tobytes() for (d, _, _), row in zip(signed, rows, strict=True)}
    node_of = {document_number(d.id): (d.order, d.id, batch_id) for d, batch_id, _ in signed}
    edges = [(node_of[a], node_of[b]) for a, b in verified_edges(candidates, signature_of.__getitem__,
                                                                 stage.threshold)]
    labels = components_in_memory(edges, stage.max_rounds)
    return {name_of(node[1]): name_of(label[1]) for node, (label, _) in labels.items() if label != node}


def many_small_batches(seed: int) -> list[list[Document]]:
    """About 150 documents (near-copies of demo texts at several edit rates, a chain, a few zh) in
    batches of 7, so most candidate edges join two batches; reading orders shuffled against the ids,
    many above 2**64 (a second or third source)."""
    rng = random.Random(seed)
    texts = [text for text in EN if len(text.split()) > 150][:40]
    docs = []
    for text in texts:
        docs.append(text)
        for _ in range(rng.randint(0, 3)):
            words = len(text.split())
            docs.append(edited(text, *rng.sample(range(words), rng.choice([1, 3, 10, words // 8]))))
    words = (EN[21] + " " + EN[23]).split()
    docs += [" ".join(words[start:start + 300]) for start in range(0, 200, 20)]
    docs = [(text, "en") for text in docs] + [(ZH[19], "zh"), (ZH[19][:-30], "zh"), (ZH[20], "zh")]
    orders = rng.sample(range(3 * 2**20), len(docs))
    built = [replace(doc(text, f"d{index:03d}", lang), order=(order % 3) << 96 | order)
             for index, ((text, lang), order) in enumerate(zip(docs, orders, strict=True))]
    rng.shuffle(built)
    return [built[start:start + 7] for start in range(0, len(built), 7)]


@pytest.mark.parametrize(("seed", "max_rounds"), [(0, 10), (1, 10), (2, 1)])
def test_the_stage_gives_the_reference_functions_clusters_across_many_batches(tmp_path, seed, max_rounds):
    stage = MinhashDedup(max_rounds=max_rounds)
    batches = many_small_batches(seed)
    result = run_stage(stage, batches, tmp_path)
    expected = reference_duplicates(batches, stage)
    assert len(expected) > 30
    assert {name: meta["duplicate_of"] for name, (_, meta) in result.rejected.items()} == expected
    unconverged = sum(count for (_, reason), count in result.notes.items() if reason.endswith("unconverged"))
    assert (unconverged > 0) == (max_rounds == 1)
