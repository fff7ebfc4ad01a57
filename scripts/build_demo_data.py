#!/usr/bin/env python3
"""Rebuild the bundled demo data under ``tests/data/`` from real text installed offline.

Every document's text is taken from a real, installed source; nothing here is written by hand to look
real.  The sources (see ``tests/data/README.md`` for versions, paths and licences) are:

* Debian ``debian-reference-{en,es,fr,id,pt}`` -- the Debian Reference book, as plain text
  (``/usr/share/debian-reference/debian-reference.<lang>.txt.gz``) and as XHTML pages;
* Debian ``manpages-{fr,es,vi}`` -- translated man pages (groff, converted to plain text here);
* Debian ``fortunes-zh`` (Tang and Song poems), ``fortunes-es``, ``fortunes-br``;
* Debian ``python-markdown-doc`` -- one HTML page, used as the off-seed page of the pseudo-crawl;
* PyPI ``chatterbot-corpus`` -- YAML dialogues (bn, hi, zh).

Outputs (everything under ``tests/data/``, removed and rewritten on every run):

* ``demo/catalogue/<source>_<lang>/``: ``datasets.Dataset.save_to_disk`` folders;
* ``demo/catalogue_files/<source>_<lang>/``: the same kind of data as parquet and as jsonl;
* ``demo/oscar/``: OSCAR 21.09 (``<lang>_part_1.jsonl.gz``) and 22.01 (``<lang>_meta_part_1.jsonl.{gz,zst}``)
  dumps;
* ``demo/pseudo_crawl/``: gzipped WARC 1.0 files and ``seeds.txt``;
* ``bad/``: malformed inputs (truncated gzip, broken JSON, invalid UTF-8, decompression bomb, ...).

Deliberate junk (duplicates, near-duplicates, boilerplate, one-line documents, wrong-language sections)
is listed in a generated table inside ``tests/data/README.md`` (between the ``junk:begin``/``junk:end``
markers).  The build is deterministic: fixed seeds, sorted inputs, fixed WARC dates and record ids and
gzip ``mtime=0``; two runs with the same package versions give byte-identical files.

Usage::

    python scripts/build_demo_data.py [--out tests/data]

Needs: ``apt-get install -y debian-reference-en debian-reference-es debian-reference-fr
debian-reference-id debian-reference-pt manpages-fr manpages-es manpages-vi fortunes-zh fortunes-es
fortunes-br python-markdown-doc`` and ``pip install warcio datasets pyarrow zstandard pyyaml`` plus
``pip install --no-deps chatterbot-corpus==1.3.3``.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import importlib
import importlib.util
import io
import json
import random
import re
import shutil
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "tests" / "data"
SEED = 20240521

DEBREF_DIR = Path("/usr/share/debian-reference")
DEBREF_URL = "https://www.debian.org/doc/manuals/debian-reference/"
FORTUNES_DIR = Path("/usr/share/games/fortunes")
MARKDOWN_DOC = Path("/usr/share/doc/python-markdown-doc/docs/install.html")
MARKDOWN_URL = "https://python-markdown.github.io/install/"
CHATTERBOT_REPO_URL = "https://github.com/gunthercox/chatterbot-corpus/blob/master/chatterbot_corpus/data/"

# Package versions the committed data was built from; a different version only triggers a warning.
EXPECTED_VERSIONS = {
    "debian-reference-en": "2.100",
    "debian-reference-es": "2.100",
    "debian-reference-fr": "2.100",
    "debian-reference-id": "2.100",
    "debian-reference-pt": "2.100",
    "debian-reference-common": "2.100",
    "manpages-fr": "4.18.1-1",
    "manpages-es": "4.18.1-1",
    "manpages-vi": "4.18.1-1",
    "fortunes-zh": "2.98",
    "fortunes-es": "1.36",
    "fortunes-br": "20220821",
    "python-markdown-doc": "3.4.1-2+deb12u1",
    "chatterbot-corpus": "1.3.3",
}
PIP_MODULES = {
    "warcio": "warcio",
    "datasets": "datasets",
    "pyarrow": "pyarrow",
    "zstandard": "zstandard",
    "yaml": "pyyaml",
}

OSCAR_2109_START = datetime(2021, 2, 24, 10, 0, 0, tzinfo=timezone.utc)
OSCAR_2201_START = datetime(2021, 11, 27, 8, 0, 0, tzinfo=timezone.utc)
CRAWL_START = datetime(2023, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
UUID_NAMESPACE = uuid.UUID("6f1d3c52-6a55-4a8e-9d0b-2d3f0e0c5e11")

MIN_DOC_CHARS = 300
MAX_DOC_CHARS = 4000
MAX_NATURAL_DUPLICATES = 3
ENGLISH_MARKERS = frozenset(
    {
        "the",
        "and",
        "of",
        "to",
        "is",
        "in",
        "that",
        "for",
        "this",
        "with",
        "are",
        "be",
        "you",
        "as",
        "it",
        "on",
        "by",
        "can",
        "or",
        "not",
        "your",
        "from",
        "which",
    }
)
ANSI_ESCAPE_RE = re.compile(r"\x1b\[[0-9;]*m")
JUNK_BEGIN = "<!-- junk:begin -->"
JUNK_END = "<!-- junk:end -->"


class MissingSourceError(SystemExit):
    """Raised (as a clean exit) when a required package or file is not installed."""


# --------------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Doc:
    """One document: its text plus where it came from and, if it is deliberate junk, why."""

    text: str
    title: str
    source_file: str
    url: str = ""
    junk: str = ""
    junk_detail: str = ""
    junk_of: Doc | None = None


@dataclass
class JunkNote:
    """One row of the junk table written into the README."""

    file: str
    index: int
    kind: str
    detail: str


@dataclass
class BuildContext:
    """Shared state of one build: output root, package versions and the junk notes collected."""

    out: Path
    versions: dict[str, str]
    junk: list[JunkNote] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Checking that sources are installed
# --------------------------------------------------------------------------------------------------


def require_module(module: str) -> ModuleType:
    """Import ``module`` or exit naming the pip package that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingSourceError(
            f"error: Python module {module!r} is missing; install it with: pip install {PIP_MODULES[module]}"
        ) from exc


def require_path(path: Path, package: str, installer: str = "apt-get install -y") -> Path:
    """Return ``path`` or exit naming the package that installs it."""
    if not path.exists():
        raise MissingSourceError(f"error: {path} not found; install it with: {installer} {package}")
    return path


def dpkg_version(package: str) -> str:
    """Installed version of a Debian package, or exit naming it."""
    try:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}|${Version}", package],
            check=False,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError as exc:
        raise MissingSourceError("error: dpkg-query not found; this script needs a Debian system") from exc
    status, _, version = result.stdout.partition("|")
    if result.returncode != 0 or "installed" not in status.split():
        raise MissingSourceError(
            f"error: Debian package {package} is not installed; apt-get install -y {package}"
        )
    return version


def dpkg_file_list(package: str) -> list[str]:
    """Sorted list of the files a Debian package installed."""
    result = subprocess.run(["dpkg-query", "-L", package], check=True, capture_output=True, text=True)
    return sorted(line for line in result.stdout.splitlines() if line.strip())


def chatterbot_data_dir() -> Path:
    """Folder holding chatterbot-corpus's YAML files, or exit naming the pip package."""
    spec = importlib.util.find_spec("chatterbot_corpus")
    if spec is None or spec.origin is None:
        raise MissingSourceError(
            "error: chatterbot-corpus is not installed; pip install --no-deps chatterbot-corpus==1.3.3"
        )
    return Path(spec.origin).parent / "data"


