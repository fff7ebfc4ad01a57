"""The tokenizer a corpus is binarized with: loading a `tokenizers` file, checking its EOD token,
and encoding documents a batch at a time.

Encoding is `Tokenizer.encode_batch_fast`: the same ids as `Tokenizer.encode` (special tokens
added by the tokenizer's post-processor, as Megatron's `preprocess_data.py` gets them), computed
by the library's Rust thread pool on every core, without the character offsets nobody reads here.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

from roots_pipeline.errors import RootsError
from roots_pipeline.megatron.indexed import dtype_for_vocabulary


@dataclass(frozen=True)
class LoadedTokenizer:
    """A tokenizer with what the output depends on: its file's hash, vocabulary size, EOD id."""

    path: str
    sha256: str
    tokenizer: Tokenizer
    vocab_size: int
    eod_token: str | None
    eod_id: int | None

    @property
    def dtype(self) -> np.dtype:
        """Token dtype of the datasets: Megatron's rule on the vocabulary, added tokens included."""
        return dtype_for_vocabulary(self.vocab_size)


def load_tokenizer(path: str, eod_token: str | None) -> LoadedTokenizer:
    """Load `path` (a tokenizer.json, or a folder holding one) and look up `eod_token` by name.

    A missing EOD token is an error, never a fallback id: a wrong id would silently corrupt
    every document boundary the model trains on.
    """
    file = os.path.join(path, "tokenizer.json") if os.path.isdir(path) else path
    try:
        with open(file, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise RootsError(f"--tokenizer {file}: {exc.strerror}; give a `tokenizers` file (tokenizer.json), "
                         "e.g. the one `roots fertility` trained") from exc
    try:
        tokenizer = Tokenizer.from_str(data.decode("utf-8"))
    except Exception as exc:  # tokenizers raises plain Exception for malformed files
        raise RootsError(f"--tokenizer {file}: not a `tokenizers` tokenizer file ({exc}); save one with "
                         "Tokenizer.save() or transformers' save_pretrained()") from exc
    eod_id = None
    if eod_token is not None:
        eod_id = tokenizer.token_to_id(eod_token)
        if eod_id is None:
            specials = sorted(t.content for t in tokenizer.get_added_tokens_decoder().values() if t.special)
            known = f"its special tokens: {' '.join(specials)}" if specials else "it has no special tokens"
            raise RootsError(f"--tokenizer {file}: no end-of-document token {eod_token!r} in the vocabulary "
                             f"({known}); name the right one with --eod-token")
    return LoadedTokenizer(file, hashlib.sha256(data).hexdigest(), tokenizer,
                           tokenizer.get_vocab_size(with_added_tokens=True), eod_token, eod_id)


def encode_documents(tokenizer: LoadedTokenizer, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return the documents' token ids concatenated (EOD appended) and each document's length.

    A document that encodes to no token gets length 0 and no EOD, so the caller can skip it:
    Megatron-DeepSpeed never writes an empty sequence.
    """
    ids = [encoding.ids for encoding in tokenizer.tokenizer.encode_batch_fast(texts)]
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    if tokenizer.eod_id is not None:
        for document in ids:
            if document:
                document.append(tokenizer.eod_id)
        lengths += lengths > 0
    # Straight into the dtype: an id that does not fit raises instead of wrapping around.
    tokens = np.fromiter(itertools.chain.from_iterable(ids), dtype=tokenizer.dtype, count=int(lengths.sum()))
    return tokens, lengths
