"""Corpus-scale deduplication: MinHash near-duplicates and suffix-array exact substrings.

Pure algorithms live here; their Beam stages are in `roots_pipeline.stages`.
"""
