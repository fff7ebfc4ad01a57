"""The facts of a data card, computed from the ledger (`stats.json`) and the run record (`run.json`).

Pure functions from dicts to dicts: every number a card prints comes from here, so a test can
check it against the ledger, and the Markdown and JSON of a card cannot disagree.

Counting rules (each one says what a number means on the card):
- A ledger entry is one (source, dataset, language). Its *documents* are those that ended in it:
  in + relabelled_in - relabelled_out - malformed = kept + rejected + duplicate. A web page read
  as `und` and identified as `fr` by language_id is counted `in` and `relabelled_out` under
  `und`, `relabelled_in` and its outcome under `fr`; the card shows each term, so `in` (what was
  read under a language) and the documents a language ended with never disagree unexplained.
  Malformed records never became documents and are counted apart. Removal shares are over the
  documents. A ledger written before relabelled counts existed reads them as zero.
- Steps: `read` (the reader: malformed records and pages it refused), then each stage of the
  recipe in order. A document stops at the first stage that removes it, so walking the stages in
  order gives the documents before and after each; the ledger says which stage removed each one
  (`<stage>:<reason>`) and which moved one to another language (`relabelled_*`, reason
  `<stage>:<other language>`): a stage's move comes before its removals, and a stage *sees* the
  documents under the language they leave it with. Bytes are those of the text as it was when
  removed: stages that edit text (line removal, PII) change sizes without removing documents,
  which their notes count.
- Removed by each filter independently (ROOTS Figure 3): the ledger's `fails` counts every reason
  of a removed document, so a document failing three quality filters counts under each; the share
  is over the documents the stage saw (those of the datasets it applies to that reached it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from roots_pipeline.errors import RootsError
from roots_pipeline.filters import SCORES
from roots_pipeline.lang.codes import UNDETERMINED, language_name
from roots_pipeline.lang.config import load_language
from roots_pipeline.ledger import (
    DOCUMENT_OUTCOMES,
    RELABELLED_IN,
    RELABELLED_OUT,
    ROW_FIELDS,
    documents,
    is_duplicate,
    row_field,
)

READ = "read"
NO_REASON = "(no reason recorded)"
PII_STAGE = "pii_redaction"


def stage_of(reason: str) -> str:
    """Return the step a ledger reason or note belongs to: `quality_filter:lang_id` → `quality_filter`."""
    stage, sep, _ = reason.partition(":")
    return stage if sep else READ


def applies(stage: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    """Return whether a recipe stage (as run.json records it) selects the entry's source and dataset."""
    options = stage.get("options", {})
    sources, datasets = options.get("sources") or (), options.get("datasets") or ()
    return (not sources or entry["source"] in sources) and (not datasets or entry["dataset"] in datasets)


def share(part: int, whole: int) -> float | None:
    """Return part / whole rounded to 6 places, or None when there is no whole to share."""
    return round(part / whole, 6) if whole else None


def _count(docs: int = 0, nbytes: int = 0) -> dict[str, int]:
    return {"docs": docs, "bytes": nbytes}


def _add(total: dict[str, int], count: Mapping[str, int]) -> None:
    total["docs"] += count["docs"]
    total["bytes"] += count["bytes"]


def sizes(entries: Sequence[Mapping[str, Any]], tokens: int | None = None) -> dict[str, Any]:
    """Return documents and bytes per ledger field summed over entries (read, relabelled in and
    out, each outcome), the documents they ended with, and the shares removed of those."""
    total = {field: _count() for field in ROW_FIELDS}
    for entry in entries:
        for field in total:
            _add(total[field], row_field(entry, field))
    docs = sum(total[outcome]["docs"] for outcome in DOCUMENT_OUTCOMES)
    removed = total["rejected"]["docs"] + total["duplicate"]["docs"]
    return {**total, "documents": docs, "removed_docs": removed,
            "removed_share": share(removed, docs), "rejected_share": share(total["rejected"]["docs"], docs),
            "duplicate_share": share(total["duplicate"]["docs"], docs), "tokens": tokens}


