"""Per-language filter configuration: `languages/<code>.yaml` and its word lists, validated on load.

Each language file gives the ROOTS stage-A modifications, the cutoffs of every quality filter
(absent or null = off), how words are split, which fastText lid.176 labels mean the language, and
the paths of its stopword and flagged-word lists (relative to `languages/`). The schema, the
origins (`roots`, `fineweb2`, `default`) and how the files are regenerated are described in
`languages/README.md`. Every problem is a RecipeError naming the language file and the key
(`filters.word_repetition.max`), raised when the file is loaded, never in the middle of a run.
"""

import dataclasses
import functools
import json
import math
import os
import re
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from roots_pipeline.errors import OptionError, RecipeError
from roots_pipeline.lang.characters import CHARACTER_SETS
from roots_pipeline.lang.codes import canonical_language, language_name
from roots_pipeline.options import StrictLoader, build_options

# No `from __future__ import annotations` here: with real annotations, the get_type_hints() that
# build_options runs per mapping costs nothing, and `roots languages` reads ~1,900 files.

ORIGINS = ("roots", "fineweb2", "default")
WORD_SPLITS = ("whitespace", "sentencepiece")
DEFAULT = "default"

# The 176 labels of fastText's lid.176 model (read from lid.176.ftz). Mostly ISO 639-1/-3, but
# they are Wikipedia codes: `als` is Alemannic (not Tosk Albanian), `bh` Bhojpuri, `sh` Serbo-Croatian.
_LID176 = """
af als am an ar arz as ast av az azb ba bar bcl be bg bh bn bo bpy br bs bxr ca cbk ce ceb ckb co cs
cv cy da de diq dsb dty dv el eml en eo es et eu fa fi fr frr fy ga gd gl gn gom gu gv he hi hif hr hsb
ht hu hy ia id ie ilo io is it ja jbo jv ka kk km kn ko krc ku kv kw ky la lb lez li lmo lo lrc lt lv
mai mg mhr min mk ml mn mr mrj ms mt mwl my myv mzn nah nap nds ne new nl nn no oc or os pa pam pfl pl
pms pnb ps pt qu rm ro ru rue sa sah sc scn sco sd sh si sk sl so sq sr su sv sw ta te tg th tk tl tr
tt tyv ug uk ur uz vec vep vi vls vo wa war wuu xal xmf yi yo yue zh"""
LID176_LABELS = frozenset(_LID176.split())

# Individual languages without an ISO 639-1 code that lid.176 (and most users) know by their
# macrolanguage: their files are named after the macrolanguage (`swh` → `sw`), and these codes are
# read as it. A member whose own 639-1 code exists keeps it (`nb`) and gets its label below.
MACROLANGUAGE_OF = {
    "arb": "ar", "azj": "az", "cmn": "zh", "ekk": "et", "gug": "gn", "khk": "mn", "kmr": "ku",
    "kpv": "kv", "lvs": "lv", "npi": "ne", "ory": "or", "pbt": "ps", "pes": "fa", "plt": "mg",
    "als": "sq", "swh": "sw", "uzn": "uz", "ydd": "yi", "zsm": "ms",
}

# Languages that lid.176 labels with another code: Bokmål as `no`, Swiss German as Wikipedia's
# `als`, Bhojpuri as `bh`, Filipino as `tl` (Tagalog). Otherwise the label is the code itself.
LID176_LABEL_OF = {"nb": "no", "gsw": "als", "bho": "bh", "fil": "tl"}


# lid.176 labels with no code in languages/codes.tsv: `eml` (Emilian-Romagnol, retired from ISO
# 639-3 and split in two) and `nah` (a collective code). Documents identified as them stay `und`.
LID176_WITHOUT_CODE = frozenset({"eml", "nah"})
_CODE_OF_LABEL = {label: code for code, label in LID176_LABEL_OF.items()}


