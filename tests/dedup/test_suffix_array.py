"""Suffix-array exact-substring dedup: the algorithm against a brute-force search on random small
corpora (multi-byte characters included), hand-checked examples, parts giving the same answer as
one suffix array, and the `suffix_array_dedup` stage run by Beam on the demo texts."""

from __future__ import annotations

import collections
import glob
import json
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from hypothesis import given, settings
from hypothesis import strategies as st

from roots_pipeline.dedup import suffix_array
from roots_pipeline.dedup.part_files import read_job
from roots_pipeline.dedup.suffix_array import (
    character_spans,
    duplicate_spans,
    find_duplicate_spans,
    jobs_of_part,
    pair_jobs,
    plan_parts,
    remove_spans,
)
from roots_pipeline.document import Document, document_id
from roots_pipeline.errors import OptionError
from roots_pipeline.recipe import load_recipe
from roots_pipeline.sources.read import plan_source
from roots_pipeline.stages.substring_dedup import SuffixArrayDedup, minimum_words, too_short
from roots_pipeline.worker.coder import DocumentBatch
from tests.conftest import REPO

REASON = "suffix_array_dedup:too_short_after_removal"


# --- the reference: a brute-force search ---------------------------------------------------------

def brute_force(texts: list[str], n: int) -> list[list[tuple[int, int]]]:
    """Character spans to remove: a window of n bytes seen before (anywhere earlier) is a duplicate;
    a character goes when all its bytes are in duplicate windows."""
    seen: set[bytes] = set()
    result = []
    for text in texts:
        data = text.encode("utf-8")
        covered = [False] * len(data)
        for start in range(len(data) - n + 1):
            window = data[start:start + n]
            if window in seen:
                covered[start:start + n] = [True] * n
            seen.add(window)
        removed, offset = [], 0
        for char in text:
            size = len(char.encode("utf-8"))
            removed.append(all(covered[offset:offset + size]))
            offset += size
        spans: list[tuple[int, int]] = []
        for index, gone in enumerate(removed):
            if gone and spans and spans[-1][1] == index:
                spans[-1] = (spans[-1][0], index + 1)
            elif gone:
                spans.append((index, index + 1))
        result.append(spans)
    return result


def algorithm(texts: list[str], n: int, part_bytes: int | None = None) -> list[list[tuple[int, int]]]:
    found = find_duplicate_spans([t.encode("utf-8") for t in texts], n, part_bytes)
    return [character_spans(text, spans) for text, spans in zip(texts, found, strict=True)]


ALPHABETS = ("ab", "abc ", "aé", "中a", "😀b", "é中😀 a\n")
corpora = st.sampled_from(ALPHABETS).flatmap(
    lambda alphabet: st.lists(st.text(alphabet=alphabet, max_size=40), max_size=8))


@settings(max_examples=120, deadline=None)
@given(corpora, st.integers(2, 8))
def test_removes_exactly_what_a_brute_force_search_finds(texts, n):
    assert algorithm(texts, n) == brute_force(texts, n)


@settings(max_examples=40, deadline=None)
@given(corpora, st.integers(2, 8), st.integers(4, 80))
def test_any_part_budget_gives_the_single_suffix_array_answer(texts, n, part_bytes):
    assert algorithm(texts, n, part_bytes) == algorithm(texts, n)


@settings(max_examples=60, deadline=None)
@given(corpora, st.integers(2, 8), st.integers(1, 400))
def test_runs_cut_by_suffix_array_chunks_still_keep_one_occurrence(texts, n, chunk_bytes):
    # A few slots per chunk: runs of equal windows straddle chunk boundaries.
    with mock.patch.object(suffix_array, "CHUNK_BYTES", chunk_bytes):
        assert algorithm(texts, n) == brute_force(texts, n)


# --- hand-checked examples -----------------------------------------------------------------------

def test_a_later_copy_loses_its_windows_and_the_first_keeps_them():
    assert duplicate_spans([b"abcdefgh", b"xxabcdefyy"], 4) == [[], [(2, 8)]]
    assert duplicate_spans([b"xxabcdefyy", b"abcdefgh"], 4) == [[], [(0, 6)]]


def test_repeats_inside_one_text_keep_the_first_and_may_overlap():
    assert duplicate_spans([b"abcabcabc"], 3) == [[(3, 9)]]
    assert duplicate_spans([b"aaaaa"], 2) == [[(1, 5)]]


def test_a_window_never_spans_two_texts():
    assert duplicate_spans([b"ab", b"cd", b"abcd"], 3) == [[], [], []]
    assert duplicate_spans([], 3) == []
    assert duplicate_spans([b"", b"ab"], 3) == [[], []]


