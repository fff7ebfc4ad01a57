"""Tokenizer fertility: BLOOM's settings, hand-counted fertility, weird tokens, and the report of a run."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
from pathlib import Path

import datasets
import pytest
from tokenizers import Tokenizer

from roots_pipeline.cli import fertility as fertility_command
from roots_pipeline.cli.fertility import run as fertility
from roots_pipeline.errors import RootsError
from roots_pipeline.fertility import load_tokenizer, run_fertility
from roots_pipeline.fertility.corpus import held_out
from roots_pipeline.fertility.measure import measure, relative_difference
from roots_pipeline.fertility.tokenizer import BLOOM_SPLIT_PATTERN, bloom_tokenizer, train_tokenizer
from roots_pipeline.fertility.weird_tokens import weird_tokens
from roots_pipeline.fertility.words import word_counter
from roots_pipeline.filters import SCORES
from roots_pipeline.output.shards import shard_schema
from tests.conftest import DEMO

BYTES_ONLY = 256 + 4  # the byte alphabet and the four special tokens: no merge is learnt


def test_pre_tokenizer_is_blooms_quirk_included():
    split = bloom_tokenizer().pre_tokenizer.pre_tokenize_str("Hi, you  f(x)|y 你好。")
    pieces = [piece for piece, _ in split]
    # "(", "|" and ")" sit literally in BLOOM's character class, so they split words like punctuation.
    assert pieces == ["Hi", ",", "Ġyou", "Ġ", "Ġf", "(", "x", ")|", "y", "Ġä½łå¥½", "ãĢĤ"]


def test_saved_tokenizer_has_blooms_settings(tmp_path):
    tokenizer = train_tokenizer([["some text to learn from"]], 300)
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    saved = json.loads((tmp_path / "tokenizer.json").read_text())
    assert saved["normalizer"] is None and saved["model"]["type"] == "BPE"
    split, byte_level = saved["pre_tokenizer"]["pretokenizers"]
    assert split["pattern"] == {"Regex": BLOOM_SPLIT_PATTERN} and split["behavior"] == "Isolated"
    assert byte_level["type"] == "ByteLevel"
    assert (byte_level["add_prefix_space"], byte_level["use_regex"]) == (False, False)
    assert [(t["id"], t["content"]) for t in saved["added_tokens"]] == [
        (0, "<unk>"), (1, "<s>"), (2, "</s>"), (3, "<pad>")]
    assert load_tokenizer(str(tmp_path / "tokenizer.json")).encode("some text").tokens == ["some", "Ġtext"]


def test_fertility_matches_a_hand_count():
    french = word_counter("fr", None)
    # Without merges every UTF-8 byte is a token: "le chat, noir." is 14 bytes and 3 words.
    (bytes_only,) = measure([train_tokenizer([["abc"]], BYTES_ONLY)], [["le chat, noir."]], french.count)
    assert (bytes_only.tokens, bytes_only.words, bytes_only.fertility) == (14, 3, 14 / 3)
    # "ab ab ab ab": the pair (a, b) occurs 4 times, (Ġ, a) 3 times, so the one merge learnt is "ab";
    # "ab ab" is then "ab" + "Ġ" + "ab": 3 tokens for 2 words.
    one_merge = train_tokenizer([["ab ab ab ab"]], BYTES_ONLY + 1)
    assert one_merge.encode("ab ab").tokens == ["ab", "Ġ", "ab"]
    (tally,) = measure([one_merge], [["ab ab"]], french.count)
    assert tally.fertility == 1.5
    assert relative_difference(1.65, 1.5) == pytest.approx(0.10)
    assert relative_difference(None, 1.5) is None and relative_difference(1.5, None) is None


def test_chinese_words_without_a_model_are_characters():
    counter = word_counter("zh", None)
    assert counter.method == "characters"
    assert counter.count("你好，世界。 hello") == 5  # 你 好 世 界 hello; punctuation is not a word
    assert word_counter("en", None).count("Hello,  world -- again") == 3  # ROOTS's split and strip


def test_weird_tokens_reveal_urls_emails_digits_and_repeats():
    lines = ["see http://www.example.com/page.html now", "write to someone@example.org today",
             "call 1234567 ==========", "plain words here"] * 50
    tokenizer = train_tokenizer([lines], 400)
    ids = [i for text in lines for i in tokenizer.encode(text).ids]
    found = weird_tokens(tokenizer, {i: ids.count(i) for i in set(ids)})
    assert all(found[name]["count"] > 0 for name in ("url", "email", "digits", "repeated")), found
    assert found["markup"]["count"] == 0
    top_url = found["url"]["examples"][0]
    assert top_url["occurrences"] > 0 and any(part in top_url["token"] for part in ("http", "www", ".com", "://"))


def demo_texts() -> dict[str, list[str]]:
    """Real documents: OSCAR-layout English and catalogue French (Debian texts, tests/data/README.md)."""
    with gzip.open(DEMO / "oscar" / "en_part_1.jsonl.gz", "rt", encoding="utf-8") as handle:
        english = [json.loads(line)["text"] for line in handle][:60]
    french = datasets.load_from_disk(str(DEMO / "catalogue" / "manpages_fr"))["text"][:60]
    return {"en": english, "fr": french}


def write_run(folder: Path, texts: dict[str, list[str]], empty: str) -> None:
    """A finished run folder as `roots run` leaves it: shards per language, stats.json and run.json;
    `empty` is declared by a source and in the ledger but has no document."""
    folder.mkdir(parents=True, exist_ok=True)
    features = datasets.Features.from_arrow_schema(shard_schema(False))
    entries = []
    for lang, docs in texts.items():
        ids = [hashlib.blake2b(text.encode(), digest_size=8).hexdigest() for text in docs]
        rows = {"id": ids, "text": docs, "source": ["catalogue"] * len(docs),
                "dataset": [f"d_{lang}"] * len(docs), "lang": [lang] * len(docs), "url": [None] * len(docs),
                "meta": ["{}"] * len(docs), "scores": [dict.fromkeys(SCORES)] * len(docs)}
        datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(folder / "data" / lang))
        entries.append({"source": "catalogue", "dataset": f"d_{lang}", "lang": lang})
    entries.append({"source": "catalogue", "dataset": f"d_{empty}", "lang": empty})
    (folder / "stats.json").write_text(json.dumps({"run": "tiny", "entries": entries, "balance": []}))
    sources = [{"kind": "catalogue", "dataset": e["dataset"], "lang": e["lang"]} for e in entries]
    (folder / "run.json").write_text(json.dumps({"status": "finished", "sources": sources, "stages": []}))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fertility")
    texts = demo_texts()
    write_run(folder / "run", texts, empty="sw")
    other = train_tokenizer([texts["en"]], 500)  # a tokenizer of the user's, to compare with
    other.save(str(folder / "english.json"))
    parser = argparse.ArgumentParser()
    fertility_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["fertility", str(folder / "run"), "--vocab-size", "800", "--eval-share", "0.25",
                              "--compare", str(folder / "english.json")])
    assert fertility(args, []) == 0
    out = folder / "run" / "fertility"
    return out, json.loads((out / "report.json").read_text()), texts


def test_report_gives_each_language_its_row(report):
    out, data, texts = report
    rows = {row["lang"]: row for row in data["languages"]}
    assert list(rows) == ["en", "fr", "sw"]
    assert rows["sw"]["status"] == "no documents" and rows["sw"]["multilingual"] is None
    assert "| sw | Swahili (macrolanguage) | — | — | — | no documents |" in (out / "report.md").read_text()
    for lang in ("en", "fr"):
        row = rows[lang]
        assert row["status"] == "ok" and row["train_docs"] + row["eval_docs"] == len(texts[lang])
        assert row["eval_docs"] == sum(held_out(hashlib.blake2b(t.encode(), digest_size=8).hexdigest(), 0.25)
                                       for t in texts[lang])
        assert row["monolingual"] == row["tokens_monolingual"] / row["words"]
        assert row["multilingual"] == row["tokens_multilingual"] / row["words"]
        assert row["difference"] == pytest.approx(row["multilingual"] / row["monolingual"] - 1)
        assert row["over_objective"] == (row["difference"] > 0.10)
        assert row["compared"]["english"]["fertility"] > 0
    assert data["vocab_size"] == 800 and data["compared"][0]["name"] == "english"


def test_report_numbers_are_those_of_the_saved_tokenizers(report):
    out, data, texts = report
    row = next(row for row in data["languages"] if row["lang"] == "fr")
    held = [t for t in texts["fr"] if held_out(hashlib.blake2b(t.encode(), digest_size=8).hexdigest(), 0.25)]
    tokenizers = [Tokenizer.from_file(str(out / "monolingual" / "fr.json")),
                  Tokenizer.from_file(str(out / "tokenizer.json"))]
    tallies = measure(tokenizers, [held], word_counter("fr", None).count)
    assert [t.tokens for t in tallies] == [row["tokens_monolingual"], row["tokens_multilingual"]]
    assert tallies[0].words == row["words"]


def test_report_files(report):
    out, data, _ = report
    png = (out / "fertility.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    text = (out / "report.md").read_text()
    assert "## Weird tokens" in text and "![Fertility per language](fertility.png)" in text
    assert set(data["weird_tokens"]) == {"url", "email", "digits", "markup", "repeated"}


def test_errors_name_the_problem(report, tmp_path):
    out, _, _ = report
    run = str(out.parent)
    (tmp_path / "not.json").write_text("{}")
    with pytest.raises(RootsError, match="not.json"):
        run_fertility(run, out=str(tmp_path / "o"), vocab_size=300, compare=[str(tmp_path / "not.json")])
    with pytest.raises(RootsError, match="--vocab-size 100"):
        run_fertility(run, vocab_size=100)
    with pytest.raises(RootsError, match="--eval-share"):
        run_fertility(run, eval_share=1.0)
    with pytest.raises(RootsError, match="no such run folder"):
        run_fertility(str(tmp_path / "missing"))
    write_run(tmp_path / "empty", {}, empty="sw")
    with pytest.raises(RootsError, match="nothing to train"):
        run_fertility(str(tmp_path / "empty"))
    parser = argparse.ArgumentParser()
    fertility_command.add_parser(parser.add_subparsers())
    with pytest.raises(RootsError, match="Beam options"):
        fertility(parser.parse_args(["fertility", run]), ["--runner=DirectRunner"])