def step_names(stages: Sequence[Mapping[str, Any]], entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Return the steps in the order documents meet them: read, the recipe's stages, then any stage
    the ledger names that the recipe does not (listed last, so nothing is dropped)."""
    names = [READ]
    for stage in stages:
        if stage["name"] not in names:
            names.append(stage["name"])
    extra = set()
    for entry in entries:
        for outcome in ("rejected", "duplicate", RELABELLED_IN, RELABELLED_OUT):
            extra.update(stage_of(reason) for reason in row_field(entry, outcome).get("by_reason", {}))
        explained = sum(count["docs"] for count in entry["rejected"].get("by_reason", {}).values())
        if entry["rejected"]["docs"] > explained:
            extra.add(NO_REASON)
    return names + sorted(extra - set(names))


def _removals(entry: Mapping[str, Any]) -> dict[str, dict[str, dict[str, int]]]:
    """Return {step: {"rejected": count, "duplicate": count}} for one entry."""
    removals: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: {"rejected": _count(), "duplicate": _count()})
    for outcome in ("rejected", "duplicate"):
        counted = _count()
        for reason, count in entry[outcome].get("by_reason", {}).items():
            _add(removals[stage_of(reason)][outcome], count)
            _add(counted, count)
        missing = {key: entry[outcome][key] - counted[key] for key in ("docs", "bytes")}
        if missing["docs"]:
            _add(removals[NO_REASON][outcome], missing)
    _add(removals[READ]["rejected"], entry["malformed"])  # malformed records stop at the reader
    return removals


def _moves(entry: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Return {step: {"relabelled_in": docs, "relabelled_out": docs}} for one entry."""
    moves: dict[str, dict[str, int]] = defaultdict(lambda: {RELABELLED_IN: 0, RELABELLED_OUT: 0})
    for field in (RELABELLED_IN, RELABELLED_OUT):
        for reason, moved in row_field(entry, field).get("by_reason", {}).items():
            moves[stage_of(reason)][field] += moved["docs"]
    return moves


def steps(entries: Sequence[Mapping[str, Any]], stages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the funnel: per step, documents before it, moved to or from other languages by it
    (relabelled in and out), seen by it, removed by it (rejected and duplicate), after it, and its
    ledger notes. The first step's `before` is what was read; the last step's `after` is the kept
    documents."""
    names = step_names(stages, entries)
    by_name = {stage["name"]: stage for stage in stages}
    rows = {name: {"step": name, "applied_to": [], "before": 0, RELABELLED_IN: 0, RELABELLED_OUT: 0,
                   "seen": 0, "rejected": _count(), "duplicate": _count(), "after": 0, "notes": {}}
            for name in names}
    for entry in entries:
        removals, moves = _removals(entry), _moves(entry)
        # A ledger from before relabelled counts: start from the documents the entry ended with.
        current = (entry["in"]["docs"] if RELABELLED_IN in entry
                   else documents(entry) + entry["malformed"]["docs"])
        notes: dict[str, dict[str, int]] = defaultdict(dict)
        for note, count in entry["notes"].items():
            notes[stage_of(note)][note] = count
        for name in names:
            row, removed, moved = rows[name], removals.get(name), moves.get(name)
            stage = by_name.get(name)
            applied = (name == READ or removed is not None or moved is not None
                       or (stage is not None and applies(stage, entry)))
            row["before"] += current
            if moved:
                row[RELABELLED_IN] += moved[RELABELLED_IN]
                row[RELABELLED_OUT] += moved[RELABELLED_OUT]
                current += moved[RELABELLED_IN] - moved[RELABELLED_OUT]
            if applied:
                row["seen"] += current
                row["applied_to"].append(entry_label(entry))
            if removed:
                _add(row["rejected"], removed["rejected"])
                _add(row["duplicate"], removed["duplicate"])
                current -= removed["rejected"]["docs"] + removed["duplicate"]["docs"]
            row["after"] += current
            for note, count in notes.get(name, {}).items():
                row["notes"][note] = row["notes"].get(note, 0) + count
        assert current == entry["kept"]["docs"], (entry_label(entry), current)
    return [rows[name] for name in names if rows[name]["applied_to"] or rows[name]["notes"]]


def removed_by_filter(entries: Sequence[Mapping[str, Any]],
                      funnel: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return, per filter reason (duplicates excluded), the documents failing it independently of the
    others and their share of the documents its stage saw."""
    seen = {row["step"]: row["seen"] for row in funnel}
    order = {row["step"]: i for i, row in enumerate(funnel)}
    fails: dict[str, dict[str, int]] = defaultdict(_count)
    for entry in entries:
        for reason, count in entry["fails"].items():
            if not is_duplicate(reason):
                _add(fails[reason], count)
    rows = [{"reason": reason, "step": stage_of(reason), **count, "seen": seen.get(stage_of(reason), 0),
             "share": share(count["docs"], seen.get(stage_of(reason), 0))}
            for reason, count in fails.items()]
    return sorted(rows, key=lambda row: (order.get(row["step"], len(order)), row["reason"]))


def dedup(funnel: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the steps that removed duplicates or deduplicate lines or spans, with what they removed."""
    return [{"step": row["step"], "duplicate": row["duplicate"], "seen": row["seen"],
             "share": share(row["duplicate"]["docs"], row["seen"]), "notes": row["notes"]}
            for row in funnel if row["duplicate"]["docs"] or "dedup" in row["step"]]


def pii(entries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Return the PII redactions per tag (`pii_redaction:EMAIL` notes count replaced occurrences)."""
    tags: dict[str, int] = defaultdict(int)
    for entry in entries:
        for note, count in entry["notes"].items():
            if stage_of(note) == PII_STAGE:
                tags[note.partition(":")[2]] += count
    return dict(sorted(tags.items()))


def processing_steps(entries: Sequence[Mapping[str, Any]],
                     stages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the recipe's stages that apply to any of the entries, in order, with their options and
    the datasets they were applied to (ROOTS's "BigScience processing steps")."""
    result = []
    for stage in stages:
        chosen = sorted({f"{e['source']}/{e['dataset']}" for e in entries if applies(stage, e)})
        if chosen:
            options = {k: v for k, v in stage.get("options", {}).items() if k not in ("sources", "datasets")}
            result.append({"name": stage["name"], "options": options, "applied_to": chosen})
    return result


def entry_label(entry: Mapping[str, Any]) -> str:
    """Return `source/dataset/lang`, the name of one ledger entry on a card."""
    return f"{entry['source']}/{entry['dataset']}/{entry['lang']}"


def language_info(code: str) -> dict[str, Any]:
    """Return a language's name, configuration origin (`roots` = ROOTS's hand-tuned cutoffs,
    `fineweb2` = generated from FineWeb-2, `default` = default.yaml's), word splitting and cutoffs.
    `und` and codes without any configuration get origin None and no cutoffs."""
    name = "undetermined" if code == UNDETERMINED else language_name(code)
    info: dict[str, Any] = {"code": code, "name": name, "origin": None, "word_split": None, "cutoffs": {}}
    if code == UNDETERMINED:
        return info
    try:
        config = load_language(code, fallback=True)
    except RootsError:
        return info
    cutoffs = {}
    for score in SCORES:
        cutoff = getattr(config.filters, score)
        if cutoff is not None:
            cutoffs[score] = {key: getattr(cutoff, key) for key in ("min", "max", "length")
                             if hasattr(cutoff, key)}
    return {**info, "origin": config.origin, "word_split": config.word_split, "cutoffs": cutoffs}


def source_specs(run: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Return the recipe's sources by (kind, dataset), as run.json records them."""
    return {(spec["kind"], spec["dataset"]): spec for spec in run.get("sources", [])}


def languages(stats: Mapping[str, Any], run: Mapping[str, Any]) -> list[str]:
    """Return every language of the run: in the ledger or declared by a source, even with no document."""
    found = {entry["lang"] for entry in stats["entries"]}
    found.update(spec["lang"] for spec in run.get("sources", []) if spec.get("lang"))
    return sorted(found)


def card_fields(spec: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return what the recipe says about a dataset for its card (ROOTS's card headings)."""
    spec = spec or {}
    return {"description": spec.get("description") or "", "homepage": spec.get("homepage"),
            "license": spec.get("license"), "speaker_locations": list(spec.get("speaker_locations") or ())}


def summary(entries: Sequence[Mapping[str, Any]], stages: Sequence[Mapping[str, Any]],
            tokens: int | None = None) -> dict[str, Any]:
    """Return the facts every card has, for a set of ledger entries."""
    funnel = steps(entries, stages)
    return {
        "sizes": sizes(entries, tokens),
        "ledger": [dict(entry) for entry in entries],
        "steps": funnel,
        "removed_by_filter": removed_by_filter(entries, funnel),
        "dedup": dedup(funnel),
        "pii": pii(entries),
        "processing_steps": processing_steps(entries, stages),
    }


def _tokens_of(tokens: Mapping[str, int] | None, langs: Iterable[str]) -> int | None:
    if tokens is None:
        return None
    values = [tokens[lang] for lang in langs if lang in tokens]
    return sum(values) if values else None


def entry_facts(entry: Mapping[str, Any], stats: Mapping[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
    """Return the card of one source × dataset × language, with its share of the kept corpus and of
    its language's kept data (ROOTS's cards gave both, in bytes)."""
    spec = source_specs(run).get((entry["source"], entry["dataset"]))
    corpus = sizes(stats["entries"])["kept"]["bytes"]
    language = sizes([e for e in stats["entries"] if e["lang"] == entry["lang"]])["kept"]["bytes"]
    return {"kind": "dataset", "source": entry["source"], "dataset": entry["dataset"], "lang": entry["lang"],
            "language": language_info(entry["lang"]), **card_fields(spec),
            "kept_bytes_share_of_corpus": share(entry["kept"]["bytes"], corpus),
            "kept_bytes_share_of_language": share(entry["kept"]["bytes"], language),
            **summary([entry], run.get("stages", []))}


def language_facts(lang: str, stats: Mapping[str, Any], run: Mapping[str, Any],
                   tokens: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Return the card of one language: every dataset that ended in it, or none."""
    entries = [entry for entry in stats["entries"] if entry["lang"] == lang]
    specs = source_specs(run)
    datasets = [{"source": e["source"], "dataset": e["dataset"], "in": e["in"],
                 RELABELLED_IN: row_field(e, RELABELLED_IN), RELABELLED_OUT: row_field(e, RELABELLED_OUT),
                 "documents": documents(e), "kept": e["kept"],
                 **card_fields(specs.get((e["source"], e["dataset"])))} for e in entries]
    return {"kind": "language", "lang": lang, "language": language_info(lang), "datasets": datasets,
            **summary(entries, run.get("stages", []), _tokens_of(tokens, [lang]))}


def corpus_facts(stats: Mapping[str, Any], run: Mapping[str, Any],
                 tokens: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Return the card of the whole corpus, with one row per language (those left empty included)."""
    entries = stats["entries"]
    langs = languages(stats, run)
    facts = summary(entries, run.get("stages", []), _tokens_of(tokens, langs))
    kept = facts["sizes"]["kept"]
    rows = []
    for lang in langs:
        own = sizes([e for e in entries if e["lang"] == lang], _tokens_of(tokens, [lang]))
        info = language_info(lang)
        rows.append({"lang": lang, "name": info["name"], "origin": info["origin"], **own,
                     "kept_docs_share": share(own["kept"]["docs"], kept["docs"]),
                     "kept_bytes_share": share(own["kept"]["bytes"], kept["bytes"])})
    specs = source_specs(run)
    sources = []
    for (kind, dataset), spec in specs.items():
        own_entries = [e for e in entries if (e["source"], e["dataset"]) == (kind, dataset)]
        sources.append({"source": kind, "dataset": dataset, **card_fields(spec),
                        "languages": sorted({e["lang"] for e in own_entries}), "sizes": sizes(own_entries)})
    by_language = {}
    for lang in langs:
        own = [e for e in entries if e["lang"] == lang]
        by_language[lang] = removed_by_filter(own, steps(own, run.get("stages", [])))
    return {"kind": "corpus", "run": stats.get("run") or "", "languages": rows, "sources": sources,
            "balance": stats.get("balance", []), "removed_by_filter_by_language": by_language, **facts}

