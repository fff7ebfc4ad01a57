"""The progress line: what a user watching a long run reads."""

from __future__ import annotations

from collections import Counter

from roots_pipeline.worker.progress import format_progress


def test_stages_appear_in_recipe_order_between_reads_and_writes():
    totals = {
        "write kept": Counter(docs=5),
        "quality_filter": Counter(kept=5, rejected=2),
        "clean_text": Counter(kept=7),
        "read oscar": Counter(docs=7),
        "pii_redaction": Counter(kept=5),
    }
    line = format_progress(totals, 12.4, ["clean_text", "quality_filter", "pii_redaction"])
    assert line == ("[   12s] read oscar docs 7 · clean_text kept 7 · quality_filter kept 5 rejected 2 · "
                    "pii_redaction kept 5 · write kept docs 5")
    assert format_progress({}, 0.0).endswith("starting…")