def collect_versions() -> dict[str, str]:
    """Check every source is present, record its version and warn about versions that differ."""
    versions = {pkg: dpkg_version(pkg) for pkg in EXPECTED_VERSIONS if pkg != "chatterbot-corpus"}
    chatterbot_data_dir()
    from importlib.metadata import version as dist_version

    versions["chatterbot-corpus"] = dist_version("chatterbot-corpus")
    for module in PIP_MODULES:
        require_module(module)
    for pkg, expected in EXPECTED_VERSIONS.items():
        if versions[pkg] != expected:
            print(f"warning: {pkg} is {versions[pkg]}, data was built from {expected}", file=sys.stderr)
    return versions


# --------------------------------------------------------------------------------------------------
# Small text helpers
# --------------------------------------------------------------------------------------------------


def collapse_spaces(text: str) -> str:
    """Collapse runs of whitespace (including no-break spaces) into one space."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def english_marker_ratio(text: str) -> float:
    """Share of words that are common English function words (detects untranslated sections)."""
    words = re.findall(r"[a-z']+", text.lower())
    if not words:
        return 0.0
    return sum(word in ENGLISH_MARKERS for word in words) / len(words)


def letter_count(text: str) -> int:
    """Number of alphabetic characters (any script)."""
    return sum(ch.isalpha() for ch in text)


def truncate_paragraphs(lines: list[str], max_chars: int) -> list[str]:
    """Keep leading lines while the joined text stays within ``max_chars`` (at least one line)."""
    kept: list[str] = []
    total = 0
    for line in lines:
        if kept and total + len(line) + 1 > max_chars:
            break
        kept.append(line)
        total += len(line) + 1
    return kept


def stable_uuid(*parts: object) -> str:
    """Deterministic ``<urn:uuid:...>`` record id built from ``parts``."""
    return f"<urn:uuid:{uuid.uuid5(UUID_NAMESPACE, '|'.join(map(str, parts)))}>"


def sha1_base32(data: bytes) -> str:
    """Common Crawl style ``sha1:BASE32`` digest."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def iso_date(moment: datetime) -> str:
    """``2021-02-24T10:00:00Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def alternate_url(url: str) -> str:
    """The same page under a tracking-parameter variant of its URL (how crawls get exact copies)."""
    base, hash_mark, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}utm_source=mirror{hash_mark}{fragment}"


# --------------------------------------------------------------------------------------------------
# Debian Reference (plain text sections and XHTML pages)
# --------------------------------------------------------------------------------------------------

SECTION_HEADING_RE = re.compile(r"^(\d+(?:\.\d+)+)\. (\S.*)$")
CHAPTER_HEADING_RE = re.compile(r"^\S+ (\d+)\. (\S.*)$")
APPENDIX_HEADING_RE = re.compile(r"^\S+ ([A-Z])\. (\S.*)$")


def debref_text_path(lang: str) -> Path:
    """Path of the plain-text book for ``lang``."""
    return require_path(DEBREF_DIR / f"debian-reference.{lang}.txt.gz", f"debian-reference-{lang}")


def debref_page_path(page: str) -> Path:
    """Path of one XHTML page (``ch01.fr.html``, ``images/note.png``...)."""
    lang_match = re.search(r"\.([a-z]{2})\.html$", page)
    package = f"debian-reference-{lang_match.group(1)}" if lang_match else "debian-reference-common"
    return require_path(DEBREF_DIR / page, package)


def debref_anchor_map(lang: str, chapter: int) -> dict[str, str]:
    """Map section numbers (``1.2.13``) to page URLs with anchors, read from the chapter's TOC."""
    page = f"ch{chapter:02d}.{lang}.html"
    source = debref_page_path(page).read_text(encoding="utf-8")
    pattern = re.compile(r'<a href="(' + re.escape(page) + r'#[^"]+)">\s*(\d+(?:\.\d+)+)\. ')
    anchors: dict[str, str] = {}
    for href, number in pattern.findall(source):
        anchors.setdefault(number, DEBREF_URL + href)
    return anchors


def split_text_blocks(lines: list[str]) -> list[list[str]]:
    """Split lines into blank-line separated blocks."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def reflow_block(block: list[str]) -> list[str]:
    """Turn one w3m-rendered block into text lines: tables dropped, code kept, prose joined."""
    first = block[0].strip()
    if first.startswith(("+-", "|")):
        return []
    if first.startswith(("$ ", "# ")):
        return [collapse_spaces(line) for line in block if collapse_spaces(line)]
    joined = collapse_spaces(" ".join(block))
    if joined.startswith(("* ", "+ ")):
        joined = joined[2:]
    return [joined] if joined else []


def parse_debref_sections(lang: str) -> list[tuple[str, str, list[str]]]:
    """Sections of the book's chapters as ``(number, heading line, body lines)``, in book order."""
    with gzip.open(debref_text_path(lang), "rt", encoding="utf-8") as handle:
        raw_lines = [line.replace("\xa0", " ").rstrip("\n") for line in handle]
    sections: list[tuple[str, str, list[str]]] = []
    in_chapters = False
    number, heading, body = "", "", []
    for line in raw_lines:
        if APPENDIX_HEADING_RE.match(line) and in_chapters:
            break
        chapter_match = CHAPTER_HEADING_RE.match(line)
        section_match = SECTION_HEADING_RE.match(line)
        if chapter_match or section_match:
            if number:
                sections.append((number, heading, body))
            number, heading, body = "", "", []
            if chapter_match and chapter_match.group(1) == "1":
                in_chapters = True
            if section_match and in_chapters:
                number, heading = section_match.group(1), collapse_spaces(line)
            continue
        if number:
            body.append(line)
    if number:
        sections.append((number, heading, body))
    return sections


def debref_section_docs(lang: str, package_path: str) -> list[Doc]:
    """One document per book section (heading line + paragraphs), 300-4000 characters."""
    anchors: dict[int, dict[str, str]] = {}
    docs: list[Doc] = []
    for number, heading, body in parse_debref_sections(lang):
        lines = [heading]
        for block in split_text_blocks(body):
            lines.extend(reflow_block(block))
        lines = truncate_paragraphs(lines, MAX_DOC_CHARS)
        text = "\n".join(lines)
        if len(text) < MIN_DOC_CHARS or len(lines) < 3:
            continue
        chapter = int(number.split(".")[0])
        if chapter not in anchors:
            anchors[chapter] = debref_anchor_map(lang, chapter)
        url = anchors[chapter].get(number, f"{DEBREF_URL}ch{chapter:02d}.{lang}.html")
        docs.append(Doc(text=text, title=heading, source_file=package_path, url=url))
    return docs


