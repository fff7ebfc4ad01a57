"""Language files: ROOTS's exact parameters and lists, the FineWeb-2 additions, and clear errors."""

from __future__ import annotations

import configparser
import shutil

import pytest
import yaml

from roots_pipeline.cli.main import main
from roots_pipeline.errors import RecipeError
from roots_pipeline.lang.characters import SPECIAL_CHARACTERS_DEFAULT
from roots_pipeline.lang.config import (
    character_set,
    known_languages,
    load_language,
    read_language_file,
    word_list,
    word_set,
)
from tests.conftest import REPO

LANGUAGES = REPO / "languages"
ROOTS = ("ar", "bn", "ca", "en", "es", "eu", "fr", "hi", "id", "pt", "ur", "vi", "zh")

# Entries per list, as counted in the reference's ROOTS.md §2.
STOPWORDS = {"ar": 382, "bn": 59, "ca": 409, "en": 301, "es": 706, "eu": 1240, "fr": 365, "hi": 135,
             "id": 423, "pt": 610, "ur": 59, "vi": 444, "zh": 1567}
FLAGGED = {"en": 68, "eu": 68, "zh": 87, "id": 88, "fr": 96, "es": 103, "ur": 105, "bn": 106, "hi": 109,
           "vi": 110, "pt": 114, "ca": 116, "ar": 127}


def test_roots_parameters_by_hand():
    fr, en, zh, ur, vi, bn = (load_language(c) for c in ("fr", "en", "zh", "ur", "vi", "bn"))
    assert fr.filters.number_words.min == 13 and fr.filters.number_words.max == 100_000
    assert fr.modifications.length_word_max_cutoff == 45 and fr.filters.perplexity.max == 1770
    assert en.filters.character_repetition.max == 0.106
    assert zh.word_split == "sentencepiece" and zh.filters.character_repetition.length == 3
    assert zh.filters.number_words.max == 1_000_000 and not zh.modifications.remove_long_words
    assert ur.filters.word_repetition.length == 7 and ur.filters.word_repetition.max == 0.5
    assert vi.words_augmentation.group_sizes == (2,) and vi.words_augmentation.join_char == " "
    assert zh.words_augmentation.group_sizes == (2,) and zh.words_augmentation.join_char == ""
    assert fr.words_augmentation is None
    assert bn.filters.closed_class_words.min == 0.002 and bn.filters.flagged_words.max == 0.001
    assert load_language("pt").filters.lang_id.min == 0.6


def test_every_roots_language_has_every_filter_and_its_own_lists():
    for code in ROOTS:
        config = load_language(code)
        assert config.origin == "roots" and config.code == code and config.lid_labels == (code,)
        assert all(getattr(config.filters, f) is not None for f in config.filters.__dataclass_fields__)
        modifications = config.modifications
        assert modifications.uniform_whitespace and not modifications.replace_unicode_punctuation
        assert config.modifications.remove_long_words == (code != "zh")
        assert config.modifications.incorrect_word_substrings == ("http", "www", ".com", "href", "//")
        assert config.stopwords == f"{code}/stopwords.txt"
        assert config.flagged_words == f"{code}/flagged_words.txt"
        assert config.strip_characters == config.special_characters == "special_characters_default"


def test_default_is_roots_default_without_lists():
    default = load_language("default")
    assert default.origin == "default" and default.stopwords is None and default.flagged_words is None
    assert default.stopword_set() is None and default.lid_labels == ()
    assert default.modifications.length_word_max_cutoff == 50 and not default.modifications.remove_long_words
    assert default.filters.word_repetition.max == 0.3 and default.filters.perplexity.max == 10_000


def test_roots_word_lists_are_kept_entry_for_entry():
    for code in ROOTS:
        config = load_language(code)
        assert len(word_list(config.stopwords)) == STOPWORDS[code]
        assert len(word_list(config.flagged_words)) == FLAGGED[code]
    assert len(load_language("ca").stopword_set()) == 403  # ROOTS.md: 409 entries, 403 distinct
    assert sum(w != w.strip() for w in word_list("bn/stopwords.txt")) == 29  # edge spaces kept
    assert sum(w.startswith("\ufeff") for w in word_list("es/stopwords.txt")) == 5  # BOMs kept
    assert "Anda" in word_set("id/stopwords.txt") and "être" in word_set("fr/stopwords.txt")
    english = word_set("en/flagged_words.txt")
    assert english <= word_set("fr/flagged_words.txt") and english == word_set("eu/flagged_words.txt")


