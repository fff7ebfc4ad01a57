"""ROOTS's catalogue and pseudo-crawl cleaning functions: pure text in, text and counts out.

Every expected value below was worked out by hand from the ROOTS definitions (DP 01a
`clean_helpers`, pseudo-crawl `doc_by_doc_line_dedup.py`), not by running the code.
"""

from __future__ import annotations

import hashlib

from roots_pipeline.cleaning.dedup_keys import document_key, url_key
from roots_pipeline.cleaning.document_size import is_blank, space_split_words
from roots_pipeline.cleaning.line_hashes import (
    counted_line_hashes,
    distinct_line_hashes,
    line_hash,
    page_hash,
    remove_lines_with_hashes,
    sample_key,
)
from roots_pipeline.cleaning.lines import (
    CODE_MARKERS,
    HTML_SPAN_MARKERS,
    SANAD_MARKERS,
    WIKI_MOJIBAKE_MARKERS,
    cut_trailing_lines,
    remove_lines_containing,
    remove_repeated_lines,
    replace_newlines,
)
from roots_pipeline.cleaning.references import has_enough_stopwords, remove_references
from roots_pipeline.cleaning.wiktionary import EN_WIKTIONARY_BOILERPLATE, strip_wiktionary_boilerplate
from roots_pipeline.lang.config import character_set, load_language

STRIP = character_set("special_characters_default")


def md5(text: str) -> bytes:
    return hashlib.md5(text.encode()).digest()


# --- line removers (build_line_with_substring_remover) ---------------------------------------

def test_code_lines_go_but_an_if_without_bracket_stays():
    text = ("Intro line\nif (x) {\n  return;\n}\nif x then y\n[if gte mso 9]><xml>\n"
            "<script src=\"a.js\"></script>\nEnd")
    assert remove_lines_containing(text, CODE_MARKERS) == ("Intro line\n  return;\nif x then y\nEnd", 4)


def test_text_without_markers_is_returned_unchanged():
    text = "Plain prose.\nIf it rains, stay home."
    result, removed = remove_lines_containing(text, CODE_MARKERS)
    assert result is text and removed == 0


def test_html_span_lines_including_rootss_substring_quirks():
    text = ("<div class=\"nav\">Menu</div>\nA sentence with a <b>bold</b> word.\nLine<br>\n"
            "See <a href=\"/x\">this</a>\nAn <abbr>ISO</abbr> code")
    # "<b>" is no marker; "br>" and "<a" are substrings, so "<abbr>" goes too, as in ROOTS.
    assert remove_lines_containing(text, HTML_SPAN_MARKERS) == ("A sentence with a <b>bold</b> word.", 4)


def test_sanad_markers_need_their_exact_form():
    text = ("var adUnit = 1;\nThe variable is set.\nTo view this video please enable JavaScript, and "
            "consider upgrading\n<img src=x>\nالخبر الرئيسي")
    assert remove_lines_containing(text, SANAD_MARKERS) == ("The variable is set.\nالخبر الرئيسي", 3)


def test_wiki_mojibake_line_goes_but_a_single_a_grave_stays():
    assert remove_lines_containing("À À À À\nÀ propos\nx", WIKI_MOJIBAKE_MARKERS) == ("À propos\nx", 1)


def test_replace_newlines_keeps_one_space_per_newline():
    assert replace_newlines("a\nb\n\nc") == "a b  c"
    assert replace_newlines("no newline") == "no newline"


# --- within-document line dedup (doc_by_doc_line_dedup.py) -----------------------------------

def test_repeated_lines_keep_their_first_occurrence_and_every_empty_line():
    assert remove_repeated_lines("a\nb\n\na\n\nb\nc") == ("a\nb\n\n\nc", 2)
    assert remove_repeated_lines("a\n a\nb") == ("a\n a\nb", 0)  # exact comparison: " a" differs


# --- trailing references (remove_references_<lang>) ------------------------------------------

def test_cut_trailing_lines_cuts_only_the_tail():
    keeps = str.isupper
    assert cut_trailing_lines("A\nb\nC\nd\ne", keeps) == ("A\nb\nC", 2)
    assert cut_trailing_lines("A\nB", keeps) == ("A\nB", 0)
    assert cut_trailing_lines("a\nb", keeps) == ("", 2)


def test_stopword_share_must_be_strictly_above_the_ratio():
    stopwords = {"the"}
    assert not has_enough_stopwords("the cat", stopwords, 0.5, STRIP)  # 1/2 is not > 0.5
    assert has_enough_stopwords("the the cat", stopwords, 0.5, STRIP)  # 2/3
    assert not has_enough_stopwords("", stopwords, 0.0, STRIP)  # no words fails any ratio
    # Words are the OSCAR score's: lowercased and stripped of punctuation ("The," counts).
    assert has_enough_stopwords("The, cat", stopwords, 0.3, STRIP)


