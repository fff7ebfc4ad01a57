"""`roots binarize` on a small real corpus, read back with megatron-core's own `IndexedDataset`.

The corpus: the demo OSCAR documents of en (split over two shards), zh and hi, written as a run
folder the way `roots run` writes one, plus an empty and a null text; the tokenizer: a byte-level
BPE with BLOOM's special tokens, trained on the same text.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import warnings

import numpy as np
import pyarrow as pa
import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from roots_pipeline.cli import binarize as binarize_command
from roots_pipeline.document import Document, document_id
from roots_pipeline.errors import RootsError
from roots_pipeline.megatron import binarize as binarize_module
from roots_pipeline.megatron.binarize import (
    BinarizeOptions,
    binarize,
    in_valid_split,
    text_batches,
)
from roots_pipeline.megatron.blend import blend_weights, data_path
from roots_pipeline.megatron.tokenizer import load_tokenizer
from roots_pipeline.output.shard_reader import shard_paths
from roots_pipeline.output.shards import shard_name, shard_schema, to_record_batch
from tests.conftest import DEMO

with warnings.catch_warnings():  # "Transformer Engine and Apex are not installed": not needed to read data
    warnings.simplefilter("ignore")
    from megatron.core.datasets.indexed_dataset import DType, IndexedDataset, IndexedDatasetBuilder

SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>"]
LANGUAGES = ("en", "hi", "zh")


def demo_documents(lang: str) -> list[Document]:
    name = f"{lang}_part_1.jsonl.gz"
    with gzip.open(DEMO / "oscar" / name, "rt", encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines]
    return [Document(document_id("oscar", "oscar_demo", name, number), text, "oscar", "oscar_demo", lang)
            for number, text in enumerate(texts, start=1)]


def write_language(folder, shards: list[list[Document]]) -> None:
    """Write shards in the `datasets.save_to_disk` layout, as roots_pipeline.output.shards does."""
    folder.mkdir(parents=True)
    names = [shard_name(i, len(shards)) for i in range(len(shards))]
    for name, documents in zip(names, shards, strict=True):
        with pa.OSFile(str(folder / name), "wb") as sink, pa.ipc.new_stream(sink, shard_schema(False)) as out:
            out.write_batch(to_record_batch(documents, False))
    (folder / "state.json").write_text(json.dumps({"_data_files": [{"filename": n} for n in names]}))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[str, dict[str, list[Document]]]:
    """A run folder and its documents per language, in shard order (two of them empty)."""
    run = tmp_path_factory.mktemp("binarize") / "run"
    documents = {lang: demo_documents(lang) for lang in LANGUAGES}
    documents["en"].insert(10, Document("e0", "", "oscar", "oscar_demo", "en"))
    documents["zh"].append(Document("e1", None, "oscar", "oscar_demo", "zh"))  # type: ignore[arg-type]
    en = documents["en"]
    write_language(run / "data" / "en", [en[:40], en[40:]])
    for lang in ("hi", "zh"):
        write_language(run / "data" / lang, [documents[lang]])
    return str(run), documents


def byte_level_bpe(texts: list[str], vocab_size: int, path) -> str:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=sorted(pre_tokenizers.ByteLevel.alphabet()))
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.save(str(path))
    return str(path)


@pytest.fixture(scope="module")
def tokenizer_path(corpus, tmp_path_factory) -> str:
    _, documents = corpus
    texts = [d.text for lang in LANGUAGES for d in documents[lang] if d.text]
    return byte_level_bpe(texts, 2000, tmp_path_factory.mktemp("tokenizer") / "tokenizer.json")


@pytest.fixture(scope="module")
def built(corpus, tokenizer_path, tmp_path_factory):
    """The corpus binarized with EOD, merged, without a split."""
    run, _ = corpus
    out = tmp_path_factory.mktemp("out") / "megatron"
    result = binarize(run, str(out), load_tokenizer(tokenizer_path, "</s>"), BinarizeOptions(merge=True),
                      show_progress=False)
    return out, result


def written_texts(documents: list[Document]) -> list[str]:
    return [d.text for d in documents if d.text]


def test_round_trip_through_megatron_core(corpus, tokenizer_path, built):
    _, documents = corpus
    out, _ = built
    tokenizer = Tokenizer.from_file(tokenizer_path)
    eod = tokenizer.token_to_id("</s>")
    for lang in LANGUAGES:
        texts = written_texts(documents[lang])
        dataset = IndexedDataset(str(out / f"{lang}_text_document"))
        assert len(dataset) == len(texts)
        assert dataset.document_indices.tolist() == list(range(len(texts) + 1))
        assert dataset.sequence_lengths.tolist() == [len(tokenizer.encode(t).ids) + 1 for t in texts]
        for i, text in enumerate(texts):
            sequence = dataset[i]
            assert sequence.dtype == np.uint16
            assert sequence[-1] == eod
            assert tokenizer.decode(sequence[:-1].tolist()) == text


def test_bytes_equal_megatron_core_builder(corpus, tokenizer_path, built, tmp_path):
    """The same documents through megatron-core's own writer give the same two files."""
    _, documents = corpus
    out, _ = built
    tokenizer = Tokenizer.from_file(tokenizer_path)
    eod = tokenizer.token_to_id("</s>")
    builder = IndexedDatasetBuilder(str(tmp_path / "ref.bin"), dtype=DType.optimal_dtype(2000))
    for text in written_texts(documents["en"]):
        ids = tokenizer.encode(text).ids + [eod]
        builder.add_document(ids, [len(ids)])
    builder.finalize(str(tmp_path / "ref.idx"))
    for suffix in (".bin", ".idx"):
        assert (out / f"en_text_document{suffix}").read_bytes() == (tmp_path / f"ref{suffix}").read_bytes()


