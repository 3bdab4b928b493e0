"""``python -m connectors.kit.sandbox SYSTEM|MANIFEST [flags]``: the generic REST sandbox."""

import sys

from connectors.kit.sandbox.server import main

sys.exit(main())