def test_special_character_set():
    chars = character_set("special_characters_default")
    assert {"\u3000", "\u0085", "一", "«", "5", "\n", "!", "👍"} <= chars  # the emoji too
    assert chars == SPECIAL_CHARACTERS_DEFAULT


def test_generated_swahili_from_fineweb2():
    sw = load_language("sw")
    assert sw.origin == "fineweb2" and sw.script == "Latn" and sw.fineweb2_config == "swh_Latn"
    assert {"ya", "na"} <= sw.stopword_set()
    assert sw.flagged_words == "en/flagged_words.txt"
    assert sw.flagged_word_set() == word_set("en/flagged_words.txt")
    assert sw.lid_labels == ("sw",) and sw.filters.lang_id.min == 0.7
    default = load_language("default")
    assert sw.filters == default.filters and sw.modifications == default.modifications
    assert load_language("swh") == sw and load_language("swa") == sw


def test_generated_codes_and_labels():
    assert load_language("sq").fineweb2_config == "als_Latn" and load_language("sq").lid_labels == ("sq",)
    assert load_language("als").code == "sq"  # ISO `als` is Tosk Albanian; lid.176's `als` is Alemannic
    assert load_language("gsw").lid_labels == ("als",) and load_language("nb").lid_labels == ("no",)
    hi_latn = load_language("hi_Latn")
    assert hi_latn.origin == "fineweb2" and hi_latn.lid_labels == () and hi_latn.filters.lang_id is None
    assert load_language("hi").origin == "roots" and load_language("ar").origin == "roots"
    assert load_language("sr").script == "Cyrl" and load_language("sr_Latn").script == "Latn"
    ja = load_language("ja")  # no spaces between words: word-based filters off
    assert ja.filters.closed_class_words is None and ja.filters.number_words is None
    assert load_language("fr_Latn") is load_language("fr")  # its own script: fr.yaml itself
    assert load_language("fra_Latn").code == "fr"
    with pytest.raises(RecipeError, match=r"no configuration file for French \(fr_Cyrl.yaml\)"):
        load_language("fr_Cyrl")
    ha = load_language("ha")  # lid.176 has no Hausa
    assert ha.lid_labels == () and ha.filters.lang_id is None


def test_known_languages():
    rows = known_languages()
    codes = [r.code for r in rows]
    assert len(codes) == len(set(codes)) and "default" not in codes
    assert [r.code for r in known_languages("roots")] == list(ROOTS)
    fineweb2 = [r for r in rows if r.origin == "fineweb2"]
    assert len(fineweb2) > 1500 and all(r.flagged_words == FLAGGED["en"] and r.stopwords for r in fineweb2)
    fr = next(r for r in rows if r.code == "fr")
    assert (fr.name, fr.script, fr.word_split, fr.stopwords, fr.flagged_words) == ("French", "Latn",
                                                                                   "whitespace", 365, 96)


def test_missing_language_and_fallback():
    with pytest.raises(RecipeError) as error:
        load_language("aa")
    assert error.value.key == "aa" and "no configuration file for Afar (aa.yaml)" in error.value.problem
    afar = load_language("aar", fallback=True)
    assert afar.code == "aa" and afar.origin == "default" and afar.name == "Afar"
    assert afar.lid_labels == () and afar.filters.lang_id is None  # lid.176 has no Afar
    with pytest.raises(RecipeError, match="unknown language code"):
        load_language("not-a-code")


@pytest.fixture
def fr_copy(tmp_path):
    """A copy of fr.yaml and its lists, to break."""
    shutil.copy(LANGUAGES / "fr.yaml", tmp_path / "fr.yaml")
    shutil.copytree(LANGUAGES / "fr", tmp_path / "fr")
    return tmp_path / "fr.yaml"


def test_a_copy_reads_like_the_packaged_file(fr_copy):
    copy = read_language_file(fr_copy)
    assert copy == load_language("fr") and copy.stopword_set() == load_language("fr").stopword_set()


