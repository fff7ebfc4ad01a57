"""Document stages: per-document steps run, fused, inside one Beam DoFn over batches.

A stage is a small class with typed options (validated from the recipe) and one `apply` method
that may change a document's text and may reject it by appending `<stage>:<reason>` to
`doc.reasons`. Stages are looked up by name in `STAGES`.
"""

from __future__ import annotations

from roots_pipeline.stages.base import DocumentStage
from roots_pipeline.stages.clean_text import CleanText
from roots_pipeline.stages.pii_redaction import PiiRedaction
from roots_pipeline.stages.remove_small_docs import RemoveSmallDocs

STAGES: dict[str, type[DocumentStage]] = {
    stage.name: stage for stage in (CleanText, RemoveSmallDocs, PiiRedaction)
}

# What `roots run --source …` applies when no recipe says otherwise.
DEFAULT_STAGES: tuple[tuple[str, dict], ...] = (("clean_text", {}), ("remove_small_docs", {}))
