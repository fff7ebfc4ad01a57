"""The Hugging Face Hub's YAML metadata header of the corpus and per-language cards.

With it a run folder can be pushed to the Hub as it is: `configs` name the Arrow shards (one config
per language and an `all` config, the default), which the Hub's viewer and `datasets.load_dataset`
read. Paths in `configs` are relative to the repository root, i.e. to the run folder.

Values are mapped to what the Hub accepts: language codes lose their script suffix (`yue_Hant` →
`yue`, ISO 639 as the Hub's `language` field expects) and `und` is left out; a licence is kept
when it names one of the Hub's licence identifiers (SPDX spellings such as `GPL-2.0-or-later` are
reduced to the Hub's `gpl-2.0`), anything else becomes `other`, a dataset without one `unknown`.
The exact licence texts stay in the card body, per dataset.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from roots_pipeline.lang.codes import UNDETERMINED

# The Hub's licence identifiers (huggingface.co/docs/hub/repositories-licenses) for open licences
# that text datasets use; `other` and `unknown` are the Hub's own fallbacks.
HUB_LICENSES = frozenset((
    "apache-2.0", "mit", "afl-3.0", "artistic-2.0", "bsl-1.0", "bsd", "bsd-2-clause", "bsd-3-clause",
    "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0",
    "cc-by-sa-3.0", "cc-by-sa-4.0", "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0",
    "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0", "cdla-permissive-1.0", "cdla-permissive-2.0", "wtfpl", "ecl-2.0", "epl-1.0",
    "epl-2.0", "etalab-2.0", "eupl-1.1", "eupl-1.2", "agpl-3.0", "gfdl", "gpl", "gpl-2.0", "gpl-3.0",
    "lgpl", "lgpl-2.1", "lgpl-3.0", "isc", "lppl-1.3c", "ms-pl", "mpl-2.0", "odc-by", "odbl", "osl-3.0",
    "postgresql", "ofl-1.1", "ncsa", "unlicense", "zlib", "pddl", "other", "unknown",
))
_SPDX_SUFFIX = re.compile(r"(-only|-or-later|\+)$")
_GNU_VERSION = re.compile(r"^((?:a|l)?gpl)-(\d)$")  # gpl-2 → gpl-2.0
SIZE_BOUNDS = ("1K", "10K", "100K", "1M", "10M", "100M", "1B", "10B", "100B", "1T")


def hub_license(license_name: str | None) -> str:
    """Return the Hub licence identifier of a recipe's `license` value (`unknown` when absent)."""
    if not license_name:
        return "unknown"
    value = _SPDX_SUFFIX.sub("", license_name.strip().lower())
    value = _GNU_VERSION.sub(r"\1-\2.0", value)
    return value if value in HUB_LICENSES else "other"


def hub_language(code: str) -> str | None:
    """Return the Hub's `language` value for a code: without its script; None for `und`."""
    return None if code == UNDETERMINED else code.split("_")[0]


def size_category(docs: int) -> str:
    """Return the Hub's `size_categories` value for a number of documents."""
    if docs < 1000:
        return "n<1K"
    index = int(math.log10(docs)) - 3
    if index >= len(SIZE_BOUNDS) - 1:
        return "n>1T"
    return f"{SIZE_BOUNDS[index]}<n<{SIZE_BOUNDS[index + 1]}"


def shard_pattern(lang: str) -> str:
    """Return the `data_files` pattern of a language's kept shards, relative to the run folder."""
    return f"data/{lang}/data-*.arrow"


def configs(langs_with_shards: Sequence[str], default_all: bool) -> list[dict[str, Any]]:
    """Return the `configs` entries: `all` (every language) and one per language with shards."""
    entries: list[dict[str, Any]] = []
    if default_all and langs_with_shards:
        entries.append({"config_name": "all", "default": True,
                        "data_files": [{"split": "train", "path": "data/*/data-*.arrow"}]})
    entries += [{"config_name": lang, "data_files": [{"split": "train", "path": shard_pattern(lang)}]}
                for lang in langs_with_shards]
    if not default_all and entries:
        entries[0]["default"] = True
    return entries


def header(pretty_name: str, langs: Iterable[str], licenses: Iterable[str | None], kept_docs: int,
           langs_with_shards: Sequence[str], default_all: bool) -> dict[str, Any]:
    """Return the card's metadata: languages and licences of the kept data, size, task, configs."""
    languages = sorted({code for code in (hub_language(lang) for lang in langs) if code})
    hub_licenses = sorted({hub_license(name) for name in licenses}) or ["unknown"]
    data: dict[str, Any] = {
        "pretty_name": pretty_name,
        "language": languages,
        "license": hub_licenses[0] if len(hub_licenses) == 1 else hub_licenses,
        "multilinguality": "multilingual" if len(languages) > 1 else "monolingual",
        "size_categories": [size_category(kept_docs)],
        "task_categories": ["text-generation"],
        "task_ids": ["language-modeling"],
        "tags": ["roots-pipeline"],
    }
    found = configs(langs_with_shards, default_all)
    if found:
        data["configs"] = found
    return data


def front_matter(data: Mapping[str, Any]) -> str:
    """Return the header as the `---` delimited YAML block a Hub README starts with."""
    text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{text}---\n"
