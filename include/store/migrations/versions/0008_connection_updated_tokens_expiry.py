"""Makini's connection and token shapes: ``connection_registry.updated_at`` (the connection's last
change; existing rows take their latest lifecycle time) and ``tokens.expires_at`` (a token issued
with ``expires_in``; NULL: it does not expire).

Revision ID: 0008
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connection_registry") as batch:
        batch.add_column(sa.Column("updated_at", sa.Text))
    op.execute(
        "UPDATE connection_registry SET updated_at = "
        "COALESCE(purged_at, disconnected_at, connected_at, created_at)"
    )
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("connection_registry") as batch:
        batch.drop_column("updated_at")