class NavTextParser(HTMLParser):
    """Collect the text rows (text and image ``alt``) of DocBook ``navheader``/``navfooter`` divs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: dict[str, list[str]] = {"navheader": [], "navfooter": []}
        self._div: str | None = None
        self._depth = 0
        self._cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "div":
            if self._div:
                self._depth += 1
            elif attributes.get("class") in self.rows:
                self._div, self._depth = attributes["class"], 0
        elif self._div and tag == "img" and attributes.get("alt"):
            self._cells.append(attributes["alt"] or "")
        elif self._div and tag == "tr":
            self._cells = []

    def handle_endtag(self, tag: str) -> None:
        if not self._div:
            return
        if tag == "tr":
            row = collapse_spaces(" ".join(self._cells))
            if row:
                self.rows[self._div].append(row)
            self._cells = []
        elif tag == "div":
            if self._depth:
                self._depth -= 1
            else:
                self._div = None

    def handle_data(self, data: str) -> None:
        if self._div:
            self._cells.append(data)


def debref_nav_lines(lang: str, chapter: int) -> tuple[list[str], list[str]]:
    """The real navigation header and footer lines of a chapter page (repeated on every page)."""
    parser = NavTextParser()
    parser.feed(debref_page_path(f"ch{chapter:02d}.{lang}.html").read_text(encoding="utf-8"))
    return parser.rows["navheader"], parser.rows["navfooter"]


def add_debref_boilerplate(docs: list[Doc], lang: str, rng: random.Random, share: float) -> None:
    """Wrap a share of the section documents in their chapter's navigation header/footer lines."""
    candidates = [doc for doc in docs if not doc.junk]
    for doc in rng.sample(candidates, round(len(docs) * share)):
        chapter = int(doc.title.split(".")[0])
        header, footer = debref_nav_lines(lang, chapter)
        doc.text = "\n".join([*header, doc.text, *footer])
        doc.junk = "boilerplate"
        doc.junk_detail = "navigation header/footer lines of the chapter page added (recur in many docs)"


def select_debref_docs(lang: str, count: int, rng: random.Random, wrong_language: int) -> list[Doc]:
    """Pick ``count`` sections; for non-English books, ``wrong_language`` of them untranslated."""
    package_path = f"/usr/share/debian-reference/debian-reference.{lang}.txt.gz"
    docs = debref_section_docs(lang, package_path)
    if lang == "en":
        return sorted(rng.sample(docs, count), key=docs.index)
    translated = [doc for doc in docs if english_marker_ratio(doc.text) < 0.12]
    untranslated = [doc for doc in docs if english_marker_ratio(doc.text) >= 0.2]
    chosen = rng.sample(translated, count - wrong_language) + rng.sample(untranslated, wrong_language)
    for doc in chosen[count - wrong_language :]:
        doc.junk = "wrong-language"
        doc.junk_detail = f"section left untranslated (English) in the {lang} book"
    return sorted(chosen, key=docs.index)


def short_debref_lines(lang: str, count: int, rng: random.Random) -> list[Doc]:
    """Real one-line documents: short prose lines from the book."""
    candidates: list[tuple[str, str]] = []
    for number, heading, body in parse_debref_sections(lang):
        for block in split_text_blocks(body):
            for line in reflow_block(block):
                if 25 <= len(line) <= 90 and letter_count(line) > 15 and not line.startswith(("$", "#")):
                    candidates.append((line, f"{number} {heading}"))
    package_path = f"/usr/share/debian-reference/debian-reference.{lang}.txt.gz"
    return [
        Doc(text=line, title=title, source_file=package_path, url=f"{DEBREF_URL}index.{lang}.html")
        for line, title in rng.sample(sorted(set(candidates)), count)
    ]


# --------------------------------------------------------------------------------------------------
# Man pages (groff -> plain text)
# --------------------------------------------------------------------------------------------------

GROFF_SPECIAL_CHARS = {
    "em": "—",
    "en": "–",
    "aq": "'",
    "dq": '"',
    "lq": "“",
    "rq": "”",
    "oq": "‘",
    "cq": "’",
    "bu": "•",
    "co": "©",
    "rg": "®",
    "mu": "×",
    "de": "°",
    "ti": "~",
    "ha": "^",
    "Fo": "«",
    "Fc": "»",
    "fo": "‹",
    "fc": "›",
    "hy": "-",
    "ga": "`",
    "aa": "´",
    "rs": "\\",
    "ba": "|",
    "lh": "☜",
    "rh": "☞",
    "->": "→",
    "<-": "←",
    "<=": "≤",
    ">=": "≥",
    "tm": "™",
    "sq": "□",
}
BREAKING_REQUESTS = frozenset({"PP", "LP", "P", "sp", "br", "RS", "RE", "HP", "Sp", "TQ"})
ALTERNATING_FONT_REQUESTS = frozenset({"BR", "BI", "IB", "IR", "RB", "RI"})


def unescape_groff(text: str) -> str:
    """Replace groff escapes with the characters they print; drop font and spacing escapes."""
    text = re.sub(r'\\".*$', "", text)
    text = re.sub(r"\\f(?:\[[^\]]*\]|\(..|.)", "", text)
    text = re.sub(r"\\s[+-]?\d", "", text)
    text = re.sub(
        r"\\\*(?:\[([^\]]*)\]|\((..)|(.))", lambda m: GROFF_SPECIAL_CHARS.get(m[1] or m[2] or m[3], ""), text
    )
    text = re.sub(r"\\(?:\[([^\]]*)\]|\((..))", lambda m: GROFF_SPECIAL_CHARS.get(m[1] or m[2], ""), text)
    text = re.sub(r"\\[&,/^|:c]", "", text)
    text = re.sub(r"\\[ ~0]", " ", text)
    text = text.replace("\\-", "-").replace("\\e", "\\").replace("\\.", ".")
    return re.sub(r"\\(.)", r"\1", text)


def groff_arguments(rest: str) -> list[str]:
    """Split macro arguments, honouring double quotes."""
    return [quoted if quoted else bare for quoted, bare in re.findall(r'"([^"]*)"|(\S+)', rest)]


class GroffSectionReader:
    """Minimal man(7) reader: collects ``.SH`` sections as lists of plain-text paragraphs."""

    def __init__(self) -> None:
        self.sections: list[tuple[str, list[str]]] = []
        self._paragraph: list[str] = []
        self._no_fill = False
        self._skip_until_dots = False
        self._pending_heading = False

    def read(self, source: str) -> list[tuple[str, list[str]]]:
        """Parse a whole page and return ``(section name, paragraphs)`` pairs."""
        for line in source.splitlines():
            self._read_line(line)
        self._flush()
        return [(name, paragraphs) for name, paragraphs in self.sections if paragraphs or name]

    def _flush(self) -> None:
        text = collapse_spaces(" ".join(self._paragraph))
        self._paragraph = []
        if text and self.sections:
            self.sections[-1][1].append(text)

    def _add_text(self, text: str) -> None:
        if self._pending_heading:
            self.sections.append((collapse_spaces(text), []))
            self._pending_heading = False
            return
        self._paragraph.append(text)
        if self._no_fill:
            self._flush()

    def _read_line(self, line: str) -> None:
        if self._skip_until_dots:
            self._skip_until_dots = line.strip() != ".."
            return
        if not line.startswith((".", "'")):
            self._add_text(unescape_groff(line))
            return
        request, _, rest = line[1:].strip().partition(" ")
        self._read_request(request, rest)

    def _read_request(self, request: str, rest: str) -> None:
        args = groff_arguments(unescape_groff(rest))
        if request.startswith('\\"') or request == "":
            return
        if request in {"ig", "de", "de1", "am"}:
            self._skip_until_dots = True
        elif request == "SH":
            self._flush()
            if args:
                self.sections.append((collapse_spaces(" ".join(args)), []))
            else:
                self._pending_heading = True
        elif request in {"SS", "TP", "IP"}:
            self._flush()
            if request == "SS" and args:
                self._add_text(" ".join(args))
                self._flush()
            elif request == "IP" and args and args[0] not in {"•", "-"}:
                self._add_text(args[0])
        elif request in {"nf", "EX"}:
            self._flush()
            self._no_fill = True
        elif request in {"fi", "EE"}:
            self._flush()
            self._no_fill = False
        elif request in ALTERNATING_FONT_REQUESTS:
            self._add_text("".join(args))
        elif request in {"B", "I", "SM", "SB"}:
            self._add_text(" ".join(args))
        elif request in BREAKING_REQUESTS:
            self._flush()


