"""SQLAlchemy Core tables mirroring the latest migration, for queries (the migrations own DDL)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

JSON = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
RAW_JSON = sa.Text().with_variant(postgresql.JSON(), "postgresql")  # json, not jsonb: rev 0004
metadata = sa.MetaData()

records = sa.Table(
    "records",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("remote_id", sa.Text),
    sa.Column("parent_key", sa.Text),
    sa.Column("version", sa.Text),
    sa.Column("data", JSON, nullable=False),
    sa.Column("raw", RAW_JSON),
    sa.Column("created_at", sa.Text),
    sa.Column("updated_at", sa.Text),
    sa.Column("deleted_at", sa.Text),
    sa.Column("deleted_by", sa.Text),
    sa.Column("synced_at", sa.Text, nullable=False),
)
cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)
entity_counts = sa.Table(
    "entity_counts",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("deleted", sa.BigInteger, nullable=False),
)
quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("connection_id", sa.Text, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("run_id", sa.Text, nullable=False),
    sa.Column("remote_key", sa.Text),
    sa.Column("item_key", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", RAW_JSON),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("resolved_at", sa.Text),
)
sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("finished_at", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("window_start", sa.Text),
    sa.Column("window_end", sa.Text),
    *(sa.Column(n, sa.BigInteger, nullable=False) for n in ("pages", "read", "mapped")),
    *(sa.Column(n, sa.BigInteger, nullable=False) for n in ("quarantined", "inserted")),
    *(sa.Column(n, sa.BigInteger, nullable=False) for n in ("updated", "deleted")),
    sa.Column("error", sa.Text),
    sa.Column("failure", sa.Text),  # auth | error (rev 0005)
    sa.Column("task", sa.Text),
    sa.Column("attempt", sa.Integer),
)
statuses = sa.Table(
    "statuses",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("data", JSON, nullable=False),
)
