"""Shim: moved to `include.sync.run_status` (issue 10). This name is the same module object, so
patching either patches both; removed once every import uses the new path."""

import sys

from include.sync import run_status as _moved

sys.modules[__name__] = _moved
