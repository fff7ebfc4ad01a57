"""The `suffix_array_dedup` stage in Beam: what a brute-force search over each language in reading
order finds is what it removes, on the demo texts and planted copies, whatever the number of
groups, the hot anchors and the runner's mode; options and the minimum of words."""

from __future__ import annotations

import collections
import glob
import json
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from roots_pipeline.dedup.anchors import (
    anchor_records,
    hot_anchors,
    sample_anchor_bytes,
    split_groups,
    split_hot,
)
from roots_pipeline.dedup.suffix_array import remove_spans
from roots_pipeline.document import Document, document_id, file_order, reading_order
from roots_pipeline.errors import OptionError
from roots_pipeline.recipe import load_recipe
from roots_pipeline.sources.read import plan_source
from roots_pipeline.stages.substring_dedup import SuffixArrayDedup, _keys, _plan, minimum_words, too_short
from roots_pipeline.worker.coder import DocumentBatch
from tests.conftest import REPO
from tests.dedup.test_suffix_array import brute_force

REASON = "suffix_array_dedup:too_short_after_removal"
# Documents made by hand take their reading order after the demo's sources (recipe indexes < 10).
HAND_MADE = 10


@pytest.mark.parametrize(("options", "field"), [
    ({"min_bytes": 0}, "min_bytes"), ({"part_mb": 0}, "part_mb"), ({"part_mb": 5000}, "part_mb"),
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


def doc(text: str, key: str, position: int, lang: str = "en", dataset: str = "d") -> Document:
    """A hand-made document, `position` its place in reading order among the hand-made ones."""
    return Document(document_id("catalogue", dataset, key, 0), text, "catalogue", dataset, lang,
                    order=reading_order(file_order(HAND_MADE, 0), position))


SHARED = "This shared paragraph of boilerplate is long enough to be caught by the suffix array. "


def reversed_words(text: str) -> str:
    """A text of the same words in reverse order: no 50 bytes of it repeat the original."""
    return " ".join(reversed(text.split()))


def demo_documents() -> list[Document]:
    """Every document the demo recipe reads (in reading order), plus copies that must go: an exact
    copy of an OSCAR English text, a paragraph twice in each of three new English documents and
    once in a French one."""
    recipe = load_recipe(str(REPO / "pipelines" / "demo.yaml"))
    docs = [item for index, spec in enumerate(recipe.sources)
            for split in plan_source(spec, recipe.limits, f"sources[{index}]", index)
            for item in split.read() if isinstance(item, Document)]
    english = [d for d in docs if d.lang == "en"]
    extra = [doc(english[0].text, "copy", 0, dataset="copies")]
    for i, base in enumerate(english[1:4]):
        extra.append(doc(reversed_words(base.text)[:300] + "\n" + SHARED * 2, f"shared{i}", 1 + i,
                         dataset="copies"))
    french = next(d for d in docs if d.lang == "fr")
    extra.append(doc(reversed_words(french.text) + "\n" + SHARED, "fr", 4, lang="fr", dataset="copies"))
    return docs + extra


def expected(docs: list[Document], min_bytes: int) -> Outcome:
    """What the stage must produce: the brute-force search's spans over each language in reading
    order, cut."""
    by_lang: dict[str, list[Document]] = collections.defaultdict(list)
    for d in docs:
        by_lang[d.lang].append(d)
    outcome = Outcome({}, {}, {}, collections.Counter())
    for lang, group in by_lang.items():
        group.sort(key=lambda d: d.order)
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
    """Four identical documents, a paragraph in three, a short one, and the paragraph in Spanish,
    read in this order (after the demo's copies)."""
    docs = {f"copy{i}": doc(SAME, f"copy{i}", 10 + i) for i in range(4)}
    docs["first"] = doc(PARA + "Then the first document goes on with its own words.", "first", 20)
    docs["second"] = doc("Short intro. " + PARA + "Tail.", "second", 21)
    docs["third"] = doc(LONG_TAIL + " " + PARA, "third", 22)
    docs["short"] = doc("short", "short", 23)
    docs["spanish"] = doc(PARA, "spanish", 24, lang="es")
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
    # The English text read first survives whole; its copy, read later, is emptied and rejected.
    assert result.kept[original.id] == original.text
    assert result.rejected[copy.id] == ([REASON], "")
    assert result.spans[copy.id] == [[0, len(copy.text)]]
    # The paragraph: its second repeat goes from the first English copy and both from the others;
    # the French document is deduplicated apart.
    shared = demo[-4:-1]
    assert result.kept[shared[0].id].count(SHARED.strip()) == 1
    assert all(SHARED.strip() not in result.kept[d.id] for d in shared[1:])
    assert result.kept[demo[-1].id] == demo[-1].text


def test_copies_go_and_changed_documents_keep_their_language_minimum_of_words(demo_run):
    _, result = demo_run
    docs = hand_made()
    copies = [docs[f"copy{i}"] for i in range(4)]
    assert result.kept[copies[0].id] == SAME  # read first, kept
    holder = docs["first"]
    assert result.kept[holder.id] == holder.text
    # The others lose the paragraph; English needs 20 words, which only the third one keeps.
    assert result.kept[docs["third"].id].rstrip() == LONG_TAIL
    ids = {d.id for d in docs.values()}
    assert set(result.rejected) & ids == {d.id for d in copies[1:]} | {docs["second"].id}
    assert all(result.rejected[d.id] == ([REASON], "") for d in copies[1:])
    assert set(result.spans) & ids == {d.id for d in docs.values()} - {copies[0].id, holder.id} - {
        docs["short"].id, docs["spanish"].id}
    # Unchanged documents are never judged, however short; Spanish is deduplicated apart.
    assert result.kept[docs["short"].id] == "short" and result.kept[docs["spanish"].id] == PARA


def test_groups_hot_anchors_and_worker_processes_do_not_change_the_result(demo_docs, tmp_path):
    # Two processes and 20 kB of context a group: English (110 kB) and Chinese (120 kB with the
    # catalogue's chatterbot) take a few dozen groups each, and every anchor whose context passes
    # 5 kB goes through the hot path.
    docs = [d for d in demo_docs if d.lang in ("en", "zh")]
    stage = SuffixArrayDedup(part_mb=0.02)
    result = run_stage(stage, batches_of(docs, 37), tmp_path,
                       "--direct_running_mode=multi_processing", "--direct_num_workers=2")
    assert result == expected(docs, 50)


def test_a_string_in_ten_thousand_documents_is_kept_once(tmp_path):
    # 60 bytes of boilerplate in 10,000 documents around text of their own: one copy stays, in the
    # first document read; with 64 kB of context a group the boilerplate's anchors are hot (its
    # copies alone hold 600 kB of context), so no group gathers them.
    boilerplate = "Cookies help us deliver our services. Accept all cookies ok!"
    assert len(boilerplate.encode()) == 60
    docs = [doc(f"page {n} of the site, number {n * 7919 % 10007}: {boilerplate} end {n}.", f"p{n}", n)
            for n in range(10_000)]
    stage = SuffixArrayDedup(min_words=1, part_mb=0.0625)
    # What the stage's steps decide, computed here on the whole language at once: the boilerplate
    # is hot, and no group holds more than part_mb of context.
    _, plan = _plan("en", sum(d.nbytes for d in docs), stage.part_bytes)
    records = anchor_records(*_keys(docs, docs[0].id)[:3], stage.min_bytes)
    hot = hot_anchors(*sample_anchor_bytes(records, plan.sample_rate), plan.sample_rate, stage.hot_budget)
    cold, hot_records = split_hot(records, hot)
    assert len(hot_records) >= 10_000
    groups = split_groups(cold, plan.groups).values()
    assert max(int(group.context_lengths.sum()) for group in groups) <= stage.part_bytes
    result = run_stage(stage, batches_of(docs, 1000), tmp_path)
    holding = [i for i, text in result.kept.items() if boilerplate in text]
    assert holding == [docs[0].id]
    assert len(result.spans) == 9_999 and not result.rejected
    assert result.notes[("en", "suffix_array_dedup:docs_changed")] == 9_999


def test_empty_input(tmp_path):
    assert run_stage(SuffixArrayDedup(), [], tmp_path) == Outcome({}, {}, {}, {})
