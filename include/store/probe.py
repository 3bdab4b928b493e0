"""Looks at databases other than the store (Airflow's metadata DB) for the commands that find
their way as the DAG's tasks do (include/cli/discovery.py): URLs shown without their password, and
whether a database is set up (has a table)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool


class DatabaseUnreachable(Exception):
    """A database server that was asked for does not answer; ``reason`` is the driver's error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def shown_url(url: str) -> str:
    """A database URL for humans and logs: the password hidden."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparsable: it may hold a password, show nothing of it
        return "(an unparsable URL)"


def has_table(url: str, table: str) -> bool:
    """Whether the database at ``url`` has ``table``; False for a SQLite file that does not exist
    or is empty (without creating it). A server that does not answer raises
    `DatabaseUnreachable`."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if not db or db == ":memory:" or not Path(db).is_file() or Path(db).stat().st_size == 0:
            return False
    engine = sa.create_engine(parsed, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return sa.inspect(conn).has_table(table)
    except sa.exc.OperationalError as exc:
        raise DatabaseUnreachable(str(exc.orig)) from None
    finally:
        engine.dispose()
