"""Writes every card of a run: the corpus card, one per language, one per source × dataset × language.

Layout (under `<run>/cards/`, or the folder given as `into`):

    README.md, corpus.json, figures/*.png        the corpus card (a Hugging Face dataset card)
    <lang>/README.md, <lang>/card.json            each language's card (a Hugging Face dataset card)
    <lang>/<source>-<dataset>.md and .json        each dataset's card in that language
    <lang>/figures/*.png                          their figures
    fertility/report.{md,json}, fertility.png     a copy of `roots fertility`'s report, when there is one

With the default location the corpus card is also written as `<run>/README.md` (links pointing into
`cards/`), which makes the run folder a Hub dataset repository as it is. The cards are written to a
temporary folder and swapped in whole, so a reader never sees half of them and cards of languages
that are no longer in the run do not linger.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from roots_pipeline.cards import facts as F
from roots_pipeline.cards import figures, hub, markdown
from roots_pipeline.cards.provenance import provenance
from roots_pipeline.cards.samples import RunSamples, score_counts
from roots_pipeline.errors import RootsError
from roots_pipeline.ledger import is_duplicate
from roots_pipeline.output.run_folder import (
    BLEND,
    CARDS,
    DATA,
    FERTILITY,
    HUB_README,
    MEGATRON,
    RunFolder,
    open_run,
)

TOKENS_FILE = os.path.join(MEGATRON, BLEND)  # written by `roots binarize`
BLEND_SCHEMA = "roots-pipeline/megatron-blend/"
FERTILITY_FILES = ("report.md", "report.json", "fertility.png")
_LANG = re.compile(r"[A-Za-z0-9_]+")
_DATASET = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class CardsWritten:
    """Where the cards went and how many files were written."""

    folder: str
    cards: int
    figures: int
    hub_readme: str | None


def read_token_counts(path: str) -> dict[str, int]:
    """Return {language: tokens} from `roots binarize`'s `blend.json` (its `languages.<lang>.tokens`,
    EOD tokens included) or from a plain JSON object of counts; RootsError names the file and the fix."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise RootsError(f"{path}: cannot read token counts ({exc})") from exc
    if isinstance(data, dict) and str(data.get("schema", "")).startswith(BLEND_SCHEMA):
        try:
            data = {lang: counts["tokens"] for lang, counts in data["languages"].items()}
        except (KeyError, TypeError, AttributeError) as exc:
            raise RootsError(f"{path}: no `languages.<lang>.tokens` in this blend.json; run `roots binarize` "
                             "again") from exc
    counts = isinstance(data, dict) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in data.values())
    if not counts:
        raise RootsError(f"{path}: expected a JSON object of language → token count, e.g. {{\"fr\": 1200}}")
    return data


def write_cards(run_dir: str, into: str | None = None, tokens: Mapping[str, int] | None = None,
                per_reason: int = 3, sample_size: int = 20_000) -> CardsWritten:
    """Write the cards of the run in `run_dir` (to `into`, default `<run>/cards`) and return where.

    `tokens` gives kept tokens per language; by default they are read from `<run>/megatron/blend.json`
    when `roots binarize` has written it, and shown as unknown otherwise.
    """
    run = open_run(run_dir)
    if tokens is None and os.path.isfile(os.path.join(run.path, TOKENS_FILE)):
        tokens = read_token_counts(os.path.join(run.path, TOKENS_FILE))
    folder = os.path.normpath(into or os.path.join(run.path, CARDS))
    _check_target(folder)
    langs = F.languages(run.stats, run.run)
    for lang in langs:
        if not _LANG.fullmatch(lang):
            raise RootsError(f"{run.path}/stats.json: language {lang!r} is not a language code; "
                             "the ledger was not written by `roots run`")
    temporary = f"{folder}.tmp-{os.getpid()}"
    shutil.rmtree(temporary, ignore_errors=True)
    try:
        writer = _Writer(run, temporary, tokens, RunSamples(sample_size, per_reason).scan(run, langs))
        corpus = writer.write_all(langs)
        _swap(temporary, folder)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    readme = None
    if into is None:
        readme = os.path.join(run.path, HUB_README)
        _write_text(readme, markdown.corpus_card(corpus, writer.corpus_header, prefix=f"{CARDS}/"))
    return CardsWritten(folder, writer.cards, writer.figures, readme)


