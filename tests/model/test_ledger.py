"""The ledger refuses to balance when documents go missing, per source and per language row."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from apache_beam.pvalue import TaggedOutput

from roots_pipeline.document import Document
from roots_pipeline.errors import LedgerImbalance
from roots_pipeline.ledger import ROW_FIELDS, Tally, assert_balanced, build_stats, row_field, sum_counts
from roots_pipeline.stages.apply import NOTES, REJECTED, ApplyStages
from roots_pipeline.stages.base import DocumentStage


def test_balanced_and_imbalanced():
    rows = [
        (("oscar", "oscar", "fr", "in", ""), (9, 990)),
        (("oscar", "oscar", "fr", "kept", ""), (7, 700)),
        (("oscar", "oscar", "fr", "rejected", "x:y"), (2, 200)),
        (("oscar", "oscar", "und", "in", ""), (1, 10)),
        (("oscar", "oscar", "und", "malformed", "invalid_json"), (1, 10)),
        (("oscar", "oscar", "fr", "note", "skipped"), (4, 0)),
    ]
    stats = build_stats(rows)
    assert_balanced(stats)
    (fr,) = [e for e in stats["entries"] if e["lang"] == "fr"]
    assert fr["rejected"]["by_reason"] == {"x:y": {"docs": 2, "bytes": 200}}
    assert fr["notes"] == {"skipped": 4}
    assert fr["relabelled_in"] == fr["relabelled_out"] == {"docs": 0, "bytes": 0} and fr["balanced"]
    stats = build_stats(rows[:1] + rows[2:-1])
    with pytest.raises(LedgerImbalance, match="oscar/oscar: in 10 != kept 0 \\+ rejected 2"):
        assert_balanced(stats)


def test_every_language_row_balances_with_its_relabelled_documents():
    read, moved = ("crawl", "pages", "und"), ("crawl", "pages", "en")
    rows = [
        ((*read, "in", ""), (5, 500)), ((*read, "rejected", "read:not_html"), (1, 0)),
        ((*read, "relabelled_out", "language_id:en"), (4, 400)),
        ((*moved, "relabelled_in", "language_id:und"), (4, 400)),
        ((*moved, "kept", ""), (3, 300)), ((*moved, "rejected", "quality_filter:number_words"), (1, 90)),
    ]
    stats = build_stats(rows)
    assert_balanced(stats)
    entries = {e["lang"]: e for e in stats["entries"]}
    assert entries["en"]["in"]["docs"] == 0 and entries["en"]["relabelled_in"]["docs"] == 4
    assert entries["en"]["relabelled_in"]["by_reason"] == {"language_id:und": {"docs": 4, "bytes": 400}}
    assert entries["und"]["relabelled_out"]["by_reason"] == {"language_id:en": {"docs": 4, "bytes": 400}}
    assert all(e["balanced"] for e in stats["entries"])
    (total,) = stats["balance"]
    assert total["in"] == 5 and total["relabelled_in"] == total["relabelled_out"] == 4 and total["balanced"]
    # The quality filter's rejection counted under the language the page was read with: the
    # source still adds up, but neither row does.
    misplaced = [((*read, *key[3:]), count) if key[4].startswith("quality_filter") else (key, count)
                 for key, count in rows]
    stats = build_stats(misplaced)
    assert all(row["balanced"] for row in stats["balance"])
    assert [e["balanced"] for e in stats["entries"]] == [False, False]
    with pytest.raises(LedgerImbalance) as error:
        assert_balanced(stats)
    assert str(error.value) == (
        "ledger does not balance: crawl/pages/en: in 0 + relabelled_in 4 != kept 3 + rejected 0 "
        "+ duplicate 0 + malformed 0 + relabelled_out 0; crawl/pages/und: in 5 + relabelled_in 0 "
        "!= kept 0 + rejected 2 + duplicate 0 + malformed 0 + relabelled_out 4")


def test_rows_of_an_older_ledger_read_as_never_relabelled():
    old = {"source": "oscar", "dataset": "oscar", "lang": "fr", "in": {"docs": 2, "bytes": 20},
           "kept": {"docs": 2, "bytes": 20}, "rejected": {"docs": 0, "bytes": 0},
           "duplicate": {"docs": 0, "bytes": 0}, "malformed": {"docs": 0, "bytes": 0}}
    assert [row_field(old, field)["docs"] for field in ROW_FIELDS] == [2, 0, 2, 0, 0, 0, 0]
    assert_balanced({"entries": [old], "balance": []})


@dataclass(frozen=True)
class _Identify(DocumentStage):
    name = "identify"

    def apply(self, doc: Document) -> None:
        if doc.lang == "und":
            doc.lang = "en"


@dataclass(frozen=True)
class _Reject(DocumentStage):
    name = "judge"

    def apply(self, doc: Document) -> None:
        if doc.text.startswith("bad"):
            doc.reasons.append("judge:bad")


def test_a_document_relabelled_then_rejected_is_rejected_under_its_new_language():
    """Read as `und`, identified as `en`, then rejected: `und` relabelled_out 1, `en` relabelled_in 1
    and rejected 1, and both rows balance."""
    batch = [Document("1", "bad page", "pseudo_crawl", "crawl", "und"),
             Document("2", "good page", "pseudo_crawl", "crawl", "und"),
             Document("3", "good text", "pseudo_crawl", "crawl", "fr")]
    fn = ApplyStages((_Identify(), _Reject()), None)
    fn.setup()
    tally = Tally()
    for doc in batch:
        tally.document(doc, "in")  # what the reader counts, before any stage
    out = list(fn.process(batch))
    kept = next(o for o in out if not isinstance(o, TaggedOutput))
    rejected = next(o.value for o in out if isinstance(o, TaggedOutput) and o.tag == REJECTED)
    moves = [o.value for o in out if isinstance(o, TaggedOutput) and o.tag == NOTES]
    assert sorted(moves) == [(("pseudo_crawl", "crawl", "en", "relabelled_in", "identify:und"), (2, 17)),
                             (("pseudo_crawl", "crawl", "und", "relabelled_out", "identify:en"), (2, 17))]
    for doc in kept:
        tally.document(doc, "kept")  # what the writers count
    for doc in rejected:
        tally.document(doc, "rejected", doc.reasons[0])
    stats = build_stats([*tally.items(), *moves])
    assert_balanced(stats)
    rows = {e["lang"]: {f: row_field(e, f)["docs"] for f in ROW_FIELDS} for e in stats["entries"]}
    assert rows["und"] == {"in": 2, "relabelled_in": 0, "kept": 0, "rejected": 0, "duplicate": 0,
                           "malformed": 0, "relabelled_out": 2}
    assert rows["en"] == {"in": 0, "relabelled_in": 2, "kept": 1, "rejected": 1, "duplicate": 0,
                          "malformed": 0, "relabelled_out": 0}
    assert rows["fr"]["in"] == rows["fr"]["kept"] == 1


def test_sum_counts_is_associative():
    parts = [(1, 10), (2, 20), (3, 30)]
    assert sum_counts([sum_counts(parts[:2]), sum_counts(parts[2:])]) == sum_counts(parts) == (6, 60)