def test_spans_snap_inward_to_whole_characters():
    # "é" is C3 A9, "è" C3 A8: with 1-byte windows only C3 repeats, half a character.
    assert algorithm(["xé", "yè"], 1) == [[], []]
    assert algorithm(["aé", "bé"], 2) == [[], [(1, 2)]]
    assert character_spans("a中b", [(0, 3)]) == [(0, 1)]  # bytes 1-2 are two thirds of 中
    assert character_spans("a中b", [(1, 5)]) == [(1, 3)]
    assert character_spans("plain", [(1, 3)]) == [(1, 3)]


def test_multibyte_texts():
    texts = ["中文文本重复了", "另一个中文文本重复了"]
    # 3 bytes a character: 9-byte windows are 3 characters, and 中文文本重复了 repeats whole.
    assert algorithm(texts, 9) == brute_force(texts, 9) == [[], [(3, 10)]]
    # 4 bytes an emoji: the 8-byte window of two emoji repeats at byte 4, not at bytes 1-3.
    assert algorithm(["😀😀😀"], 8) == [[(1, 3)]]
    assert algorithm(["😀😀😀"], 9) == [[]]


def test_a_cut_inside_the_text_leaves_one_line_break_or_space():
    text = "Intro.\nSubscribe to our newsletter!\nBody text. Shared sentence here. End."
    line = text.index("\nSubscribe"), text.index("\nBody")
    assert remove_spans(text, [line]) == "Intro.\nBody text. Shared sentence here. End."
    words = text.index(" Shared"), text.index(" End")
    assert remove_spans(text, [words]).endswith("Body text. End.")
    assert remove_spans("abcXYZdef", [(3, 6)]) == "abcdef"
    assert remove_spans("abc X\nY def", [(3, 8)]) == "abc\ndef"
    assert remove_spans("abc X\nY def", [(4, 7)]) == "abc  def"  # whitespace already beside the cut
    assert remove_spans("dup text\nrest", [(0, 9)]) == "rest"  # at the start: just cut
    assert remove_spans("whole", [(0, 5)]) == ""


def test_parts_follow_the_order_and_budget():
    assert plan_parts([5, 5, 5], 10) == [0, 2]
    assert plan_parts([20, 1, 1], 10) == [0, 1]  # a unit larger than the budget stands alone
    assert plan_parts([], 10) == []
    assert pair_jobs(1) == [(0, 0)]
    assert pair_jobs(3) == [(0, 1), (0, 2), (1, 2)]
    assert jobs_of_part(1, 3) == [(0, 1), (1, 2)]
    assert jobs_of_part(0, 1) == [(0, 0)]


# --- the stage: options and the minimum of words ------------------------------------------------

@pytest.mark.parametrize(("options", "field"), [
    ({"min_bytes": 0}, "min_bytes"), ({"part_mb": 0}, "part_mb"), ({"part_mb": 2000}, "part_mb"),
    ({"min_words": 0}, "min_words"), ({"sources": ("web",)}, "sources"),
])
def test_bad_options_are_refused(options, field):
    with pytest.raises(OptionError) as error:
        SuffixArrayDedup(**options)
    assert error.value.field == field


def test_minimum_words_come_from_the_language_file():
    assert minimum_words("en", None) == 20  # languages/en.yaml number_words.min
    assert minimum_words("zh", None) == 1
    assert minimum_words("en", 3) == 3
    assert not too_short("Hello, big   world\n!", "en", 3)
    assert too_short("Hello, big\n!", "en", 3)  # "!" alone is stripped away: two words
    assert too_short("", "zh", None) and not too_short("中文", "zh", None)


# --- the stage in Beam ---------------------------------------------------------------------------

@dataclass
class Outcome:
    kept: dict[str, str]  # id -> text
    rejected: dict[str, tuple[list[str], str]]  # id -> (reasons, text)
    spans: dict[str, list[list[int]]]  # id -> meta["removed_spans"]
    notes: dict[tuple[str, str], int]  # (lang, note) -> count


def _read(pattern: str) -> list:
    return [json.loads(line) for path in sorted(glob.glob(pattern))
            for line in Path(path).read_text().splitlines()]


