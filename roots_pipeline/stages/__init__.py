"""Stages: the steps a recipe lists, looked up by name in `STAGES`.

A stage is a small class with typed options (validated from the recipe) that registers itself
with `@register` (`stages.base`). Document stages change and reject documents one batch at a time
and run fused in one Beam step; corpus stages see a whole dataset first (see `stages.base`). A
rejection appends `<stage>:<reason>` to `doc.reasons`. Importing this package imports every module
in it, so every stage is registered: a new stage is one new module, listed nowhere else.
"""

from __future__ import annotations

import importlib
import pkgutil

from roots_pipeline.stages.base import STAGES

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

# What `roots run --source …` applies when no recipe says otherwise.
DEFAULT_STAGES: tuple[tuple[str, dict], ...] = (("clean_text", {}), ("remove_small_docs", {}))

__all__ = ["DEFAULT_STAGES", "STAGES"]
