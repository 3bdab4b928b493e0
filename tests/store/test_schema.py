"""ONE metadata for every table of the store, in step with the migrations (which own the DDL)."""

from __future__ import annotations

import sqlalchemy as sa

from include.store import Store, schema
from include.store.migrate import VERSION_TABLE

EXPECTED = {
    "records", "cursors", "entity_counts", "quarantine", "sync_runs", "statuses", "tokens",
    "credit_pools", "connection_registry", "audit_log", "source_fields", "mapped_fields",
    "webhook_inbox", "webhook_rejections",
}  # fmt: skip


def test_one_metadata_holds_every_table() -> None:
    assert set(schema.metadata.tables) == EXPECTED
    for name in ("records", "tokens", "pools", "registry", "audit", "sync_runs"):
        assert getattr(schema, name).metadata is schema.metadata


def test_old_import_paths_give_the_same_tables() -> None:
    from include.api import auth
    from include.store import registry as lifecycle_db

    assert auth.tokens is schema.tokens
    assert lifecycle_db.registry is schema.registry
    assert lifecycle_db.pools is schema.pools
    assert lifecycle_db.audit is schema.audit


def test_metadata_matches_the_migrated_database(store: Store) -> None:
    """Every table the migrations create is in the metadata and vice versa, with the same
    columns, nullability and primary keys."""
    inspector = sa.inspect(store.engine)
    tables = set(inspector.get_table_names()) - {VERSION_TABLE}
    assert tables == set(schema.metadata.tables)
    for name, table in schema.metadata.tables.items():
        migrated = {c["name"]: c["nullable"] for c in inspector.get_columns(name)}
        declared = {c.name: c.nullable for c in table.columns}
        pk = set(inspector.get_pk_constraint(name)["constrained_columns"])
        assert set(migrated) == set(declared), name
        assert pk == {c.name for c in table.primary_key.columns}, name
        for col, nullable in declared.items():
            if col not in pk:  # SQLite reports primary key columns of a rowid table nullable
                assert migrated[col] == nullable, f"{name}.{col}"
