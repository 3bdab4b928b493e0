"""Makini's connection and token shapes: ``connection_registry.updated_at`` (the connection's last
change; existing rows take their latest lifecycle time) and ``tokens.expires_at`` (a token issued
with ``expires_in``; NULL: it does not expire). And ``ix_records_status_category``: the unified
``statusCategory`` filter (``filter[statusCategory]=open``) as an index range in key order, on the
expression the read queries compare (include/store/query.py ``field_expr``); partial, so records
without a category (most entities) cost no index entry.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# the SQL of `field_expr(FieldRef("statusCategory", "text"))` per dialect
STATUS_CATEGORY = {
    "sqlite": "CAST(json_extract(data, '$.\"statusCategory\"') AS TEXT)",
    "postgresql": "data ->> 'statusCategory'",
}


def upgrade() -> None:
    with op.batch_alter_table("connection_registry") as batch:
        batch.add_column(sa.Column("updated_at", sa.Text))
    op.execute(
        "UPDATE connection_registry SET updated_at = "
        "COALESCE(purged_at, disconnected_at, connected_at, created_at)"
    )
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.Text))
    expr = STATUS_CATEGORY[op.get_bind().dialect.name]
    op.execute(
        f"CREATE INDEX ix_records_status_category ON records "
        f"(connection_id, entity, ({expr}), key) WHERE ({expr}) IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_records_status_category")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("connection_registry") as batch:
        batch.drop_column("updated_at")
