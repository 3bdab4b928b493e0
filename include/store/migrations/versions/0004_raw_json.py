"""PostgreSQL: `records.raw` and `quarantine.raw` become `json` (were `jsonb`); SQLite unchanged.

`raw` is only stored and served back (the API's ``remoteData``), never queried into, so the
binary `jsonb` form bought nothing and cost a full parse per written row. `json` keeps the text
as sent (validated, not parsed into a tree). Rows already stored keep jsonb's normalised text.
Each ALTER rewrites its table (under an ACCESS EXCLUSIVE lock): plan the upgrade of a big store.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("records", "quarantine")


def _retype(to: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps JSON as TEXT
    type_ = postgresql.JSON() if to == "json" else postgresql.JSONB()
    for table in TABLES:
        op.alter_column(table, "raw", type_=type_, postgresql_using=f"raw::{to}")


def upgrade() -> None:
    _retype("json")


def downgrade() -> None:
    _retype("jsonb")
