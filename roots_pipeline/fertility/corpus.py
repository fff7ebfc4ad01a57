"""The text tokenizers are trained and measured on: a run's kept documents, split per language.

Each document goes to training or to evaluation by a hash of its id (`held_out`), the same on
every run, so fertility is measured on documents neither tokenizer saw. `sample_mb` caps the
training text of each language (the first documents in shard order), so that one large language
does not make the monolingual tokenizers slow to train; evaluation text is capped in proportion.
Text is read one shard batch at a time and never held whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from roots_pipeline.output.run_folder import DATA, RunFolder
from roots_pipeline.output.shard_reader import shard_batches


def held_out(doc_id: str, share: float) -> bool:
    """Return whether a document is kept out of training: the same answer for an id every time."""
    fraction = int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") / 2 ** 64
    return fraction < share


@dataclass(frozen=True)
class LanguageText:
    """One language's kept documents in a run, split into training and evaluation text."""

    run: RunFolder
    lang: str
    eval_share: float
    sample_bytes: int | None

    def batches(self, evaluation: bool) -> Iterator[list[str]]:
        """Yield batches of training texts (or of evaluation texts), within the size cap."""
        folder = self.run.shard_folder(DATA, self.lang)
        if folder is None:
            return
        limit = self.sample_bytes
        if limit is not None and evaluation and self.eval_share < 1:
            limit = max(1, int(limit * self.eval_share / (1 - self.eval_share)))
        used = 0
        for batch in shard_batches(folder, ["id", "text"]):
            texts = []
            ids, all_texts = batch.column("id").to_pylist(), batch.column("text").to_pylist()
            for doc_id, text in zip(ids, all_texts, strict=True):
                if held_out(doc_id, self.eval_share) != evaluation or not text:
                    continue
                if limit is not None and used >= limit:
                    break
                texts.append(text)
                used += len(text.encode("utf-8"))
            if texts:
                yield texts
            if limit is not None and used >= limit:
                return

    def size(self, evaluation: bool) -> tuple[int, int]:
        """Return (documents, bytes) of the training or evaluation text."""
        docs = nbytes = 0
        for texts in self.batches(evaluation):
            docs += len(texts)
            nbytes += sum(len(text.encode("utf-8")) for text in texts)
        return docs, nbytes
