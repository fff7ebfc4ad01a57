"""roots-pipeline: turn raw multilingual text into training-ready data, the way ROOTS was built."""

import logging

__version__ = "0.1.0"


class _DropBeamImportHints(logging.Filter):
    """Drops the warning Beam logs on the root logger, at import, about optional GCP modules.

    Every `import apache_beam` prints it ("apitools not found, and bigquery client libraries are
    not available…"); nobody reading our output can or needs to act on it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("apitools not found")


logging.getLogger().addFilter(_DropBeamImportHints())
