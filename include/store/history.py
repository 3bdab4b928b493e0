"""Reads of the run history (``sync_runs``) for the sync status of a connection
(include/admin/status.py, the admin views)."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from include.store.schema import sync_runs


class EntityHistory(NamedTuple):
    """What an entity's finished runs tell."""

    last_success_at: str | None  # when its latest successful run finished
    full_read: bool  # it has a successful full read (a run with no window start)


def latest_runs(conn: sa.Connection, connection_id: str, *, finished: bool) -> dict[str, dict]:
    """entity -> its latest ``sync_runs`` row as a mapping of column name to value (only rows
    that are not ``running`` with ``finished``)."""
    t = sync_runs
    order = (t.c.started_at.desc(), t.c.run_id.desc())
    rn = sa.func.row_number().over(partition_by=t.c.entity, order_by=order).label("rn")
    inner = sa.select(t, rn).where(t.c.connection_id == connection_id)
    if finished:
        inner = inner.where(t.c.status != "running")
    sub = inner.subquery()
    stmt = sa.select(*[sub.c[c.name] for c in t.columns]).where(sub.c.rn == 1)
    return {r["entity"]: dict(r) for r in conn.execute(stmt).mappings()}


def entity_history(conn: sa.Connection, connection_id: str) -> dict[str, EntityHistory]:
    """entity -> (last successful finish, has a successful full read)."""
    t = sync_runs
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
    return {e: EntityHistory(last, bool(full)) for e, last, full in conn.execute(stmt)}


__all__ = ["EntityHistory", "entity_history", "latest_runs"]
