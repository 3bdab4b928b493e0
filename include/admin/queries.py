"""Every SQL statement of the admin layer besides the registry's (`include.lifecycle_db`) and the
tokens' (`include.admin.tokens`), in one module: the store will hold them all (issue 10), and
this module is then replaced by its calls. Names and signatures follow the store's."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from include import lifecycle_db as db
from include.store import schema as st

CONNECTION_DATA = (st.records, st.cursors, st.entity_counts, st.quarantine, st.sync_runs,
                   st.statuses)  # fmt: skip


def registry_status(conn: sa.Connection, connection_id: str) -> str | None:
    """The registry status of ``connection_id`` (None when it is not registered). On PostgreSQL
    the row is read ``FOR SHARE``: a concurrent disconnect waits for the caller's transaction."""
    stmt = sa.select(db.registry.c.status).where(db.registry.c.id == connection_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=True)
    return conn.execute(stmt).scalar()


def purge_connection_data(conn: sa.Connection, connection_id: str) -> dict[str, int]:
    """Delete every row of ``connection_id`` in the tables holding its data (records, cursors,
    counts, quarantine, run history, statuses); returns the rows deleted per table."""
    return {
        t.name: conn.execute(sa.delete(t).where(t.c.connection_id == connection_id)).rowcount
        for t in CONNECTION_DATA
    }


def live_counts(conn: sa.Connection, connection_id: str) -> dict[str, int]:
    """entity -> live (not deleted) records of ``connection_id``, entities in name order."""
    t = st.entity_counts
    stmt = (
        sa.select(t.c.entity, t.c.total, t.c.deleted)
        .where(t.c.connection_id == connection_id)
        .order_by(t.c.entity)
    )
    return {e: int(total - deleted) for e, total, deleted in conn.execute(stmt)}


def last_success(conn: sa.Connection, connection_id: str) -> str | None:
    """When the latest successful run of any entity of ``connection_id`` finished."""
    t = st.sync_runs
    stmt = sa.select(sa.func.max(t.c.finished_at)).where(
        t.c.connection_id == connection_id, t.c.status == "success"
    )
    return conn.execute(stmt).scalar()


def export_lines(
    engine: sa.Engine, connection_id: str, entity: str | None, include_deleted: bool
) -> Iterator[bytes]:
    """Stored records of ``connection_id`` as NDJSON lines (each record's unified JSON), by
    entity then key, streamed (1000 rows per fetch)."""
    r = st.records
    data = sa.cast(r.c.data, sa.Text) if engine.dialect.name == "postgresql" else r.c.data
    stmt = sa.select(data).where(r.c.connection_id == connection_id)
    if entity is not None:
        stmt = stmt.where(r.c.entity == entity)
    if not include_deleted:
        stmt = stmt.where(r.c.deleted_at.is_(None))
    stmt = stmt.order_by(r.c.entity, r.c.key)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(stmt)
        for (text,) in result:
            yield text.encode() + b"\n"


def latest_runs(conn: sa.Connection, connection_id: str, *, finished: bool) -> dict[str, dict]:
    """entity -> its latest ``sync_runs`` row (only rows that are not ``running`` with
    ``finished``)."""
    t = st.sync_runs
    order = (t.c.started_at.desc(), t.c.run_id.desc())
    rn = sa.func.row_number().over(partition_by=t.c.entity, order_by=order).label("rn")
    inner = sa.select(t, rn).where(t.c.connection_id == connection_id)
    if finished:
        inner = inner.where(t.c.status != "running")
    sub = inner.subquery()
    stmt = sa.select(*[sub.c[c.name] for c in t.columns]).where(sub.c.rn == 1)
    return {r["entity"]: dict(r) for r in conn.execute(stmt).mappings()}


def run_history(conn: sa.Connection, connection_id: str) -> dict[str, tuple[str | None, bool]]:
    """entity -> (last successful finish, has a successful full read)."""
    t = st.sync_runs
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
    return {e: (last, bool(full)) for e, last, full in conn.execute(stmt)}
