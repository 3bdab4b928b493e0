"""`connection_registry.new_token`: the first token of a connection registered without a person
(a Variable entry added by hand, registered by the lifecycle DAG), kept until it is shown once
(dashboard or ``millwright connections claim-token``), then cleared.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connection_registry") as batch:
        batch.add_column(sa.Column("new_token", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("connection_registry") as batch:
        batch.drop_column("new_token")