def run_stage(stage: SuffixArrayDedup, batches: list[list[Document]], out: Path, *beam_args: str) -> Outcome:
    """Run the stage on `batches` in a DirectRunner pipeline; read back what came out."""

    # Local functions travel to worker processes by value; the test module is not importable there.
    def doc_rows(batch: list[Document]) -> list[str]:
        return [json.dumps([d.id, d.text, d.reasons, d.meta.get("removed_spans")]) for d in batch]

    def note_rows(entry: tuple) -> list[str]:
        return [json.dumps(entry)]

    with beam.Pipeline(options=PipelineOptions(list(beam_args))) as pipeline:
        docs = pipeline | "Docs" >> beam.Create(batches).with_output_types(DocumentBatch)
        outputs = stage.expand_stage(docs, stage.name, str(out / "scratch"))
        for name, collection, rows in (("kept", outputs.kept, doc_rows),
                                       ("rejected", outputs.rejected, doc_rows),
                                       ("notes", outputs.notes, note_rows)):
            _ = (collection | f"Rows_{name}" >> beam.FlatMap(rows)
                 | f"Write_{name}" >> beam.io.WriteToText(str(out / name)))
    notes: dict[tuple[str, str], int] = collections.Counter()
    for (_source, _dataset, lang, _outcome, reason), (count, _) in _read(f"{out}/notes*"):
        notes[(lang, reason)] += count
    kept, rejected = _read(f"{out}/kept*"), _read(f"{out}/rejected*")
    return Outcome({i: t for i, t, _, _ in kept}, {i: (r, t) for i, t, r, _ in rejected},
                   {i: s for i, _, _, s in kept + rejected if s is not None}, dict(notes))


def doc(text: str, key: str, lang: str = "en", dataset: str = "d") -> Document:
    return Document(document_id("catalogue", dataset, key, 0), text, "catalogue", dataset, lang)


SHARED = "This shared paragraph of boilerplate is long enough to be caught by the suffix array. "


def reversed_words(text: str) -> str:
    """A text of the same words in reverse order: no 50 bytes of it repeat the original."""
    return " ".join(reversed(text.split()))


def demo_documents() -> list[Document]:
    """Every document the demo recipe reads, plus copies that must go: an exact copy of an OSCAR
    English text, a paragraph twice in each of three new English documents and once in a French one."""
    recipe = load_recipe(str(REPO / "pipelines" / "demo.yaml"))
    docs = [item for index, spec in enumerate(recipe.sources)
            for split in plan_source(spec, recipe.limits, f"sources[{index}]")
            for item in split.read() if isinstance(item, Document)]
    english = [d for d in docs if d.lang == "en"]
    extra = [Document(document_id("oscar", "copies", "copy", 0), english[0].text, "oscar", "copies", "en")]
    for i, base in enumerate(english[1:4]):
        extra.append(Document(document_id("oscar", "copies", "shared", i),
                              reversed_words(base.text)[:300] + "\n" + SHARED * 2, "oscar", "copies", "en"))
    french = next(d for d in docs if d.lang == "fr")
    extra.append(Document(document_id("oscar", "copies", "fr", 0),
                          reversed_words(french.text) + "\n" + SHARED, "oscar", "copies", "fr"))
    return docs + extra


def expected(docs: list[Document], min_bytes: int) -> Outcome:
    """What the stage must produce: the brute-force search's spans, cut, one language at a time."""
    by_lang: dict[str, list[Document]] = collections.defaultdict(list)
    for d in docs:
        by_lang[d.lang].append(d)
    outcome = Outcome({}, {}, {}, collections.Counter())
    for lang, group in by_lang.items():
        group.sort(key=lambda d: d.id)
        for d, spans in zip(group, brute_force([d.text for d in group], min_bytes), strict=True):
            if not spans:
                outcome.kept[d.id] = d.text
                continue
            text = remove_spans(d.text, spans)
            outcome.spans[d.id] = [list(s) for s in spans]
            outcome.notes[(lang, "suffix_array_dedup:docs_changed")] += 1
            outcome.notes[(lang, "suffix_array_dedup:bytes_removed")] += d.nbytes - len(text.encode())
            if too_short(text, lang, None):
                outcome.rejected[d.id] = ([REASON], text)
            else:
                outcome.kept[d.id] = text
    outcome.notes = dict(outcome.notes)
    return outcome


def batches_of(docs: list[Document], size: int = 100) -> list[list[Document]]:
    return [docs[i:i + size] for i in range(0, len(docs), size)]


SAME = "Every one of these documents says exactly the same thing, word for word, here."
PARA = "A long paragraph that two documents share, copied from one page to another. "
LONG_TAIL = " ".join(f"word{i}" for i in range(25))


