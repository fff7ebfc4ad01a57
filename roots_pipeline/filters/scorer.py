"""Scoring and deciding, for one language: the ROOTS OSCAR filter as the pipeline and `roots score`
run it.

Stage A modifies the text, the six text scores are computed on the modified text, lang-id and
perplexity come from models, and `failed_filters` compares every score with the language's
cutoffs. One `LanguageScorer` per language and worker holds what is loaded once (word sets, the
SentencePiece model); the scores of a document never depend on the other documents of its batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from roots_pipeline.filters import SCORES, batch
from roots_pipeline.filters.modifications import INCORRECT_WORD_SUBSTRINGS, modify_document, modify_documents
from roots_pipeline.filters.scores import (
    CharacterRepetitionVersion,
    character_repetition,
    closed_class_words_ratio,
    flagged_words_ratio,
    number_words,
    word_repetition,
)
from roots_pipeline.filters.special_characters import special_characters_ratio
from roots_pipeline.filters.words import Encode, augment_words, clean_words, split_on_whitespace
from roots_pipeline.lang.config import LanguageConfig, character_set
from roots_pipeline.lm.normalization import normalize

# n-gram lengths used when a language turns a repetition filter off: the score is still stored.
DEFAULT_CHARACTER_NGRAM = 10
DEFAULT_WORD_NGRAM = 5


@dataclass(frozen=True)
class LanguageScorer:
    """What scoring one language needs, loaded once per worker.

    `encode` gives SentencePiece pieces for languages whose words are pieces (zh in ROOTS); when
    such a language has no model, `encode` is None and the word-based scores are left out (the
    filters that need them are then skipped, and the caller says so).
    """

    config: LanguageConfig
    character_repetition_version: CharacterRepetitionVersion = "production"
    encode: Encode | None = None

    @property
    def needs_pieces(self) -> bool:
        return self.config.word_split == "sentencepiece"

    def modify(self, text: str) -> str:
        """Return ROOTS's stage-A version of the text for this language, word by word as ROOTS."""
        return modify_document(text, **self._modifications())

    def modify_many(self, texts: Sequence[str]) -> list[str]:
        """Return `modify(text)` for each text: the same strings, computed faster over the batch."""
        return modify_documents(texts, **self._modifications())

    def _modifications(self) -> dict[str, Any]:
        modifications = self.config.modifications
        remove_words = modifications.remove_words_with_incorrect_substrings
        return {
            "chars": character_set(self.config.strip_characters),
            "uniform_whitespace": modifications.uniform_whitespace,
            "replace_unicode_punctuation": modifications.replace_unicode_punctuation,
            "incorrect_substrings": (modifications.incorrect_word_substrings or INCORRECT_WORD_SUBSTRINGS)
            if remove_words else None,
            "max_word_length": modifications.length_word_max_cutoff
            if modifications.remove_long_words else None,
        }

    def text_scores_many(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Return `text_scores(text)` for each (modified) text: equal values, computed with numpy.

        This is what the pipeline and `roots score` run; `text_scores` is the reference it is
        tested against.
        """
        config = self.config
        filters = config.filters
        augmentation = config.words_augmentation
        all_scores = batch.text_scores(
            texts,
            character_ngram=filters.character_repetition.length if filters.character_repetition
            else DEFAULT_CHARACTER_NGRAM,
            character_version=self.character_repetition_version,
            special=character_set(config.special_characters),
            strip=character_set(config.strip_characters),
            pieces=self.encode,
            sentencepiece=self.needs_pieces,
            word_ngram=filters.word_repetition.length if filters.word_repetition else DEFAULT_WORD_NGRAM,
            stopwords=config.stopword_set(),
            flagged=config.flagged_word_set(),
            augmentation=(augmentation.group_sizes, augmentation.join_char) if augmentation else None,
        )
        return [_ordered(scores) for scores in all_scores]

    def text_scores(self, text: str) -> dict[str, float]:
        """Return the scores computed from the (already modified) text alone, by their names.

        One document at a time with the functions of `scores`, `words` and `special_characters`,
        as ROOTS computes them. Word-based scores are absent for a SentencePiece language without
        a model; the stopword and flagged-word ratios are absent for a language without that list,
        as ROOTS skipped them.
        """
        config = self.config
        filters = config.filters
        scores: dict[str, float] = {}
        strip = character_set(config.strip_characters)
        repetition = filters.character_repetition
        n_chars = repetition.length if repetition else DEFAULT_CHARACTER_NGRAM
        version = self.character_repetition_version
        scores["character_repetition"] = character_repetition(text, n_chars, version)
        special = character_set(config.special_characters)
        scores["special_characters"] = special_characters_ratio(text, special)
        tokens = self._tokens(text)
        if tokens is None:
            return _ordered(scores)
        scores["number_words"] = number_words(clean_words(tokens, strip, lower_case=False))
        words = clean_words(tokens, strip, lower_case=True)
        n_words = filters.word_repetition.length if filters.word_repetition else DEFAULT_WORD_NGRAM
        scores["word_repetition"] = word_repetition(words, n_words)
        augmentation = config.words_augmentation
        augmented = (augment_words(words, augmentation.group_sizes, augmentation.join_char)
                     if augmentation else [])
        stopwords = config.stopword_set()
        if stopwords is not None:
            scores["closed_class_words"] = closed_class_words_ratio(words, stopwords, augmented)
        flagged = config.flagged_word_set()
        if flagged is not None:
            scores["flagged_words"] = flagged_words_ratio(words, flagged, augmented)
        return _ordered(scores)

    def _tokens(self, text: str) -> list[str] | None:
        """Return the unstripped words: whitespace pieces, or SentencePiece pieces (None: no model).

        Both ROOTS word lists (cased for the count, lowercased for the ratios) come from the same
        pieces: for SentencePiece languages the text is normalised with lowercasing either way.
        """
        if not self.needs_pieces:
            return split_on_whitespace(text)
        if self.encode is None:
            return None
        return self.encode(normalize(text, lower_case=True))


def _ordered(scores: dict[str, float]) -> dict[str, float]:
    """Return scores in ROOTS's evaluation order (SCORES), so every output lists them alike."""
    return {name: scores[name] for name in SCORES if name in scores}


def failed_filters(scores: Mapping[str, float], config: LanguageConfig) -> list[str]:
    """Return the name of every filter the scores fail, in ROOTS's order (not only the first).

    A filter whose cutoff is off, or whose score is absent (no model, no word list), is skipped.
    lang-id: ROOTS also required the language to be fastText's top label; a probability at or
    above any cutoff of 0.5 or more implies that, and every shipped cutoff is at least 0.6.
    """
    failed = []
    for name in SCORES:
        cutoff = getattr(config.filters, name)
        score = scores.get(name)
        if cutoff is None or score is None:
            continue
        low = getattr(cutoff, "min", None)
        high = getattr(cutoff, "max", None)
        if (low is not None and score < low) or (high is not None and score > high):
            failed.append(name)
    return failed


def score_texts(texts: Sequence[str], scorer: LanguageScorer,
                lang_id: Callable[[Sequence[str]], list[float]] | None,
                perplexity: Callable[[Sequence[str]], list[float]] | None,
                ) -> list[tuple[str, dict[str, float], list[str]]]:
    """Return (modified text, scores, failed filters) for each text of one language.

    `lang_id` and `perplexity` score a batch of modified texts at once (None = no model: those
    scores are absent and their filters skipped). ROOTS computed both on the stage-A text.
    """
    modified = scorer.modify_many(texts)
    all_scores = scorer.text_scores_many(modified)
    for name, model in (("lang_id", lang_id), ("perplexity", perplexity)):
        if model is not None:
            for scores, value in zip(all_scores, model(modified), strict=True):
                scores[name] = value
    results = []
    for text, scores in zip(modified, all_scores, strict=True):
        scores = _ordered(scores)
        results.append((text, scores, failed_filters(scores, scorer.config)))
    return results
