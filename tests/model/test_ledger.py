"""The ledger refuses to balance when documents go missing."""

from __future__ import annotations

import pytest

from roots_pipeline.errors import LedgerImbalance
from roots_pipeline.ledger import assert_balanced, build_stats, sum_counts


def test_balanced_and_imbalanced():
    rows = [
        (("oscar", "oscar", "fr", "in", ""), (10, 1000)),
        (("oscar", "oscar", "fr", "kept", ""), (7, 700)),
        (("oscar", "oscar", "fr", "rejected", "x:y"), (2, 200)),
        (("oscar", "oscar", "und", "malformed", "invalid_json"), (1, 10)),
        (("oscar", "oscar", "fr", "note", "skipped"), (4, 0)),
    ]
    stats = build_stats(rows)
    assert_balanced(stats)
    (fr,) = [e for e in stats["entries"] if e["lang"] == "fr"]
    assert fr["rejected"]["by_reason"] == {"x:y": {"docs": 2, "bytes": 200}}
    assert fr["notes"] == {"skipped": 4}
    stats = build_stats(rows[:-2])
    with pytest.raises(LedgerImbalance, match="oscar/oscar: in 10 != kept 7 \\+ rejected 2"):
        assert_balanced(stats)


def test_sum_counts_is_associative():
    parts = [(1, 10), (2, 20), (3, 30)]
    assert sum_counts([sum_counts(parts[:2]), sum_counts(parts[2:])]) == sum_counts(parts) == (6, 60)