def test_counts_empty_documents_and_blend_file(corpus, built):
    _, documents = corpus
    out, result = built
    report = json.loads((out / "blend.json").read_text())
    assert report == result.report
    assert report["schema"] == "roots-pipeline/megatron-blend/1" and report["dtype"] == "uint16"
    for lang in LANGUAGES:
        entry = report["languages"][lang]
        assert entry["documents"] == len(documents[lang])
        assert entry["empty_documents"] == (1 if lang in ("en", "zh") else 0)
        split = entry["splits"]["all"]
        assert split["documents"] == len(written_texts(documents[lang]))
        assert split["tokens"] == entry["tokens"]
        assert os.path.getsize(out / f"{lang}_text_document.bin") == 2 * entry["tokens"]  # uint16
        assert split["text_bytes"] == sum(len(t.encode()) for t in written_texts(documents[lang]))
    tokens = {lang: report["languages"][lang]["tokens"] for lang in LANGUAGES}
    total = sum(tokens.values())
    line = (out / "data_path.txt").read_text().strip()
    assert line == report["data_path"]["all"]
    pairs = line.split()
    assert pairs[1::2] == [str(out / f"{lang}_text_document") for lang in LANGUAGES]
    assert [float(w) for w in pairs[0::2]] == pytest.approx([tokens[lang] / total for lang in LANGUAGES])
    assert report["totals"]["tokens"] == total and report["totals"]["empty_documents"] == 2


def test_merged_dataset_is_the_languages_concatenated(built):
    out, result = built
    merged = (out / "merged_text_document.bin").read_bytes()
    assert merged == b"".join((out / f"{lang}_text_document.bin").read_bytes() for lang in LANGUAGES)
    dataset = IndexedDataset(str(out / "merged_text_document"))
    # Keep each dataset alive while its arrays are used: they are views of its memory map.
    parts = [IndexedDataset(str(out / f"{lang}_text_document")) for lang in LANGUAGES]
    lengths = np.concatenate([part.sequence_lengths for part in parts])
    assert dataset.sequence_lengths.tolist() == lengths.tolist()
    assert dataset.document_indices.tolist() == list(range(len(lengths) + 1))
    assert result.report["merged"]["all"]["documents"] == len(lengths)


