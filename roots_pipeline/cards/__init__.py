"""Data cards: every run documents itself from its ledger, its run record and its shards.

`write_cards(run_dir)` writes the corpus card, one card per language and one per source × dataset ×
language, each as Markdown and JSON with PNG figures (layout in `cards.write`). The facts come
from `cards.facts` (pure, from the ledger), `cards.samples` (score samples and removed documents,
read from the shards in bounded memory) and `cards.provenance`; `cards.markdown` and
`cards.figures` only present them, and `cards.hub` gives the Hugging Face metadata header.
"""

from roots_pipeline.cards.write import CardsWritten, read_token_counts, write_cards

__all__ = ["CardsWritten", "read_token_counts", "write_cards"]
