"""Runnable recipes, shipped inside the package as `roots_pipeline.pipelines`."""
