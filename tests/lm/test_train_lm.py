"""Training perplexity models on the bundled English sample text, and the errors a user can cause."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
import sentencepiece

from roots_pipeline.errors import RootsError
from roots_pipeline.lm.perplexity import PerplexityModel, find_models
from roots_pipeline.lm.train import train_language_model
from tests.conftest import BAD


@pytest.fixture(scope="module")
def english(demo: Path) -> list[str]:
    """The non-blank lines of the English sample documents (Debian Reference sections), in order."""
    with gzip.open(demo / "oscar" / "en_part_1.jsonl.gz", "rt", encoding="utf-8") as lines:
        documents = [json.loads(line)["text"] for line in lines]
    return [line for document in documents for line in document.split("\n") if line.strip()]


@pytest.fixture(scope="module")
def corpus(english: list[str], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """400 lines as plain text and 200 more gzip-compressed, with blank lines between some."""
    folder = tmp_path_factory.mktemp("text")
    plain, compressed = folder / "part1.txt", folder / "part2.txt.gz"
    plain.write_text("\n\n".join(english[:400]) + "\n", encoding="utf-8")
    with gzip.open(compressed, "wt", encoding="utf-8") as out:
        out.write("\n".join(english[400:600]) + "\n")
    return str(plain), str(compressed)


@pytest.fixture(scope="module")
def trained(corpus: tuple[str, str], tmp_path_factory: pytest.TempPathFactory):
    out_dir = tmp_path_factory.mktemp("models") / "nested" / "lm"
    return train_language_model("eng", list(corpus), str(out_dir))


def test_writes_loadable_models_with_a_record(trained, corpus: tuple[str, str]) -> None:
    # "eng" is stored under the canonical code.
    assert trained.lang == "en"
    assert find_models(str(Path(trained.arpa).parent), "en") == (trained.sentencepiece_model, trained.arpa)
    assert Path(trained.sentencepiece_vocab).is_file()
    # 400 + 200 non-blank lines; the blank ones between are read, then skipped.
    assert (trained.lines_read, trained.lines_used) == (799 + 200, 600)
    # 600 lines cannot fill 65,536 pieces: the largest vocabulary SentencePiece accepts is used.
    assert trained.vocab_size_requested == 65536
    assert 500 < trained.vocab_size < 65536
    assert sentencepiece.SentencePieceProcessor(model_file=trained.sentencepiece_model).get_piece_size() == (
        trained.vocab_size
    )
    assert trained.order == 5 and len(trained.ngrams) == 5
    record = json.loads(Path(trained.info).read_text(encoding="utf-8"))
    assert [entry["path"] for entry in record["files"]] == list(corpus)
    assert record["sentencepiece"]["vocab_size"] == trained.vocab_size
    assert record["kenlm"]["ngrams"] == list(trained.ngrams)
    assert record["tokens"] == trained.tokens
    header = Path(trained.arpa).read_text(encoding="utf-8").split("\n\n")[0].splitlines()
    assert header == ["\\data\\", *(f"ngram {n}={count}" for n, count in enumerate(trained.ngrams, 1))]
    summary = trained.summary()
    assert trained.arpa in summary and "65,536 requested" in summary


def test_in_language_text_scores_better_than_shuffled_characters(trained, english: list[str]) -> None:
    model = PerplexityModel(trained.sentencepiece_model, trained.arpa)
    # Held out: lines the model was not trained on.
    held_out = [line for line in english[600:] if len(line) > 60][:20]
    shuffled = ["".join(random.Random(seed).sample(line, len(line))) for seed, line in enumerate(held_out)]
    real, scrambled = model.perplexities(held_out), model.perplexities(shuffled)
    assert all(a < b for a, b in zip(real, scrambled, strict=True))
    assert sorted(real)[10] * 3 < sorted(scrambled)[10]


def test_max_sentences_stops_reading(corpus: tuple[str, str], tmp_path: Path) -> None:
    result = train_language_model("en", list(corpus), str(tmp_path), max_sentences=150, order=3)
    assert result.lines_used == 150
    record = json.loads(Path(result.info).read_text(encoding="utf-8"))
    # The second file was never opened.
    assert [entry["path"] for entry in record["files"]] == [corpus[0]]


def test_training_twice_writes_the_same_files(corpus: tuple[str, str], tmp_path: Path) -> None:
    first = train_language_model("en", list(corpus), str(tmp_path / "a"), max_sentences=200, order=3)
    second = train_language_model("en", list(corpus), str(tmp_path / "b"), max_sentences=200, order=3)
    for name in ("sentencepiece_model", "sentencepiece_vocab", "arpa", "info"):
        assert Path(getattr(first, name)).read_bytes() == Path(getattr(second, name)).read_bytes()


def test_a_failed_rerun_leaves_the_previous_pair_whole(
    corpus: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = train_language_model("en", list(corpus), str(tmp_path), max_sentences=100, order=3)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}

    def fail(*_: object) -> None:
        raise OSError("disk full")

    # The new SentencePiece model is already staged when writing the ARPA file fails.
    monkeypatch.setattr("roots_pipeline.lm.train.write_arpa", fail)
    with pytest.raises(OSError, match="disk full"):
        train_language_model("en", list(corpus), str(tmp_path), max_sentences=200, order=3)
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
    assert sorted(before) == sorted(
        Path(p).name for p in (first.sentencepiece_model, first.sentencepiece_vocab, first.arpa, first.info)
    )


@pytest.fixture
def blank_file(tmp_path: Path) -> str:
    path = tmp_path / "blank.txt"
    path.write_text("\n  \n\t\n", encoding="utf-8")
    return str(path)


def test_bad_inputs_are_clear_errors(
    corpus: tuple[str, str], bad: Path, blank_file: str, tmp_path: Path
) -> None:
    out = str(tmp_path / "out")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes((BAD / "invalid_utf8.jsonl").read_bytes())  # one Latin-1 é on line 2
    whole = gzip.compress(Path(corpus[0]).read_bytes())
    truncated = tmp_path / "truncated.txt.gz"
    truncated.write_bytes(whole[: len(whole) * 6 // 10])
    not_gzip = tmp_path / "not_gzip.txt.gz"
    not_gzip.write_bytes(b"plain text under a .gz name\n")
    cases = [
        (("klingonish", [corpus[0]]), {}, "unknown language code 'klingonish'"),
        (("en", []), {}, "no training text"),
        (("en", [str(tmp_path / "missing.txt")]), {}, "missing.txt: training text not found"),
        (("en", [str(tmp_path)]), {}, "a folder; give the text files in it"),
        (("en", [str(bad / "invalid_json.jsonl")]), {}, "JSON lines, not plain text; extract the text"),
        (("en", [blank_file]), {}, "blank.txt: no text in it"),
        (("en", [str(latin1)]), {}, r"latin1.txt: line \d+: not valid UTF-8"),
        (("en", [str(truncated)]), {}, "truncated.txt.gz: cannot read it after line"),
        (("en", [str(not_gzip)]), {}, "not_gzip.txt.gz: cannot read it after line 0"),
        (("en", [corpus[0]]), {"order": 1}, "order must be between 2 and 6"),
        (("en", [corpus[0]]), {"order": 7}, "order must be between 2 and 6"),
        (("en", [corpus[0]]), {"max_sentences": 0}, "number of lines to use must be at least 1"),
        (("en", [corpus[0]]), {"vocab_size": 5}, r"vocabulary of 5 pieces is too small .* at least \d+"),
    ]
    for (lang, files), options, message in cases:
        with pytest.raises(RootsError, match=message):
            train_language_model(lang, files, out, **options)


def test_output_folder_problems_are_found_before_training(corpus: tuple[str, str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RootsError, match="cannot create the output folder"):
        train_language_model("en", [corpus[0]], str(blocker / "models"))


def test_script_suffix_of_the_language_s_own_script_names_models_after_it(
    corpus: tuple[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    result = train_language_model("en_Latn", [corpus[0]], str(tmp_path), max_sentences=50, order=2)
    assert result.lang == "en" and Path(result.arpa).name == "en.arpa"
    assert find_models(str(tmp_path), "en") is not None
    assert "only 50 lines of text" in caplog.text
