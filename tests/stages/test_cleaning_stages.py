"""ROOTS's cleaning functions as recipe stages: names and options from YAML, the `datasets:`
selection, rejections and notes, and the corpus stages run by Beam (in process and with two
worker processes), ending with a run of the pseudo-crawl demo whose ledger is checked by hand."""

from __future__ import annotations

import collections
import glob
import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pvalue import TaggedOutput

from roots_pipeline.cleaning.line_hashes import sample_key
from roots_pipeline.document import Document
from roots_pipeline.errors import RecipeError
from roots_pipeline.recipe import load_recipe
from roots_pipeline.runner.pipeline import run_recipe
from roots_pipeline.sources.read import plan_source
from roots_pipeline.stages import STAGES
from roots_pipeline.stages.apply import NOTES, REJECTED, ApplyStages
from roots_pipeline.stages.base import CorpusStage
from roots_pipeline.stages.catalogue_cleaning import (
    DedupLinesInDocument,
    RemoveLinesWithCode,
    RemoveReferences,
    ReplaceNewlineWithSpace,
    StripSubstringsEnWiktionary,
)
from roots_pipeline.stages.catalogue_filters import (
    FilterRemoveEmptyDocs,
    FilterSmallDocs,
    FilterSmallDocsBytes300,
    FilterSmallDocsBytes1024,
    FilterWikiNonTextType,
    FilterWikiUserTitles,
)
from roots_pipeline.stages.clean_text import clean_text
from roots_pipeline.stages.exact_dedup import DedupDocument, DedupDocumentOnUrl
from roots_pipeline.stages.repeated_lines import (
    DedupPseudocrawlNewspapers,
    DedupTemplateSoft,
    RemoveDomainBoilerplate,
)
from roots_pipeline.worker.coder import DocumentBatch
from tests.conftest import DEMO

ROOTS_NAMES = {
    "replace_newline_with_space", "remove_lines_with_code", "remove_html_spans", "remove_html_spans_sanad",
    "remove_wiki_mojibake", "strip_substrings_en_wiktionary", "remove_references", "dedup_lines_in_document",
    "filter_remove_empty_docs", "filter_wiki_user_titles", "filter_wiki_non_text_type", "filter_small_docs",
    "filter_small_docs_bytes_300", "filter_small_docs_bytes_1024", "dedup_template_soft",
    "dedup_pseudocrawl_newspapers", "remove_domain_boilerplate", "dedup_document", "dedup_document_on_url",
}


def doc(text: str, *, id: str = "0", dataset: str = "d", lang: str = "en", source: str = "catalogue",
        url: str | None = None, **meta) -> Document:
    return Document(id, text, source, dataset, lang, url, meta)


# --- recipes ------------------------------------------------------------------------------------

