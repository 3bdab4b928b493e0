"""Programmatic Alembic: ``upgrade(engine)`` brings the schema to head; no alembic.ini needed.

Concurrent callers are serialized: on PostgreSQL by a transaction-scoped advisory lock, on SQLite
by ``BEGIN IMMEDIATE``. DDL is transactional on both, so a failed upgrade leaves no half schema.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from include.store.engine import write_txn
from include.store.types import StoreError

VERSION_TABLE = "store_alembic_version"  # not Airflow's `alembic_version` if sharing a database
MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)  # no per-revision chatter in task logs
    cfg = alembic_config()
    with engine.connect() as conn, write_txn(conn):
        if conn.dialect.name == "postgresql":
            if conn.exec_driver_sql("SELECT current_schema()").scalar() is None:
                path = conn.exec_driver_sql("SHOW search_path").scalar()
                raise StoreError(
                    f"PostgreSQL store: no schema of search_path {path!r} exists; create it first"
                )
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(hashtext('millwright.store.migrate:' "
                "|| current_schema()))"
            )
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()
