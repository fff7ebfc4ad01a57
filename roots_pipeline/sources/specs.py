"""What a recipe says about each kind of source: where its files are and how to read them.

The recipe (`roots_pipeline.recipe`) validates these from YAML; `sources.read` plans and reads
them. One dataclass per source kind; `SOURCE_SPECS` maps a recipe's `kind:` to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogueSource:
    """A Hugging Face dataset: save_to_disk folders, Arrow/parquet/jsonl files, or a hub name."""

    lang: str
    paths: tuple[str, ...] = ()
    hub: str | None = None
    hub_config: str | None = None
    split: str = "train"
    dataset: str | None = None
    text_column: str = "text"
    url_column: str | None = None
    kind: str = "catalogue"
    # The share of the source's documents to use, chosen by id (ROOTS used 13.45% of OSCAR-en).
    sample: float = 1.0
    # What the data card says about the dataset (ROOTS's cards had these); nothing else reads them.
    description: str = ""
    homepage: str | None = None
    license: str | None = None
    speaker_locations: tuple[str, ...] = ()


@dataclass(frozen=True)
class OscarSource:
    """OSCAR jsonl dumps; `lang` overrides the language the files and records declare."""

    paths: tuple[str, ...]
    dataset: str = "oscar"
    lang: str | None = None
    kind: str = "oscar"
    # The share of the source's documents to use, chosen by id (ROOTS used 13.45% of OSCAR-en).
    sample: float = 1.0
    # What the data card says about the dataset (ROOTS's cards had these); nothing else reads them.
    description: str = ""
    homepage: str | None = None
    license: str | None = None
    speaker_locations: tuple[str, ...] = ()


@dataclass(frozen=True)
class PseudoCrawlSource:
    """WARC files; `seeds` names a file of allowed domains (one per line)."""

    paths: tuple[str, ...]
    dataset: str = "pseudo_crawl"
    lang: str | None = None
    seeds: str | None = None
    kind: str = "pseudo_crawl"
    # The share of the source's documents to use, chosen by id (ROOTS used 13.45% of OSCAR-en).
    sample: float = 1.0
    # What the data card says about the dataset (ROOTS's cards had these); nothing else reads them.
    description: str = ""
    homepage: str | None = None
    license: str | None = None
    speaker_locations: tuple[str, ...] = ()


SourceSpec = CatalogueSource | OscarSource | PseudoCrawlSource
SOURCE_SPECS: dict[str, type] = {"catalogue": CatalogueSource, "oscar": OscarSource,
                                 "pseudo_crawl": PseudoCrawlSource}