def code_of_lid_label(label: str) -> str | None:
    """Return our language code for a lid.176 label: the one table from labels to codes.

    The exceptions of LID176_LABEL_OF read backwards (`no` → `nb`, `tl` → `fil`), otherwise the
    label's canonical code; None for a label outside lid.176 or in LID176_WITHOUT_CODE.
    """
    if label not in LID176_LABELS or label in LID176_WITHOUT_CODE:
        return None
    return _CODE_OF_LABEL.get(label) or language_code(label)


def _ratio(owner: object, *fields: str) -> None:
    """Raise OptionError for the first of `fields` that is not a ratio in [0, 1]."""
    for name in fields:
        value = getattr(owner, name)
        if not 0.0 <= value <= 1.0:
            raise OptionError(name, f"must be a ratio between 0 and 1, got {value!r}")


def _at_least(owner: object, minimum: int, *fields: str) -> None:
    """Raise OptionError for the first of `fields` below `minimum`."""
    for name in fields:
        value = getattr(owner, name)
        if value < minimum:
            raise OptionError(name, f"must be at least {minimum}, got {value!r}")


@dataclass(frozen=True)
class Modifications:
    """ROOTS stage A: the changes made to a document before it is scored."""

    uniform_whitespace: bool
    replace_unicode_punctuation: bool
    remove_words_with_incorrect_substrings: bool
    incorrect_word_substrings: tuple[str, ...]
    remove_long_words: bool
    length_word_max_cutoff: int

    def __post_init__(self) -> None:
        _at_least(self, 1, "length_word_max_cutoff")
        if any(not s for s in self.incorrect_word_substrings):
            raise OptionError("incorrect_word_substrings", "an empty substring would remove every word")


@dataclass(frozen=True)
class WordCount:
    """Keep a document whose number of words n satisfies min <= n <= max."""

    min: int
    max: int

    def __post_init__(self) -> None:
        _at_least(self, 0, "min")
        _at_least(self, self.min, "max")


@dataclass(frozen=True)
class Repetition:
    """Keep a document whose repetition ratio of `length`-grams is <= max."""

    length: int
    max: float

    def __post_init__(self) -> None:
        _at_least(self, 1, "length")
        _ratio(self, "max")


@dataclass(frozen=True)
class MaxRatio:
    """Keep a document whose ratio is <= max."""

    max: float

    def __post_init__(self) -> None:
        _ratio(self, "max")


@dataclass(frozen=True)
class MinRatio:
    """Keep a document whose ratio (or language-id probability) is >= min."""

    min: float

    def __post_init__(self) -> None:
        _ratio(self, "min")


@dataclass(frozen=True)
class MaxPerplexity:
    """Keep a document whose KenLM perplexity is <= max."""

    max: float

    def __post_init__(self) -> None:
        if not self.max > 0:
            raise OptionError("max", f"must be greater than 0, got {self.max!r}")


@dataclass(frozen=True)
class Filters:
    """Cutoffs in ROOTS's evaluation order; None = the filter is off (ROOTS `cond_check_*` false)."""

    number_words: WordCount | None = None
    character_repetition: Repetition | None = None
    word_repetition: Repetition | None = None
    special_characters: MaxRatio | None = None
    closed_class_words: MinRatio | None = None
    flagged_words: MaxRatio | None = None
    lang_id: MinRatio | None = None
    perplexity: MaxPerplexity | None = None


@dataclass(frozen=True)
class WordsAugmentation:
    """Also count consecutive word groups of these sizes, joined by `join_char` (vi " ", zh "")."""

    group_sizes: tuple[int, ...]
    join_char: str

    def __post_init__(self) -> None:
        if not self.group_sizes:
            raise OptionError("group_sizes", "must list at least one size (omit words_augmentation for none)")
        if any(size < 2 for size in self.group_sizes):
            raise OptionError("group_sizes", f"sizes must be at least 2, got {list(self.group_sizes)}")


