"""Minimal, lossless-in-spirit text hygiene every source needs before any scoring."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from roots_pipeline.document import Document
from roots_pipeline.errors import OptionError
from roots_pipeline.stages.base import DocumentStage, register

# C0/C1 control characters other than tab and newline: they break tokenizers and JSON tooling
# and never carry meaning in natural-language text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")


def clean_text(text: str, max_blank_lines: int = 1) -> str:
    """Return text with unified newlines, no control characters, no trailing spaces, trimmed.

    Runs of blank lines are cut to `max_blank_lines` so paragraph breaks survive but extraction
    debris (dozens of empty lines) does not; -1 keeps every blank line.
    """
    # Each pass runs only when a cheap substring test says it has something to do: most texts
    # are already clean, and this function runs on every document.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if " \n" in text or "\t\n" in text:
        text = _TRAILING_SPACE.sub("", text)
    if max_blank_lines >= 0 and "\n" * (max_blank_lines + 2) in text:
        text = _blank_run(max_blank_lines).sub("\n" * (max_blank_lines + 1), text)
    return text.strip()


@functools.cache
def _blank_run(max_blank_lines: int) -> re.Pattern[str]:
    """Match more than `max_blank_lines` blank lines (a run of n blank lines is n + 1 newlines)."""
    return re.compile(f"\n{{{max_blank_lines + 2},}}")


@register
@dataclass(frozen=True)
class CleanText(DocumentStage):
    """Unify newlines, drop control characters and trailing spaces, limit blank-line runs."""

    name = "clean_text"
    max_blank_lines: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_blank_lines < -1:
            raise OptionError("max_blank_lines", "must be -1 (keep all) or more")

    def apply(self, doc: Document) -> None:
        doc.text = clean_text(doc.text, self.max_blank_lines)