def test_valid_split_is_deterministic_and_near_the_fraction(corpus, tokenizer_path, tmp_path):
    run, documents = corpus
    tokenizer = load_tokenizer(tokenizer_path, "</s>")
    options = BinarizeOptions(valid_fraction=0.2)
    first = binarize(run, str(tmp_path / "a"), tokenizer, options, show_progress=False)
    binarize(run, str(tmp_path / "b"), tokenizer, options, show_progress=False)
    written = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").glob("*/*_document.*"))
    assert written == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").glob("*/*_document.*"))
    for name in written:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    # None of hi's 16 document ids hashes below 0.2 (a 2.8 % chance): its valid split is empty, so it
    # has no valid dataset and is left out of the valid data path, which Megatron could not open.
    assert first.report["languages"]["hi"]["splits"]["valid"] == {"prefix": None, "documents": 0,
                                                                  "tokens": 0, "text_bytes": 0}
    assert not (tmp_path / "a" / "valid" / "hi_text_document.bin").exists()
    valid_line = (tmp_path / "a" / "valid" / "data_path.txt").read_text()
    assert valid_line.count("valid/") == 2 and "hi_text_document" not in valid_line
    decode = Tokenizer.from_file(tokenizer_path).decode
    for lang in ("en", "zh"):
        kept = [d for d in documents[lang] if d.text]
        valid = in_valid_split([d.id for d in kept], 0.2)
        for split, members in (("train", ~valid), ("valid", valid)):
            dataset = IndexedDataset(str(tmp_path / "a" / split / f"{lang}_text_document"))
            texts = [d.text for d, member in zip(kept, members, strict=True) if member]
            assert [decode(dataset[i][:-1].tolist()) for i in range(len(dataset))] == texts
        assert 0.1 < valid.mean() < 0.3
        counts = first.report["languages"][lang]["splits"]
        assert counts["train"]["documents"] + counts["valid"]["documents"] == len(kept)


def test_batches_keep_order_and_limits(corpus, monkeypatch):
    """Batches hold at most BATCH_DOCS documents and BATCH_BYTES of text, a longer document alone,
    and together every document of every shard in order (the en shards hold 40 and 58)."""
    run, documents = corpus
    monkeypatch.setattr(binarize_module, "BATCH_DOCS", 3)
    monkeypatch.setattr(binarize_module, "BATCH_BYTES", 3000)  # two en documents are longer
    batches = list(text_batches(shard_paths(os.path.join(run, "data", "en")), "text", with_ids=True))
    assert [text for batch in batches for text in batch.texts] == [d.text for d in documents["en"]]
    assert [i for batch in batches for i in batch.ids] == [d.id for d in documents["en"]]
    for batch in batches:
        assert batch.sizes.tolist() == [len(text.encode()) for text in batch.texts]
        assert len(batch.texts) <= 3
        assert batch.sizes.sum() <= 3000 or len(batch.texts) == 1
    assert sum(len(batch.texts) == 1 and batch.sizes[0] > 3000 for batch in batches) == 2
    assert any(len(batch.texts) == 3 for batch in batches)


def test_blend_weights_with_temperature():
    tokens = {"en": 900, "sw": 100, "yo": 0}
    assert blend_weights(tokens, 1.0) == pytest.approx({"en": 0.9, "sw": 0.1, "yo": 0.0})
    # alpha 0.5: (0.9^0.5, 0.1^0.5) = (0.949, 0.316), normalised: sw goes from 10 % to 25 %
    assert blend_weights(tokens, 0.5) == pytest.approx({"en": 0.75, "sw": 0.25, "yo": 0.0})
    assert blend_weights(tokens, 0.0) == pytest.approx({"en": 0.5, "sw": 0.5, "yo": 0.0})
    assert data_path([(0.75, "m/en_text_document"), (0.25, "m/sw_text_document")]) == \
        "0.75 m/en_text_document 0.25 m/sw_text_document"
    with pytest.raises(RootsError, match="--alpha 1.5"):
        blend_weights(tokens, 1.5)