def test_english_references_are_cut_at_the_tail_only():
    en = load_language("en")
    stopwords, ratio = en.stopword_set(), en.filters.closed_class_words.min
    assert ratio == 0.3
    text = ("The cat sat on the mat and it was happy.\n"  # 6 stopwords of 10 words
            "Table 1: 42 17 93\n"  # only "table" is a word: 0 of 1, but a passing line follows
            "This is the end of the text and it is here.\n"  # 8 of 11
            "Smith, J. (2020). Deep Learning. Nature 521.\n"  # smith j deep learning nature: 0 of 5
            "Jones, K. 2019. Graphs. ACM 3.")  # jones k graphs acm: 0 of 4
    expected = "\n".join(text.split("\n")[:3])
    assert remove_references(text, stopwords, ratio, STRIP) == (expected, 2)
    prose = "The cat sat on the mat and it was happy."
    assert remove_references(prose, stopwords, ratio, STRIP) == (prose, 0)


def test_vietnamese_references_use_the_two_word_augmentation():
    vi = load_language("vi")
    stopwords, ratio = vi.stopword_set(), vi.filters.closed_class_words.min
    # "thanh niên" is listed, "thanh" and "niên" are not: only the 2-gram makes the line pass.
    assert "thanh niên" in stopwords and not {"thanh", "niên", "nguyễn", "văn"} & stopwords
    text = "Thanh niên\nNguyễn Văn"
    assert remove_references(text, stopwords, ratio, STRIP, vi.words_augmentation) == ("Thanh niên", 1)
    assert remove_references(text, stopwords, ratio, STRIP) == ("", 2)


# --- Wiktionary boilerplate (strip_substrings_en_wiktionary) ---------------------------------

def test_wiktionary_boilerplate_is_removed_where_it_occurs():
    assert len(EN_WIKTIONARY_BOILERPLATE) == 17
    text = "water\nThis entry needs audio files\nNoun: H2O."
    assert strip_wiktionary_boilerplate(text) == ("water\n\nNoun: H2O.", 1)
    # A glued pair: the shorter first sentence matches first (ROOTS's order), then the rest.
    glued = "If you are familiar with the IPA then please add some!This entry needs audio files"
    assert strip_wiktionary_boilerplate(glued) == ("", 2)
    # Sentences without "This entry" or "please" are found too.
    rfd = "Do not remove the {{rfd}} until the debate has finished."
    assert strip_wiktionary_boilerplate(rfd) == (".", 1)


def test_text_about_entries_is_not_boilerplate():
    text = "This entry is about water. Please drink some."
    assert strip_wiktionary_boilerplate(text) == (text, 0)


# --- line hashes for the corpus-level removals -----------------------------------------------

def test_lines_are_identified_by_the_md5_of_their_stripped_text():
    assert line_hash("  Home | About  \t") == md5("Home | About") == line_hash("Home | About")
    assert page_hash("a\nb") == md5("a\nb")


def test_counted_line_hashes_count_occurrences_of_long_enough_lines():
    text = "short\nA line that is long enough\n  A line that is long enough  \n\n12345678901234"
    # "short" (5) and the 14-digit line are under 15 characters; the long line occurs twice.
    assert list(counted_line_hashes(text, 15)) == [md5("A line that is long enough")] * 2
    assert len(list(counted_line_hashes(text, 0))) == 5  # min 0: every line, the empty one too
    assert distinct_line_hashes("x\n x\ny") == {md5("x"), md5("y")}


def test_removing_listed_lines_leaves_other_lines_as_they_are():
    text = "Home | About\n    indented code();\nHome | About  \nreal text"
    assert remove_lines_with_hashes(text, {md5("Home | About")}) == ("    indented code();\nreal text", 2)
    assert remove_lines_with_hashes(text, set()) == (text, 0)


def test_sample_key_is_a_stable_64_bit_number():
    expected = int.from_bytes(hashlib.blake2b(b"1b0bb5d975cd1deb", digest_size=8).digest(), "big")
    assert sample_key("1b0bb5d975cd1deb") == expected < 2**64
    assert sample_key("a") != sample_key("b")


# --- exact-duplicate keys ---------------------------------------------------------------------

def test_document_key_ignores_whitespace_digits_and_ascii_punctuation_only():
    assert document_key("Hello, World! 2021\n") == document_key("Hello World 1999") == md5("HelloWorld")
    assert document_key("Hello World") != document_key("hello world")  # case stays
    assert document_key("عدد ٣") == md5("عدد")  # \d is Unicode: Arabic-Indic digits go too
    assert document_key("«Hello»") != document_key("Hello")  # non-ASCII punctuation stays


def test_url_key_drops_the_query_only():
    assert url_key("https://x.org/a/b?utm_source=mirror") == "https://x.org/a/b"
    assert url_key("https://x.org/a#part") == "https://x.org/a#part"


# --- small documents ---------------------------------------------------------------------------

def test_blank_and_space_split_word_count():
    assert is_blank(" \n\t") and is_blank("") and not is_blank(" x ")
    assert space_split_words("one two  three") == 4  # the double space makes an empty word
    assert space_split_words("one\ntwo three") == 2  # only " " separates
    assert space_split_words("") == 1
