"""Pseudo-crawl WARC files: HTML responses become documents; everything else is accounted for."""

from __future__ import annotations

from roots_pipeline.document import Document, Malformed, Note
from roots_pipeline.sources.files import Limits, match_files
from roots_pipeline.sources.html_text import charset_of, decode_html, html_language
from roots_pipeline.sources.warc import WarcSplit, in_seeds, read_seeds
from tests.conftest import BAD, DEMO

SEEDS = DEMO / "pseudo_crawl" / "seeds.txt"


def read(path, seeds=(), limits=None, lang=None):
    (file,) = match_files([str(path)], "test")
    return list(WarcSplit(file, "crawl", lang, tuple(seeds), limits or Limits()).read())


def by_url(items):
    return {i.url: i for i in items if isinstance(i, Document)}


def test_seed_list_and_matching():
    assert read_seeds(str(SEEDS)) == ("debian.org",)
    assert in_seeds("www.debian.org", ("debian.org",))
    assert in_seeds("debian.org.", ("debian.org",))
    assert not in_seeds("notdebian.org", ("debian.org",))
    assert in_seeds("anything.example", ())


def test_html_responses_become_documents_with_provenance():
    items = read(DEMO / "pseudo_crawl" / "crawl-00000.warc.gz", read_seeds(str(SEEDS)))
    docs = by_url(items)
    page = docs["https://www.debian.org/doc/manuals/debian-reference/pr01.fr.html"]
    assert not page.reasons
    assert "Debian" in page.text and "<div" not in page.text and "<p>" not in page.text
    assert page.meta["domain"] == "www.debian.org"
    assert page.meta["fetch_date"].startswith("20")
    assert page.meta["warc_record_id"].startswith("<urn:uuid:")
    assert page.source == "pseudo_crawl"


def test_non_html_off_seed_and_empty_pages_are_rejected_with_reasons():
    items = read(DEMO / "pseudo_crawl" / "crawl-00000.warc.gz", read_seeds(str(SEEDS)))
    reasons = {doc.url.rsplit("/", 1)[-1] or doc.url: doc.reasons for doc in by_url(items).values()}
    assert reasons["note.png"] == ["read:not_html"]
    assert reasons["debian-reference.css"] == ["read:not_html"]
    assert any(r == ["read:not_seed_domain"] for r in reasons.values())
    notes = sorted({n.reason for n in items if isinstance(n, Note)})
    assert notes == ["skipped_metadata_record", "skipped_request_record", "skipped_warcinfo_record"]


def test_latin1_page_is_decoded_by_its_declared_charset():
    items = read(DEMO / "pseudo_crawl" / "crawl-00000.warc.gz")
    (page,) = [d for d in by_url(items).values() if "ISO-8859-1" in (d.meta["content_type"] or "")]
    assert "\ufffd" not in page.text and any(ch in page.text for ch in "éèàç")


def test_ids_are_stable_and_unique():
    first = [d.id for d in read(DEMO / "pseudo_crawl" / "crawl-00001.warc.gz") if isinstance(d, Document)]
    again = [d.id for d in read(DEMO / "pseudo_crawl" / "crawl-00001.warc.gz") if isinstance(d, Document)]
    assert first == again and len(set(first)) == len(first)


def test_corrupt_record_is_malformed_after_the_good_ones():
    items = read(BAD / "broken.warc.gz")
    assert any(isinstance(i, Document) and not i.reasons for i in items)
    assert isinstance(items[-1], Malformed) and items[-1].reason == "corrupt_warc"
    assert items[-1].offset > 0


def test_truncated_warc_never_crashes():
    items = read(BAD / "truncated.warc.gz")
    assert items and all(isinstance(i, (Document, Malformed, Note)) for i in items)


def test_oversized_html_is_malformed():
    items = read(DEMO / "pseudo_crawl" / "crawl-00000.warc.gz", limits=Limits(max_html_mb=0.001))
    assert any(isinstance(i, Malformed) and i.reason == "record_too_large" for i in items)


def test_charset_and_language_helpers():
    assert charset_of("text/html; charset=ISO-8859-1") == "iso8859-1"
    assert charset_of("text/html; charset=bogus") is None
    assert charset_of("text/html") is None
    xhtml = '<?xml version="1.0" encoding="UTF-8"?><html>é</html>'.encode()
    assert decode_html(xhtml, None) == "<html>é</html>"
    assert decode_html(b'<meta charset="iso-8859-1"><p>\xe9</p>', None).endswith("<p>é</p>")
    assert decode_html(b"<p>\xe9</p>", None) == "<p>é</p>"  # not UTF-8: cp1252 fallback
    assert html_language(b'<html xmlns="x" xml:lang="pt-BR">') == "pt-BR"
    assert html_language(b"<html><body>") is None


def test_truncated_record_is_malformed_not_a_short_document():
    items = read(BAD / "truncated.warc.gz")
    (cut,) = [i for i in items if isinstance(i, Malformed)]
    assert cut.reason == "truncated_record" and "bytes" in cut.detail
    assert all(not d.reasons for d in items if isinstance(d, Document))


def test_a_bad_record_header_costs_that_record_only(tmp_path):
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "made.warc.gz"
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for number, charset in enumerate(["utf-8", "undefined", "base64", "utf-8"]):
            body = ("<html><body><p>" + f"Texte numéro {number}. " * 20 + "</p></body></html>").encode()
            headers = StatusAndHeaders("200 OK", [("Content-Type", f"text/html; charset={charset}")],
                                       protocol="HTTP/1.0")
            record = writer.create_warc_record(f"https://example.org/{number}", "response",
                                               payload=BytesIO(body), http_headers=headers)
            writer.write_record(record)
    items = read(path)
    assert [type(i).__name__ for i in items] == ["Document", "Malformed", "Document", "Document"]
    assert items[1].reason == "unreadable_record"
    assert "numéro 2" in items[2].text  # base64 is no text encoding: the UTF-8 fallback applies