def test_rerun_skips_current_outputs_and_redoes_changed_ones(corpus, tokenizer_path, tmp_path):
    run, _ = corpus
    tokenizer = load_tokenizer(tokenizer_path, "</s>")
    out = tmp_path / "m"
    first = binarize(run, str(out), tokenizer, BinarizeOptions(merge=True), show_progress=False)
    assert first.written == [*LANGUAGES, "merged"]
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*_text_document.*")}
    again = binarize(run, str(out), tokenizer, BinarizeOptions(merge=True, alpha=0.3), show_progress=False)
    assert again.written == [] and again.skipped == [*LANGUAGES, "merged"]
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*_text_document.*")} == stamps
    hi = json.loads((out / "blend.json").read_text())["languages"]["hi"]
    assert hi["weight"] > first.report["languages"]["hi"]["weight"]  # alpha < 1 upsamples the smallest
    shard = os.path.join(run, "data", "hi", shard_name(0, 1))
    os.utime(shard, ns=(os.stat(shard).st_atime_ns, os.stat(shard).st_mtime_ns + 1_000_000_000))
    changed = binarize(run, str(out), tokenizer, BinarizeOptions(merge=True), show_progress=False)
    assert changed.written == ["hi", "merged"]
    (out / "zh_text_document.bin").write_bytes(b"")  # damaged: redone even though recorded as done
    assert binarize(run, str(out), tokenizer, BinarizeOptions(), show_progress=False).written == ["zh"]
    forced = binarize(run, str(out), tokenizer, BinarizeOptions(force=True), show_progress=False)
    assert forced.written == list(LANGUAGES)


def test_large_vocabulary_writes_int32(corpus, tmp_path):
    """70,004 tokens (a byte-level BPE without merges, padded): Megatron's rule gives int32."""
    run, documents = corpus
    vocab = {c: i for i, c in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    vocab.update({f"<filler_{i}>": len(vocab) + i for i in range(70_000 - len(vocab))})
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens(SPECIAL_TOKENS)
    tokenizer.save(str(tmp_path / "big.json"))
    loaded = load_tokenizer(str(tmp_path / "big.json"), "</s>")
    assert loaded.vocab_size == 70_004 and loaded.eod_id == 70_002
    binarize(run, str(tmp_path / "m"), loaded, BinarizeOptions(languages=("hi",)), show_progress=False)
    assert (tmp_path / "m" / "hi_text_document.idx").read_bytes()[17] == 4  # dtype code int32
    dataset = IndexedDataset(str(tmp_path / "m" / "hi_text_document"))
    texts = written_texts(documents["hi"])
    assert len(dataset) == len(texts)
    for i, text in enumerate(texts):
        assert dataset[i].dtype == np.int32 and dataset[i][-1] == 70_002
        assert tokenizer.decode(dataset[i][:-1].tolist()) == text


def test_tokenizer_without_the_eod_token_is_an_error(corpus, tmp_path):
    _, documents = corpus
    texts = written_texts(documents["hi"])
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                                             show_progress=False))
    tokenizer.save(str(tmp_path / "gpt.json"))
    message = r"gpt.json: no end-of-document token '</s>' .*special tokens: <\|endoftext\|>.*--eod-token"
    with pytest.raises(RootsError, match=message):
        load_tokenizer(str(tmp_path / "gpt.json"), "</s>")
    assert load_tokenizer(str(tmp_path / "gpt.json"), "<|endoftext|>").eod_id == 0


# --- the command ---------------------------------------------------------------------------------

