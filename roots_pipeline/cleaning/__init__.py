"""ROOTS's catalogue and pseudo-crawl cleaning functions as pure text functions.

Each module does one job: `lines` edits a text line by line (ROOTS's line removers, within-document
line dedup, newline joining), `wiktionary` strips Wiktionary's boilerplate sentences, `references`
finds the trailing run of low-stopword lines, `line_hashes` hashes lines and pages for the
corpus-level repeated-line removals, `dedup_keys` builds the exact-duplicate keys, and
`document_size` holds the small-document measures. The stages in `roots_pipeline.stages` call
them; nothing here knows about Beam or documents.
"""
