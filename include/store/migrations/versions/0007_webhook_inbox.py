"""Inbound webhooks: ``webhook_inbox`` (every accepted event, stored before the receiver answers
200; one row per connection and event id, so a redelivery is stored once) and
``webhook_rejections`` (requests refused by verification: counted for monitoring, bodies not
kept).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite needs INTEGER for rowid


def upgrade() -> None:
    op.create_table(
        "webhook_inbox",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("connection_id", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("received_at", sa.Text, nullable=False),
        sa.Column("sent_at", sa.BigInteger),  # the sender's timestamp (Unix seconds), if signed
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),  # pending | processed | failed
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("duplicates", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_at", sa.Text),
        sa.Column("claim_token", sa.Text),
        sa.Column("processed_at", sa.Text),
        sa.Column("error", sa.Text),
    )
    op.create_index(
        "ux_webhook_inbox_event", "webhook_inbox", ["connection_id", "event_id"], unique=True
    )
    op.create_index("ix_webhook_inbox_status", "webhook_inbox", ["status", "connection_id", "id"])
    op.create_index("ix_webhook_inbox_received", "webhook_inbox", ["connection_id", "received_at"])
    op.create_table(
        "webhook_rejections",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("connection_id", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_webhook_rejections", "webhook_rejections", ["connection_id", "at"])


def downgrade() -> None:
    op.drop_table("webhook_rejections")
    op.drop_table("webhook_inbox")
