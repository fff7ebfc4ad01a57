"""OSCAR dumps (`*.jsonl`, `*.jsonl.gz`, `*.jsonl.zst`) in the 21.09 and 22.01/23.01 layouts.

21.09: `{"id", "text", "meta": {"headers": {"warc-target-uri", ...}}}`.
22.01/23.01: `{"content", "warc_headers": {...}, "metadata": {"identification": {"label", "prob"},
"harmful_pp", "quality_warnings", "categories", ...}}`.
The language is, in order: the recipe's `lang`, the file's name or folder (`fr_part_1.jsonl.gz`,
`fr_meta_part_1.jsonl.zst`, `fr.jsonl`, `fr/part-0.jsonl`; the forms are in `file_language`), the
record's identification label, its WARC language header.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import zstandard

from roots_pipeline.document import Document, Malformed, Note, document_id, reading_order
from roots_pipeline.lang.codes import UNDETERMINED, canonical_language
from roots_pipeline.sources.file_language import file_language
from roots_pipeline.sources.files import (
    DecompressionLimit,
    InputFile,
    Limits,
    iter_lines,
    open_decompressed,
    stream_error_reason,
)
from roots_pipeline.sources.json_line import decode_json_line

SOURCE = "oscar"
# 23.01 quality annotations worth keeping beside the text; the per-sentence labels are not.
_KEPT_METADATA = ("harmful_pp", "quality_warnings", "categories", "tlsh")


def _mapping(value: Any) -> dict[str, Any]:
    """Return value if it is a JSON object, else an empty one: metadata of the wrong type is ignored."""
    return value if isinstance(value, dict) else {}


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _record_fields(record: dict[str, Any]) -> tuple[Any, dict, dict, str | None]:
    """Return (text, warc headers, kept metadata, language label) of either layout."""
    if "content" in record:
        headers = _mapping(record.get("warc_headers"))
        metadata = _mapping(record.get("metadata"))
        ident = _mapping(metadata.get("identification"))
        kept = {k: metadata[k] for k in _KEPT_METADATA if metadata.get(k) is not None}
        if isinstance(ident.get("prob"), (int, float)):
            kept["lang_prob"] = ident["prob"]
        return record["content"], headers, kept, _string(ident.get("label"))
    headers = _mapping(_mapping(record.get("meta")).get("headers"))
    kept = {"oscar_id": record["id"]} if "id" in record else {}
    return record.get("text"), headers, kept, None


def parse_record(line: bytes, file: InputFile, number: int, offset: int, dataset: str,
                 fixed_lang: str | None) -> Document | Malformed | tuple[Document, Note]:
    """Turn one JSON line into a document, or say precisely why it cannot be one."""
    lang = fixed_lang or UNDETERMINED

    def malformed(reason: str, detail: str) -> Malformed:
        return Malformed(SOURCE, dataset, lang, file.name, offset, reason, detail, len(line))

    try:
        record = decode_json_line(line, first=number == 1)
    except UnicodeDecodeError as exc:
        return malformed("invalid_utf8", f"line {number}: {exc.reason} at byte {exc.start}")
    except json.JSONDecodeError as exc:
        return malformed("invalid_json", f"line {number}, column {exc.colno}: {exc.msg}")
    except RecursionError:
        return malformed("invalid_json", f"line {number}: nested too deeply")
    if not isinstance(record, dict):
        return malformed("not_an_object", f"line {number}: a JSON {type(record).__name__}")
    text, headers, kept, label = _record_fields(record)
    if not isinstance(text, str):
        return malformed("missing_text", f"line {number}: no string 'text' or 'content' field")
    note = None
    if fixed_lang is None:
        label = label or (_string(headers.get("warc-identified-content-language")) or "").split(",")[0]
        lang = canonical_language(label) or UNDETERMINED
        if label and lang == UNDETERMINED:
            note = Note(SOURCE, dataset, lang, "unknown_language_label")
    meta = {"file": file.name, "line": number, **kept}
    for key in ("warc-record-id", "warc-date"):
        if _string(headers.get(key)):
            meta[key.replace("-", "_")] = headers[key]
    doc = Document(
        id=document_id(SOURCE, dataset, file.name, number),
        order=reading_order(file.order, number),
        text=text,
        source=SOURCE,
        dataset=dataset,
        lang=lang,
        url=_string(headers.get("warc-target-uri")),
        meta=meta,
    )
    return (doc, note) if note else doc


@dataclass(frozen=True)
class OscarSplit:
    """One OSCAR file (compressed files cannot be split further)."""

    file: InputFile
    dataset: str
    lang: str | None
    limits: Limits

    @property
    def source(self) -> str:
        return SOURCE

    def read(self) -> Iterator[Document | Malformed | Note]:
        """Yield the file's documents, and a Malformed record for every line or tail that fails."""
        fixed_lang = self.lang or file_language(self.file.path)
        lang = fixed_lang or UNDETERMINED
        number, offset = 0, 0
        try:
            with open_decompressed(self.file.path, self.limits) as stream:
                for number, offset, line in iter_lines(stream, self.limits.max_record_bytes):
                    if line is None:
                        yield Malformed(SOURCE, self.dataset, lang, self.file.name, offset,
                                        "record_too_large",
                                        f"line {number} is over {self.limits.max_record_mb:g} MB")
                    elif line.strip():
                        result = parse_record(line, self.file, number, offset, self.dataset, fixed_lang)
                        yield from result if isinstance(result, tuple) else (result,)
        except DecompressionLimit as exc:
            yield Malformed(SOURCE, self.dataset, lang, self.file.name, offset,
                            "decompression_limit", f"stopped after line {number}: {exc}")
        except (EOFError, OSError, zlib.error, zstandard.ZstdError) as exc:
            yield Malformed(SOURCE, self.dataset, lang, self.file.name, offset,
                            stream_error_reason(exc), f"after line {number}: {exc}")