def manpage_paths(package: str, lang_dir: str) -> list[str]:
    """Sorted gzip man pages (sections 1, 5, 8) that ``package`` installs for ``lang_dir``."""
    pattern = re.compile(rf"^/usr/share/man/{lang_dir}/man[158]/[^/]+\.gz$")
    return [path for path in dpkg_file_list(package) if pattern.match(path)]


def manpage_title(path: str) -> str:
    """``/usr/share/man/fr/man1/cat.1.gz`` -> ``cat(1)``."""
    name = Path(path).name.removesuffix(".gz")
    stem, _, section = name.rpartition(".")
    return f"{stem}({section})"


def manpage_section_docs(path: str) -> list[Doc]:
    """One document per ``.SH`` section of one page (heading line + paragraphs)."""
    with gzip.open(path, "rt", encoding="utf-8", errors="strict") as handle:
        source = handle.read()
    if source.lstrip().startswith(".so "):
        return []
    docs = []
    for name, paragraphs in GroffSectionReader().read(source):
        lines = truncate_paragraphs([name, *paragraphs], MAX_DOC_CHARS)
        docs.append(Doc(text="\n".join(lines), title=f"{manpage_title(path)} {name}", source_file=path))
    return docs


def select_manpage_docs(package: str, lang_dir: str, count: int, rng: random.Random) -> list[Doc]:
    """Walk pages in a seeded order, keeping sections of 300+ chars (and a few one-line NAME ones).

    Translation-credit and bug-report sections recur verbatim across pages; only the first copy and
    ``MAX_NATURAL_DUPLICATES`` later ones are kept.
    """
    paths = manpage_paths(package, lang_dir)
    if not paths:
        raise MissingSourceError(f"error: no man pages found for {package}; apt-get install -y {package}")
    rng.shuffle(paths)
    chosen: list[Doc] = []
    short: list[Doc] = []
    seen: set[str] = set()
    natural_duplicates = 0
    for path in paths:
        for doc in manpage_section_docs(path):
            if doc.text in seen:
                if natural_duplicates >= MAX_NATURAL_DUPLICATES:
                    continue
                natural_duplicates += 1
            seen.add(doc.text)
            if len(doc.text) >= MIN_DOC_CHARS:
                chosen.append(doc)
            elif "\n" in doc.text and len(doc.text.split("\n", 1)[1]) >= 20 and len(short) < 3:
                short.append(doc)
        if len(chosen) >= count:
            break
    for doc in short:
        doc.text = doc.text.split("\n", 1)[1]
        doc.junk, doc.junk_detail = "short", "one-line NAME section (heading removed)"
    return chosen[:count] + short


# --------------------------------------------------------------------------------------------------
# chatterbot-corpus and fortunes
# --------------------------------------------------------------------------------------------------


def chatterbot_conversations(folder: str) -> list[tuple[str, list[str]]]:
    """``(relative yml path, utterances)`` per conversation, files sorted; scalars kept as strings."""
    yaml = require_module("yaml")
    data_dir = chatterbot_data_dir()
    conversations: list[tuple[str, list[str]]] = []
    for path in sorted((data_dir / folder).glob("*.yml")):
        content = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
        for conversation in content.get("conversations") or []:
            lines = [collapse_spaces(str(item)) for item in conversation if collapse_spaces(str(item))]
            if lines:
                conversations.append((f"{folder}/{path.name}", lines))
    return conversations


def chatterbot_docs(folder: str, min_chars: int) -> list[Doc]:
    """Group consecutive conversations of one file until a document reaches ``min_chars``."""
    docs: list[Doc] = []
    group: list[str] = []
    group_file = ""
    part = 0

    def close_group() -> None:
        nonlocal group, part
        if group:
            part += 1
            source_file = f"chatterbot_corpus/data/{group_file}"
            docs.append(
                Doc(
                    text="\n".join(group),
                    title=f"{group_file} #{part}",
                    source_file=source_file,
                    url=f"{CHATTERBOT_REPO_URL}{group_file}#conversation-group-{part}",
                )
            )
        group = []

    for relative, lines in chatterbot_conversations(folder):
        if relative != group_file:
            close_group()
            group_file, part = relative, 0
        group.extend(lines)
        if len("\n".join(group)) >= min_chars:
            close_group()
    close_group()
    return docs


def read_fortunes(path: Path) -> list[str]:
    """Entries of a fortune file (``%``-separated), ANSI colour codes removed."""
    text = ANSI_ESCAPE_RE.sub("", path.read_text(encoding="utf-8"))
    entries = [entry.strip("\n") for entry in re.split(r"^%$", text, flags=re.MULTILINE)]
    return [entry for entry in entries if entry.strip()]


def fortune_docs(package: str, relative: str, version: str, per_doc: int, limit: int) -> list[Doc]:
    """Documents of ``per_doc`` consecutive fortunes each (lines kept), at most ``limit``."""
    path = require_path(FORTUNES_DIR / relative, package)
    entries = read_fortunes(path)
    docs = []
    for start in range(0, len(entries) - per_doc + 1, per_doc):
        text = "\n".join(
            line.rstrip() for entry in entries[start : start + per_doc] for line in entry.splitlines()
        )
        text = re.sub(r"\n\s*\n", "\n", text).strip()
        docs.append(
            Doc(
                text=text,
                title=f"{relative} #{start + 1}",
                source_file=str(path),
                url=f"https://sources.debian.org/src/{package}/{version}/{relative}/#fortune-{start + 1}",
            )
        )
    return docs[:limit]


# --------------------------------------------------------------------------------------------------
# Junk injection and bookkeeping
# --------------------------------------------------------------------------------------------------


def most_common_line(docs: Iterable[Doc]) -> str:
    """The line that recurs in the most documents (a real boilerplate line of the source)."""
    counts = Counter(line for doc in docs for line in set(doc.text.split("\n")))
    ranked = sorted(counts.items(), key=lambda item: (len(item[0]) <= 30, -item[1], item[0]))
    return ranked[0][0]


def make_near_duplicate(original: Doc, extra_line: str, drop_line: bool) -> Doc:
    """Copy of ``original`` with a real line appended and, optionally, its last line removed."""
    lines = original.text.split("\n")
    if drop_line and len(lines) > 2:
        lines = lines[:-1]
    detail = "last line dropped and a boilerplate line appended" if drop_line else "boilerplate line appended"
    return Doc(
        text="\n".join([*lines, extra_line]),
        title=original.title,
        source_file=original.source_file,
        url=alternate_url(original.url) if original.url else "",
        junk="near-duplicate",
        junk_detail=detail,
        junk_of=original,
    )


