"""``python -m include.cli``: the older validate-config / schema / quarantine entry point."""

import sys

from include.cli.tools import main

sys.exit(main())
