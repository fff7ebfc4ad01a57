"""HTML → main text, with trafilatura.

trafilatura is maintained, pure Python on lxml, and separates main content from navigation,
footers and cookie banners well on multilingual pages (it is what FineWeb and datatrove use), so
pseudo-crawl documents start without most boilerplate. Its work grows with the page, so callers
bound the HTML size first (`Limits.max_html_mb`). It is imported on the first page (about 0.1 s),
not by every run that never reads a WARC file.
"""

from __future__ import annotations

import codecs
import logging
import re

# trafilatura logs an ERROR for every page it finds empty; that outcome is already counted in
# the ledger (`read:no_text`), so its log lines would only bury real errors.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")
_HTML_LANG = re.compile(rb"""<html[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)""",
                        re.IGNORECASE)


def charset_of(content_type: str | None) -> str | None:
    """Return the charset parameter of a Content-Type header, if it names a known codec."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            return _known_codec(value.strip().strip("\"'"))
    return None


def _known_codec(name: str) -> str | None:
    """Return the codec's name if it decodes bytes to text (`base64`, `zlib`… are codecs too)."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_html(body: bytes, declared: str | None) -> str:
    """Decode a page: the HTTP charset, else a <meta charset>, else UTF-8 with a cp1252 fallback.

    An XML declaration is dropped once the text is decoded: lxml refuses a decoded string that
    still claims an encoding, and XHTML pages (`<?xml … encoding="UTF-8"?>`) would come out empty.
    """
    if declared is None:
        match = _CHARSET.search(body[:4096])
        declared = _known_codec(match.group(1).decode("ascii")) if match else None
    if declared:
        text = body.decode(declared, errors="replace")
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("cp1252", errors="replace")
    return _XML_DECLARATION.sub("", text, count=1)


def html_language(body: bytes) -> str | None:
    """Return the raw `<html lang=…>` label of a page, if it has one."""
    match = _HTML_LANG.search(body[:8192])
    return match.group(1).decode("ascii") if match else None


def extract_text(html: str, url: str | None) -> str:
    """Return the main text of a page ('' when there is none), paragraphs separated by newlines."""
    import trafilatura

    text = trafilatura.extract(
        html,
        url=url,
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
        deduplicate=False,
        with_metadata=False,
        output_format="txt",
    )
    return text or ""