def inject_junk(
    docs: list[Doc],
    rng: random.Random,
    short_docs: list[Doc],
    n_exact: int = 2,
    n_near: int = 2,
) -> list[Doc]:
    """Return ``docs`` with exact copies, near copies and one-line documents inserted at seeded places."""
    clean = [doc for doc in docs if not doc.junk]
    originals = rng.sample(clean, n_exact + n_near)
    boilerplate = most_common_line(docs)
    extra: list[Doc] = []
    for original in originals[:n_exact]:
        copy_url = alternate_url(original.url) if original.url else ""
        extra.append(
            Doc(
                original.text, original.title, original.source_file, copy_url, "exact-duplicate", "", original
            )
        )
    for index, original in enumerate(originals[n_exact:]):
        extra.append(make_near_duplicate(original, boilerplate, drop_line=index % 2 == 1))
    for doc in short_docs:
        doc.junk = doc.junk or "short"
        doc.junk_detail = doc.junk_detail or "one real line"
    result = list(docs)
    for doc in extra + short_docs:
        result.insert(rng.randrange(len(result) + 1), doc)
    return result


def record_junk(ctx: BuildContext, relative: str, docs: list[Doc]) -> None:
    """Append junk notes for ``docs`` as written to ``relative`` (row = 0-based position in the file)."""
    position = {id(doc): index for index, doc in enumerate(docs)}
    originals = {id(doc.junk_of) for doc in docs if doc.junk_of is not None}
    first_with_text: dict[str, int] = {}
    for index, doc in enumerate(docs):
        detail = doc.junk_detail
        if doc.junk_of is not None:
            detail = f"copy of row {position[id(doc.junk_of)]}" + (f"; {detail}" if detail else "")
        if doc.junk:
            ctx.junk.append(JunkNote(relative, index, doc.junk, detail))
        elif doc.text in first_with_text and id(doc) not in originals:
            ctx.junk.append(
                JunkNote(
                    relative,
                    index,
                    "exact-duplicate",
                    f"natural: same text as row {first_with_text[doc.text]}",
                )
            )
        first_with_text.setdefault(doc.text, index)


# --------------------------------------------------------------------------------------------------
# Writers: compressed JSON lines
# --------------------------------------------------------------------------------------------------


