"""Scoring throughput of the quality filter, per core, against ROOTS's own code: data_tooling's
`ac_dc/filtering.py`, imported from a checkout and run one document at a time.

    python bench/filters.py --roots DATA_TOOLING [--roots-python PYTHON] [--docs 300] [--repeat 3]
                            [--models DIR | --no-perplexity] [--languages en,fr,...] [--json F]
    python bench/filters.py [--docs 3000] [--repeat 3] [--models DIR | --no-perplexity] [--json F]

With `--roots` (a checkout of github:bigscience-workshop/data_tooling), `bench/roots_filtering.py`
runs in a child process under `--roots-python` (default: this Python), a Python that can import
ROOTS's module: numpy, pandas, `emoji==1.6.1`, fasttext, sentencepiece and kenlm. It loads
`ac_dc/filtering.py` with the production parameters of shared/reference/filter_parameters.json and
times, per language, ROOTS's per-document loop: stage A, then the six model-free scores (and, in a
second row, the KenLM perplexity too). Start-up is excluded. In this process, on the same core and
the same documents, the pipeline's scoring (`filters.scorer.score_texts`, what the `quality_filter`
stage and `roots score` run) in batches of 1,000 documents of one language, as the stage gets them.
The two sides alternate, `--repeat` times, and the best pass of each counts. Before timing, every
document's stage-A text, scores, failed filters and keep/drop decision are compared with ROOTS's;
any difference ends the bench with exit status 1.

Documents, `--docs` per language (cycled), all real text installed with the project or the system:
the demo OSCAR files (en es fr hi id pt zh), the demo catalogue's Vietnamese man pages and Bengali
chatterbot dialogues, and for ar ca eu ur the messages of the Debian packages' gettext catalogues
(/usr/share/locale/<lang>/LC_MESSAGES, consecutive messages joined into ~1,000-character documents;
iso-codes' lists of names only after the other catalogues, which leaves ur with mostly names).
A language without text on this machine is left out, and the bench says so.

Perplexity: each language's SentencePiece + KenLM models are first trained on its documents with
`train_language_model` into a temporary folder (the models' quality does not matter for speed; zh
needs its SentencePiece model for its words on both sides), or `--models DIR` names existing ones.
`--no-perplexity` still trains zh's models for its words but times no perplexity.

Without `--roots` the bench says so and measures against issue 3's baseline: ROOTS's scoring
rewritten per document in this file (slower than ROOTS's own code), on the demo OSCAR documents.
Targets (issue 19): the pipeline at least 3x ROOTS's code on every language, model-free.
"""

from __future__ import annotations

import argparse
import gettext
import gzip
import io
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import zstandard

from roots_pipeline.document import BATCH_DOCS
from roots_pipeline.filters.quality import QualityScorer
from roots_pipeline.filters.scorer import LanguageScorer, score_texts
from roots_pipeline.lang.config import LanguageConfig, character_set, load_language
from roots_pipeline.lang.identify import lid_input, resolve_model
from roots_pipeline.lm.normalization import UNICODE_PUNCTUATION, UNIFORM_WHITESPACE_CHARACTERS
from roots_pipeline.lm.perplexity import PerplexityModel, find_models
from roots_pipeline.lm.train import train_language_model

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "tests" / "data" / "demo"
PARAMETERS = REPO.parent / "shared" / "reference" / "filter_parameters.json"
WORKER = Path(__file__).resolve().parent / "roots_filtering.py"
LOCALE = Path("/usr/share/locale")
ROOTS_LANGUAGES = ("ar", "bn", "ca", "en", "es", "eu", "fr", "hi", "id", "pt", "ur", "vi", "zh")
GETTEXT_DOCUMENT_CHARS = 1000
TARGET = 3.0


