"""The six text scores of a batch of documents of one language, computed together with numpy.

`LanguageScorer.text_scores` computes them one document at a time with the functions of `scores`,
`words` and `special_characters`, the way ROOTS does; `text_scores` here gives the same values
(equal floats, not approximately: the property tests compare them on random text) several times
faster, because the per-character and per-word work runs as numpy passes over the code points of
many documents at once:

- character repetition and word repetition: `ngrams.count_ngrams`, exact n-gram counting by sort;
- special characters: a lookup table over Unicode indexed by every code point;
- words: the separators and the characters outside the strip set give every word's span in the
  batch's joined text (SentencePiece pieces are joined by newlines); only the lowercased words
  become strings, the cased word count needs none;
- the stopword and flagged-word ratios: each distinct word of the batch is looked up once, and
  ROOTS's 2-gram augmentation becomes a lookup of word-id pairs.

Shared intermediate results (code points, spans, word ids) are computed once per document.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from roots_pipeline.filters.ngrams import chunks, code_points, count_ngrams, isqrt
from roots_pipeline.filters.words import clean_words
from roots_pipeline.lm.normalization import normalize

Scores = dict[str, float]
Words = tuple[np.ndarray, list[str], np.ndarray]  # cased word counts, lowercased words, their counts

_UNICODE_SIZE = 0x110000
_SEPARATOR_CODES = (ord(" "), ord("\n"), ord("\t"))


@functools.cache
def membership_table(chars: frozenset[str]) -> np.ndarray:
    """Return a bool per code point: is that one-character string in `chars`? (read-only)

    Longer members (multi-code-point emoji) are left out: ROOTS tests one character at a time.
    """
    table = np.zeros(_UNICODE_SIZE, np.bool_)
    table[[ord(char) for char in chars if len(char) == 1]] = True
    table.flags.writeable = False
    return table


@functools.cache
def _word_table(chars: frozenset[str]) -> np.ndarray:
    """Return a bool per code point: can it start or end a word (not a separator, not stripped)?"""
    table = ~membership_table(chars)
    table[list(_SEPARATOR_CODES)] = False
    table.flags.writeable = False
    return table


@functools.cache
def _pair_splits(listed: frozenset[str], join_char: str) -> dict[str, list[str]]:
    """Return, for each first word a, the words b such that a + join_char + b is in `listed`.

    Words are never empty, so a 2-gram matches an entry exactly when it is one of its splits.
    """
    splits: dict[str, list[str]] = defaultdict(list)
    for entry in listed:
        at = entry.find(join_char, 1)
        while at > 0 and at + len(join_char) < len(entry):
            splits[entry[:at]].append(entry[at + len(join_char):])
            at = entry.find(join_char, at + 1)
    return dict(splits)


def _spans(text: str, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the (start, end) of every word of `text`: a token between separators, stripped.

    `text` must start and end with a separator, so that tokens of joined documents never meet.
    Only separators and the characters a word can start or end with matter: a word starts at such
    a character whose previous one of them is a separator, and ends where the next one is.
    """
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    inner = np.take(table, codes)
    events = np.flatnonzero(inner | (codes == 32) | (codes == 10) | (codes == 9))
    kinds = np.take(inner, events)  # True: a word character, False: a separator
    first = np.flatnonzero(kinds[1:] & ~kinds[:-1]) + 1  # events[0] is a separator
    last = np.flatnonzero(kinds[:-1] & ~kinds[1:])  # and so is events[-1]
    return np.take(events, first), np.take(events, last) + 1


def _cut(text: str, starts: np.ndarray, ends: np.ndarray) -> list[str]:
    """Return text[start:end] for each span.

    A comprehension over plain ints: slice objects (`itemgetter(*map(slice, ...))`) would be
    tracked by the garbage collector, whose passes over a batch's objects then cost more than
    the cutting.
    """
    return [text[start:end] for start, end in zip(starts.tolist(), ends.tolist(), strict=True)]


