"""`sync_runs` records every attempt's outcome: ``failure`` (``auth`` or ``error``: Makini's
``fail`` / ``error``), the ``task`` that wrote the row last and its ``attempt`` (Airflow's try
number). Runs that failed before this revision are typed ``error``.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (("failure", sa.Text), ("task", sa.Text), ("attempt", sa.Integer))


def upgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_))
    op.execute("UPDATE sync_runs SET failure = 'error' WHERE status = 'failed'")


def downgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