def _check_target(folder: str) -> None:
    """Refuse to replace a folder that is not empty and holds no cards: it is someone's own folder."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise RootsError(f"{folder} is a file, not a folder: choose a folder for the cards")
    has_cards = os.path.isfile(os.path.join(folder, "corpus.json"))
    if os.path.isdir(folder) and os.listdir(folder) and not has_cards:
        raise RootsError(f"{folder} is not empty and holds no cards (no corpus.json): choose a new or empty "
                         "folder, it would be replaced")


def _swap(new: str, folder: str) -> None:
    """Replace `folder` by `new` with two renames; the old cards are deleted afterwards."""
    old = f"{folder}.old-{os.getpid()}"
    if os.path.isdir(folder):
        os.rename(folder, old)
    os.rename(new, folder)
    shutil.rmtree(old, ignore_errors=True)


def _write_text(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def _write_json(path: str, data: Any) -> None:
    _write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _entry_name(entry: Mapping[str, Any]) -> str:
    name = f"{entry['source']}-{entry['dataset']}"
    if not _DATASET.fullmatch(name):
        raise RootsError(f"stats.json: dataset {entry['dataset']!r} cannot name a file; "
                         "the ledger was not written by `roots run`")
    return name


class _Writer:
    """Writes the cards into one folder; counts what it wrote."""

    def __init__(self, run: RunFolder, folder: str, tokens: Mapping[str, int] | None,
                 samples: RunSamples) -> None:
        self.run, self.folder, self.tokens, self.samples = run, folder, tokens, samples
        self.stages = run.run.get("stages", [])
        self.cards = self.figures = 0
        self.corpus_header: dict[str, Any] = {}

    def _figure(self, relative: str) -> str:
        self.figures += 1
        return os.path.join(self.folder, relative)

    def write_all(self, langs: list[str]) -> dict[str, Any]:
        """Write every card; return the corpus card's facts (for the Hub README)."""
        prov = provenance(self.run.stats, self.run.run, langs)
        corpus = F.corpus_facts(self.run.stats, self.run.run, self.tokens)
        corpus["provenance"] = prov
        corpus["fertility"] = self._copy_fertility()
        corpus["figures"] = {
            "language_distribution": "figures/language_distribution.png",
            "removed_by_language": "figures/removed_by_language.png",
            **({"fertility_report": f"{FERTILITY}/report.md"} if corpus["fertility"] else {}),
        }
        for name, draw in (("language_distribution", figures.language_distribution),
                           ("removed_by_language", figures.removed_by_language)):
            draw(corpus["languages"], self._figure(corpus["figures"][name]))
        for row in corpus["languages"]:
            row["card"] = f"{row['lang']}/README.md"
            self._language(row["lang"], prov)
        with_shards = [lang for lang in langs if self.run.shard_folder(DATA, lang)]
        kept = [row["lang"] for row in corpus["languages"] if row["kept"]["docs"]]
        licenses = [s["license"] for s in corpus["sources"] if s["sizes"]["kept"]["docs"]]
        self.corpus_header = hub.header(f"{corpus['run'] or 'roots-pipeline'} corpus", kept, licenses,
                                        corpus["sizes"]["kept"]["docs"], with_shards, default_all=True)
        corpus["hub_metadata"] = self.corpus_header
        _write_json(os.path.join(self.folder, "corpus.json"), corpus)
        _write_text(os.path.join(self.folder, "README.md"), markdown.corpus_card(corpus, self.corpus_header))
        self.cards += 1
        return corpus

    def _language(self, lang: str, prov: dict[str, Any]) -> None:
        facts = F.language_facts(lang, self.run.stats, self.run.run, self.tokens)
        entries = [e for e in self.run.stats["entries"] if e["lang"] == lang]
        for dataset in facts["datasets"]:
            dataset["card"] = f"{dataset['source']}-{dataset['dataset']}.md"
        drawn = any(stage["name"] == "quality_filter" and F.applies(stage, e) for stage in self.stages
                    for e in entries)
        self._decorate(facts, lang, "", f"{facts['language']['name']} ({lang})", drawn, prov, {})
        name = f"{self.run.stats.get('run') or 'roots-pipeline'} corpus: {facts['language']['name']}"
        header = hub.header(name, [lang],
                            [d["license"] for d in facts["datasets"] if d["kept"]["docs"]],
                            facts["sizes"]["kept"]["docs"],
                            [lang] if self.run.shard_folder(DATA, lang) else [], default_all=False)
        facts["hub_metadata"] = header
        _write_json(os.path.join(self.folder, lang, "card.json"), facts)
        _write_text(os.path.join(self.folder, lang, "README.md"), markdown.language_card(facts, header))
        self.cards += 1
        # A dataset that is its language's only scored (or only filtered) one would get the same figure
        # again: it links the language's instead, which keeps card writing fast on many small datasets.
        scored = [e for e in entries if self.samples.scores_of(F.entry_label(e))]
        filtered = [e for e in entries if any(not is_duplicate(r) for r in e["fails"])]
        for entry in entries:
            reuse = {kind: facts["figures"][kind]
                     for kind, only in (("scores", scored), ("removed_by_filter", filtered))
                     if kind in facts["figures"] and only == [entry]}
            self._dataset(entry, prov, reuse)

    def _dataset(self, entry: Mapping[str, Any], prov: dict[str, Any], reuse: dict[str, str]) -> None:
        name = _entry_name(entry)
        facts = F.entry_facts(entry, self.run.stats, self.run.run)
        drawn = any(stage["name"] == "quality_filter" and F.applies(stage, entry) for stage in self.stages)
        title = f"{entry['dataset']} ({entry['lang']})"
        self._decorate(facts, F.entry_label(entry), f"{name}-", title, drawn, prov, reuse)
        lang = entry["lang"]
        _write_json(os.path.join(self.folder, lang, f"{name}.json"), facts)
        _write_text(os.path.join(self.folder, lang, f"{name}.md"), markdown.dataset_card(facts))
        self.cards += 1

    def _decorate(self, facts: dict[str, Any], group: str, stem: str, title: str, cutoffs_drawn: bool,
                  prov: dict[str, Any], reuse: Mapping[str, str]) -> None:
        """Add what comes from the shards (samples, figures) and the provenance to a card's facts;
        `reuse` names figures (by kind) already drawn for the same data, linked instead of drawn."""
        lang = facts["lang"]
        scores = self.samples.scores_of(group)
        facts["score_counts"] = score_counts(scores)
        facts["cutoffs_drawn"] = cutoffs_drawn
        facts["removed_samples"] = self.samples.removed_of(group)
        facts["provenance"] = prov
        facts["figures"] = dict(reuse)
        if facts["removed_by_filter"] and "removed_by_filter" not in reuse:
            relative = f"figures/{stem}removed_by_filter.png"
            figures.removed_by_filter(facts["removed_by_filter"], f"Removed by each filter: {title}",
                                      self._figure(os.path.join(lang, relative)))
            facts["figures"]["removed_by_filter"] = relative
        if scores and "scores" not in reuse:
            relative = f"figures/{stem}scores.png"
            cutoffs = facts["language"]["cutoffs"] if cutoffs_drawn else {}
            path = self._figure(os.path.join(lang, relative))
            figures.score_histograms(scores, cutoffs, f"Scores: {title}", path)
            facts["figures"]["scores"] = relative

    def _copy_fertility(self) -> dict[str, Any] | None:
        """Copy `roots fertility`'s report next to the cards; return its JSON, or None when absent."""
        source = os.path.join(self.run.path, FERTILITY)
        report = os.path.join(source, "report.json")
        if not os.path.isfile(report):
            return None
        target = os.path.join(self.folder, FERTILITY)
        os.makedirs(target, exist_ok=True)
        for name in FERTILITY_FILES:
            if os.path.isfile(os.path.join(source, name)):
                shutil.copyfile(os.path.join(source, name), os.path.join(target, name))
        try:
            with open(report, encoding="utf-8") as handle:
                return json.load(handle)
        except ValueError as exc:
            raise RootsError(f"{report}: not JSON ({exc}); run `roots fertility` again") from exc