def run_command(argv: list[str], beam_args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="roots")
    binarize_command.add_parser(parser.add_subparsers(dest="command")).set_defaults(
        handler=binarize_command.run)
    args = parser.parse_args(["binarize", *argv])
    return args.handler(args, beam_args or [])


def test_command_writes_datasets_and_prints_a_table(corpus, tokenizer_path, tmp_path, capsys):
    run, _ = corpus
    out = tmp_path / "m"
    code = run_command([run, "--tokenizer", tokenizer_path, "--out", str(out), "--append-eod",
                        "--valid-fraction", "0.05", "--alpha", "0.3", "--lang", "en,hi", "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split() == ["lang", "documents", "empty", "tokens", "tokens/KB", "weight",
                                               "train", "docs", "valid", "docs"]
    assert f"--train-data-path: {out}/train/data_path.txt" in printed
    report = json.loads((out / "blend.json").read_text())
    assert list(report["languages"]) == ["en", "hi"] and report["tokenizer"]["eod_id"] == 2
    assert report["alpha"] == 0.3 and report["valid_fraction"] == 0.05


def test_command_default_output_is_the_run_folder_and_no_eod_without_the_flag(corpus, tokenizer_path):
    run, documents = corpus
    assert run_command([run, "--tokenizer", os.path.dirname(tokenizer_path), "--lang", "hi", "--quiet"]) == 0
    dataset = IndexedDataset(os.path.join(run, "megatron", "hi_text_document"))
    tokenizer = Tokenizer.from_file(tokenizer_path)
    assert dataset.sequence_lengths.tolist() == [len(tokenizer.encode(t).ids)
                                                 for t in written_texts(documents["hi"])]


@pytest.mark.parametrize(("argv", "message"), [
    (["--valid-fraction", "1"], r"--valid-fraction 1.0: must be at least 0 and below 1"),
    (["--alpha", "-1"], r"--alpha -1.0: must be between 0"),
    (["--eod-token", "<s>"], r"--eod-token names the token --append-eod appends"),
    (["--lang", "fr"], r"--lang fr: not in .* \(found: en, hi, zh\)"),
    (["--text-field", "../x"], r"--text-field '../x': use letters"),
    (["--text-field", "url", "--append-eod"], None),
])
def test_command_rejects_bad_options(corpus, tokenizer_path, tmp_path, argv, message):
    run, _ = corpus
    if message is None:  # a column that is not text in every row: the url column is null here
        code = run_command([run, "--tokenizer", tokenizer_path, "--out", str(tmp_path), "--quiet", *argv])
        assert code == 0
        return
    with pytest.raises(RootsError, match=message):
        run_command([run, "--tokenizer", tokenizer_path, "--out", str(tmp_path), *argv])


def test_command_names_missing_and_wrong_inputs(corpus, tokenizer_path, tmp_path):
    run, _ = corpus
    with pytest.raises(RootsError, match="Beam options apply to `roots run`"):
        run_command([run, "--tokenizer", tokenizer_path], ["--runner=DirectRunner"])
    with pytest.raises(RootsError, match=r"nowhere: no such folder"):
        run_command([str(tmp_path / "nowhere"), "--tokenizer", tokenizer_path])
    with pytest.raises(RootsError, match=r"no shards: expected <lang>/state.json"):
        run_command([str(tmp_path), "--tokenizer", tokenizer_path, "--out", str(tmp_path / "m")])
    with pytest.raises(RootsError, match=r"not a run folder \(no data/ inside\): give --out"):
        run_command([os.path.join(run, "data"), "--tokenizer", tokenizer_path])
    with pytest.raises(RootsError, match=r"--tokenizer .*missing.json: No such file"):
        run_command([run, "--tokenizer", str(tmp_path / "missing.json")])
    (tmp_path / "blend.json").write_text("{}")
    with pytest.raises(RootsError, match=r"blend.json: not a `tokenizers` tokenizer file"):
        run_command([run, "--tokenizer", str(tmp_path / "blend.json")])
