"""Shim: moved to `include.model.keys` (issue 10). This name is the same module object, so
patching either patches both; removed once every import uses the new path."""

import sys

from include.model import keys as _moved

sys.modules[__name__] = _moved