@dataclass(frozen=True)
class LanguageConfig:
    """One validated `languages/<code>.yaml`."""

    code: str
    name: str
    origin: str
    script: str | None
    word_split: str
    lid_labels: tuple[str, ...]
    strip_characters: str
    special_characters: str
    modifications: Modifications
    filters: Filters
    stopwords: str | None
    flagged_words: str | None
    words_augmentation: WordsAugmentation | None = None
    fineweb2_config: str | None = None
    # Folder the word lists are read from: "" = the packaged languages/ (set by the loader).
    root: str = dataclasses.field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        _one_of(self, "origin", ORIGINS)
        _one_of(self, "word_split", WORD_SPLITS)
        _one_of(self, "strip_characters", tuple(CHARACTER_SETS))
        _one_of(self, "special_characters", tuple(CHARACTER_SETS))
        for label in self.lid_labels:
            if label not in LID176_LABELS:
                raise OptionError("lid_labels", f"{label!r} is not a label of fastText lid.176")

    def stopword_set(self) -> frozenset[str] | None:
        """Return the closed-class words, or None when the language has no list (filter skipped)."""
        return None if self.stopwords is None else word_set(self.stopwords, self.root)

    def flagged_word_set(self) -> frozenset[str] | None:
        """Return the flagged words, or None when the language has no list (filter skipped)."""
        return None if self.flagged_words is None else word_set(self.flagged_words, self.root)

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as written in a language file (None filters left out)."""
        data = dataclasses.asdict(self)
        del data["root"]
        data["filters"] = {k: v for k, v in data["filters"].items() if v is not None}
        return _lists(data)


_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./ -]*")
_YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"}


def _scalar(value: object) -> str:
    """Return a YAML scalar; strings are quoted JSON-style (valid YAML) unless plainly safe."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 10000.0 → 10000: the loader turns it back into a float
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        assert math.isfinite(value) and "e" not in text, text  # PyYAML reads 1e-05 as a string
        return text
    assert isinstance(value, str), value
    if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS and value == value.strip():
        return value
    return json.dumps(value, ensure_ascii=False)


def _flow(value: object) -> str:
    """Return a value on one line: flow mappings and sequences, or a scalar."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def to_yaml(data: dict[str, Any], comments: Sequence[str] = ()) -> str:
    """Return a language file's text: `# comments`, then one line per key, `modifications` and
    `filters` one line per entry. Used by scripts/build_languages.py and `roots languages CODE`."""
    lines = [f"# {c}" if not c.startswith("#") else c for c in comments]
    for key, value in data.items():
        if key in ("modifications", "filters") and value:
            lines.append(f"{key}:")
            lines += [f"  {k}: {_flow(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def _lists(value: Any) -> Any:
    """Turn tuples into lists, recursively, so the YAML dumper writes plain sequences."""
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value


def _one_of(owner: object, field: str, allowed: tuple[str, ...]) -> None:
    """Raise OptionError if a field's value is not one of `allowed`."""
    value = getattr(owner, field)
    if value not in allowed:
        raise OptionError(field, f"must be one of {', '.join(allowed)}, got {value!r}")


@dataclass(frozen=True)
class LanguageSummary:
    """One row of `roots languages`."""

    code: str
    name: str
    script: str | None
    origin: str
    word_split: str
    stopwords: int
    flagged_words: int


@functools.cache
def _package() -> Any:
    """Return the packaged `languages/` folder (a Traversable: a folder, or a place in a wheel)."""
    return resources.files("roots_pipeline.languages")


def languages_state() -> list[tuple[str, int, int]]:
    """Return (path, size, mtime in ns) of every file of the `languages/` folder.

    A run's fingerprint includes it, so that a tuned cutoff (`roots tune --write`) or an edited
    word list makes the next run redo its work, without reading some 4,000 files each time.
    """
    root = _package()
    state = []
    stack = [root]
    while stack:
        for entry in stack.pop().iterdir():
            if entry.is_dir():
                stack.append(entry)
            elif entry.is_file():
                path = str(entry)
                try:
                    stat = os.stat(path)
                    state.append((path, stat.st_size, stat.st_mtime_ns))
                except OSError:  # inside a zip: the package version already pins its content
                    continue
    return sorted(state)


