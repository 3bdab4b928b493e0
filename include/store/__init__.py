"""The unified store: one `records` table for every entity, cursors, counts, quarantine, history.

SQLAlchemy 2 Core + Alembic; SQLite (default, embedded) or PostgreSQL (psycopg 3). See
docs/STORE.md for tables, URL resolution and upsert semantics.
"""

from include.store.engine import Conn
from include.store.store import Store, comparable
from include.store.types import LoadRow, LoadStats, QuarantineItem, StoreError, SyncRun

__all__ = [
    "Conn",
    "LoadRow",
    "LoadStats",
    "QuarantineItem",
    "Store",
    "StoreError",
    "SyncRun",
    "comparable",
]
