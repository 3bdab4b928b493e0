"""The lifecycle driver: what nobody has to run by hand. One pass registers Variable entries
added by hand (`reconcile`: charged, a first token issued and kept until shown once) and runs
every connection's pending Airflow operations (`settle_all`: unpause, the first full sync, a
re-sync after a change, pause, Variable status, DAG deletion once stale).

The DAG ``millwright__lifecycle`` (include/airflow/lifecycle_dag.py) runs a pass every
``MILLWRIGHT_LIFECYCLE_INTERVAL`` (default 30 s, about one parse interval); the admin API's
``POST /api/system/settle`` and ``/reconcile`` and ``millwright connections settle|reconcile``
still run one at once. Passes may overlap (the api-server settles after each change too): every
step is idempotent, and a triggered run has an id fixed when it was queued (include/admin/pending.py).
"""

from __future__ import annotations

import logging
from typing import Any

from include.admin.base import AdminContext
from include.admin.errors import Conflict
from include.admin.operations.reconcile import reconcile
from include.admin.operations.settle import settle_all

log = logging.getLogger(__name__)


def maintain(ctx: AdminContext, actor: str = "lifecycle") -> dict[str, Any]:
    """One pass; returns what it registered and what still waits (with the reason)."""
    out: dict[str, Any] = {"registered": [], "refused": [], "disconnected": []}
    try:
        out.update(reconcile(ctx, actor))
    except Conflict as exc:  # the Variable is unusable: the error DAG shows it; settle anyway
        log.warning("hand-added entries not registered: %s", exc.message)
        out["variable_error"] = exc.message
    out["waiting"] = settle_all(ctx)
    return out