@pytest.mark.parametrize("old, new, key, problem", [
    ("origin: roots", "origin: roots\ncolour: red", "colour", "unknown key"),
    ("  perplexity: {max: 1770}", "  perplexity: {max: 1770, min: 3}", "filters.perplexity.min",
     "unknown key"),
    ("  closed_class_words: {min: 0.27}", "  stopword_ratio: {min: 0.27}", "filters.stopword_ratio",
     "unknown key"),
    ("word_repetition: {length: 5, max: 0.13}", "word_repetition: {length: 5, max: high}",
     "filters.word_repetition.max", "must be a number"),
    ("word_repetition: {length: 5, max: 0.13}", "word_repetition: {length: 5.5, max: 0.13}",
     "filters.word_repetition.length", "must be an integer"),
    ("word_repetition: {length: 5, max: 0.13}", "word_repetition: {length: 5, max: 1.3}",
     "filters.word_repetition.max", "between 0 and 1"),
    ("number_words: {min: 13, max: 100000}", "number_words: {min: 13, max: 3}", "filters.number_words.max",
     "at least 13"),
    ("lid_labels: [fr]", "lid_labels: fr-FR", "lid_labels", "not a label of fastText lid.176"),
    ("remove_long_words: true", "remove_long_words: yes please", "modifications.remove_long_words",
     "true or false"),
    ("word_split: whitespace", "word_split: jieba", "word_split", "must be one of"),
    ("  lang_id: {min: 0.8}", "  lang_id: 0.8", "filters.lang_id", "must be a mapping"),
    ("code: fr", "code: en", "code", "must match the file name"),
    ("script: Latn", "script: Latin", "script", "not an ISO 15924 script"),
    ("stopwords: fr/stopwords.txt", "stopwords: fr/stopwords.text", "stopwords", "not found"),
    ("stopwords: fr/stopwords.txt", "stopwords: ../fr/stopwords.txt", "stopwords", "inside languages/"),
    ("origin: roots", "origin: roots\norigin: fineweb2", "(file)", "appears twice"),
])
def test_broken_file_names_file_and_key(fr_copy, old, new, key, problem):
    text = fr_copy.read_text(encoding="utf-8")
    assert old in text
    fr_copy.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RecipeError) as error:
        read_language_file(fr_copy)
    assert error.value.file == str(fr_copy) and error.value.key == key
    assert problem in error.value.problem
    assert str(error.value).startswith(f"{fr_copy}: {key}: ")


def test_missing_word_list_file(fr_copy):
    (fr_copy.parent / "fr" / "flagged_words.txt").unlink()
    with pytest.raises(RecipeError) as error:
        read_language_file(fr_copy)
    assert error.value.key == "flagged_words" and "fr/flagged_words.txt not found" in error.value.problem


def test_every_language_file_is_shipped_by_package_data():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    patterns = [p.strip() for p in config["options.package_data"]["roots_pipeline.languages"].split(",")]
    shipped = {path for pattern in patterns for path in LANGUAGES.glob(pattern)}
    data = {path for path in LANGUAGES.rglob("*") if path.is_file() and path.suffix != ".py"
            and "__pycache__" not in path.parts}
    assert data - shipped == set()


def test_cli_lists_languages(capsys):
    assert main(["languages", "--origin", "roots"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["code", "name", "script"] and len(lines) == 1 + 13 + 1
    assert lines[-1].startswith("13 languages (13 roots, 0 fineweb2)")
    zh = next(line for line in lines if line.startswith("zh "))
    assert zh.split() == ["zh", "Chinese", "Hani", "roots", "sentencepiece", "1567", "87"]


def test_cli_shows_one_language_as_yaml_that_reads_back(capsys, tmp_path):
    assert main(["languages", "swh"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# sw: languages/sw.yaml; 9 stopwords, 68 flagged words\n")
    data = yaml.safe_load(out)
    assert data["code"] == "sw" and data["filters"]["lang_id"] == {"min": 0.7}
    (tmp_path / "sw.yaml").write_text(out.replace("sw/stopwords.txt", "stopwords.txt")
                                      .replace("en/flagged_words.txt", "flagged.txt"), encoding="utf-8")
    shutil.copy(LANGUAGES / "sw" / "stopwords.txt", tmp_path / "stopwords.txt")
    shutil.copy(LANGUAGES / "en" / "flagged_words.txt", tmp_path / "flagged.txt")
    again = read_language_file(tmp_path / "sw.yaml")
    sw = load_language("sw")
    assert again.filters == sw.filters and again.stopword_set() == sw.stopword_set()


def test_cli_fallback_and_errors(capsys):
    assert main(["languages", "aa", "--fallback"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# aa: languages/default.yaml (no file of its own); no word lists")
    assert main(["languages", "aa"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "aa.yaml" in err and "no configuration" in err
    assert main(["languages", "fr", "--origin", "roots"]) == 2
    with pytest.raises(SystemExit):
        main(["languages", "--help"])
    assert "roots languages --origin roots" in capsys.readouterr().out
