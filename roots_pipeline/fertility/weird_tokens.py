"""Vocabulary entries that reveal pathologies in the training data.

BigScience found URLs among BLOOM's early tokens and traced them to duplicated lines in the
tokenizer's training text (ROOTS.md §7). A token worth its vocabulary slot is a piece of words; a
token that is a URL fragment, an e-mail fragment, a long run of digits, markup, or one character
repeated, was learnt from text repeated often enough to look frequent: boilerplate, navigation,
tables, templates. Each category is a regular expression on the token's text; a token can be in
several.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tokenizers import Tokenizer

from roots_pipeline.fertility.tokenizer import SPECIAL_TOKENS, token_text

CATEGORIES: dict[str, re.Pattern[str]] = {
    "url": re.compile(r"(?i)https?|www\.|://|\.(?:com|org|net|html?|php|aspx?)\b"),
    "email": re.compile(r"(?i)mailto|[\w.+-]@|@[\w-]+\.|@(?:gmail|yahoo|hotmail|outlook)"),
    "digits": re.compile(r"\d{5,}"),
    "markup": re.compile(r"</?[A-Za-z][\w-]*|/>|&(?:[a-z]+|#\d+);|\{\{|\}\}|\[\[|\]\]|\\[a-z]+\{"),
    "repeated": re.compile(r"(.)\1{3,}", re.DOTALL),
}
DESCRIPTIONS = {
    "url": "URL fragments (http, www., ://, .com, .html…)",
    "email": "e-mail fragments (x@, @domain., mailto)",
    "digits": "runs of 5 or more digits",
    "markup": "HTML/XML tags, entities, wiki or LaTeX markup",
    "repeated": "one character repeated 4 or more times (including spaces)",
}


def weird_tokens(tokenizer: Tokenizer, occurrences: Mapping[int, int], examples: int = 20) -> dict[str, Any]:
    """Return, per category, how many vocabulary entries fall in it and the most used ones.

    `occurrences` counts each token id in the evaluated text; entries are listed most frequent
    first, then by id (BPE learns the most frequent merges first, so a low id means frequent).
    """
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in CATEGORIES}
    for token_id in range(tokenizer.get_vocab_size()):
        piece = tokenizer.id_to_token(token_id)
        if piece is None or piece in SPECIAL_TOKENS:
            continue
        text = token_text(tokenizer, token_id)
        for name, pattern in CATEGORIES.items():
            if pattern.search(text):
                found[name].append({"id": token_id, "token": text,
                                    "occurrences": occurrences.get(token_id, 0)})
    result = {}
    for name, entries in found.items():
        entries.sort(key=lambda entry: (-entry["occurrences"], entry["id"]))
        result[name] = {"description": DESCRIPTIONS[name], "count": len(entries),
                        "occurrences": sum(entry["occurrences"] for entry in entries),
                        "examples": entries[:examples]}
    return result
