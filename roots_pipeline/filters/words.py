"""ROOTS word extraction for the ratio filters (`ModifyingDocuments.get_words_from_document`).

Words here are a scoring device, not a tokenisation: they are split on three characters only,
lowercased for some scores and stripped of special characters at both ends, which is not
reversible. Whitespace languages split on " ", "\\n" and "\\t"; SentencePiece languages (zh in
ROOTS) normalise the text and take the model's pieces, passed in as `encode`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence

from roots_pipeline.lm.normalization import normalize

Encode = Callable[[str], list[str]]
"""A SentencePiece `encode_as_pieces`-like function: text in, pieces (with their "▁") out."""


def strip_characters(word: str, chars: Collection[str]) -> str:
    """Return `word` without the characters of `chars` at its start and end (may return "").

    Same result as `word.strip("".join(chars))`, but a set lookup per character: ROOTS's set
    has about 1,600 members (the emoji), which makes `str.strip` slow.
    """
    if not word or (word[0] not in chars and word[-1] not in chars):
        return word
    start, end = 0, len(word)
    while start < end and word[start] in chars:
        start += 1
    while end > start and word[end - 1] in chars:
        end -= 1
    return word[start:end]


def split_on_whitespace(text: str) -> list[str]:
    """Return the non-empty pieces of `text` split on " ", "\\n" and "\\t" (ROOTS's separators).

    Any other whitespace ("\\r", "\\v", U+3000 left by a disabled uniform-whitespace step...)
    stays inside the words, where `strip_characters` usually removes it from the ends.
    """
    if "\n" in text:
        text = text.replace("\n", " ")
    if "\t" in text:
        text = text.replace("\t", " ")
    return [token for token in text.split(" ") if token]


def clean_words(tokens: Iterable[str], chars: Collection[str], *, lower_case: bool) -> list[str]:
    """Return `tokens` optionally lowercased, then stripped of `chars` at both ends, empties dropped.

    The order matters and is ROOTS's: lowercase first, strip second. It makes a difference for
    the few cased letters in the special set: "Г" (Cyrillic capital) is stripped away, but its
    lowercase "г" is not, so the same token is a word for the stopword ratio but not for the
    word count.
    """
    if lower_case:
        tokens = (token.lower() for token in tokens)
    # Most tokens have no special character at either end: test that inline, call only for the rest.
    stripped = (token if token and token[0] not in chars and token[-1] not in chars
                else strip_characters(token, chars) for token in tokens)
    return [word for word in stripped if word]


def words_from_text(
    text: str,
    chars: Collection[str],
    *,
    lower_case: bool,
    encode: Encode | None = None,
) -> list[str]:
    """Return the ROOTS words of `text`: the unit of the word count and of the word ratios.

    Whitespace languages (`encode` is None): `split_on_whitespace`, then `clean_words`. ROOTS
    uses `lower_case=False` for the word count and `True` for word repetition, stopwords and
    flagged words.

    SentencePiece languages: the text is first normalised (non-printing characters removed,
    which joins lines without a space, stripped, lowercased whatever `lower_case` says, uniform
    whitespace, digits to "0", punctuation table), then `encode` gives the pieces, then
    `clean_words`. Pieces keep SentencePiece's "▁" marker, which is not a special character, so
    "▁" alone is a word and "▁的" differs from "的" in a stopword lookup, as in ROOTS.
    """
    if encode is None:
        return clean_words(split_on_whitespace(text), chars, lower_case=lower_case)
    pieces = encode(normalize(text, lower_case=True))
    return clean_words(pieces, chars, lower_case=lower_case)


def augment_words(words: Sequence[str], group_sizes: Iterable[int], join_char: str) -> list[str]:
    """Return every run of `group_size` consecutive words, joined by `join_char`, for each size.

    ROOTS's `words_augmentation` for the stopword and flagged-word ratios: Vietnamese writes
    one syllable per space-separated token, so "anh em" is only found by joining 2-grams with
    " "; Chinese pieces are joined with "". The runs are extra candidates; the ratio's
    denominator stays the number of words. ROOTS's parameters use group size 2 only.
    """
    augmented: list[str] = []
    for size in group_sizes:
        augmented.extend(join_char.join(words[i : i + size]) for i in range(len(words) - size + 1))
    return augmented
