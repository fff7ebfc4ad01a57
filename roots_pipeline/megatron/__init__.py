"""Megatron input: curated shards tokenized into `.bin`/`.idx` indexed datasets, with blend weights.

`indexed` writes and reads the file format, `tokenizer` loads a `tokenizers` file and encodes
documents in batches, `blend` turns token counts into Megatron's `--data-path` weights, and
`binarize` drives them over a run's shards (`roots binarize`).
"""
