"""BLOOM's tokenizer settings (ROOTS.md §7), trained with Hugging Face `tokenizers`.

Byte-level BPE, no normaliser, and BLOOM's pre-tokenizer: a `Split` on the regex
` ?[^(\\s|[.,!?…。，、।۔،])]+` with behaviour `isolated`, then `ByteLevel` without a prefix space and
without GPT-2's own regex. The regex is BLOOM's exactly, quirk included: its character class was
meant as "not whitespace and not this punctuation", but in a character class `(`, `|` and `)` are
literal, so those three characters split words too (`f(x)` → `f`, `(`, `x`, `)`). `tokenizers`
compiles it with the same regex engine as BLOOM's tokenizer.json did, so the split is BLOOM's, not
the rewritten pattern some ports use. Special tokens `<unk> <s> </s> <pad>` get ids 0-3, and every
one of the 256 bytes is in the initial alphabet, so no text is ever unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

BLOOM_SPLIT_PATTERN = " ?[^(\\s|[.,!?…。，、।۔،])]+"
SPECIAL_TOKENS = ("<unk>", "<s>", "</s>", "<pad>")
BLOOM_VOCAB_SIZE = 250_680


def bloom_tokenizer() -> Tokenizer:
    """Return an untrained tokenizer with BLOOM's model, pre-tokenizer and decoder (no normaliser)."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(BLOOM_SPLIT_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def train_tokenizer(batches: Iterable[list[str]], vocab_size: int) -> Tokenizer:
    """Return a BLOOM-configured byte-level BPE tokenizer trained on batches of texts.

    The vocabulary may come out smaller than `vocab_size` when the text has no more pairs to merge.
    """
    tokenizer = bloom_tokenizer()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(_non_empty(batches), trainer=trainer)
    return tokenizer


def _non_empty(batches: Iterable[list[str]]) -> Iterator[list[str]]:
    return (batch for batch in batches if batch)


def token_text(tokenizer: Tokenizer, token_id: int) -> str:
    """Return what a vocabulary entry stands for as text (bytes of a split character show as �)."""
    return tokenizer.decode([token_id], skip_special_tokens=False)
