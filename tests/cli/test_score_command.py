"""`roots score`: JSON lines in, the same lines with `scores` and `rejected_by` out."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from roots_pipeline.cli.main import main
from roots_pipeline.cli.score import score_lines
from roots_pipeline.filters.quality import QualityScorer
from tests.conftest import DEMO

KEYS = ["number_words", "character_repetition", "word_repetition", "special_characters",
        "closed_class_words", "flagged_words", "lang_id"]


def run_score(capsys, monkeypatch, args, stdin: str | bytes = ""):
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    code = main(["score", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_scores_a_real_oscar_file_like_the_pipeline(tmp_path, capsys, monkeypatch):
    with gzip.open(DEMO / "oscar" / "en_part_1.jsonl.gz", "rt", encoding="utf-8") as handle:
        lines = [line for line, _ in zip(handle, range(30), strict=False)]
    path = tmp_path / "en.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    code, out, err = run_score(capsys, monkeypatch, ["--lang", "en", str(path)])
    assert code == 0 and len(out) == 30
    assert "en: no perplexity (no model: give --models)" in err
    originals = [json.loads(line) for line in lines]
    expected = QualityScorer().score([o["text"] for o in originals], "en")
    for record, original, (_, scores, failed) in zip(out, originals, expected, strict=True):
        assert list(record["scores"]) == KEYS  # exactly these names, in ROOTS's order
        assert record["scores"] == scores and record["rejected_by"] == failed
        assert {k: v for k, v in record.items() if k not in ("scores", "rejected_by")} == original
    assert any(len(r["rejected_by"]) >= 2 for r in out)  # every failure is listed, not only the first
    assert any(not r["rejected_by"] for r in out)


def test_stdin_other_fields_pass_through_and_blank_lines_are_skipped(capsys, monkeypatch):
    first = json.dumps({"id": 7, "text": "", "extra": {"a": [1]}})
    stdin = first + "\n\n" + json.dumps({"text": "x y"}) + "\n"
    code, out, _ = run_score(capsys, monkeypatch, ["--lang", "fr"], stdin)
    assert code == 0 and [r.get("id") for r in out] == [7, None]
    assert out[0]["extra"] == {"a": [1]} and out[0]["scores"]["number_words"] == 0
    assert "number_words" in out[0]["rejected_by"]


@pytest.mark.parametrize("line, problem", [
    ("{not json", "<stdin>:2: not JSON"),
    ('{"content": "no text field"}', "<stdin>:2: expected a JSON object with a string `text` field"),
    ('["text"]', "<stdin>:2: expected a JSON object"),
    ('{"text": 3}', "<stdin>:2: expected a JSON object"),
])
def test_bad_lines_stop_with_their_line_number(capsys, monkeypatch, line, problem):
    code, out, err = run_score(capsys, monkeypatch, ["--lang", "en"],
                               '{"text": "fine"}\n' + line + '\n{"text": "after"}\n')
    assert code == 2 and problem in err
    assert [r["text"] for r in out] == ["fine"]  # every line before the bad one is written


BAD_LINES = [
    b'{"id": 1, "text": "un texte correct"}',
    '{"id": 2, "text": "café"}'.encode("latin-1"),
    b'{"id": 3, "text": "\\ud800 half a surrogate pair"}',
    b'{"id": 4, "text": "\\ud83d\\ude00 a whole pair"}',
    b"{not json",
]


def test_invalid_utf8_and_lone_surrogates_stop_cleanly(capsys, monkeypatch):
    code, out, err = run_score(capsys, monkeypatch, ["--lang", "fr"], b"\n".join(BAD_LINES[:2]) + b"\n")
    assert code == 2 and "<stdin>:2: not UTF-8 text" in err and [r["id"] for r in out] == [1]
    code, out, err = run_score(capsys, monkeypatch, ["--lang", "fr"], b"\n".join(BAD_LINES[2:4]) + b"\n")
    assert code == 2 and "<stdin>:1: not UTF-8 text (escaped lone surrogate)" in err and out == []


def test_skip_bad_scores_every_good_line_and_names_the_others(capsys, monkeypatch, tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(BAD_LINES) + b"\n")  # and a UTF-8 BOM
    code, out, err = run_score(capsys, monkeypatch, ["--lang", "fr", "--skip-bad", str(path)])
    assert code == 0 and [r["id"] for r in out] == [1, 4]
    assert out[1]["text"].startswith("\U0001F600")
    assert f"skipped {path}:2: not UTF-8" in err and f"skipped {path}:3: not UTF-8" in err
    assert f"skipped {path}:5: not JSON" in err and "3 line(s) skipped" in err


def test_language_notices(capsys, monkeypatch, tmp_path):
    code, _, err = run_score(capsys, monkeypatch, ["--lang", "aa"], '{"text": "x"}\n')
    assert code == 0 and "aa: no languages/ file; default.yaml's cutoffs apply" in err
    code, _, err = run_score(capsys, monkeypatch, ["--lang", "default"], "")
    assert code == 2 and "give the documents' language" in err
    code, out, err = run_score(capsys, monkeypatch, ["--lang", "fr_Latn", "--models", str(tmp_path)],
                               '{"text": "x"}\n')
    assert code == 0 and f"fr: no perplexity (no fr.sp.model + fr.arpa[.bin] in {tmp_path})" in err
    assert "default.yaml" not in err


def test_bad_arguments(capsys, monkeypatch, tmp_path):
    code, _, err = run_score(capsys, monkeypatch, ["--lang", "xx-nope"])
    assert code == 2 and "unknown language code" in err
    code, _, err = run_score(capsys, monkeypatch, ["--lang", "en", str(tmp_path / "missing.jsonl")])
    assert code == 2 and "missing.jsonl: No such file or directory" in err
    code, _, err = run_score(capsys, monkeypatch, ["--lang", "en", "--models", str(tmp_path / "none")])
    assert code == 2 and "not a folder" in err
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes('{"text": "café"}\n'.encode("latin-1"))
    code, _, err = run_score(capsys, monkeypatch, ["--lang", "fr", str(latin1)])
    assert code == 2 and "not UTF-8" in err


def test_score_lines_batches_give_the_same_result_as_one_by_one():
    lines = [json.dumps({"text": f"le chat numéro {i} dort sur le canapé rouge"}) for i in range(300)]
    lines = [line.encode("utf-8") for line in lines]
    together = list(score_lines(lines, "fr", QualityScorer()))
    alone = [next(score_lines([line], "fr", QualityScorer())) for line in lines[:5]]
    assert together[:5] == alone and len(together) == 300