def recipe_with(tmp_path: Path, stages: str) -> str:
    path = tmp_path / "r.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: t
        output: out
        sources:
          - kind: oscar
            paths: [{DEMO}/oscar/en_part_1.jsonl.gz]
        stages:
        """) + textwrap.indent(textwrap.dedent(stages), "  "))
    return str(path)


def test_every_roots_name_is_a_stage():
    assert set(STAGES) >= ROOTS_NAMES


def test_recipe_names_stages_by_their_roots_names_with_options(tmp_path):
    recipe = load_recipe(recipe_with(tmp_path, """\
        - remove_lines_with_code: {datasets: [oscar]}
        - filter_small_docs_bytes_300
        - dedup_template_soft: {min_occurrences: 5}
        - dedup_pseudocrawl_newspapers
        - remove_domain_boilerplate: {min_pages: 3, sample_pages: 100}
        - dedup_document_on_url: {sources: [oscar]}
        """))
    assert recipe.stages == (
        RemoveLinesWithCode(datasets=("oscar",)),
        FilterSmallDocsBytes300(),
        DedupTemplateSoft(min_occurrences=5),
        DedupPseudocrawlNewspapers(),
        RemoveDomainBoilerplate(min_pages=3, sample_pages=100),
        DedupDocumentOnUrl(sources=("oscar",)),
    )
    newspapers, boilerplate = recipe.stages[3], recipe.stages[4]
    assert (newspapers.min_line_chars, newspapers.min_occurrences) == (0, 2)
    assert DedupTemplateSoft().min_line_chars == 15 and DedupTemplateSoft().min_occurrences == 10
    assert boilerplate.sources == ("pseudo_crawl",) and boilerplate.min_chars == 33
    assert FilterSmallDocsBytes300().min_bytes == 300 and FilterSmallDocsBytes1024().min_bytes == 1024


@pytest.mark.parametrize("stage, key, message", [
    ("filter_small_docs_bytes_300: {min_bytes: 10}", "stages[0].filter_small_docs_bytes_300.min_bytes",
     "unknown key"),
    ("remove_lines_with_code: {markers: ['{']}", "stages[0].remove_lines_with_code.markers", "unknown key"),
    ("dedup_template_soft: {min_occurences: 3}", "stages[0].dedup_template_soft.min_occurences",
     "unknown key"),
    ("dedup_template_soft: {min_occurrences: 1}", "stages[0].dedup_template_soft.min_occurrences",
     "at least 2"),
    ("remove_domain_boilerplate: {min_page_share: 2}", "stages[0].remove_domain_boilerplate.min_page_share",
     "between 0 and 1"),
    ("dedup_document: {sources: [usenet]}", "stages[0].dedup_document.sources", "unknown 'usenet'"),
])
def test_bad_options_name_the_stage_and_key(tmp_path, stage, key, message):
    with pytest.raises(RecipeError) as caught:
        load_recipe(recipe_with(tmp_path, f"- {stage}\n"))
    assert caught.value.key == key and message in caught.value.problem


# --- document stages ----------------------------------------------------------------------------

def run_document_stages(stages, batch):
    """Run document stages the way the pipeline does; return kept, rejected and note counts."""
    fn = ApplyStages(tuple(stages), None)
    fn.setup()
    out = list(fn.process(batch))
    kept = [d for o in out if not isinstance(o, TaggedOutput) for d in o]
    rejected = [d for o in out if isinstance(o, TaggedOutput) and o.tag == REJECTED for d in o.value]
    notes = {(o.value[0][1], o.value[0][4]): o.value[1][0]  # (dataset, note) -> count
             for o in out if isinstance(o, TaggedOutput) and o.tag == NOTES}
    return kept, rejected, notes


def test_datasets_selection_edits_only_the_named_dataset():
    text = "Prose.\nfunction f() {\n}\nMore prose."
    batch = [doc(text, id="1", dataset="a"), doc(text, id="2", dataset="b")]
    kept, rejected, notes = run_document_stages([RemoveLinesWithCode(datasets=("a",))], batch)
    assert [d.text for d in kept] == ["Prose.\nMore prose.", text] and not rejected
    assert notes == {("a", "remove_lines_with_code:lines_removed"): 2,
                     ("a", "remove_lines_with_code:docs_changed"): 1}


def test_text_emptied_by_an_edit_waits_for_filter_remove_empty_docs():
    batch = [doc("{\n}", id="1"), doc("kept line", id="2")]
    kept, rejected, _ = run_document_stages([RemoveLinesWithCode()], batch)
    assert [d.text for d in kept] == ["", "kept line"] and not rejected
    kept, rejected, notes = run_document_stages([RemoveLinesWithCode(), FilterRemoveEmptyDocs()],
                                                [doc("{\n}", id="1"), doc(" \n ", id="3")])
    assert [d.reasons for d in rejected] == [["filter_remove_empty_docs:empty"]] * 2 and not kept
    assert notes[("d", "remove_lines_with_code:lines_removed")] == 2


def test_newlines_wiktionary_and_line_dedup_stages():
    d = doc("water\nThis entry needs audio files\nwater")
    StripSubstringsEnWiktionary().apply(d)
    DedupLinesInDocument().apply(d)
    ReplaceNewlineWithSpace().apply(d)
    assert d.text == "water " and not d.reasons
    assert d.notes == ["strip_substrings_en_wiktionary:docs_changed",
                       "strip_substrings_en_wiktionary:substrings_removed",
                       "dedup_lines_in_document:docs_changed", "dedup_lines_in_document:lines_removed",
                       "replace_newline_with_space:docs_changed"]


def test_remove_references_uses_each_documents_language():
    english = doc("It was the best of times and it was the worst.\nDickens C 1859 London", lang="en")
    chinese = doc("这是一个句子。\n参考文献", lang="zh")
    unknown = doc("Some text\nRef 1", lang="und")  # default.yaml has no stopword list
    for d in (english, chinese, unknown):
        RemoveReferences().apply(d)
    assert english.text == "It was the best of times and it was the worst."
    assert english.notes == ["remove_references:docs_changed", "remove_references:lines_removed"]
    assert chinese.text == "这是一个句子。\n参考文献"
    assert chinese.notes == ["remove_references:no_whitespace_words"]
    assert unknown.text == "Some text\nRef 1" and unknown.notes == ["remove_references:no_stopwords"]


def test_wiki_filters_read_the_title_and_type_where_catalogue_data_keeps_them():
    user_column = doc("x", title="User talk:Alice")
    user_nested = doc("x", meta={"title": "User Bob", "type": "text"})
    user_json = doc("x", meta='{"title": "User Carol", "type": "text"}')
    python_repr = doc("x", meta="{'title': 'User Dan'}")  # ROOTS eval-ed this; we never evaluate input
    article = doc("x", title="Userland", type="text")
    image = doc("x", meta={"title": "Cat", "type": "image"})
    for d in (user_column, user_nested, user_json, python_repr, article, image):
        FilterWikiUserTitles().apply(d)
        FilterWikiNonTextType().apply(d)
    assert user_column.reasons == ["filter_wiki_user_titles:user_title"]
    assert user_nested.reasons == user_json.reasons == ["filter_wiki_user_titles:user_title"]
    assert not python_repr.reasons
    assert python_repr.notes == ["filter_wiki_user_titles:no_title", "filter_wiki_non_text_type:no_type"]
    assert not article.reasons and not article.notes
    assert image.reasons == ["filter_wiki_non_text_type:non_text_type"]


def test_small_docs_by_space_split_words():
    fourteen, fifteen = doc(" ".join(["w"] * 14)), doc(" ".join(["w"] * 15))
    for d in (fourteen, fifteen):
        FilterSmallDocs().apply(d)
    assert fourteen.reasons == ["filter_small_docs:under_15_words"] and not fifteen.reasons


def test_small_docs_count_utf8_bytes_not_characters_at_300():
    cases = {"é" * 150: [], "é" * 149 + "a": ["filter_small_docs_bytes_300:under_300_bytes"],
             "中" * 100: [], "a" * 299: ["filter_small_docs_bytes_300:under_300_bytes"]}
    for text, reasons in cases.items():
        d = doc(text)
        FilterSmallDocsBytes300().apply(d)
        assert d.reasons == reasons, (len(text), d.nbytes)
    d = doc("é" * 511)  # 1022 bytes
    FilterSmallDocsBytes1024().apply(d)
    assert d.reasons == ["filter_small_docs_bytes_1024:under_1024_bytes"]


# --- corpus stages in Beam ----------------------------------------------------------------------

@dataclass
class Outcome:
    kept: dict[str, str]  # id -> text
    rejected: dict[str, tuple[list[str], str | None]]  # id -> (reasons, duplicate_of)
    notes: dict[tuple[str, str], int]  # (dataset, note) -> count


def _read(pattern: str) -> list:
    return [json.loads(line) for path in sorted(glob.glob(pattern))
            for line in Path(path).read_text().splitlines()]


def run_corpus_stages(stages: list[CorpusStage], batches: list[list[Document]], out: Path,
                      *beam_args: str) -> Outcome:
    """Chain corpus stages on `batches` in a DirectRunner pipeline; read back what came out."""

    # Local functions travel to worker processes by value; the test module is not importable there.
    def doc_rows(batch: list[Document]) -> list[str]:
        return [json.dumps([d.id, d.text, d.reasons, d.meta.get("duplicate_of")]) for d in batch]

    def note_rows(entry: tuple) -> list[str]:
        return [json.dumps(entry)]

    with beam.Pipeline(options=PipelineOptions(list(beam_args))) as pipeline:
        docs = pipeline | "Docs" >> beam.Create(batches).with_output_types(DocumentBatch)
        rejected, notes = [], []
        for index, stage in enumerate(stages):
            outputs = stage.expand_stage(docs, f"{stage.name}{index}", str(out / "scratch"))
            docs = outputs.kept
            rejected.append(outputs.rejected)
            notes.append(outputs.notes)
        outputs_to_write = (("kept", docs, doc_rows),
                            ("rejected", rejected | "AllRejected" >> beam.Flatten(), doc_rows),
                            ("notes", notes | "AllNotes" >> beam.Flatten(), note_rows))
        for name, collection, rows in outputs_to_write:
            _ = (collection | f"Rows_{name}" >> beam.FlatMap(rows)
                 | f"Write_{name}" >> beam.io.WriteToText(str(out / name)))
    notes_total: dict[tuple[str, str], int] = collections.Counter()
    for (_source, dataset, _lang, _outcome, reason), (count, _) in _read(f"{out}/notes*"):
        notes_total[(dataset, reason)] += count
    return Outcome({i: t for i, t, _, _ in _read(f"{out}/kept*")},
                   {i: (r, twin) for i, _, r, twin in _read(f"{out}/rejected*")}, dict(notes_total))


TOWNS = ("Arles", "Brest", "Caen", "Dijon", "Evian", "Foix", "Gap", "Hyeres", "Istres", "Jarnac")


def news_and_blog() -> list[list[Document]]:
    """Two datasets sharing a newsletter line: 10 times in `news`, 9 times in `blog`.

    Texts differ by letters, not digits, which `dedup_document` would ignore.
    """
    news = [doc(f"Story from {town}: the council met and voted.\nSubscribe to our newsletter today!\nShare"
                + ("\nRead more about this topic here" if i < 9 else "") + ("\nShare" if i < 2 else ""),
                id=f"n{i}", dataset="news") for i, town in enumerate(TOWNS)]
    blog = [doc(f"Post about gardening in {town}.\nSubscribe to our newsletter today!", id=f"p{i}",
                dataset="blog") for i, town in enumerate(TOWNS[:9])]
    return [news[:6], news[6:] + blog[:3], blog[3:]]


def test_template_lines_go_at_ten_occurrences_and_only_within_their_dataset(tmp_path):
    result = run_corpus_stages([DedupTemplateSoft()], news_and_blog(), tmp_path)
    # "Subscribe…" (34 chars) 10 times in news: removed; "Read more…" (31) 9 times: kept; "Share"
    # 12 times but 5 chars: kept; in blog "Subscribe…" occurs 9 times: kept.
    assert result.kept["n0"] == ("Story from Arles: the council met and voted.\nShare\n"
                                 "Read more about this topic here\nShare")
    assert result.kept["n9"] == "Story from Jarnac: the council met and voted.\nShare"
    assert result.kept["p4"] == "Post about gardening in Evian.\nSubscribe to our newsletter today!"
    assert len(result.kept) == 19 and not result.rejected
    assert result.notes == {("news", "dedup_template_soft:lines_removed"): 10,
                            ("news", "dedup_template_soft:docs_changed"): 10}


def test_pseudocrawl_newspapers_remove_every_repeated_and_empty_line(tmp_path):
    batches = [[doc("A\n\nB", id="1"), doc("A\n\nC", id="2")], [doc("D", id="3")]]
    result = run_corpus_stages([DedupPseudocrawlNewspapers()], batches, tmp_path)
    assert result.kept == {"1": "B", "2": "C", "3": "D"}
    assert result.notes == {("d", "dedup_pseudocrawl_newspapers:lines_removed"): 4,
                            ("d", "dedup_pseudocrawl_newspapers:docs_changed"): 2}


def duplicates() -> list[list[Document]]:
    return [
        [doc("Hello, world! 2021", id="c3", dataset="d1"), doc("Unique text one.", id="a1", dataset="d1",
                                                               url="https://x.org/p?utm_source=mirror")],
        [doc("Hello world 1999", id="b2", dataset="d1"), doc("Hello   world!!", id="e5", dataset="d1",
                                                             url="https://x.org/p")],
        [doc("Hello, world! 2021", id="f6", dataset="d2"), doc("No URL here.", id="g7", dataset="d1")],
    ]


def test_duplicate_survivor_is_the_smallest_id_per_dataset(tmp_path):
    result = run_corpus_stages([DedupDocument()], duplicates(), tmp_path)
    assert set(result.kept) == {"a1", "b2", "f6", "g7"}  # f6 has the same text as c3 but in d2
    assert result.rejected == {"c3": (["dedup_document:duplicate"], "b2"),
                               "e5": (["dedup_document:duplicate"], "b2")}


def test_url_duplicates_ignore_the_query_and_documents_without_url_pass(tmp_path):
    result = run_corpus_stages([DedupDocumentOnUrl()], duplicates(), tmp_path)
    assert result.rejected == {"e5": (["dedup_document_on_url:duplicate"], "a1")}
    assert set(result.kept) == {"a1", "b2", "c3", "f6", "g7"}


def test_corpus_stages_give_the_same_result_with_two_worker_processes(tmp_path):
    stages = [DedupDocument(), DedupDocumentOnUrl(), DedupTemplateSoft()]
    batches = duplicates() + news_and_blog()
    in_process = run_corpus_stages(stages, batches, tmp_path / "one")
    processes = run_corpus_stages(stages, batches, tmp_path / "two", "--direct_running_mode=multi_processing",
                                  "--direct_num_workers=2")
    assert processes == in_process
    assert len(in_process.kept) == 23 and set(in_process.rejected) == {"c3", "e5"}
    assert in_process.notes[("news", "dedup_template_soft:lines_removed")] == 10


def crawl_page(i: int, lines: list[str], domain: str = "news.example") -> Document:
    return doc("\n".join(lines), id=f"{domain[0]}{i:02d}", dataset="crawl", source="pseudo_crawl",
               domain=domain)


def test_domain_boilerplate_counts_each_line_once_per_distinct_page(tmp_path):
    nav, cookie, related = "Home | World | Sport", "Cookie policy", "Related: weather"
    body = "Article {} tells a long and interesting story about the town."
    pages = [crawl_page(i, [nav, body.format(i)] + [cookie] * (i < 10) + [related] * 3 * (i < 4))
             for i in range(12)]
    pages.append(crawl_page(12, [nav, body.format(8), cookie]))  # page 8 again: not a new page
    pages.append(crawl_page(13, [nav, "Ok"]))
    pages += [crawl_page(i, [nav, body.format(i)], domain="blog.example") for i in range(3)]
    pages.append(doc("tiny", id="z", dataset="crawl", source="pseudo_crawl"))  # no domain: untouched
    result = run_corpus_stages([RemoveDomainBoilerplate()], [pages[:7], pages[7:]], tmp_path)
    # news.example has 13 distinct pages, so the threshold is max(10, 0.13) = 10. The nav line
    # (13 distinct pages) goes; "Cookie policy" is on 11 pages but 10 distinct ones and stays;
    # "Related…" (4 pages, 3 times on each) stays. Page 13 is left with "Ok": under 33 characters.
    # blog.example has the nav line on 3 pages only.
    assert result.kept["n00"] == "\n".join([body.format(0), cookie, related, related, related])
    assert result.kept["n11"] == body.format(11)
    assert result.rejected == {"n13": (["remove_domain_boilerplate:under_33_chars"], None)}
    assert result.kept["b00"] == f"{nav}\n{body.format(0)}" and result.kept["z"] == "tiny"
    assert len(result.kept) == 13 + 3 + 1
    assert result.notes == {("crawl", "remove_domain_boilerplate:lines_removed"): 14,
                            ("crawl", "remove_domain_boilerplate:docs_changed"): 14}


def test_domain_sample_is_the_pages_with_the_smallest_id_hashes(tmp_path):
    ids = [f"n{i:02d}" for i in range(8)]
    sampled = sorted(ids, key=sample_key)[:4]
    unsampled = [i for i in ids if i not in sampled]
    # "Tag line" is on 2 sampled pages (and 1 other): more than min_pages 1 in the sample, so it
    # goes from all 3. "Other line" is on 5 pages but only 1 sampled one, so it stays.
    tag = set(sampled[:2] + unsampled[:1])
    other = set(unsampled + sampled[2:3])
    pages = [crawl_page(int(i[1:]), [f"Page {i} has its own text, long enough to stay."]
                        + ["Tag line"] * (i in tag) + ["Other line"] * (i in other)) for i in ids]
    result = run_corpus_stages([RemoveDomainBoilerplate(sample_pages=4, min_pages=1)], [pages], tmp_path)
    assert result.notes == {("crawl", "remove_domain_boilerplate:lines_removed"): 3,
                            ("crawl", "remove_domain_boilerplate:docs_changed"): 3}
    assert sum("Other line" in text for text in result.kept.values()) == 5


# --- end to end on the pseudo-crawl demo --------------------------------------------------------

def test_pseudo_crawl_demo_ledger_balances_and_counts_the_removals(tmp_path):
    path = tmp_path / "crawl.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: crawl
        output: {tmp_path}/out
        sources:
          - kind: pseudo_crawl
            paths: ["{DEMO}/pseudo_crawl/*.warc.gz"]
            seeds: {DEMO}/pseudo_crawl/seeds.txt
          - kind: catalogue
            paths: [{DEMO}/catalogue/chatterbot_bn]
            lang: bn
        stages:
          - clean_text
          - remove_domain_boilerplate: {{min_pages: 3}}
          - dedup_lines_in_document: {{datasets: [pseudo_crawl]}}
          - dedup_document
        """))
    recipe = load_recipe(str(path))
    result = run_recipe(recipe, [], show_progress=False)
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats == result.stats and all(row["balanced"] for row in stats["balance"])

    # The same numbers, computed here from the records themselves.
    read = {spec.kind: [d for split in plan_source(spec, recipe.limits, "test", index) for d in split.read()
                        if isinstance(d, Document) and not d.reasons]
            for index, spec in enumerate(recipe.sources)}
    pages = [clean_text(d.text) for d in read["pseudo_crawl"]]
    assert {d.meta["domain"] for d in read["pseudo_crawl"]} == {"www.debian.org"}
    distinct = set(pages)
    on_pages = collections.Counter(ln for page in distinct for ln in {ln.strip() for ln in page.split("\n")})
    boilerplate = {line for line, count in on_pages.items() if count > max(3, 0.01 * len(distinct))}
    removed = sum(ln.strip() in boilerplate for page in pages for ln in page.split("\n"))
    cleaned = ["\n".join(ln for ln in page.split("\n") if ln.strip() not in boilerplate) for page in pages]
    assert min(len(text.strip()) for text in cleaned) >= 33  # no page left too short
    repeated = sum(len([ln for ln in text.split("\n") if ln]) - len({ln for ln in text.split("\n") if ln})
                   for text in cleaned)
    copies = len(cleaned) - len(set(cleaned))  # pr01.html is served twice
    assert boilerplate and removed > 0 and repeated > 0 and copies == 1

    crawl = [e for e in stats["entries"] if e["source"] == "pseudo_crawl"]
    notes = collections.Counter()
    for entry in crawl:
        notes.update(entry["notes"])
    assert notes["remove_domain_boilerplate:lines_removed"] == removed
    assert notes["dedup_lines_in_document:lines_removed"] == repeated
    assert sum(e["duplicate"]["docs"] for e in crawl) == copies
    assert {r for e in crawl for r in e["duplicate"].get("by_reason", {})} == {"dedup_document:duplicate"}
    assert sum(e["kept"]["docs"] for e in crawl) == len(cleaned) - copies
    # The catalogue dataset is outside both selections, though it has repeated lines of its own.
    bengali = [e for e in stats["entries"] if e["source"] == "catalogue"]
    assert not any(note.startswith(("dedup_lines_in_document", "remove_domain_boilerplate"))
                   for e in bengali for note in e["notes"])
    assert sum(len(t.split("\n")) - len(set(t.split("\n"))) for t in (d.text for d in read["catalogue"])) > 0
