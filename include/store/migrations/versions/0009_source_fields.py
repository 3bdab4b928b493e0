"""Custom fields (issue 14): ``source_fields`` caches what each connection's source offers per
entity (its own metadata, as `include.model.source_fields.SourceField` JSON); ``mapped_fields``
holds, per connection and entity, the digest of the custom fields its stored records were last
read in full with (a different digest makes the next run a full read).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_fields",
        sa.Column("connection_id", sa.Text, primary_key=True),
        sa.Column("entity", sa.Text, primary_key=True),
        sa.Column("system", sa.Text, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),  # JSON list of SourceField
        sa.Column("fetched_at", sa.Text, nullable=False),
    )
    op.create_table(
        "mapped_fields",
        sa.Column("connection_id", sa.Text, primary_key=True),
        sa.Column("entity", sa.Text, primary_key=True),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("mapped_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mapped_fields")
    op.drop_table("source_fields")
