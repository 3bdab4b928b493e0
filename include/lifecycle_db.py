"""Old import path of the registry queries and tables: include/store/registry.py and
include/store/schema.py hold them now (the store is the only code that runs SQL)."""

from include.store.registry import (  # noqa: F401
    JSON_COLS,
    add_audit,
    audit_entries,
    customers,
    get,
    insert,
    list_all,
    lock_customer,
    lock_variable,
    now,
    pool_size,
    set_pool,
    update,
    used,
)
from include.store.schema import audit, pools, registry  # noqa: F401
