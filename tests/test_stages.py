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
