"""Old import path: the credit cost table lives in include/admin/credits.py."""

from include.admin.credits import (  # noqa: F401
    COSTS_FILE_ENV,
    COSTS_VARIABLE,
    DEFAULT_COSTS,
    TIERS,
    CostTable,
    CostTableError,
    load_costs,
    parse_costs,
)
