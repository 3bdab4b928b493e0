"""API tokens: one row per issued per-connection bearer token (only its SHA-256 is stored).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite needs INTEGER for rowid


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("connection_id", sa.Text, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False),  # SHA-256 hex of the whole token
        sa.Column("prefix", sa.Text, nullable=False),  # first characters, to recognise a token
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.Text),
    )
    op.create_index("ux_tokens_hash", "tokens", ["token_hash"], unique=True)
    op.create_index("ix_tokens_connection", "tokens", ["connection_id", "revoked_at"])


def downgrade() -> None:
    op.drop_table("tokens")