def oscar_documents() -> dict[str, list[str]]:
    """Return the demo OSCAR documents by language (en es fr hi id pt zh)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted((DEMO / "oscar").glob("*.jsonl.*")):
        raw = path.read_bytes()
        data = gzip.decompress(raw) if path.suffix == ".gz" else zstandard.ZstdDecompressor().stream_reader(
            io.BytesIO(raw)).read()
        for line in data.decode("utf-8").splitlines():
            record = json.loads(line)
            found[path.name.split("_")[0]].append(record.get("text") or record.get("content"))
    return found


def load_documents(count: int) -> list[tuple[str, str]]:
    """Return `count` (lang, text) pairs from the demo OSCAR files, cycled."""
    found = [(lang, text) for lang, texts in oscar_documents().items() for text in texts]
    return [found[i % len(found)] for i in range(count)]


def catalogue_documents(folder: str) -> list[str]:
    """Return the texts of one demo catalogue dataset (a `save_to_disk` folder of Arrow streams)."""
    texts: list[str] = []
    for path in sorted((DEMO / "catalogue" / folder).glob("*.arrow")):
        with pa.OSFile(str(path)) as source:
            texts += pa.ipc.open_stream(source).read_all().column("text").to_pylist()
    return texts


def gettext_documents(lang: str) -> list[str]:
    """Return the translated messages of this system's gettext catalogues for `lang` as documents.

    Messages in catalogue order (files sorted by name, iso-codes' lists of names last) are joined
    by newlines into documents of about `GETTEXT_DOCUMENT_CHARS` characters.
    """
    paths = sorted((LOCALE / lang / "LC_MESSAGES").glob("*.mo"), key=lambda path: (
        path.name.startswith("iso_"), path.name))
    documents: list[str] = []
    lines: list[str] = []
    for path in paths:
        try:
            with path.open("rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        for key, message in catalog.items():
            if key != "" and isinstance(message, str) and message.strip():  # "": the header
                lines.append(message)
                if sum(map(len, lines)) >= GETTEXT_DOCUMENT_CHARS:
                    documents.append("\n".join(lines))
                    lines = []
    if lines:
        documents.append("\n".join(lines))
    return documents


def real_corpus(per_language: int, languages: tuple[str, ...]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Return `per_language` real documents (cycled) per language, and where each language's came from."""
    sources: dict[str, tuple[str, list[str]]] = {
        lang: ("demo OSCAR", texts) for lang, texts in oscar_documents().items()}
    sources["vi"] = ("demo catalogue: man pages", catalogue_documents("manpages_vi"))
    sources["bn"] = ("demo catalogue: chatterbot", catalogue_documents("chatterbot_bn"))
    corpus: dict[str, list[str]] = {}
    origins: dict[str, str] = {}
    for lang in languages:
        origin, texts = sources.get(lang, (f"gettext catalogues, {LOCALE}/{lang}", []))
        if not texts and lang not in sources:
            texts = gettext_documents(lang)
        if not texts:
            print(f"note: no text for {lang} on this machine ({origin}): left out", file=sys.stderr)
            continue
        corpus[lang] = [texts[i % len(texts)] for i in range(per_language)]
        origins[lang] = f"{origin} ({len(texts)} distinct)"
    return corpus, origins


_NON_PRINTING_RE = re.compile(f"[{''.join(map(chr, [*range(0, 32), *range(127, 160)]))}]")
_UNIFORM_SPACES = set(UNIFORM_WHITESPACE_CHARACTERS)
_DIGITS_RE = re.compile(r"\d")


def roots_normalize(text: str, *, remove_non_printing: bool = True, strip: bool = True,
                    lower_case: bool = False, uniform_spaces: bool = True, digits_to_zero: bool = True,
                    unicode_punctuation: bool = True) -> str:
    """ROOTS's normalisation as DP:01b/normalization.py writes it: joins over characters."""
    if remove_non_printing:
        text = _NON_PRINTING_RE.sub("", text)
    if strip:
        text = text.strip()
    if not text:
        return text
    if lower_case:
        text = text.lower()
    if uniform_spaces:
        text = "".join([" " if char in _UNIFORM_SPACES else char for char in text])
    if digits_to_zero:
        text = _DIGITS_RE.sub("0", text)
    if unicode_punctuation:
        text = "".join(UNICODE_PUNCTUATION.get(char, char) for char in text)
    return text


class Baseline:
    """ROOTS's scoring, one document at a time, written plainly (the reference for the ratio)."""

    def __init__(self, lid_model: str, models: str | None) -> None:
        import fasttext

        self.lid = fasttext.load_model(lid_model)
        self.models = models
        self._lm: dict[str, tuple] = {}

    def _models(self, lang: str):
        if lang not in self._lm:
            import kenlm
            import sentencepiece

            base = f"{self.models}/{lang}" if self.models else None
            if base and os.path.exists(f"{base}.sp.model"):
                sp = sentencepiece.SentencePieceProcessor()
                sp.load(f"{base}.sp.model")
                lm_path = f"{base}.arpa.bin" if os.path.exists(f"{base}.arpa.bin") else f"{base}.arpa"
                self._lm[lang] = (sp, kenlm.Model(lm_path))
            else:
                self._lm[lang] = (None, None)
        return self._lm[lang]

    def score(self, text: str, config: LanguageConfig, version: str) -> dict[str, float]:
        special = "".join(sorted(character_set(config.special_characters)))
        strip = "".join(sorted(character_set(config.strip_characters)))
        text = self.modify(text, config, strip)
        f = config.filters
        sp, lm = self._models(config.code)
        scores: dict[str, float] = {}
        n_chars = f.character_repetition.length if f.character_repetition else 10
        scores["character_repetition"] = self.character_repetition(text, n_chars, version)
        scores["special_characters"] = (len([c for c in text if c in special]) / len(text)) if text else 0.0
        pieces = sp if config.word_split == "sentencepiece" else None
        if config.word_split == "sentencepiece" and sp is None:
            pass
        else:
            cased = self.words(text, strip, False, pieces)
            lower = self.words(text, strip, True, pieces)
            scores["number_words"] = len(cased)
            n_words = f.word_repetition.length if f.word_repetition else 5
            scores["word_repetition"] = self.word_repetition(lower, n_words)
            augmented = []
            if config.words_augmentation:
                for size in config.words_augmentation.group_sizes:
                    join = config.words_augmentation.join_char
                    augmented += [join.join(lower[i:i + size]) for i in range(len(lower) - size + 1)]
            for name, listed in (("closed_class_words", config.stopword_set()),
                                 ("flagged_words", config.flagged_word_set())):
                if listed is not None:
                    hits = len([w for w in lower if w in listed]) + len([w for w in augmented if w in listed])
                    scores[name] = min(hits / len(lower), 1.0) if lower else 0.0
        if config.lid_labels:
            labels, probabilities = self.lid.predict(lid_input(text), k=-1, threshold=0.001)
            scores["lang_id"] = min(sum(float(p) for label, p in zip(labels, probabilities, strict=True)
                                        if label[len("__label__"):] in config.lid_labels), 1.0)
        if lm is not None:
            pieces = " ".join(sp.encode_as_pieces(roots_normalize(text, lower_case=False)))
            log_score = lm.score(pieces)
            length = len(pieces.split()) + 1
            scores["perplexity"] = round(10.0 ** (-log_score / length), 1)
        return scores

    @staticmethod
    def modify(text: str, config: LanguageConfig, strip: str) -> str:
        m = config.modifications
        text = roots_normalize(text, remove_non_printing=False, strip=True, lower_case=False,
                         uniform_spaces=m.uniform_whitespace, digits_to_zero=False,
                         unicode_punctuation=m.replace_unicode_punctuation)
        if not (m.remove_words_with_incorrect_substrings or m.remove_long_words):
            return text

        def keep(word: str) -> bool:
            stripped = word.strip(strip)
            bad = m.incorrect_word_substrings
            if m.remove_words_with_incorrect_substrings and any(s in stripped for s in bad):
                return False
            return not (m.remove_long_words and len(word) > m.length_word_max_cutoff
                        and (not stripped or len(stripped) > m.length_word_max_cutoff))

        lines = []
        for line in text.split("\n"):
            cells = [" ".join(w for w in cell.split(" ") if w and keep(w)) for cell in line.split("\t")]
            cells = [c for c in cells if c]
            if cells:
                lines.append("\t".join(cells))
        return "\n".join(lines)

    @staticmethod
    def words(text: str, strip: str, lower: bool, sp) -> list[str]:
        if sp is not None:
            tokens = sp.encode_as_pieces(roots_normalize(text, lower_case=True))
        else:
            tokens = [t for t in re.split(" |\n|\t", text) if t]
        if lower:
            tokens = [t.lower() for t in tokens]
        return [w for w in (t.strip(strip) for t in tokens) if w]

    @staticmethod
    def character_repetition(text: str, n: int, version: str) -> float:
        grams = [text[i:i + n] for i in range(len(text) - n + 1)]
        if not grams:
            return 0.0
        freq: dict[str, int] = {}
        for gram in grams:
            freq[gram] = freq.get(gram, 0) + 1
        values = sorted(freq.values(), reverse=True)
        singletons = len([v for v in values if v == 1])
        second = singletons if version == "production" else len(values) - singletons
        k = min(int(math.sqrt(len(values))), second)
        return sum(values[:k]) / sum(values)

    @staticmethod
    def word_repetition(words: list[str], n: int) -> float:
        grams = [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
        if not grams:
            return 0.0
        freq: dict[str, int] = {}
        for gram in grams:
            freq[gram] = freq.get(gram, 0) + 1
        return sum(v for v in freq.values() if v > 1) / len(grams)


def run_pipeline_side(scorer: QualityScorer, docs: list[tuple[str, str]], batch: int) -> list[dict]:
    """Score the way the quality_filter stage does: per batch, grouped by language."""
    results: list[dict] = [{}] * len(docs)
    for start in range(0, len(docs), batch):
        by_lang: dict[str, list[int]] = defaultdict(list)
        for index in range(start, min(start + batch, len(docs))):
            by_lang[docs[index][0]].append(index)
        for lang, indices in by_lang.items():
            for index, (_, scores, _) in zip(indices, scorer.score([docs[i][1] for i in indices], lang),
                                             strict=True):
                results[index] = scores
    return results


def measure_against_rewrite(args: argparse.Namespace, docs: list[tuple[str, str]]) -> int:
    """Check both sides give the same scores, then time them alternately; print the figures."""
    scorer = QualityScorer(models=args.models)
    baseline = Baseline(resolve_model(None), args.models)
    configs = {lang: load_language(lang, fallback=True) for lang, _ in docs}

    def run_baseline() -> list[dict]:
        return [baseline.score(text, configs[lang], "production") for lang, text in docs]

    def run_ours() -> list[dict]:
        return run_pipeline_side(scorer, docs, 1000)

    ours, theirs = run_ours(), run_baseline()  # warm-up, and the identity check
    mismatched = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    if mismatched:
        i = mismatched[0]
        print(f"scores differ on {len(mismatched)} documents, e.g. #{i} ({docs[i][0]}):\n"
              f"  ours     {ours[i]}\n  baseline {theirs[i]}", file=sys.stderr)
        return 1
    timings: dict[str, float] = {"baseline": math.inf, "pipeline": math.inf}
    for _ in range(args.repeat):
        for name, side in (("baseline", run_baseline), ("pipeline", run_ours)):
            started = time.perf_counter()
            side()
            timings[name] = min(timings[name], time.perf_counter() - started)
    rates = {name: len(docs) / seconds for name, seconds in timings.items()}
    ratio = rates["pipeline"] / rates["baseline"]
    chars = sum(len(text) for _, text in docs)
    with_ppl = "with perplexity" if args.models else "without perplexity"
    print(f"{len(docs):,} documents, {chars / len(docs):,.0f} characters on average, "
          f"{len(set(configs))} languages, one core, {with_ppl}, identical scores")
    print(f"  baseline (per-document rewrite of ROOTS) {rates['baseline']:9,.0f} docs/s")
    print(f"  pipeline (quality_filter scoring)        {rates['pipeline']:9,.0f} docs/s")
    print(f"  speed-up {ratio:.2f}x (target >= {TARGET:.0f}x): {'met' if ratio >= TARGET else 'NOT met'}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "documents": len(docs), "mean_chars": chars / len(docs), "perplexity": bool(args.models),
            "docs_per_second": rates, "speedup": ratio, "target": TARGET,
            "python": platform.python_version()}, indent=2) + "\n")
    return 0


