"""Language data (codes table, per-language files), shipped inside the package as `roots_pipeline.languages`."""
