"""Stages: the steps a recipe lists, looked up by name in `STAGES`.

A stage is a small class with typed options (validated from the recipe). Document stages change
and reject documents one batch at a time and run fused in one Beam step; corpus stages see a whole
dataset first (see `stages.base`). A rejection appends `<stage>:<reason>` to `doc.reasons`.
"""

from __future__ import annotations

from roots_pipeline.stages.base import Stage
from roots_pipeline.stages.catalogue_cleaning import (
    DedupLinesInDocument,
    RemoveHtmlSpans,
    RemoveHtmlSpansSanad,
    RemoveLinesWithCode,
    RemoveReferences,
    RemoveWikiMojibake,
    ReplaceNewlineWithSpace,
    StripSubstringsEnWiktionary,
)
from roots_pipeline.stages.catalogue_filters import (
    FilterRemoveEmptyDocs,
    FilterSmallDocs,
    FilterSmallDocsBytes300,
    FilterSmallDocsBytes1024,
    FilterWikiNonTextType,
    FilterWikiUserTitles,
)
from roots_pipeline.stages.clean_text import CleanText
from roots_pipeline.stages.exact_dedup import DedupDocument, DedupDocumentOnUrl
from roots_pipeline.stages.language_id import LanguageId
from roots_pipeline.stages.near_dedup import MinhashDedup
from roots_pipeline.stages.pii_redaction import PiiRedaction
from roots_pipeline.stages.quality_filter import QualityFilter
from roots_pipeline.stages.remove_small_docs import RemoveSmallDocs
from roots_pipeline.stages.repeated_lines import (
    DedupPseudocrawlNewspapers,
    DedupTemplateSoft,
    RemoveDomainBoilerplate,
)
from roots_pipeline.stages.substring_dedup import SuffixArrayDedup

STAGES: dict[str, type[Stage]] = {
    stage.name: stage for stage in (
        CleanText, RemoveSmallDocs, PiiRedaction, LanguageId, QualityFilter,
        # ROOTS's catalogue and pseudo-crawl cleaning, under ROOTS's own names (pipelines/README.md)
        ReplaceNewlineWithSpace, RemoveLinesWithCode, RemoveHtmlSpans, RemoveHtmlSpansSanad,
        RemoveWikiMojibake, StripSubstringsEnWiktionary, RemoveReferences, DedupLinesInDocument,
        FilterRemoveEmptyDocs, FilterWikiUserTitles, FilterWikiNonTextType, FilterSmallDocs,
        FilterSmallDocsBytes300, FilterSmallDocsBytes1024,
        DedupTemplateSoft, DedupPseudocrawlNewspapers, RemoveDomainBoilerplate,
        DedupDocument, DedupDocumentOnUrl,
        # Near-duplicates and repeated substrings, per language (pipelines/README.md, "Deduplication").
        MinhashDedup, SuffixArrayDedup,
    )
}

# What `roots run --source …` applies when no recipe says otherwise.
DEFAULT_STAGES: tuple[tuple[str, dict], ...] = (("clean_text", {}), ("remove_small_docs", {}))