class RootsProcess:
    """ROOTS's code in a child process (`bench/roots_filtering.py`), spoken to in JSON lines."""

    def __init__(self, python: str, checkout: str, parameters: str, models: str | None, cpu: int) -> None:
        ac_dc = os.path.join(checkout, "ac_dc")
        if not os.path.isfile(os.path.join(ac_dc, "filtering.py")):
            raise SystemExit(f"error: {ac_dc}/filtering.py not found: --roots takes a checkout of "
                             "github:bigscience-workshop/data_tooling")
        if not os.path.isfile(parameters):
            raise SystemExit(f"error: {parameters} not found: --parameters takes ROOTS's "
                             "filter_parameters.json (shared/reference/)")
        self.process = subprocess.Popen(
            [python, str(WORKER), ac_dc, parameters, models or "-", str(cpu)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")

    def ask(self, **command: object) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise SystemExit(
                "error: ROOTS's side stopped (see its error above). Its Python needs numpy, pandas, "
                "emoji==1.6.1, fasttext, sentencepiece and kenlm: python -m venv V && V/bin/pip install "
                "numpy pandas emoji==1.6.1 fasttext-numpy2 sentencepiece ufal.kenlm, "
                "then --roots-python V/bin/python")
        return json.loads(answer)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


class OursSide:
    """The pipeline's scoring, per language: `score_texts` as `QualityScorer.score` calls it, lang-id off."""

    def __init__(self, languages: list[str], models: str | None) -> None:
        self.scorers: dict[str, LanguageScorer] = {}
        self.perplexity: dict[str, PerplexityModel | None] = {}
        for lang in languages:
            config = load_language(lang, fallback=True)
            paths = find_models(models, config.code) if models else None
            model = PerplexityModel(*paths) if paths else None
            if model is not None:
                model.load()
            encode = model.pieces if model is not None and config.word_split == "sentencepiece" else None
            self.scorers[lang] = LanguageScorer(config, "production", encode)
            self.perplexity[lang] = model

    def score(self, lang: str, texts: list[str], perplexity: bool) -> list[tuple[str, dict, list[str]]]:
        model = self.perplexity[lang] if perplexity else None
        results = []
        for start in range(0, len(texts), BATCH_DOCS):
            results += score_texts(texts[start:start + BATCH_DOCS], self.scorers[lang], None,
                                   model.perplexities if model is not None else None)
        return results


def compare(corpus: dict[str, list[str]], ours: OursSide, roots: RootsProcess, perplexity: bool) -> int:
    """Return how many documents differ between the two sides (stage-A text, scores, decisions)."""
    theirs = roots.ask(op="score", perplexity=perplexity)
    differences = 0
    for lang, texts in corpus.items():
        for index, ((text, scores, failed), root) in enumerate(zip(
                ours.score(lang, texts, perplexity), theirs[lang], strict=True)):
            same = (text == root["text"] and scores == root["scores"] and failed == root["failed"]
                    and (not failed) == root["keep"])
            if not same:
                if not differences:
                    print(f"{lang} document {index} differs (perplexity {perplexity}):\n"
                          f"  ours  {scores} failed {failed}\n"
                          f"  ROOTS {root['scores']} failed {root['failed']} keep {root['keep']}\n"
                          f"  same stage-A text: {text == root['text']}", file=sys.stderr)
                differences += 1
    return differences


def measure_against_roots(args: argparse.Namespace, cpu: int) -> int:
    """Compare every document with ROOTS's code, then time both sides per language; print the table."""
    corpus, origins = real_corpus(args.docs, tuple(args.languages.split(",")))
    ours = OursSide(list(corpus), args.models)
    for lang in [name for name, scorer in ours.scorers.items() if scorer.needs_pieces and not scorer.encode]:
        print(f"note: no SentencePiece model for {lang} in {args.models}: its words cannot be scored, "
              "left out", file=sys.stderr)
        del corpus[lang], origins[lang]
    roots = RootsProcess(args.roots_python, args.roots, args.parameters, args.models, cpu)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as file:
            json.dump(corpus, file)
            file.flush()
            loaded = roots.ask(op="load", corpus=file.name)
        with_perplexity = args.models is not None and not args.no_perplexity
        modes = [False, True] if with_perplexity else [False]
        if with_perplexity and not all(loaded[lang]["perplexity"] for lang in corpus):
            raise SystemExit("error: ROOTS's side found no KenLM model for some language in " + args.models)
        differences = sum(compare(corpus, ours, roots, mode) for mode in modes)
        if differences:
            print(f"{differences} documents differ from ROOTS's code: no timing", file=sys.stderr)
            return 1
        best: dict[tuple[bool, str, str], float] = defaultdict(lambda: math.inf)
        for _ in range(args.repeat):
            for mode in modes:
                for lang, seconds in roots.ask(op="time", perplexity=mode).items():
                    best[mode, "roots", lang] = min(best[mode, "roots", lang], seconds)
                for lang, texts in corpus.items():
                    started = time.perf_counter()
                    ours.score(lang, texts, mode)
                    best[mode, "ours", lang] = min(best[mode, "ours", lang], time.perf_counter() - started)
    finally:
        roots.close()
    return report(args, corpus, origins, modes, best)


def report(args: argparse.Namespace, corpus: dict[str, list[str]], origins: dict[str, str], modes: list[bool],
           best: dict[tuple[bool, str, str], float]) -> int:
    """Print the per-language table and the overall ratios; write --json."""
    print(f"ROOTS's code: {args.roots}/ac_dc/filtering.py, parameters {args.parameters}; one core, best of "
          f"{args.repeat}; stage-A texts, scores and decisions identical on all "
          f"{sum(map(len, corpus.values())):,} documents")
    for lang, origin in origins.items():
        print(f"  {lang}: {origin}")
    header = f"{'lang':<6}{'docs':>6}{'chars/doc':>10}"
    for mode in modes:
        label = "+ perplexity" if mode else "model-free"
        header += f" | {label + ': ROOTS':>19}{'ours':>9}{'ratio':>7}"
    print(header + "   (docs/s)")
    figures: dict[str, dict] = {}
    rows = [*corpus, "all"]
    ratios = {mode: [] for mode in modes}
    for lang in rows:
        texts = corpus[lang] if lang != "all" else [t for texts in corpus.values() for t in texts]
        langs = [lang] if lang != "all" else list(corpus)
        line = f"{lang:<6}{len(texts):>6}{sum(map(len, texts)) / len(texts):>10,.0f}"
        figures[lang] = {"documents": len(texts), "chars_per_document": sum(map(len, texts)) / len(texts)}
        for mode in modes:
            theirs = len(texts) / sum(best[mode, "roots", name] for name in langs)
            mine = len(texts) / sum(best[mode, "ours", name] for name in langs)
            line += f" | {theirs:>19,.0f}{mine:>9,.0f}{mine / theirs:>6.2f}x"
            figures[lang]["perplexity" if mode else "model_free"] = {
                "roots_docs_per_second": theirs, "ours_docs_per_second": mine, "ratio": mine / theirs}
            if lang != "all":
                ratios[mode].append(mine / theirs)
        print(line)
    lowest = min(ratios[False])
    print(f"model-free: lowest per-language ratio {lowest:.2f}x, overall "
          f"{figures['all']['model_free']['ratio']:.2f}x (target >= {TARGET:.0f}x on every language): "
          f"{'met' if lowest >= TARGET else 'NOT met'}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "baseline": "ROOTS data_tooling ac_dc/filtering.py", "checkout": args.roots,
            "repeat": args.repeat, "languages": figures, "target": TARGET,
            "python": platform.python_version()}, indent=2) + "\n")
    return 0