def hand_made() -> dict[str, Document]:
    """Four identical documents, a paragraph in three, a short one, and the paragraph in Spanish."""
    docs = {f"copy{i}": doc(SAME, f"copy{i}") for i in range(4)}
    docs["first"] = doc(PARA + "Then the first document goes on with its own words.", "first")
    docs["second"] = doc("Short intro. " + PARA + "Tail.", "second")
    docs["third"] = doc(LONG_TAIL + " " + PARA, "third")
    docs["short"] = doc("short", "short")
    docs["spanish"] = doc(PARA, "spanish", lang="es")
    return docs


@pytest.fixture(scope="module")
def demo_docs() -> list[Document]:
    return demo_documents()


@pytest.fixture(scope="module")
def demo_run(demo_docs, tmp_path_factory) -> tuple[list[Document], Outcome]:
    """The stage on the demo documents and the hand-made ones (which share no text with them)."""
    docs = demo_docs + list(hand_made().values())
    return docs, run_stage(SuffixArrayDedup(), batches_of(docs), tmp_path_factory.mktemp("demo"))


def test_stage_removes_what_the_brute_force_search_finds_in_the_demo_texts(demo_run):
    docs, result = demo_run
    assert result == expected(docs, 50)
    assert len(result.kept) + len(result.rejected) == len(docs)
    demo = docs[:-len(hand_made())]
    original = demo[[d.lang for d in demo].index("en")]
    copy = demo[-5]
    # One of the two identical English texts survives whole, the other is emptied and rejected.
    later, earlier = sorted((original, copy), key=lambda d: d.id, reverse=True)
    assert result.kept[earlier.id] == earlier.text
    assert result.rejected[later.id] == ([REASON], "")
    assert result.spans[later.id] == [[0, len(later.text)]]
    # The paragraph: its second repeat goes from the first English copy and both from the others;
    # the French document is deduplicated apart.
    shared = sorted(demo[-4:-1], key=lambda d: d.id)
    assert result.kept[shared[0].id].count(SHARED.strip()) == 1
    assert all(SHARED.strip() not in result.kept[d.id] for d in shared[1:])
    assert result.kept[demo[-1].id] == demo[-1].text


def test_copies_go_and_changed_documents_keep_their_language_minimum_of_words(demo_run):
    _, result = demo_run
    docs = hand_made()
    copies = [docs[f"copy{i}"] for i in range(4)]
    survivor = min(copies, key=lambda d: d.id)
    assert result.kept[survivor.id] == SAME
    holder = min((docs["first"], docs["second"], docs["third"]), key=lambda d: d.id)
    assert result.kept[holder.id] == holder.text
    # The others lose the paragraph; English needs 20 words, which only the third one keeps.
    if holder is not docs["third"]:
        assert result.kept[docs["third"].id].rstrip() == LONG_TAIL
    too_few = {docs[name].id for name in ("first", "second") if docs[name] is not holder}
    ids = {d.id for d in docs.values()}
    assert set(result.rejected) & ids == {d.id for d in copies if d is not survivor} | too_few
    assert all(result.rejected[d.id] == ([REASON], "") for d in copies if d is not survivor)
    assert set(result.spans) & ids == {d.id for d in docs.values()} - {survivor.id, holder.id} - {
        docs["short"].id, docs["spanish"].id}
    # Unchanged documents are never judged, however short; Spanish is deduplicated apart.
    assert result.kept[docs["short"].id] == "short" and result.kept[docs["spanish"].id] == PARA


def test_parts_and_worker_processes_do_not_change_the_result(demo_docs, tmp_path):
    # Two processes and 20 kB parts: English (110 kB) and Chinese (120 kB with the catalogue's
    # chatterbot) are cut into several parts each, so pair jobs run.
    docs = [d for d in demo_docs if d.lang in ("en", "zh")]
    stage = SuffixArrayDedup(part_mb=0.02)
    assert sum(d.nbytes for d in docs if d.lang == "en") > 4 * stage.part_bytes
    result = run_stage(stage, batches_of(docs), tmp_path,
                       "--direct_running_mode=multi_processing", "--direct_num_workers=2")
    assert result == expected(docs, 50)
    # Texts reach the jobs through part files, each long-enough document's text once, however
    # many jobs its part takes part in.
    files = [str(p) for p in (tmp_path / "scratch" / stage.name).glob("*.bin")]
    assert {Path(f).name.split("-")[0] for f in files} == {"en", "zh"}
    assert read_job(files).lengths.sum() == sum(d.nbytes for d in docs if d.nbytes >= stage.min_bytes)


def test_empty_input(tmp_path):
    assert run_stage(SuffixArrayDedup(), [], tmp_path) == Outcome({}, {}, {}, {})
