"""The connection registry, credit pools and audit log (tables of migration 0003): their queries.

Writers pass an open write transaction (`include.store.engine.write_txn`); `lock_customer`
serializes credit checks of one customer on PostgreSQL (SQLite's BEGIN IMMEDIATE already does).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from include.model.timeutil import format_utc, utcnow
from include.store.schema import (
    CONNECTION_DATA,
    audit,
    entity_counts,
    pools,
    quarantine,
    records,
    registry,
    sync_runs,
)

JSON_COLS = ("config", "user_metadata", "pending")


def now() -> str:
    return format_utc(utcnow()) or ""


def lock_customer(conn: sa.Connection, customer: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
            {"k": f"millwright.credits:{customer}"},
        )


def lock_variable(conn: sa.Connection) -> None:
    """Serialise Millwright's writers of the Airflow Variable across processes for the rest of
    ``conn``'s transaction (Airflow's REST API has no compare-and-swap, so read, compare and write
    must not interleave): an advisory lock on PostgreSQL; on SQLite the write transaction
    (``BEGIN IMMEDIATE``) already excludes every other writer."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
            {"k": "millwright.variable"},
        )


def _row(r: Any) -> dict[str, Any]:
    out = dict(r)
    for c in JSON_COLS:
        out[c] = json.loads(out[c])
    return out


def get(conn: sa.Connection, cid: str, *, for_update: bool = False) -> dict[str, Any] | None:
    stmt = sa.select(registry).where(registry.c.id == cid)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    r = conn.execute(stmt).mappings().first()
    return _row(r) if r else None


def list_all(conn: sa.Connection, customer: str | None = None) -> list[dict[str, Any]]:
    stmt = sa.select(registry).order_by(registry.c.created_at, registry.c.id)
    if customer is not None:
        stmt = stmt.where(registry.c.customer == customer)
    return [_row(r) for r in conn.execute(stmt).mappings()]


def insert(conn: sa.Connection, row: dict[str, Any]) -> None:
    values = {**row, **{c: json.dumps(row[c]) for c in JSON_COLS}}
    values.setdefault("updated_at", row.get("created_at") or format_utc(utcnow()))
    conn.execute(sa.insert(registry), values)


def update(conn: sa.Connection, cid: str, **values: Any) -> None:
    for c in JSON_COLS:
        if c in values:
            values[c] = json.dumps(values[c])
    values.setdefault("updated_at", format_utc(utcnow()))
    conn.execute(sa.update(registry).where(registry.c.id == cid).values(**values))


def used(conn: sa.Connection, customer: str) -> int:
    stmt = sa.select(sa.func.coalesce(sa.func.sum(registry.c.credits), 0)).where(
        registry.c.customer == customer, registry.c.status == "active"
    )
    return int(conn.execute(stmt).scalar_one())


def pool_size(conn: sa.Connection, customer: str) -> int | None:
    return conn.execute(sa.select(pools.c.size).where(pools.c.customer == customer)).scalar()


def set_pool(conn: sa.Connection, customer: str, size: int) -> None:
    at = now()
    if conn.execute(sa.select(pools.c.customer).where(pools.c.customer == customer)).first():
        conn.execute(
            sa.update(pools).where(pools.c.customer == customer).values(size=size, updated_at=at)
        )
    else:
        conn.execute(sa.insert(pools), {"customer": customer, "size": size, "updated_at": at})


def customers(conn: sa.Connection) -> list[str]:
    a = sa.select(pools.c.customer)
    b = sa.select(registry.c.customer)
    return sorted({r[0] for r in conn.execute(sa.union(a, b))})


def add_audit(
    conn: sa.Connection,
    actor: str,
    action: str,
    connection_id: str | None,
    customer: str | None,
    details: dict[str, Any],
) -> None:
    conn.execute(
        sa.insert(audit),
        {
            "at": now(),
            "actor": actor,
            "action": action,
            "connection_id": connection_id,
            "customer": customer,
            "details": json.dumps(details, sort_keys=True),
        },
    )


def audit_entries(conn: sa.Connection, connection_id: str | None, limit: int = 200) -> list[dict]:
    stmt = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
    if connection_id is not None:
        stmt = stmt.where(audit.c.connection_id == connection_id)
    return [{**dict(r), "details": json.loads(r["details"])} for r in conn.execute(stmt).mappings()]


def registry_status(conn: sa.Connection, connection_id: str) -> str | None:
    """The registry status of ``connection_id`` (None when it is not registered). On PostgreSQL
    the row is read ``FOR SHARE``: a concurrent disconnect waits for the caller's transaction."""
    stmt = sa.select(registry.c.status).where(registry.c.id == connection_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=True)
    return conn.execute(stmt).scalar()


def purge_connection_data(conn: sa.Connection, connection_id: str) -> dict[str, int]:
    """Delete every row of ``connection_id`` in the tables holding its data (records, cursors,
    counts, quarantine, run history, statuses, tokens); returns the rows deleted per table."""
    return {
        t.name: conn.execute(sa.delete(t).where(t.c.connection_id == connection_id)).rowcount
        for t in CONNECTION_DATA
    }


def live_counts(conn: sa.Connection, connection_id: str) -> dict[str, int]:
    """entity -> live (not deleted) records of ``connection_id``, entities in name order."""
    t = entity_counts
    stmt = (
        sa.select(t.c.entity, t.c.total, t.c.deleted)
        .where(t.c.connection_id == connection_id)
        .order_by(t.c.entity)
    )
    return {e: int(total - deleted) for e, total, deleted in conn.execute(stmt)}


def quarantine_counts(conn: sa.Connection, connection_id: str) -> dict[str, int]:
    """entity -> unresolved quarantined records of ``connection_id``, entities in name order."""
    q = quarantine
    stmt = (
        sa.select(q.c.entity, sa.func.count())
        .where(q.c.connection_id == connection_id, q.c.resolved_at.is_(None))
        .group_by(q.c.entity)
        .order_by(q.c.entity)
    )
    return {e: int(n) for e, n in conn.execute(stmt)}


def last_success(conn: sa.Connection, connection_id: str) -> str | None:
    """When the latest successful run of any entity of ``connection_id`` finished."""
    t = sync_runs
    stmt = sa.select(sa.func.max(t.c.finished_at)).where(
        t.c.connection_id == connection_id, t.c.status == "success"
    )
    return conn.execute(stmt).scalar()


def export_lines(
    engine: sa.Engine, connection_id: str, entity: str | None, include_deleted: bool
) -> Iterator[bytes]:
    """Stored records of ``connection_id`` as NDJSON lines (each record's unified JSON), by
    entity then key, streamed (1000 rows per fetch)."""
    r = records
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