def train_models(by_lang: dict[str, list[str]], folder: str) -> None:
    """Train each language's models on its documents, one document per line."""
    for lang, texts in sorted(by_lang.items()):
        path = os.path.join(folder, f"{lang}.txt")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(dict.fromkeys(" ".join(text.split()) for text in texts)) + "\n")
        train_language_model(lang, [path], folder, order=5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--roots", metavar="DATA_TOOLING",
                        help="a checkout of bigscience-workshop/data_tooling: time its ac_dc/filtering.py")
    parser.add_argument("--roots-python", default=sys.executable,
                        help="the Python that runs ROOTS's code (default: this one)")
    parser.add_argument("--parameters", default=str(PARAMETERS),
                        help="ROOTS's production parameters (default: "
                             "shared/reference/filter_parameters.json)")
    parser.add_argument("--docs", type=int, help="documents per language with --roots (default 300), "
                                                 "in all without (default 3000)")
    parser.add_argument("--languages", default=",".join(ROOTS_LANGUAGES),
                        help="with --roots (default: ROOTS's 13)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", help="folder of <lang>.sp.model + <lang>.arpa (default: trained first)")
    parser.add_argument("--no-perplexity", action="store_true", help="leave perplexity out")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})  # one core: the unit
    if args.roots is None:
        print("no ROOTS checkout given (--roots DATA_TOOLING): measuring against issue 3's per-document "
              "rewrite of ROOTS's scoring, which is slower than ROOTS's own code", file=sys.stderr)
        docs = load_documents(args.docs or 3000)
        with tempfile.TemporaryDirectory(prefix="roots-bench-models-") as scratch:
            if not args.models and not args.no_perplexity:
                by_lang: dict[str, list[str]] = defaultdict(list)
                for lang, text in docs:
                    by_lang[lang].append(text)
                train_models(by_lang, scratch)
                args.models = scratch
            return measure_against_rewrite(args, docs)
    args.docs = args.docs or 300
    with tempfile.TemporaryDirectory(prefix="roots-bench-models-") as scratch:
        if not args.models:
            corpus, _ = real_corpus(args.docs, tuple(args.languages.split(",")))
            # zh's words are SentencePiece pieces: its model is needed even without perplexity.
            train_models(corpus if not args.no_perplexity else {k: v for k, v in corpus.items() if k == "zh"},
                         scratch)
            args.models = scratch
        return measure_against_roots(args, cpu)


if __name__ == "__main__":
    sys.exit(main())
