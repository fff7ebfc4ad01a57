"""Document stages: pure text functions and their rejection reasons."""

from __future__ import annotations

from roots_pipeline.document import Document
from roots_pipeline.stages.clean_text import CleanText, clean_text
from roots_pipeline.stages.remove_small_docs import RemoveSmallDocs


def doc(text: str) -> Document:
    return Document("1", text, "oscar", "d", "fr")


def test_clean_text():
    assert clean_text("a \r\nb\x00\x1b\n\n\n\n\nc\t \n") == "a\nb\n\nc"
    assert clean_text("a\n\n\nb", max_blank_lines=0) == "a\nb"
    assert clean_text("a\n\n\n\nb", max_blank_lines=-1) == "a\n\n\n\nb"
    assert clean_text("x\u00a0é\u200by\n") == "x\u00a0é\u200by"  # only control characters go


def test_stages_change_and_reject():
    d = doc("  texte \r\n")
    CleanText().apply(d)
    assert d.text == "texte" and not d.reasons
    RemoveSmallDocs(min_bytes=6).apply(d)
    assert d.reasons == ["remove_small_docs:under_6_bytes"]
    empty = doc("")
    RemoveSmallDocs().apply(empty)
    assert empty.reasons == ["remove_small_docs:empty"]
    RemoveSmallDocs(min_bytes=2).apply(ok := doc("é"))  # 2 UTF-8 bytes
    assert not ok.reasons


def test_stage_notes_reach_the_ledger_output_once():
    from dataclasses import dataclass

    from apache_beam.pvalue import TaggedOutput

    from roots_pipeline.stages.apply import NOTES, REJECTED, ApplyStages
    from roots_pipeline.stages.base import DocumentStage

    @dataclass(frozen=True)
    class Mark(DocumentStage):
        name = "mark"

        def apply(self, doc: Document) -> None:
            doc.notes.append("mark:seen")
            if doc.text == "bad":
                doc.reasons.append("mark:bad")

    fn = ApplyStages((Mark(),), None)
    fn.setup()
    batch = [doc("good"), doc("bad"), doc("good too")]
    out = list(fn.process(batch))
    kept = [o for o in out if not isinstance(o, TaggedOutput)]
    tagged = {o.tag: o.value for o in out if isinstance(o, TaggedOutput)}
    assert [d.text for d in kept[0]] == ["good", "good too"]
    assert [d.text for d in tagged[REJECTED]] == ["bad"]
    assert tagged[NOTES] == (("oscar", "d", "fr", "note", "mark:seen"), (3, 0))
    assert all(not d.notes for d in batch)