def _segment_counts(flags: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return how many of `flags` are set in each consecutive segment of `counts[i]` flags.

    Positions and searchsorted: numpy's cumulative sum of booleans is several times slower.
    """
    return np.diff(np.searchsorted(np.flatnonzero(flags), np.concatenate(([0], np.cumsum(counts)))))


def _joined(texts: Sequence[str]) -> tuple[str, np.ndarray]:
    """Return the texts joined by "\\n" with one "\\n" before and after, and where each starts."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    return "\n" + "\n".join(texts) + "\n", np.cumsum(lengths + 1) - lengths


def whitespace_words(texts: Sequence[str], strip: frozenset[str]) -> Words:
    """Return the ROOTS words of each text: cased word counts, lowercased words, their counts.

    The same words as `words.words_from_text` with `lower_case=False` (only counted) and `True`.
    Lowercasing the whole text equals lowercasing each token: the separators are neither cased
    nor case-ignorable, so they bound the context of Greek final sigma.
    """
    table = _word_table(strip)
    joined, starts = _joined(texts)
    cased, _ = _spans(joined, table)
    cased_counts = np.diff(np.searchsorted(cased, np.append(starts, len(joined))))
    lowered, starts = _joined([text.lower() for text in texts])
    begins, ends = _spans(lowered, table)
    lower_counts = np.diff(np.searchsorted(begins, np.append(starts, len(lowered))))
    return cased_counts, _cut(lowered, begins, ends), lower_counts


def piece_words(pieces: Sequence[list[str]], strip: frozenset[str]) -> Words:
    """Return `whitespace_words`' three results for documents already cut into pieces (SentencePiece).

    The words are the pieces stripped, as `words.clean_words` makes them: one per piece that does
    not strip to nothing. Pieces joined by newlines are the words of `whitespace_words` as long as
    no piece holds a separator, which SentencePiece pieces never do (spaces become "▁", and
    normalisation removed newlines and tabs); otherwise `clean_words` does it piece by piece.
    """
    joined = ["\n".join(document) for document in pieces]
    if all(text.count("\n") == len(document) - 1 and " " not in text and "\t" not in text
           for text, document in zip(joined, pieces, strict=True) if document):
        found = [whitespace_words(joined[first:last], strip)
                 for first, last in chunks(list(map(len, joined)))]
        return (np.concatenate([cased for cased, _, _ in found] or [np.zeros(0, np.int64)]),
                [word for _, words, _ in found for word in words],
                np.concatenate([counts for _, _, counts in found] or [np.zeros(0, np.int64)]))
    cased = np.array([len(clean_words(document, strip, lower_case=False)) for document in pieces], np.int64)
    lowered = [clean_words(document, strip, lower_case=True) for document in pieces]
    return (cased, [word for words in lowered for word in words],
            np.array([len(words) for words in lowered], np.int64))


def _listed_hits(
    ids: np.ndarray,
    counts: np.ndarray,
    vocabulary: dict[str, int],
    words: list[str],
    listed: frozenset[str],
    augmentation: tuple[Sequence[int], str] | None,
) -> np.ndarray:
    """Return, per document, its words in `listed` plus its augmented n-grams in `listed`."""
    flags = np.fromiter(map(listed.__contains__, vocabulary), np.bool_, len(vocabulary))
    hits = _segment_counts(flags[ids], counts)
    if augmentation is None:
        return hits
    sizes, join_char = augmentation
    for size in sizes:
        if size == 2:
            hits += _pair_hits(ids, counts, vocabulary, listed, join_char)
        else:  # not in ROOTS's parameters: ROOTS's own joins, per document
            bounds = np.concatenate(([0], np.cumsum(counts))).tolist()
            for doc, (begin, end) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
                grams = words[begin:end]
                hits[doc] += sum(map(listed.__contains__, map(join_char.join, zip(
                    *(grams[i:] for i in range(size)), strict=False))))
    return hits


def _pair_hits(ids: np.ndarray, counts: np.ndarray, vocabulary: dict[str, int], listed: frozenset[str],
               join_char: str) -> np.ndarray:
    """Return, per document, how many of its consecutive word pairs, joined, are in `listed`."""
    size = len(vocabulary)
    wanted = [vocabulary[first] * size + vocabulary[second]
              for first, seconds in _pair_splits(listed, join_char).items() if first in vocabulary
              for second in seconds if second in vocabulary]
    if not wanted or len(ids) < 2:
        return np.zeros(len(counts), np.int64)
    wanted_keys = np.unique(np.array(wanted, np.int64))
    keys = ids[:-1] * size + ids[1:]  # the pair starting at each word
    at = np.minimum(np.searchsorted(wanted_keys, keys), len(wanted_keys) - 1)
    found = np.append(wanted_keys[at] == keys, False)
    # The last word of a document starts no pair (the next word is another document's).
    last = (np.cumsum(counts) - 1)[counts > 0]
    found[last] = False
    return _segment_counts(found, counts)


def text_scores(
    texts: Sequence[str],
    *,
    character_ngram: int,
    character_version: str,
    special: frozenset[str],
    strip: frozenset[str],
    pieces: Callable[[str], list[str]] | None,
    sentencepiece: bool,
    word_ngram: int,
    stopwords: frozenset[str] | None,
    flagged: frozenset[str] | None,
    augmentation: tuple[Sequence[int], str] | None,
) -> list[Scores]:
    """Return the text scores of each (stage-A) text, as `LanguageScorer.text_scores` would.

    `sentencepiece`: the words are SentencePiece pieces from `pieces`; without `pieces` such a
    language gets no word-based score.
    """
    if character_version not in ("production", "fixed"):
        raise ValueError(
            f"character_repetition version must be 'production' or 'fixed', got {character_version!r}")
    scores: list[Scores] = [{} for _ in texts]
    special_table = membership_table(special)
    cased_counts, words, lower_counts = [], [], []
    for first, last in chunks([len(text) for text in texts]):
        part = texts[first:last]
        codes, lengths = code_points(part)
        counts = count_ngrams(codes, lengths, character_ngram)
        k = isqrt(counts.distinct)
        k = np.minimum(k, counts.singletons if character_version == "production"
                       else counts.distinct - counts.singletons)
        specials = _segment_counts(np.take(special_table, codes), lengths)
        for doc, top, total, found, length in zip(scores[first:last], counts.top_sums(k).tolist(),
                                                  counts.totals.tolist(), specials.tolist(),
                                                  lengths.tolist(), strict=True):
            doc["character_repetition"] = top / total if total > 0 else 0.0
            doc["special_characters"] = found / length if length else 0.0
        if not sentencepiece:
            cased, lowered, lowered_counts = whitespace_words(part, strip)
            cased_counts.append(cased)
            words += lowered
            lower_counts.append(lowered_counts)
    if sentencepiece:
        if pieces is None:
            return scores
        documents = [pieces(normalize(text, lower_case=True)) for text in texts]
        cased, lowered, lowered_counts = piece_words(documents, strip)
        cased_counts.append(cased)
        words += lowered
        lower_counts.append(lowered_counts)
    number_words = np.concatenate(cased_counts).astype(np.int64) if cased_counts else np.zeros(0, np.int64)
    counts = np.concatenate(lower_counts).astype(np.int64) if lower_counts else np.zeros(0, np.int64)
    vocabulary: dict[str, int] = defaultdict()
    vocabulary.default_factory = vocabulary.__len__  # type: ignore[attr-defined]
    ids = np.fromiter(map(vocabulary.__getitem__, words), np.int64, len(words))
    repetition = count_ngrams(ids, counts, word_ngram)
    repeated = (repetition.totals - repetition.singletons).tolist()
    ratios: dict[str, list[int]] = {}
    for name, listed in (("closed_class_words", stopwords), ("flagged_words", flagged)):
        if listed is not None:
            ratios[name] = _listed_hits(ids, counts, vocabulary, words, listed, augmentation).tolist()
    for doc, (found, total, again, length) in enumerate(zip(
            number_words.tolist(), repetition.totals.tolist(), repeated, counts.tolist(), strict=True)):
        entry = scores[doc]
        entry["number_words"] = found
        entry["word_repetition"] = again / total if total > 0 else 0.0
        for name, hits in ratios.items():
            entry[name] = min(hits[doc] / length, 1.0) if length else 0.0
    return scores
