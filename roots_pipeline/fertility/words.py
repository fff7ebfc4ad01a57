"""Counting the words of a text in its language, the denominator of fertility.

Words are the ones ROOTS's filters count (`filters.words.words_from_text`, as the number_words
score): whitespace languages split on " ", "\\n", "\\t" and lose special characters at both ends;
SentencePiece languages (zh) use the pieces of the language's SentencePiece model, taken from
`<models>/<lang>.sp.model` when there is one.

Without that model (the usual case: ROOTS's came from a Hub repository), a SentencePiece
language falls back to counting characters: every character of a script written without spaces
(Han, kana, Thai, Lao, Myanmar, Khmer) is a word, punctuation and symbols are not, and runs of
other letters between spaces are words as in whitespace languages. Chinese fertility is then
tokens per character, lower than BLOOM's figures per segmented word (UD), but the monolingual
and multilingual tokenizers are measured on the same words, so their relative difference — the
number the +10% objective is about — does not depend on the choice.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from roots_pipeline.errors import RootsError
from roots_pipeline.filters.words import clean_words, split_on_whitespace, words_from_text
from roots_pipeline.lang.codes import UNDETERMINED
from roots_pipeline.lang.config import DEFAULT, character_set, load_language
from roots_pipeline.lm.perplexity import find_models

WHITESPACE = "whitespace"
SENTENCEPIECE = "sentencepiece"
CHARACTERS = "characters"
# Scripts written without spaces between words: each character counts as a word in the fallback.
_UNSPACED = re.compile("([\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff"
                       "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f])")


@dataclass(frozen=True)
class WordCounter:
    """Counts a language's words; `method` says how (whitespace, sentencepiece or characters)."""

    lang: str
    method: str
    count: Callable[[str], int]


def character_words(text: str, strip: frozenset[str]) -> list[str]:
    """Return the words of the fallback: each character of an unspaced script, and the cleaned runs
    of other characters between spaces; punctuation and symbols are not words."""
    words: list[str] = []
    for token in split_on_whitespace(text):
        for part in _UNSPACED.split(token):
            if not part:
                continue
            if _UNSPACED.fullmatch(part):
                if unicodedata.category(part)[0] not in "PSZ":
                    words.append(part)
            else:
                words += clean_words([part], strip, lower_case=False)
    return words


def word_counter(lang: str, models: str | None) -> WordCounter:
    """Return the word counter of a language (`und` and languages without a file count as default.yaml
    says: by whitespace)."""
    config = load_language(DEFAULT if lang == UNDETERMINED else lang, fallback=True)
    strip = character_set(config.strip_characters)
    if config.word_split == WHITESPACE:
        return WordCounter(lang, WHITESPACE, lambda text: len(words_from_text(text, strip, lower_case=False)))
    pair = find_models(models, lang) if models else None
    if pair is None:
        return WordCounter(lang, CHARACTERS, lambda text: len(character_words(text, strip)))
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor()
    try:
        processor.Load(pair[0])
    except (OSError, RuntimeError) as exc:
        raise RootsError(f"{pair[0]}: not a SentencePiece model ({exc})") from exc
    encode = processor.EncodeAsPieces
    return WordCounter(lang, SENTENCEPIECE,
                       lambda text: len(words_from_text(text, strip, lower_case=False, encode=encode)))