def json_line(record: dict[str, Any]) -> bytes:
    """One UTF-8 JSON line (non-ASCII kept as is)."""
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def write_gzip(path: Path, chunks: Iterable[bytes], level: int = 9) -> None:
    """Write a reproducible gzip file (no name, ``mtime=0``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=level) as handle,
    ):
        for chunk in chunks:
            handle.write(chunk)


def zstd_bytes(data: bytes) -> bytes:
    """Zstandard frame with content size and checksum."""
    zstandard = require_module("zstandard")
    return zstandard.ZstdCompressor(level=19, write_checksum=True, write_content_size=True).compress(data)


# --------------------------------------------------------------------------------------------------
# OSCAR records
# --------------------------------------------------------------------------------------------------


def line_identification(line: str, lang: str) -> dict[str, Any] | None:
    """Heuristic per-line language label (no model is shipped): English markers or the file language."""
    letters = letter_count(line)
    if letters < 4:
        return None
    label = "en" if lang != "en" and english_marker_ratio(line) >= 0.2 else lang
    prob = 0.55 + 0.45 * letters / max(len(line), 1)
    return {"label": label, "prob": round(min(prob, 0.9999), 4)}


def document_identification(lines: list[str], sentence_ids: list[dict[str, Any] | None]) -> dict[str, Any]:
    """Length-weighted majority of the line labels, as OSCAR 22.01 does."""
    weights: Counter[str] = Counter()
    probs: Counter[str] = Counter()
    for line, ident in zip(lines, sentence_ids, strict=True):
        if ident:
            weights[ident["label"]] += len(line)
            probs[ident["label"]] += len(line) * ident["prob"]
    if not weights:
        return {"label": "unknown", "prob": 0.0}
    label = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[0][0]
    return {"label": label, "prob": round(probs[label] / sum(weights.values()), 4)}


def quality_warnings(lines: list[str]) -> list[str] | None:
    """OSCAR 22.01 style annotations: ``tiny`` (< 5 lines), ``short_sentences`` (most lines < 100 chars)."""
    warnings = []
    if len(lines) < 5:
        warnings.append("tiny")
    if sum(len(line) < 100 for line in lines) > len(lines) / 2:
        warnings.append("short_sentences")
    return warnings or None


def warc_headers_for(doc: Doc, lang: str, file_key: str, index: int, start: datetime) -> dict[str, str]:
    """Common Crawl WET-style headers shared by both OSCAR layouts."""
    data = doc.text.encode("utf-8")
    return {
        "warc-record-id": stable_uuid(file_key, index, "conversion"),
        "warc-date": iso_date(start + timedelta(seconds=37 * index)),
        "content-type": "text/plain",
        "content-length": str(len(data)),
        "warc-type": "conversion",
        "warc-identified-content-language": lang,
        "warc-target-uri": doc.url,
        "warc-block-digest": sha1_base32(data),
        "warc-refers-to": stable_uuid(file_key, index, "response"),
    }


def oscar_2109_records(docs: list[Doc], lang: str, file_key: str) -> list[dict[str, Any]]:
    """OSCAR 21.09 records: ``id``, ``text``, ``meta`` (headers, line offset, line count)."""
    records = []
    offset = 0
    for index, doc in enumerate(docs):
        nb_sentences = len(doc.text.split("\n"))
        headers = warc_headers_for(doc, lang, file_key, index, OSCAR_2109_START)
        meta = {"headers": headers, "offset": offset, "nb_sentences": nb_sentences}
        records.append({"id": index, "text": doc.text, "meta": meta})
        offset += nb_sentences
    return records


def oscar_2201_records(docs: list[Doc], lang: str, file_key: str) -> list[dict[str, Any]]:
    """OSCAR 22.01/23.01 records: ``content``, ``warc_headers``, ``metadata``."""
    records = []
    for index, doc in enumerate(docs):
        lines = doc.text.split("\n")
        sentence_ids = [line_identification(line, lang) for line in lines]
        headers = warc_headers_for(doc, lang, file_key, index, OSCAR_2201_START)
        metadata = {
            "identification": document_identification(lines, sentence_ids),
            "harmful_pp": None,
            "tlsh": None,
            "quality_warnings": quality_warnings(lines),
            "categories": None,
            "sentence_identifications": sentence_ids,
        }
        records.append({"content": doc.text, "warc_headers": headers, "metadata": metadata})
    return records


def write_oscar_file(ctx: BuildContext, name: str, docs: list[Doc], lang: str) -> list[dict[str, Any]]:
    """Write one OSCAR file; the layout and compression follow from its name."""
    path = ctx.out / "demo" / "oscar" / name
    relative = path.relative_to(ctx.out).as_posix()
    build = oscar_2201_records if "_meta_" in name else oscar_2109_records
    records = build(docs, lang, name)
    payload = [json_line(record) for record in records]
    if name.endswith(".zst"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(zstd_bytes(b"".join(payload)))
    else:
        write_gzip(path, payload)
    record_junk(ctx, relative, docs)
    return records


def build_oscar(ctx: BuildContext, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """All OSCAR demo files; returns the records per file (reused for the bad fixtures)."""
    written: dict[str, list[dict[str, Any]]] = {}
    for lang, name, count in (("en", "en_part_1.jsonl.gz", 90), ("id", "id_part_1.jsonl.gz", 80)):
        docs = select_debref_docs(lang, count, rng, wrong_language=0 if lang == "en" else 2)
        add_debref_boilerplate(docs, lang, rng, share=0.15)
        docs = inject_junk(docs, rng, short_debref_lines(lang, 2, rng), n_exact=3)
        written[name] = write_oscar_file(ctx, name, docs, lang)

    zh_version = ctx.versions["fortunes-zh"]
    poems = fortune_docs("fortunes-zh", "tang300", zh_version, 3, 70)
    poems += fortune_docs("fortunes-zh", "song100", zh_version, 2, 20)
    zh_short = [
        Doc(line, poem.title, poem.source_file, poem.url)
        for poem in rng.sample(poems, 2)
        for line in poem.text.split("\n")[2:3]
    ]
    written["zh_part_1.jsonl.gz"] = write_oscar_file(
        ctx, "zh_part_1.jsonl.gz", inject_junk(poems, rng, zh_short), "zh"
    )

    hi_docs = chatterbot_docs("hindi", min_chars=120)
    written["hi_part_1.jsonl.gz"] = write_oscar_file(
        ctx, "hi_part_1.jsonl.gz", inject_junk(hi_docs, rng, [], n_exact=1, n_near=1), "hi"
    )

    for lang, name, count, fortunes in (
        ("es", "es_meta_part_1.jsonl.gz", 80, ("fortunes-es", "es/ciencia.fortunes")),
        ("pt", "pt_meta_part_1.jsonl.gz", 80, ("fortunes-br", "brasil")),
        ("fr", "fr_meta_part_1.jsonl.zst", 70, None),
    ):
        docs = select_debref_docs(lang, count, rng, wrong_language=2)
        add_debref_boilerplate(docs, lang, rng, share=0.15)
        if fortunes:
            package, relative = fortunes
            docs += fortune_docs(package, relative, ctx.versions[package], 1, 12)
        docs = inject_junk(docs, rng, short_debref_lines(lang, 2, rng))
        written[name] = write_oscar_file(ctx, name, docs, lang)
    return written


# --------------------------------------------------------------------------------------------------
# Catalogue (datasets.save_to_disk, parquet, jsonl)
# --------------------------------------------------------------------------------------------------


def catalogue_columns(docs: list[Doc], text_column: str) -> dict[str, list[str]]:
    """Column-oriented view of the documents (text column name configurable)."""
    return {
        text_column: [doc.text for doc in docs],
        "title": [doc.title for doc in docs],
        "source_file": [doc.source_file for doc in docs],
    }


def save_hf_dataset(ctx: BuildContext, name: str, docs: list[Doc], num_shards: int) -> None:
    """Write ``demo/catalogue/<name>`` with ``Dataset.save_to_disk``."""
    datasets = require_module("datasets")
    features = datasets.Features({key: datasets.Value("string") for key in ("text", "title", "source_file")})
    dataset = datasets.Dataset.from_dict(catalogue_columns(docs, "text"), features=features)
    path = ctx.out / "demo" / "catalogue" / name
    dataset.save_to_disk(str(path), num_shards=num_shards)
    record_junk(ctx, path.relative_to(ctx.out).as_posix(), docs)


def save_parquet_parts(ctx: BuildContext, name: str, docs: list[Doc], parts: int) -> None:
    """Write ``demo/catalogue_files/<name>/part-<i>.parquet`` (rows split in order)."""
    pa = require_module("pyarrow")
    pq = importlib.import_module("pyarrow.parquet")
    folder = ctx.out / "demo" / "catalogue_files" / name
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(docs) // parts)
    for part in range(parts):
        chunk = docs[part * size : (part + 1) * size]
        table = pa.table(catalogue_columns(chunk, "text"))
        pq.write_table(table, folder / f"part-{part}.parquet", compression="zstd")
    record_junk(
        ctx, folder.relative_to(ctx.out).as_posix() + "/part-*.parquet (rows counted across parts)", docs
    )


def save_jsonl(ctx: BuildContext, name: str, docs: list[Doc]) -> None:
    """Write ``demo/catalogue_files/<name>/data.jsonl`` with the text in a ``content`` column."""
    path = ctx.out / "demo" / "catalogue_files" / name / "data.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = catalogue_columns(docs, "content")
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    path.write_bytes(b"".join(json_line(row) for row in rows))
    record_junk(ctx, path.relative_to(ctx.out).as_posix(), docs)


def chatterbot_short_docs(docs: list[Doc], rng: random.Random, count: int) -> list[Doc]:
    """One-line documents: single real utterances from the corpus."""
    lines = sorted({(line, doc.title, doc.source_file) for doc in docs for line in doc.text.split("\n")})
    return [Doc(line, title, source) for line, title, source in rng.sample(lines, count)]


def build_catalogue(ctx: BuildContext, rng: random.Random) -> None:
    """Catalogue datasets in the three supported storage formats."""
    manpages_fr = select_manpage_docs("manpages-fr", "fr", 150, rng)
    save_hf_dataset(ctx, "manpages_fr", inject_junk(manpages_fr, rng, []), num_shards=2)

    manpages_vi = select_manpage_docs("manpages-vi", "vi", 110, rng)
    save_hf_dataset(ctx, "manpages_vi", inject_junk(manpages_vi, rng, []), num_shards=1)

    bengali = chatterbot_docs("bengali", min_chars=200)
    bengali_short = chatterbot_short_docs(bengali, rng, 2)
    save_hf_dataset(ctx, "chatterbot_bn", inject_junk(bengali, rng, bengali_short), num_shards=1)

    manpages_es = select_manpage_docs("manpages-es", "es", 140, rng)
    save_parquet_parts(ctx, "manpages_es", inject_junk(manpages_es, rng, []), parts=2)

    chinese = chatterbot_docs("chinese", min_chars=150)
    chinese_short = chatterbot_short_docs(chinese, rng, 2)
    save_jsonl(ctx, "chatterbot_zh", inject_junk(chinese, rng, chinese_short))


# --------------------------------------------------------------------------------------------------
# Pseudo-crawl WARC files
# --------------------------------------------------------------------------------------------------


@dataclass
class CrawlPage:
    """One fetched resource: URL, body bytes, content type and HTTP status."""

    url: str
    body: bytes
    content_type: str
    status: str = "200 OK"
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    with_metadata: bool = False


def assert_well_formed_xhtml(body: bytes, url: str) -> None:
    """DocBook pages are XHTML: check a (trimmed or re-encoded) page still parses as XML."""
    try:
        ET.fromstring(body)
    except ET.ParseError as exc:
        raise RuntimeError(f"page for {url} is not well-formed XHTML: {exc}") from exc


def trim_chapter_page(source: str) -> str:
    """Keep a chapter page's head, navigation, TOC and first top-level section; drop the others."""
    lines = source.split("\n")
    starts = [i for i, line in enumerate(lines) if line == '      <div class="section">']
    footer = next(i for i, line in enumerate(lines) if line == '    <div class="navfooter">')
    if len(starts) < 2 or lines[footer - 1] != "    </div>":
        raise RuntimeError("unexpected chapter page layout; cannot trim")
    return "\n".join(lines[: starts[1]] + lines[footer - 1 :])


def latin1_page(source: str) -> bytes:
    """Re-encode a UTF-8 XHTML page as ISO-8859-1 (characters outside it become character references)."""
    source = source.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"', 1)
    source = source.replace("charset=UTF-8", "charset=ISO-8859-1", 1)
    return source.encode("iso-8859-1", errors="xmlcharrefreplace")


def debref_page(page: str, body: bytes | None = None, charset: str = "utf-8") -> CrawlPage:
    """A Debian Reference page fetched from www.debian.org."""
    data = body if body is not None else debref_page_path(page).read_bytes()
    return CrawlPage(DEBREF_URL + page, data, f"text/html; charset={charset}")


