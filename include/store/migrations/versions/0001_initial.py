"""Initial store schema: records, cursors, entity_counts, quarantine, sync_runs, statuses.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# JSON text on SQLite, JSONB on PostgreSQL. Times are ISO-8601 UTC strings in TEXT columns.
JSON = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite needs INTEGER for rowid


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("connection_id", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("remote_id", sa.Text),
        sa.Column("parent_key", sa.Text),
        sa.Column("version", sa.Text),
        sa.Column("data", JSON, nullable=False),
        sa.Column("raw", JSON),
        sa.Column("created_at", sa.Text),
        sa.Column("updated_at", sa.Text),
        sa.Column("deleted_at", sa.Text),
        # 'source' (the source said so) or 'reconcile' (vanished from the key listing); NULL if live
        sa.Column("deleted_by", sa.Text),
        sa.Column("synced_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "entity", "key", name="pk_records"),
    )
    op.create_index(
        "ix_records_updated", "records", ["connection_id", "entity", "updated_at", "key"]
    )
    # partial: only child entities (PO line items) have parents, and a full index would cost
    # every insert of every other entity an index entry
    has_parent = sa.text("parent_key IS NOT NULL")
    op.create_index(
        "ix_records_parent",
        "records",
        ["connection_id", "entity", "parent_key"],
        postgresql_where=has_parent,
        sqlite_where=has_parent,
    )

    op.create_table(
        "cursors",
        sa.Column("connection_id", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "entity", name="pk_cursors"),
    )
    op.create_table(
        "entity_counts",
        sa.Column("connection_id", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("deleted", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("connection_id", "entity", name="pk_entity_counts"),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("connection_id", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("remote_key", sa.Text),
        # remote_key, or 'sha256:<hash of raw>' when the record has no key: NULLs never collide
        # in a unique index, so keyless items need a stand-in for retries to stay idempotent.
        sa.Column("item_key", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", JSON),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("resolved_at", sa.Text),
        sa.UniqueConstraint(
            "connection_id", "entity", "run_id", "item_key", name="uq_quarantine_item"
        ),
    )
    op.create_index(
        "ix_quarantine_open", "quarantine", ["connection_id", "entity", "resolved_at", "id"]
    )
    op.create_table(
        "sync_runs",
        sa.Column("connection_id", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("finished_at", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("window_start", sa.Text),
        sa.Column("window_end", sa.Text),
        sa.Column("pages", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("read", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("mapped", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("quarantined", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("inserted", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("deleted", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("connection_id", "entity", "run_id", name="pk_sync_runs"),
    )
    op.create_index("ix_sync_runs_started", "sync_runs", ["connection_id", "entity", "started_at"])
    op.create_table(
        "statuses",
        sa.Column("connection_id", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "entity", "key", name="pk_statuses"),
    )


def downgrade() -> None:
    for table in ("statuses", "sync_runs", "quarantine", "entity_counts", "cursors", "records"):
        op.drop_table(table)
