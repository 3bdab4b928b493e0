"""Every table of the store on ONE SQLAlchemy metadata, mirroring the latest migration, for
queries (the migrations in include/store/migrations own the DDL; tests/store/test_schema.py checks
that the two agree and that no module outside include/store defines a table or a metadata).

Sync data: records, cursors, entity_counts, quarantine, sync_runs, statuses. API: tokens.
Connection lifecycle (rev 0003): credit_pools, connection_registry, audit_log.
Inbound webhooks (rev 0007): webhook_inbox, webhook_rejections."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

JSON = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
RAW_JSON = sa.Text().with_variant(postgresql.JSON(), "postgresql")  # json, not jsonb: rev 0004
metadata = sa.MetaData()

records = sa.Table(
    "records",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("remote_id", sa.Text),
    sa.Column("parent_key", sa.Text),
    sa.Column("version", sa.Text),
    sa.Column("data", JSON, nullable=False),
    sa.Column("raw", RAW_JSON),
    sa.Column("created_at", sa.Text),
    sa.Column("updated_at", sa.Text),
    sa.Column("deleted_at", sa.Text),
    sa.Column("deleted_by", sa.Text),
    sa.Column("synced_at", sa.Text, nullable=False),
)
cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)
entity_counts = sa.Table(
    "entity_counts",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("deleted", sa.BigInteger, nullable=False),
)
quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("connection_id", sa.Text, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("run_id", sa.Text, nullable=False),
    sa.Column("remote_key", sa.Text),
    sa.Column("item_key", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", RAW_JSON),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("resolved_at", sa.Text),
)
sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("finished_at", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("window_start", sa.Text),
    sa.Column("window_end", sa.Text),
    *(sa.Column(n, sa.BigInteger, nullable=False) for n in ("pages", "read", "mapped")),
    *(sa.Column(n, sa.BigInteger, nullable=False) for n in ("quarantined", "inserted")),
    *(sa.Column(n, sa.BigInteger, nullable=False) for n in ("updated", "deleted")),
    sa.Column("error", sa.Text),
    sa.Column("failure", sa.Text),  # auth | error (rev 0005)
    sa.Column("task", sa.Text),
    sa.Column("attempt", sa.Integer),
)
statuses = sa.Table(
    "statuses",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("data", JSON, nullable=False),
)
tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("connection_id", sa.Text, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False),
    sa.Column("prefix", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("revoked_at", sa.Text),
    sa.Column("expires_at", sa.Text),  # rev 0008: issued with expires_in; NULL never expires
)
pools = sa.Table(
    "credit_pools",
    metadata,
    sa.Column("customer", sa.Text, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)
registry = sa.Table(
    "connection_registry",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    *(sa.Column(n, sa.Text, nullable=False) for n in ("customer", "system", "deployment")),
    sa.Column("credits", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("email", sa.Text),
    *(sa.Column(n, sa.Text, nullable=False) for n in ("config", "user_metadata")),
    sa.Column("reason", sa.Text),
    sa.Column("pending", sa.Text, nullable=False),
    sa.Column("predecessor", sa.Text),
    sa.Column("successor", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    *(sa.Column(n, sa.Text) for n in ("connected_at", "disconnected_at", "purged_at")),
    sa.Column("updated_at", sa.Text),  # rev 0008: every insert and update sets it
    sa.Column(  # a registered entry's first token waits to be minted and shown once (rev 0006)
        "token_waiting", sa.Boolean, nullable=False, server_default=sa.false()
    ),
)
audit = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("connection_id", sa.Text),
    sa.Column("customer", sa.Text),
    sa.Column("details", sa.Text, nullable=False),
)
source_fields = sa.Table(  # rev 0009: what each source offers per entity (its metadata, cached)
    "source_fields",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("system", sa.Text, nullable=False),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("fetched_at", sa.Text, nullable=False),
)
mapped_fields = sa.Table(  # rev 0009: the custom fields the stored records were read in full with
    "mapped_fields",
    metadata,
    sa.Column("connection_id", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("mapped_at", sa.Text, nullable=False),
)
webhook_inbox = sa.Table(  # rev 0007
    "webhook_inbox",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("connection_id", sa.Text, nullable=False),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("received_at", sa.Text, nullable=False),
    sa.Column("sent_at", sa.BigInteger),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("duplicates", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claimed_at", sa.Text),
    sa.Column("claim_token", sa.Text),
    sa.Column("processed_at", sa.Text),
    sa.Column("error", sa.Text),
)
webhook_rejections = sa.Table(
    "webhook_rejections",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("connection_id", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)
# the tables holding one connection's data (a purge deletes its rows from each)
CONNECTION_DATA = (
    records, cursors, entity_counts, quarantine, sync_runs, statuses, tokens, source_fields,
    mapped_fields, webhook_inbox, webhook_rejections,
)  # fmt: skip
