"""`/api/integrations/current`: a connection's sync state in Makini's terms.

``sync_status`` from the latest run of each entity in ``sync_runs``:

- ``inprogress``: a run is running, or no run has finished yet;
- ``fail``: a latest run failed on authentication (401/403, credentials);
- ``error``: a latest run failed otherwise;
- ``fulldone``: every latest run succeeded and every entity has completed a full read;
- ``done``: every latest run succeeded, some entity has only incremental reads so far.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from include.store import Store
from include.store import schema as store_schema

_AUTH = re.compile(r"\b(401|403)\b|unauthori|forbidden|credential|authenticat", re.I)


def _history(store: Store, connection_id: str) -> dict[str, tuple[str | None, bool]]:
    """entity -> (last successful finish, has a successful full read)."""
    t = store_schema.sync_runs
    ok = t.c.status == "success"
    stmt = (
        sa.select(
            t.c.entity,
            sa.func.max(sa.case((ok, t.c.finished_at))),
            sa.func.max(sa.case((sa.and_(ok, t.c.window_start.is_(None)), 1), else_=0)),
        )
        .where(t.c.connection_id == connection_id)
        .group_by(t.c.entity)
    )
    with store.engine.connect() as conn:
        return {e: (last, bool(full)) for e, last, full in conn.execute(stmt)}


def sync_status(latest: list[dict], history: dict[str, tuple[str | None, bool]]) -> str:
    if not latest or any(r["status"] == "running" for r in latest):
        return "inprogress"
    failed = [r for r in latest if r["status"] != "success"]
    if failed:
        return "fail" if any(_AUTH.search(r.get("error") or "") for r in failed) else "error"
    return "fulldone" if all(history.get(r["entity"], (None, False))[1] for r in latest) else "done"


def integration_status(store: Store, connection_id: str, cfg: Any | None) -> dict[str, Any]:
    latest = store.last_runs(connection_id)
    history = _history(store, connection_id)
    times = [r["finished_at"] or r["started_at"] for r in latest]
    return {
        "id": connection_id,
        "company_name": getattr(cfg, "customer", None),
        "email": None,
        "provider": getattr(cfg, "system", None),
        "updated_at": max(times) if times else None,
        "sync_status": sync_status(latest, history),
        "sync_updated_at": max(times) if times else None,
        "entities": [
            {
                "entity": r["entity"],
                "status": r["status"],
                "last_run_at": r["finished_at"] or r["started_at"],
                "last_success_at": history.get(r["entity"], (None, False))[0],
                "error": r["error"],
            }
            for r in latest
        ],
    }
