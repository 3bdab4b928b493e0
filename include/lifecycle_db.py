"""Tables of migration 0003 (credit pools, connection registry, audit log) and their queries.

Writers pass an open write transaction (`include.store.engine.write_txn`); `lock_customer`
serializes credit checks of one customer on PostgreSQL (SQLite's BEGIN IMMEDIATE already does).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from include.timeutil import format_utc, utcnow

metadata = sa.MetaData()
pools = sa.Table(
    "credit_pools",
    metadata,
    sa.Column("customer", sa.Text, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)
registry = sa.Table(
    "connection_registry",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    *(sa.Column(n, sa.Text, nullable=False) for n in ("customer", "system", "deployment")),
    sa.Column("credits", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("email", sa.Text),
    *(sa.Column(n, sa.Text, nullable=False) for n in ("config", "user_metadata")),
    sa.Column("reason", sa.Text),
    sa.Column("pending", sa.Text, nullable=False),
    sa.Column("predecessor", sa.Text),
    sa.Column("successor", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    *(sa.Column(n, sa.Text) for n in ("connected_at", "disconnected_at", "purged_at")),
)
audit = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("connection_id", sa.Text),
    sa.Column("customer", sa.Text),
    sa.Column("details", sa.Text, nullable=False),
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
    conn.execute(sa.insert(registry), values)


def update(conn: sa.Connection, cid: str, **values: Any) -> None:
    for c in JSON_COLS:
        if c in values:
            values[c] = json.dumps(values[c])
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


def sa_tokens() -> sa.Table:
    """The read API's tokens table (include/api/auth.py owns it)."""
    from include.api.auth import tokens

    return tokens