def crawl_pages_first() -> list[CrawlPage]:
    """Pages of ``crawl-00000.warc.gz``.

    en/fr/es HTML pages, a trimmed page, a latin-1 page, a PNG, a CSS file, an off-seed page, a redirect.
    """
    trimmed = trim_chapter_page(debref_page_path("ch08.en.html").read_text(encoding="utf-8")).encode("utf-8")
    latin1 = latin1_page(debref_page_path("apa.fr.html").read_text(encoding="utf-8"))
    pages = [
        debref_page("pr01.en.html"),
        debref_page("pr01.fr.html"),
        debref_page("pr01.es.html"),
        debref_page("ch08.en.html", trimmed),
        debref_page("apa.fr.html", latin1, charset="ISO-8859-1"),
        CrawlPage(
            DEBREF_URL + "images/note.png", debref_page_path("images/note.png").read_bytes(), "image/png"
        ),
        CrawlPage(
            DEBREF_URL + "debian-reference.css",
            debref_page_path("debian-reference.css").read_bytes(),
            "text/css",
        ),
        CrawlPage(
            MARKDOWN_URL,
            require_path(MARKDOWN_DOC, "python-markdown-doc").read_bytes(),
            "text/html; charset=utf-8",
        ),
        CrawlPage(
            "http://www.debian.org/doc/manuals/debian-reference/",
            b"",
            "text/html; charset=utf-8",
            "301 Moved Permanently",
            [("Location", DEBREF_URL + "index.en.html")],
        ),
    ]
    pages[0].with_metadata = True
    return pages


def crawl_pages_second() -> list[CrawlPage]:
    """Pages of ``crawl-00001.warc.gz``: id/pt pages, trimmed fr/es pages and a same-content URL variant."""
    pages = [debref_page("pr01.id.html"), debref_page("pr01.pt.html"), debref_page("apa.en.html")]
    for page in ("ch08.fr.html", "ch08.es.html"):
        trimmed = trim_chapter_page(debref_page_path(page).read_text(encoding="utf-8")).encode("utf-8")
        pages.append(debref_page(page, trimmed))
    negotiated = debref_page("pr01.en.html")
    negotiated.url = DEBREF_URL + "pr01.html"
    pages.append(negotiated)
    return pages


def outlinks(page: CrawlPage) -> list[str]:
    """Absolute targets of the page's ``href`` attributes (for the metadata record)."""
    hrefs = re.findall(rb'href="([^"#]+)', page.body)
    base = page.url.rsplit("/", 1)[0] + "/"
    links = {h.decode() if h.decode().startswith("http") else base + h.decode() for h in hrefs}
    return sorted(links)


def write_warc(path: Path, pages: list[CrawlPage], file_index: int) -> None:
    """Write a gzipped WARC 1.0: warcinfo, request/response pairs and metadata records."""
    warcio = require_module("warcio")
    from warcio.statusandheaders import StatusAndHeaders

    moment = CRAWL_START + timedelta(hours=file_index)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as output:
        writer = warcio.WARCWriter(output, gzip=True)
        info = (
            b"software: roots-pipeline scripts/build_demo_data.py (warcio WARCWriter)\r\n"
            b"format: WARC File Format 1.0\r\n"
            b"isPartOf: roots-pipeline-demo-pseudo-crawl\r\n"
            b"description: pages of the Debian Reference (debian-reference-* 2.100) and Python-Markdown "
            b"docs (python-markdown-doc), replayed from Debian packages\r\n"
        )
        writer.write_record(
            writer.create_warc_record(
                "",
                "warcinfo",
                payload=io.BytesIO(info),
                length=len(info),
                warc_content_type="application/warc-fields",
                warc_headers_dict={
                    "WARC-Record-ID": stable_uuid(path.name, "warcinfo"),
                    "WARC-Date": iso_date(moment),
                    "WARC-Filename": path.name,
                },
            )
        )
        for index, page in enumerate(pages):
            moment += timedelta(seconds=7)
            write_page_records(writer, StatusAndHeaders, page, path.name, index, moment)


def write_page_records(
    writer: Any, status_headers: Any, page: CrawlPage, name: str, index: int, moment: datetime
) -> None:
    """Write the request/response pair (and optional metadata record) for one page."""
    host = page.url.split("/")[2]
    target = "/" + page.url.split("/", 3)[3]
    http_date = moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
    request_headers = status_headers(
        f"GET {target} HTTP/1.1",
        [("Host", host), ("User-Agent", "roots-pipeline-demo/1.0"), ("Accept", "*/*")],
        protocol="HTTP/1.1",
        is_http_request=True,
    )
    response_headers = status_headers(
        page.status,
        [
            ("Content-Type", page.content_type),
            ("Content-Length", str(len(page.body))),
            ("Date", http_date),
            *page.extra_headers,
        ],
        protocol="HTTP/1.1",
    )
    date = iso_date(moment)
    response_id = stable_uuid(name, index, "response")
    response = writer.create_warc_record(
        page.url,
        "response",
        payload=io.BytesIO(page.body),
        length=len(page.body),
        http_headers=response_headers,
        warc_headers_dict={"WARC-Record-ID": response_id, "WARC-Date": date},
    )
    request = writer.create_warc_record(
        page.url,
        "request",
        http_headers=request_headers,
        warc_headers_dict={
            "WARC-Record-ID": stable_uuid(name, index, "request"),
            "WARC-Date": date,
            "WARC-Concurrent-To": response_id,
        },
    )
    writer.write_record(request)
    writer.write_record(response)
    if page.with_metadata:
        fields = "".join(f"outlink: {link} L a/@href\r\n" for link in outlinks(page))
        metadata = (f"fetchTimeMs: 212\r\n{fields}").encode()
        writer.write_record(
            writer.create_warc_record(
                page.url,
                "metadata",
                payload=io.BytesIO(metadata),
                length=len(metadata),
                warc_content_type="application/warc-fields",
                warc_headers_dict={
                    "WARC-Record-ID": stable_uuid(name, index, "metadata"),
                    "WARC-Date": date,
                    "WARC-Concurrent-To": response_id,
                },
            )
        )


def build_pseudo_crawl(ctx: BuildContext) -> None:
    """Two WARC files plus ``seeds.txt``."""
    folder = ctx.out / "demo" / "pseudo_crawl"
    pages_first = crawl_pages_first()
    for page in pages_first[3:5]:
        assert_well_formed_xhtml(page.body, page.url)
    write_warc(folder / "crawl-00000.warc.gz", pages_first, 0)
    pages_second = crawl_pages_second()
    for page in pages_second[3:5]:
        assert_well_formed_xhtml(page.body, page.url)
    write_warc(folder / "crawl-00001.warc.gz", pages_second, 1)
    (folder / "seeds.txt").write_text(
        "# Seed domains of the demo pseudo-crawl: one registered domain per line.\ndebian.org\n",
        encoding="utf-8",
    )


# --------------------------------------------------------------------------------------------------
# Bad-input fixtures
# --------------------------------------------------------------------------------------------------


