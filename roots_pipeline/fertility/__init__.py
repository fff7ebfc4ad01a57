"""Tokenizer fertility: BLOOM-style byte-level BPE tokenizers trained on a run's corpus, per language.

`run_fertility(run_dir)` trains the multilingual tokenizer (`fertility.tokenizer`, BLOOM's settings)
and one monolingual tokenizer per language on the run's kept documents (`fertility.corpus`),
measures subword tokens per word (`fertility.measure`, words from `fertility.words`) on held-out
documents, lists suspicious vocabulary entries (`fertility.weird_tokens`) and writes the report
(`fertility.report`, `fertility.chart`).
"""

from roots_pipeline.fertility.run import FertilityResult, load_tokenizer, run_fertility

__all__ = ["FertilityResult", "load_tokenizer", "run_fertility"]
