"""The `roots` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib import resources

from roots_pipeline import __version__
from roots_pipeline.binarize_command import add_binarize_parser
from roots_pipeline.card_command import add_card_parsers
from roots_pipeline.errors import LedgerImbalance, RootsError
from roots_pipeline.tune_command import add_tune_parser

DEFAULT_RECIPE = "pipelines/demo.yaml"

_RUN_EPILOG = """\
Any other --option is passed to Apache Beam unchanged, e.g.
  --direct_running_mode=multi_processing --direct_num_workers=0   (one worker per core)
  --runner DataflowRunner --project P --region R --temp_location gs://B/tmp

examples:
  roots run                                   the demo recipe on the bundled data
  roots run demo --out out/x                  a recipe by name, writing elsewhere
  roots run path/to/my.yaml                   a recipe file
  roots run pipelines/oscar.yaml --input 'dumps/*.jsonl.zst' --out out/oscar
                                              a recipe with its one source's paths replaced
  roots run my.yaml --input wiki_fr=data/wiki_fr/ --input crawl=crawl/*.warc.gz
                                              several sources, named by their dataset
  roots run --source oscar='dumps/fr_*.jsonl.gz' --out out/fr
  roots run --source catalogue=my_dataset/ --lang sw --out out/sw
"""

_LANGUAGES_EPILOG = """\
Each language is a file languages/<code>.yaml (see languages/README.md): origin `roots` = ROOTS's
hand-tuned cutoffs and lists; `fineweb2` = ROOTS's default cutoffs with FineWeb-2 stopwords.

examples:
  roots languages                             every configured language, one line each
  roots languages --origin roots              the 13 languages ROOTS tuned
  roots languages sw                          Swahili's configuration, as YAML
  roots languages swh                         the same (a macrolanguage member reads as `sw`)
  roots languages ha --fallback               default.yaml's cutoffs, as a language without a file gets them
"""


_SCORE_EPILOG = """\
Output: each input line with `scores` (number_words, character_repetition, word_repetition,
special_characters, closed_class_words, flagged_words, lang_id, perplexity — a score is absent
when it cannot be computed: no model, no word list) and `rejected_by` (every failed filter).
A bad line (not UTF-8, not JSON, no string `text`) stops the command with its line number, after
every line before it has been written; --skip-bad names it on stderr and goes on.

examples:
  roots score --lang fr docs.jsonl > scored.jsonl
  cat docs.jsonl | roots score --lang zh --models models/   SentencePiece + KenLM from models/
  roots score --lang en --character-repetition fixed docs.jsonl
"""


_DEDUP_EPILOG = """\
OUTPUT is a run folder (data/ and rejects/ shards, stats.json) plus survivors.jsonl (every kept
record, all its fields, with the stage's text) and duplicates.jsonl (one line per record removed
or changed: duplicate_of and cluster, removed_spans, lines_removed, or the reason it was dropped).
Of a group of copies the one with the smallest document id survives, the same on every runner.
Beam options (e.g. --direct_running_mode=multi_processing) pass through as for `roots run`.

examples:
  roots dedup --method exact --lang fr docs.jsonl out/fr_exact
  roots dedup --method minhash --lang zh --threshold 0.8 docs.jsonl.gz out/zh_near
  roots dedup --method suffix-array --min-bytes 100 out/demo out/demo_substrings
  roots dedup --method lines --lang en --text-field content pages.parquet out/en_lines
"""


_TRAIN_LM_EPILOG = """\
Trains what ROOTS's perplexity filter needs, offline, from text you give (one document or sentence
per line; .txt or .txt.gz): a SentencePiece unigram model (<lang>.sp.model) and a KenLM 5-gram
ARPA model (<lang>.arpa) estimated with modified Kneser-Ney by this package. Point a recipe's
quality_filter `models:` (or `roots score --models`) at the output folder.

examples:
  roots train-lm sw wiki_sw.txt news_sw.txt.gz --out models/
  roots train-lm zh corpus_zh.txt --out models/ --vocab-size 32000
"""


def main(argv: list[str] | None = None) -> int:
    """Entry point of `roots`; returns the process exit code."""
    # Beam logs hints about optional cloud modules at WARNING on import; errors still show.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    from roots_pipeline.beam_args import split_beam_args

    ours, beam_args = split_beam_args(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(ours)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args, beam_args)
    except KeyboardInterrupt:
        print("roots: interrupted; outputs may be incomplete (the next run redoes them)", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `roots run | head`: the reader left, nothing more to say
        sys.stderr.close()
        return 0
    except LedgerImbalance as exc:
        print(f"roots: {exc}", file=sys.stderr)
        return 1
    except RootsError as exc:
        print(f"roots: error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roots", description="Turn raw multilingual text into training-ready data (ROOTS-style).")
    parser.add_argument("--version", action="version", version=f"roots-pipeline {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run a recipe (default pipelines/demo.yaml) or the default stages on --source inputs",
        description="Run a recipe, or the default stages on ad-hoc inputs, on Apache Beam.",
        epilog=_RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("recipe", nargs="?",
                     help=f"recipe YAML, or a name in pipelines/ such as `demo` (default: {DEFAULT_RECIPE})")
    run.add_argument("--source", action="append", metavar="KIND=PATH[,PATH…]",
                     help="an input instead of a recipe: KIND is catalogue, oscar or pseudo_crawl; "
                          "PATH may be a glob; repeatable")
    run.add_argument("--lang", metavar="CODE",
                     help="language of the --source inputs (required for catalogue)")
    run.add_argument("--out", metavar="DIR", help="run folder (overrides the recipe's `output`)")
    run.add_argument("--input", action="append", metavar="[DATASET=]PATH[,PATH…]",
                     help="replace the paths of the recipe's source with this dataset name (just PATH "
                          "when it has one source); PATH may be a glob; repeatable")
    run.add_argument("--force", action="store_true", help="run even if the outputs are complete and current")
    run.add_argument("--quiet", action="store_true", help="no live progress line")
    run.set_defaults(handler=_run)
    languages = commands.add_parser(
        "languages", help="list the configured languages, or show one language's configuration",
        description="List the languages that have a configuration in languages/, or print one as YAML.",
        epilog=_LANGUAGES_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    languages.add_argument("code", nargs="?", metavar="CODE",
                           help="a language code (fr, fra, sw, hi_Latn): print its resolved configuration")
    languages.add_argument("--origin", choices=("roots", "fineweb2"),
                           help="list only languages of this origin")
    languages.add_argument("--fallback", action="store_true",
                           help="with CODE: show default.yaml's cutoffs when the language has no file")
    languages.set_defaults(handler=_languages)
    score = commands.add_parser(
        "score", help="score JSON lines with a language's ROOTS filters (text in, scores out)",
        description="Read JSON lines with a `text` field (FILE or stdin) and write them back with the "
                    "quality filter's scores and the filters each fails, as the quality_filter stage does.",
        epilog=_SCORE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    score.add_argument("file", nargs="?", metavar="FILE", help="JSON lines file (default: stdin)")
    score.add_argument("--lang", required=True, metavar="CODE",
                       help="the documents' language (its languages/ file gives cutoffs and word lists)")
    score.add_argument("--models", metavar="DIR",
                       help="folder with <lang>.sp.model and <lang>.arpa[.bin] (perplexity; zh words)")
    score.add_argument("--lid-model", metavar="PATH",
                       help="fastText lid.176 model (default: the packaged one)")
    score.add_argument("--character-repetition", choices=("production", "fixed"), default="production",
                       help="which ROOTS formula (default: production, the one ROOTS ran)")
    score.add_argument("--skip-bad", action="store_true",
                       help="skip lines that are not UTF-8 JSON objects with a string `text` (each is "
                            "named on stderr) instead of stopping at the first one")
    score.set_defaults(handler=_score)
    add_binarize_parser(commands)
    add_card_parsers(commands)
    add_tune_parser(commands)
    dedup = commands.add_parser(
        "dedup", help="run one deduplication stage on JSON lines or a run's shards, without a recipe",
        description="Deduplicate a corpus with one method and write the survivors and what was removed.",
        epilog=_DEDUP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    dedup.add_argument("input", metavar="INPUT",
                       help="JSON lines (.jsonl[.gz|.zst]), parquet/Arrow/save_to_disk data, or a run folder")
    dedup.add_argument("output", metavar="OUTPUT", help="output folder (a run folder; created)")
    dedup.add_argument("--method", required=True, choices=("exact", "lines", "minhash", "suffix-array"),
                       help="exact: normalised-text copies; lines: template lines repeated across "
                            "documents; minhash: near-duplicates; suffix-array: repeated substrings")
    dedup.add_argument("--lang", metavar="CODE",
                       help="the documents' language (required for files; for a run folder, only this one)")
    dedup.add_argument("--text-field", default="text", metavar="NAME",
                       help="field holding the text (default: text)")
    dedup.add_argument("--force", action="store_true", help="run even if OUTPUT is complete and current")
    dedup.add_argument("--quiet", action="store_true", help="no live progress line")
    lines = dedup.add_argument_group("lines")
    lines.add_argument("--min-line-chars", type=int, help="shortest template line, stripped (default 15)")
    lines.add_argument("--min-occurrences", type=int, help="occurrences that make a template (default 10)")
    minhash = dedup.add_argument_group("minhash")
    minhash.add_argument("--ngram", type=int, help="shingle length in words or characters (default 5)")
    minhash.add_argument("--shingle", choices=("auto", "words", "characters"),
                         help="auto (default): characters for zh, ja, th; words otherwise")
    minhash.add_argument("--num-perm", type=int, help="permutations (default 320)")
    minhash.add_argument("--threshold", type=float,
                         help="Jaccard similarity of near-duplicates (default 0.7)")
    minhash.add_argument("--seed", type=int, help="permutation seed (default 1, as datasketch)")
    suffix = dedup.add_argument_group("suffix-array")
    suffix.add_argument("--min-bytes", type=int, help="shortest repeated substring removed (default 50)")
    suffix.add_argument("--part-mb", type=float, help="text per suffix array; bounds memory (see README)")
    dedup.set_defaults(handler=_dedup)
    train = commands.add_parser(
        "train-lm", help="train a language's SentencePiece + KenLM models for the perplexity filter",
        description="Train <lang>.sp.model and <lang>.arpa from text files, offline, as ROOTS trained its "
                    "perplexity models.",
        epilog=_TRAIN_LM_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("lang", metavar="LANG", help="language code (fr, sw, zh…)")
    train.add_argument("files", nargs="+", metavar="FILE",
                       help="text files, one document or sentence per line")
    train.add_argument("--out", required=True, metavar="DIR", help="folder for the models (created)")
    train.add_argument("--vocab-size", type=int, default=65536,
                       help="SentencePiece vocabulary (default 65536 as ROOTS; lowered when the text is "
                            "too small)")
    train.add_argument("--order", type=int, default=5, help="n-gram order (default 5 as ROOTS)")
    train.add_argument("--max-lines", type=int, metavar="N",
                       help="use at most N lines (ROOTS: the first 1,000,000 Wikipedia article openings)")
    train.set_defaults(handler=_train_lm)
    return parser


def _run(args: argparse.Namespace, beam_args: list[str]) -> int:
    from roots_pipeline.card_command import cards_after_run
    from roots_pipeline.pipeline import run_recipe
    from roots_pipeline.recipe import adhoc_recipe, check_output, load_recipe
    from roots_pipeline.report import summary_table

    if args.source:
        if args.recipe or args.input:
            raise RootsError("give either a recipe (with --input to change its paths) or --source inputs, "
                             "not both")
        if not args.out:
            raise RootsError("--source needs --out DIR (where the run's outputs go)")
        from roots_pipeline.stages import DEFAULT_STAGES

        recipe = adhoc_recipe(args.source, args.lang, args.out, list(DEFAULT_STAGES))
    else:
        if args.lang:
            raise RootsError("--lang applies to --source inputs; a recipe sets `lang` per source")
        recipe = load_recipe(_recipe_path(args.recipe), args.input or ())
        if args.out:
            recipe = recipe.with_output(check_output(args.out))
    result = run_recipe(recipe, beam_args, force=args.force, show_progress=not args.quiet)
    if result.skipped:
        print(f"{result.run_dir} is complete and current (use --force to run again); its last run:")
    print(summary_table(result.stats, result.wall_seconds))
    print(f"outputs: {result.run_dir}/ (data/, rejects/, stats.json, malformed.jsonl)")
    print(cards_after_run(result.run_dir, result.skipped))
    malformed = sum(r["malformed"] for r in result.stats["balance"])
    if malformed:
        print(f"{malformed:,} malformed input records: see {result.run_dir}/malformed.jsonl")
    _warn_if_nothing(result.stats, result.run_dir)
    return 0


def _languages(args: argparse.Namespace, beam_args: list[str]) -> int:
    from roots_pipeline.language_config import known_languages, load_language, to_yaml, word_list

    if beam_args:
        raise RootsError(f"{' '.join(beam_args)}: Beam options apply to `roots run`")
    if args.code:
        if args.origin:
            raise RootsError("give either CODE or --origin, not both")
        config = load_language(args.code, fallback=args.fallback)
        counts = [f"{len(word_list(path, config.root))} {what}" for what, path in
                  (("stopwords", config.stopwords), ("flagged words", config.flagged_words)) if path]
        source = "default.yaml (no file of its own)" if config.origin == "default" else f"{config.code}.yaml"
        print(to_yaml(config.to_dict(), [f"{config.code}: languages/{source}; "
                                         f"{', '.join(counts) or 'no word lists'}"]), end="")
        return 0
    if args.fallback:
        raise RootsError("--fallback applies to a CODE")
    rows = known_languages(args.origin)
    header = ("code", "name", "script", "origin", "word split", "stopwords", "flagged")
    table = [header] + [(r.code, r.name if len(r.name) <= 32 else r.name[:31] + "…", r.script or "-",
                         r.origin, r.word_split, str(r.stopwords), str(r.flagged_words)) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        cells = [cell.rjust(w) if i >= 5 else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        print("  ".join(cells).rstrip())
    by_origin = {o: sum(r.origin == o for r in rows) for o in ("roots", "fineweb2")}
    print(f"{len(rows)} languages ({by_origin['roots']} roots, {by_origin['fineweb2']} fineweb2); "
          "`roots languages CODE` shows one")
    return 0


def _score(args: argparse.Namespace, beam_args: list[str]) -> int:
    from roots_pipeline.filters.quality import QualityScorer
    from roots_pipeline.language_config import DEFAULT, load_language
    from roots_pipeline.score_lines import score_lines

    if beam_args:
        raise RootsError(f"{' '.join(beam_args)}: Beam options apply to `roots run`")
    if args.lang == DEFAULT:
        raise RootsError("--lang default: give the documents' language; one without a languages/ file "
                         "gets default.yaml's cutoffs")
    config = load_language(args.lang, fallback=True)
    lang = config.code
    if config.origin == DEFAULT:
        print(f"roots score: {lang}: no languages/ file; default.yaml's cutoffs apply", file=sys.stderr)
    if args.models and not os.path.isdir(args.models):
        raise RootsError(f"--models {args.models}: not a folder")
    scorer = QualityScorer(args.character_repetition, args.lid_model, args.models)
    scorer.check()
    unscored = scorer.unscored(lang)
    no_model = (f"no {lang}.sp.model + {lang}.arpa[.bin] in {args.models}" if args.models
                else "no model: give --models")
    for absent, what in ((unscored.no_perplexity_model, f"perplexity ({no_model})"),
                         (unscored.no_sentencepiece_model, "word-based scores (no SentencePiece model)"),
                         (unscored.no_lid_label, "lang_id (lid.176 has no label for it)")):
        if absent:
            print(f"roots score: {lang}: no {what}", file=sys.stderr)
    name = args.file or "<stdin>"
    try:
        handle = open(args.file, "rb") if args.file else sys.stdin.buffer  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise RootsError(f"{name}: {exc.strerror}") from exc
    skipped: list[RootsError] = []

    def skip(error: RootsError) -> None:
        skipped.append(error)
        print(f"roots score: skipped {error}", file=sys.stderr)

    with handle:
        for line in score_lines(handle, lang, scorer, name, on_bad=skip if args.skip_bad else None):
            sys.stdout.write(line + "\n")
    if skipped:
        print(f"roots score: {len(skipped)} line(s) skipped", file=sys.stderr)
    return 0


_DEDUP_OPTIONS = {
    "lines": ("min_line_chars", "min_occurrences"),
    "minhash": ("ngram", "shingle", "num_perm", "threshold", "seed"),
    "suffix-array": ("min_bytes", "part_mb"),
    "exact": (),
}


def _dedup(args: argparse.Namespace, beam_args: list[str]) -> int:
    from roots_pipeline.dedup_command import dedup_recipe, export_json_lines
    from roots_pipeline.pipeline import run_recipe
    from roots_pipeline.report import summary_table

    options = {}
    for method, names in _DEDUP_OPTIONS.items():
        for name in names:
            value = getattr(args, name)
            if value is None:
                continue
            if method != args.method:
                raise RootsError(f"--{name.replace('_', '-')} applies to --method {method}")
            options[name] = value
    recipe = dedup_recipe(args.method, args.input, args.output, args.lang, args.text_field, options)
    result = run_recipe(recipe, beam_args, force=args.force, show_progress=not args.quiet)
    print(summary_table(result.stats, result.wall_seconds))
    exported = export_json_lines(result.run_dir, args.text_field)
    print(f"{exported.survivors:,} records in {result.run_dir}/survivors.jsonl; "
          f"{exported.duplicates:,} removed or changed, listed in {result.run_dir}/duplicates.jsonl")
    _warn_if_nothing(result.stats, result.run_dir)
    return 0


def _warn_if_nothing(stats: dict, run_dir: str) -> None:
    """Say so when a run read nothing or kept nothing: an empty output is never silent."""
    totals = {o: sum(r[o] for r in stats["balance"]) for o in ("in", "kept", "malformed")}
    if not totals["in"]:
        print(f"warning: no document was read ({totals['malformed']:,} malformed records); "
              f"the ledger is in {run_dir}/stats.json", file=sys.stderr)
    elif not totals["kept"]:
        print(f"warning: no document was kept; {run_dir}/stats.json says which stage removed them",
              file=sys.stderr)


def _train_lm(args: argparse.Namespace, beam_args: list[str]) -> int:
    from roots_pipeline.lm.train import train_language_model

    if beam_args:
        raise RootsError(f"{' '.join(beam_args)}: Beam options apply to `roots run`")
    logging.getLogger("roots_pipeline").setLevel(logging.INFO)
    result = train_language_model(args.lang, args.files, args.out, vocab_size=args.vocab_size,
                                  order=args.order, max_sentences=args.max_lines)
    print(result.summary())
    return 0


def _recipe_path(given: str | None) -> str:
    """Resolve a recipe argument: a path, else a name in ./pipelines/, else a packaged recipe."""
    if given and (os.path.exists(given) or os.sep in given or given.endswith((".yaml", ".yml"))):
        return given
    name = (given or "demo") + ".yaml"
    local = os.path.join("pipelines", name)
    if os.path.exists(local):
        return local
    if name == "demo.yaml":
        raise RootsError("the demo runs on the data in a repository checkout (tests/data/demo): run it "
                         "from the repository's folder, or give a recipe or --source inputs")
    packaged = resources.files("roots_pipeline.pipelines").joinpath(name)
    return str(packaged) if packaged.is_file() else (given or DEFAULT_RECIPE)


if __name__ == "__main__":
    sys.exit(main())
