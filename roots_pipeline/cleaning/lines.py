"""Line-level text edits: ROOTS's maps that drop whole lines, join lines, or cut the tail.

A line is what lies between two "\\n" (ROOTS split on "\\n" only; `clean_text` has already turned
"\\r\\n" and "\\r" into "\\n"). Every editing function returns the new text and the number of lines
it removed, so a stage can count what it did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

# DP 01a clean.py MAPS, the arguments of `build_line_with_substring_remover`.
CODE_MARKERS = ("{", "}", "[if", "<script")
HTML_SPAN_MARKERS = ("<span", "</span>", "<div", "</div>", "<a", "</a>", "br>")
SANAD_MARKERS = ("<img", "]]>", "<![CDATA", "//DW", "var ", "xtImg",
                 "To view this video please enable JavaScript")
WIKI_MOJIBAKE_MARKERS = ("À À",)


def remove_lines_containing(text: str, markers: Sequence[str]) -> tuple[str, int]:
    """Return `text` without the lines that contain any of `markers`, and how many lines went.

    ROOTS's `build_line_with_substring_remover`: a plain substring test, case-sensitive, so
    `remove_lines_with_code` drops "if (x) {" but keeps "if x then".
    """
    if not any(marker in text for marker in markers):  # most texts: no split, no join
        return text, 0
    lines = text.split("\n")
    kept = [line for line in lines if not any(marker in line for marker in markers)]
    return "\n".join(kept), len(lines) - len(kept)


def replace_newlines(text: str) -> str:
    """Return `text` with every "\\n" replaced by a space (ROOTS's `replace_newline_with_space`).

    ROOTS ran it last on Wikipedia-like datasets after `split_sentences_<lang>`, to turn
    one-sentence-per-line text back into running paragraphs.
    """
    return text.replace("\n", " ")


def remove_repeated_lines(text: str) -> tuple[str, int]:
    """Return `text` keeping only the first occurrence of each line, and how many lines went.

    DP `doc_by_doc_line_dedup.py` (pseudo-crawl): lines are compared exactly (not stripped), and
    empty lines are always kept so paragraph breaks survive.
    """
    lines = text.split("\n")
    seen: set[str] = set()
    kept = []
    for line in lines:
        if line and line in seen:
            continue
        seen.add(line)
        kept.append(line)
    if len(kept) == len(lines):
        return text, 0
    return "\n".join(kept), len(lines) - len(kept)


def cut_trailing_lines(text: str, keeps: Callable[[str], bool]) -> tuple[str, int]:
    """Return `text` without its trailing run of lines for which `keeps` is false, and its length.

    The shape of ROOTS's `remove_references_<lang>`: everything up to the last line that passes
    stays, even failing lines in the middle; a text where no line passes becomes "". Lines are
    tested from the end, so a long document costs one test per line of its tail.
    """
    lines = text.split("\n")
    end = len(lines)
    while end and not keeps(lines[end - 1]):
        end -= 1
    if end == len(lines):
        return text, 0
    return "\n".join(lines[:end]), len(lines) - end
