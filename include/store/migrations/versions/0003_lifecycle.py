"""Connection lifecycle: credit pools, the connection registry (with history) and the audit log.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite needs INTEGER for rowid


def upgrade() -> None:
    op.create_table(
        "credit_pools",
        sa.Column("customer", sa.Text, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_table(
        "connection_registry",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("system", sa.Text, nullable=False),
        sa.Column("deployment", sa.Text, nullable=False),
        sa.Column("credits", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),  # active|disconnected|refused|purged
        sa.Column("source", sa.Text, nullable=False),  # api|variable
        sa.Column("name", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("config", sa.Text, nullable=False),  # the Variable entry (no secrets), JSON
        sa.Column("user_metadata", sa.Text, nullable=False),  # [{key, value}], JSON
        sa.Column("reason", sa.Text),  # why refused / last lifecycle note
        sa.Column("pending", sa.Text, nullable=False),  # Airflow actions still to do, JSON
        sa.Column("predecessor", sa.Text),
        sa.Column("successor", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("connected_at", sa.Text),
        sa.Column("disconnected_at", sa.Text),
        sa.Column("purged_at", sa.Text),
    )
    op.create_index("ix_registry_customer", "connection_registry", ["customer", "status"])
    op.create_table(
        "audit_log",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("connection_id", sa.Text),
        sa.Column("customer", sa.Text),
        sa.Column("details", sa.Text, nullable=False),  # JSON: counts purged, credits...
    )
    op.create_index("ix_audit_connection", "audit_log", ["connection_id", "id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("connection_registry")
    op.drop_table("credit_pools")
