"""Alembic environment for the store. Run through `include.store.migrate.upgrade`, which passes an
open connection (inside a transaction holding the migration lock) in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from include.store.migrate import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run store migrations with include.store.Store(url).migrate() (no alembic.ini is used)"
    )
context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
