"""`connection_registry.token_waiting`: a connection registered without a person (a Variable entry
added by hand, registered by the lifecycle DAG) has its first token waiting to be shown once
(dashboard or ``millwright connections claim-token``). No token is kept in clear: the token is
minted, stored hashed, at the moment it is shown, and the flag is cleared in the same transaction.

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
        batch.add_column(
            sa.Column("token_waiting", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("connection_registry") as batch:
        batch.drop_column("token_waiting")