def _folder(root: str) -> Any:
    """Return the folder a language file's relative paths are resolved in."""
    return Path(root) if root else _package()


@functools.cache
def word_list(relative: str, root: str = "") -> tuple[str, ...]:
    """Return a word list's entries in file order: one per line, kept exactly (no strip), read once."""
    data = _folder(root).joinpath(relative).read_bytes()
    # Split on "\n" only: str.splitlines() would also split inside entries at U+0085 or U+2028.
    lines = data.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return tuple(lines)


@functools.cache
def word_set(relative: str, root: str = "") -> frozenset[str]:
    """Return a word list as the set that documents are matched against."""
    return frozenset(word_list(relative, root))


def character_set(name: str) -> frozenset[str]:
    """Return a character set named in language files (`special_characters_default`)."""
    return CHARACTER_SETS[name]


def language_code(label: str) -> str | None:
    """Return the code a language's file is named by: canonical, with macrolanguage members folded
    into their macrolanguage (`swh`, `swh_Latn` → `sw`, `sw_Latn`); None for an unknown label."""
    code = canonical_language(label)
    if code is None:
        return None
    base, sep, script = code.partition("_")
    return MACROLANGUAGE_OF.get(base, base) + sep + script


def lid_labels(code: str) -> tuple[str, ...]:
    """Return the lid.176 labels that mean a language (script ignored), empty if lid.176 lacks it."""
    base = code.split("_")[0]
    label = LID176_LABEL_OF.get(base, base)
    return (label,) if label in LID176_LABELS and base not in MACROLANGUAGE_OF else ()


def _dataclass_of(hint: Any) -> type | None:
    """Return the dataclass a field holds (`D` or `D | None`), else None."""
    for candidate in (hint, *typing.get_args(hint)):
        if dataclasses.is_dataclass(candidate):
            return candidate  # type: ignore[return-value]
    return None


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """Return a dataclass's field types."""
    return typing.get_type_hints(cls)


def _build(cls: type, values: Any, file: str, where: str) -> Any:
    """Build a dataclass with nested dataclass fields, checking keys and types (options.build_options)."""
    if not isinstance(values, dict):
        got = f"must be a mapping, got {type(values).__name__} {values!r}"
        raise RecipeError(file, where or "(file)", got[:200])
    hints = _hints(cls)
    values = dict(values)
    for key, value in values.items():
        inner = _dataclass_of(hints.get(key)) if isinstance(key, str) else None
        if inner is not None and value is not None:
            values[key] = _build(inner, value, file, f"{where}.{key}" if where else key)
    try:
        return build_options(cls, values, file, where)
    except RecipeError as exc:  # build_options writes top-level keys as ".key"
        if exc.key.startswith("."):
            raise RecipeError(file, exc.key[1:], exc.problem) from exc
        raise


def read_language_file(path: str | os.PathLike[str]) -> LanguageConfig:
    """Read and validate a language file outside the package (a copy being edited, a test fixture);
    its word lists are resolved relative to its own folder."""
    path = os.path.abspath(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise RecipeError(path, "(file)", f"cannot read: {exc.strerror}") from exc
    return _parse(raw, path, os.path.dirname(path))


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader), StrictLoader):  # type: ignore[misc]
    """recipe's duplicate-refusing safe loader, on libyaml's parser when PyYAML has it (~10x faster)."""


