"""`python -m roots_pipeline.cli`: the `roots` command without its console script."""

import sys

from roots_pipeline.cli.main import main

sys.exit(main())