def build_bad_fixtures(ctx: BuildContext, oscar: dict[str, list[dict[str, Any]]]) -> None:
    """Small malformed inputs made from real OSCAR 21.09 records."""
    folder = ctx.out / "bad"
    folder.mkdir(parents=True, exist_ok=True)
    english = oscar["en_part_1.jsonl.gz"]
    lines = [json_line(record) for record in english[:40]]
    write_truncated_gzip(folder / "truncated.jsonl.gz", lines[:30])
    write_invalid_json(folder / "invalid_json.jsonl", english[:8])
    write_invalid_utf8(folder / "invalid_utf8.jsonl", debref_records_with_e_acute(oscar))
    (folder / "not_gzip.jsonl.gz").write_bytes(b"".join(lines[:5]))
    write_corrupt_zst(folder / "corrupt.jsonl.zst", b"".join(lines[:30]))
    write_broken_warcs(folder)
    write_huge_line(folder / "huge_line.jsonl.gz", english)
    write_bomb(folder / "bomb.jsonl.gz", min(english, key=lambda record: len(json_line(record))))


def write_truncated_gzip(path: Path, lines: list[bytes]) -> None:
    """A valid gzip cut at 60% of its length: readers get some lines, then ``EOFError``."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as handle:
        handle.write(b"".join(lines))
    data = buffer.getvalue()
    path.write_bytes(data[: len(data) * 6 // 10])


def write_invalid_json(path: Path, records: list[dict[str, Any]]) -> None:
    """Valid lines around: a cut-off line, a JSON array, an object without ``text``."""
    lines = [json_line(record) for record in records]
    missing_text = {key: value for key, value in records[6].items() if key != "text"}
    broken = lines[2][: len(lines[2]) // 2].rstrip(b"\n") + b"\n"
    out = [lines[0], lines[1], broken, lines[3], b"[1, 2]\n", lines[4], json_line(missing_text), lines[5]]
    path.write_bytes(b"".join(out))


def debref_records_with_e_acute(oscar: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Five Spanish 22.01 documents turned into 21.09 records, the third containing ``é``."""
    spanish = [record for record in oscar["es_meta_part_1.jsonl.gz"] if "é" in record["content"]][:5]
    converted = []
    for index, record in enumerate(spanish):
        nb_sentences = record["content"].count("\n") + 1
        meta = {"headers": record["warc_headers"], "offset": 0, "nb_sentences": nb_sentences}
        converted.append({"id": index, "text": record["content"], "meta": meta})
    return converted


def write_invalid_utf8(path: Path, records: list[dict[str, Any]]) -> None:
    """21.09 lines; in line 2 (0-based) the first ``é`` is written as the Latin-1 byte 0xE9."""
    lines = [json_line(record) for record in records]
    lines[2] = lines[2].replace("é".encode(), b"\xe9", 1)
    path.write_bytes(b"".join(lines))


def write_corrupt_zst(path: Path, payload: bytes) -> None:
    """The first 60% of a valid zstd frame followed by 300 pseudo-random bytes: ``ZstdError``."""
    frame = zstd_bytes(payload)
    garbage = random.Random(SEED).randbytes(300)
    path.write_bytes(frame[: len(frame) * 6 // 10] + garbage)


def write_broken_warcs(folder: Path) -> None:
    """Two 3-page WARCs damaged in their last gzip member (the last response record).

    ``broken.warc.gz``: 64 bytes in the middle of that member inverted; warcio raises
    ``ArchiveLoadFailed`` after the earlier records.  ``truncated.warc.gz``: the file cut in the middle
    of that member; warcio returns a short body without error (only Content-Length tells).
    """
    valid_path = folder / "valid.warc.tmp"
    pages = [debref_page("apa.en.html"), debref_page("apa.es.html"), debref_page("apa.id.html")]
    write_warc(valid_path, pages, 9)
    data = valid_path.read_bytes()
    valid_path.unlink()
    last = [match.start() for match in re.finditer(rb"\x1f\x8b\x08", data)][-1]
    middle = last + (len(data) - last) // 2
    flipped = bytes(byte ^ 0xFF for byte in data[middle : middle + 64])
    (folder / "broken.warc.gz").write_bytes(data[:middle] + flipped + data[middle + 64 :])
    (folder / "truncated.warc.gz").write_bytes(data[:middle])


def write_huge_line(path: Path, records: list[dict[str, Any]]) -> None:
    """Three 21.09 lines; the middle one's text is a real paragraph repeated past 2 MiB."""
    paragraph = max(records[0]["text"].split("\n"), key=len)
    repeats = (2 * 1024 * 1024) // (len(paragraph.encode()) + 1) + 1
    huge = dict(records[1], text=" ".join([paragraph] * repeats))
    write_gzip(path, [json_line(records[0]), json_line(huge), json_line(records[2])])


def write_bomb(path: Path, record: dict[str, Any]) -> None:
    """Decompresses to > 200 MiB: one real 21.09 line repeated, each copy followed by empty lines.

    Deflate compresses a repeated ~1 KB line only ~300:1; runs of ``\\n`` reach ~1000:1.  Each copy plus
    its empty lines stays inside deflate's 32 KiB window so the next copy is a back-reference.
    """
    line = json_line(record)
    unit = line + b"\n" * (32_000 - len(line))
    copies = (200 * 1024 * 1024) // len(unit) + 1
    write_gzip(path, (unit for _ in range(copies)))


# --------------------------------------------------------------------------------------------------
# README junk table and main
# --------------------------------------------------------------------------------------------------


def junk_table(notes: list[JunkNote]) -> str:
    """Markdown table of the deliberate and natural junk."""
    rows = ["| file | row | kind | detail |", "|---|---|---|---|"]
    rows += [f"| `{n.file}` | {n.index} | {n.kind} | {n.detail} |" for n in notes]
    return "\n".join(rows)


def update_readme(out: Path, notes: list[JunkNote]) -> None:
    """Replace the generated junk table between the markers of ``README.md`` (if present)."""
    readme = out / "README.md"
    if not readme.exists():
        print("note: README.md not found; junk table not written", file=sys.stderr)
        return
    text = readme.read_text(encoding="utf-8")
    if JUNK_BEGIN not in text or JUNK_END not in text:
        print("note: junk markers missing in README.md; junk table not written", file=sys.stderr)
        return
    head, rest = text.split(JUNK_BEGIN, 1)
    _, tail = rest.split(JUNK_END, 1)
    readme.write_text(f"{head}{JUNK_BEGIN}\n{junk_table(notes)}\n{JUNK_END}{tail}", encoding="utf-8")


def clean_outputs(out: Path) -> None:
    """Remove the folders this script owns (``demo/`` and ``bad/``)."""
    for name in ("demo", "bad"):
        shutil.rmtree(out / name, ignore_errors=True)


def iter_output_files(out: Path) -> Iterator[Path]:
    """All generated files, sorted."""
    for name in ("demo", "bad"):
        yield from sorted(path for path in (out / name).rglob("*") if path.is_file())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: tests/data)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build everything and print a summary."""
    args = parse_args(argv)
    ctx = BuildContext(out=args.out.resolve(), versions=collect_versions())
    clean_outputs(ctx.out)
    rng = random.Random(SEED)
    oscar = build_oscar(ctx, rng)
    build_catalogue(ctx, rng)
    build_pseudo_crawl(ctx)
    build_bad_fixtures(ctx, oscar)
    update_readme(ctx.out, ctx.junk)
    total = 0
    for path in iter_output_files(ctx.out):
        size = path.stat().st_size
        total += size
        print(f"{size:>10}  {path.relative_to(ctx.out)}")
    print(f"{total:>10}  total ({len(ctx.junk)} junk rows listed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
