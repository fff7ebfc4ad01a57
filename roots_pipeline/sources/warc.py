"""Pseudo-crawl WARC files (`*.warc`, `*.warc.gz`) → documents, with warcio.

Only `response` records are input records (each ends as a document, a rejection or a malformed
record); `warcinfo`, `request`, `metadata` and other records are counted as notes. A response is
rejected when it is not HTML, is outside the seed domains, or has no extractable text.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from apache_beam.io.filesystems import FileSystems
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from roots_pipeline.document import Document, Malformed, Note, document_id, reading_order
from roots_pipeline.lang.codes import UNDETERMINED, canonical_language
from roots_pipeline.sources.files import MB, InputFile, Limits
from roots_pipeline.sources.html_text import charset_of, decode_html, extract_text, html_language

SOURCE = "pseudo_crawl"
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def in_seeds(host: str, seeds: tuple[str, ...]) -> bool:
    """Return whether a host is a seed domain or one of its subdomains (no seeds: everything is)."""
    if not seeds:
        return True
    host = host.lower().rstrip(".")
    return any(host == seed or host.endswith("." + seed) for seed in seeds)


def read_seeds(path: str) -> tuple[str, ...]:
    """Read a seed list: one domain per line, `#` comments and blank lines ignored."""
    with FileSystems.open(path, compression_type="uncompressed") as handle:
        lines = handle.read().decode("utf-8").splitlines()
    return tuple(sorted({line.split("#", 1)[0].strip().lower() for line in lines} - {""}))


def _missing_bytes(http_headers, received: int) -> int:
    """Return how many bytes short of its HTTP Content-Length a body is (warcio does not check).

    Only meaningful when the body was sent as is: chunked or compressed bodies are decoded by
    warcio, so their length differs from the header's by design.
    """
    declared = http_headers.get_header("Content-Length") or ""
    encoded = http_headers.get_header("Content-Encoding") or "chunked" in (
        http_headers.get_header("Transfer-Encoding") or "")
    if not declared.strip().isdigit() or encoded:
        return 0
    return max(0, int(declared) - received)


@dataclass(frozen=True)
class WarcSplit:
    """One WARC file (gzip members could be split, but files are already ~1 GB units)."""

    file: InputFile
    dataset: str
    lang: str | None
    seeds: tuple[str, ...]
    limits: Limits

    @property
    def source(self) -> str:
        return SOURCE

    def read(self) -> Iterator[Document | Malformed | Note]:
        """Yield one outcome per response record, notes for other records, Malformed on damage."""
        offset = 0
        try:
            with FileSystems.open(self.file.path, compression_type="uncompressed") as handle:
                records = ArchiveIterator(handle, arc2warc=True)
                for record in records:
                    # The start of the current record; get_record_offset() would read it to
                    # the end first, leaving nothing for content_stream().
                    offset = records.offset
                    if record.rec_type != "response":
                        yield Note(SOURCE, self.dataset, self.lang or UNDETERMINED,
                                   f"skipped_{record.rec_type}_record")
                        continue
                    try:
                        yield self._response(record, offset)
                    except (ValueError, LookupError) as exc:  # one bad header, not a bad file
                        yield Malformed(SOURCE, self.dataset, self.lang or UNDETERMINED, self.file.name,
                                        offset, "unreadable_record",
                                        f"record at byte {offset}: {type(exc).__name__}: {exc}")
        except (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError) as exc:
            yield Malformed(SOURCE, self.dataset, self.lang or UNDETERMINED, self.file.name, offset,
                            "corrupt_warc", f"record at byte {offset}: {type(exc).__name__}: {exc}")

    def _response(self, record, offset: int) -> Document | Malformed:
        """Turn one response record into a document (possibly already rejected) or Malformed."""
        url = record.rec_headers.get_header("WARC-Target-URI") or ""
        lang = self.lang or UNDETERMINED
        content_type = record.http_headers.get_header("Content-Type") if record.http_headers else None
        host = urlsplit(url).hostname or ""
        meta = {"file": self.file.name, "offset": offset, "domain": host,
                "fetch_date": record.rec_headers.get_header("WARC-Date"),
                "warc_record_id": record.rec_headers.get_header("WARC-Record-ID"),
                "content_type": content_type}
        doc = Document(document_id(SOURCE, self.dataset, self.file.name, offset), "", SOURCE,
                       self.dataset, lang, url or None, meta, order=reading_order(self.file.order, offset))
        if not in_seeds(host, self.seeds):
            doc.reasons.append("read:not_seed_domain")
            return doc
        if not content_type or content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
            doc.reasons.append("read:not_html")
            return doc
        limit = min(self.limits.max_record_bytes, int(self.limits.max_html_mb * MB))
        body = record.content_stream().read(limit + 1)
        if len(body) > limit:
            return Malformed(SOURCE, self.dataset, lang, self.file.name, offset, "record_too_large",
                             f"{url}: HTML over {limit // MB} MB")
        missing = _missing_bytes(record.http_headers, len(body))
        if missing:
            return Malformed(SOURCE, self.dataset, lang, self.file.name, offset, "truncated_record",
                             f"{url}: body has {len(body)} of its {len(body) + missing} bytes", len(body))
        label = html_language(body)
        if label:
            meta["html_lang"] = label
            if self.lang is None:
                doc.lang = canonical_language(label) or UNDETERMINED
        html = decode_html(body, charset_of(content_type))
        doc.text = extract_text(html, url)
        if not doc.text.strip():
            doc.reasons.append("read:no_text")
        return doc
