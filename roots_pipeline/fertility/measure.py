"""Fertility: subword tokens per word, the measure BLOOM validated its tokenizer with (ROOTS.md §7).

Documents are encoded whole, as a model sees them (no special tokens added), and the tokens of all
documents are divided by their words. Between two tokenizers measured on the same documents the
words are the same, so the relative difference is the ratio of token counts minus one; BLOOM's
objective was a multilingual fertility at most 10% above the monolingual one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from tokenizers import Tokenizer

OBJECTIVE = 0.10


@dataclass
class Tally:
    """Tokens and words counted so far for one tokenizer on one language."""

    tokens: int = 0
    words: int = 0
    occurrences: Counter[int] = field(default_factory=Counter)

    @property
    def fertility(self) -> float | None:
        """Return tokens per word, None when no word was counted."""
        return self.tokens / self.words if self.words else None


def measure(tokenizers: Sequence[Tokenizer], batches: Iterable[list[str]], count_words: Callable[[str], int],
            count_ids: Sequence[bool] = ()) -> list[Tally]:
    """Return one tally per tokenizer over the same documents; where `count_ids[i]` is true, the
    tally also counts how often each token id occurs (for the weird-tokens report)."""
    tallies = [Tally() for _ in tokenizers]
    for batch in batches:
        words = sum(count_words(text) for text in batch)
        for i, (tokenizer, tally) in enumerate(zip(tokenizers, tallies, strict=True)):
            encodings = tokenizer.encode_batch(batch, add_special_tokens=False)
            tally.words += words
            tally.tokens += sum(len(encoding.ids) for encoding in encodings)
            if i < len(count_ids) and count_ids[i]:
                for encoding in encodings:
                    tally.occurrences.update(encoding.ids)
    return tallies


def relative_difference(multilingual: float | None, monolingual: float | None) -> float | None:
    """Return (multilingual − monolingual) / monolingual, None when either is unknown."""
    if multilingual is None or not monolingual:
        return None
    return multilingual / monolingual - 1