def _parse(raw: bytes, file: str, root: str) -> LanguageConfig:
    """Validate the bytes of a language file; `root` is where its word lists live ("" = package)."""
    try:
        data = yaml.load(raw, Loader=_Loader)  # safe: SafeConstructor only
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).replace('in "<byte string>"', "").split())
        raise RecipeError(file, "(file)", f"not valid YAML: {problem}") from exc
    if isinstance(data, dict) and "root" in data:
        raise RecipeError(file, "root", "unknown key (set by the loader, not in a file)")
    config: LanguageConfig = _build(LanguageConfig, data, file, "")
    config = dataclasses.replace(config, root=root)
    stem = os.path.basename(file).rsplit(".", 1)[0]
    if config.code != stem:
        raise RecipeError(file, "code", f"{config.code!r} must match the file name ({stem}.yaml)")
    if config.code == DEFAULT:
        if config.origin != DEFAULT:
            raise RecipeError(file, "origin", "default.yaml must have origin: default")
    elif language_code(config.code) != config.code:
        raise RecipeError(file, "code", f"{config.code!r} is not a canonical language code "
                                        f"(use {language_code(config.code)!r})")
    base, _, suffix = config.code.partition("_")
    if config.script is not None and canonical_language(f"{base}_{config.script}") is None:
        raise RecipeError(file, "script", f"{config.script!r} is not an ISO 15924 script code")
    if suffix and suffix != config.script:
        raise RecipeError(file, "script", f"must be {suffix} for a {config.code} file, got {config.script!r}")
    if config.origin == DEFAULT and config.code != DEFAULT:
        raise RecipeError(file, "origin", "only default.yaml has origin: default")
    if config.filters.lang_id is not None and not config.lid_labels and config.origin != DEFAULT:
        raise RecipeError(file, "filters.lang_id", "needs lid_labels (lid.176 labels of this language); "
                                                   "set lang_id to null if lid.176 does not know it")
    for key in ("stopwords", "flagged_words"):
        relative = getattr(config, key)
        if relative is None:
            continue
        parts = relative.replace("\\", "/").split("/")
        if os.path.isabs(relative) or ".." in parts:
            raise RecipeError(file, key, f"{relative!r} must be a path inside languages/ (no '..')")
        try:
            word_list(relative, root)
        except FileNotFoundError as exc:
            raise RecipeError(file, key, f"word list {relative} not found (paths are relative to "
                                         "languages/)") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise RecipeError(file, key, f"cannot read word list {relative}: {exc}") from exc
    return config


@functools.cache
def load_language(code: str, fallback: bool = False) -> LanguageConfig:
    """Return the packaged configuration of a language (`fr`, `fra`, `hi_Latn`); with fallback=True
    a language without its own file gets `default.yaml`'s cutoffs under its own code."""
    canonical = DEFAULT if code == DEFAULT else language_code(code)
    if canonical is None:
        raise RecipeError("languages", code, "unknown language code (not in languages/codes.tsv)")
    resource = _package().joinpath(f"{canonical}.yaml")
    if resource.is_file():
        return _parse(resource.read_bytes(), str(resource), "")
    base, _, script = canonical.partition("_")
    if script and _package().joinpath(f"{base}.yaml").is_file():
        config = load_language(base)
        if config.script == script:  # `fr_Latn` is `fr` written in its own script: the same file
            return config
    if not fallback:
        raise RecipeError("languages", canonical,
                          f"no configuration file for {language_name(canonical)} ({canonical}.yaml); "
                          "`roots languages` lists the languages that have one, and --fallback shows "
                          "default.yaml's cutoffs, which it gets in a run")
    default = load_language(DEFAULT)
    labels = () if "_" in canonical else lid_labels(canonical)  # lid.176 knows main scripts only
    # lid.176 cannot confirm a language it has no label for, so that filter would drop everything.
    filters = default.filters if labels else dataclasses.replace(default.filters, lang_id=None)
    return dataclasses.replace(default, code=canonical, name=language_name(canonical), lid_labels=labels,
                               filters=filters)


def known_languages(origin: str | None = None) -> list[LanguageSummary]:
    """Return one summary row per packaged language file (default.yaml excluded), sorted by code."""
    rows = []
    for entry in _package().iterdir():
        name = entry.name
        if not name.endswith(".yaml") or name == f"{DEFAULT}.yaml":
            continue
        config = load_language(name[: -len(".yaml")])
        if origin is not None and config.origin != origin:
            continue
        rows.append(LanguageSummary(
            config.code, config.name, config.script, config.origin, config.word_split,
            len(word_list(config.stopwords)) if config.stopwords else 0,
            len(word_list(config.flagged_words)) if config.flagged_words else 0))
    return sorted(rows, key=lambda row: row.code)
