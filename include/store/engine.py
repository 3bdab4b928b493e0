"""Engine creation and URL resolution.

SQLite: WAL, ``synchronous=NORMAL``, in-memory temp tables, a 64 MiB page cache, a busy timeout so
concurrent writers wait instead of failing, and ``BEGIN IMMEDIATE`` for write transactions (reads stay deferred and never block in WAL mode).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from include.store.types import StoreError

URL_ENV = "MILLWRIGHT_STORE_URL"
HOME_ENV = "MILLWRIGHT_HOME"
Conn = sa.Connection  # an open store connection, for callers that pass one to store functions
WRITE = "millwright_write"  # execution option: the next transaction is a write transaction


def url_from_env() -> str:
    """``MILLWRIGHT_STORE_URL``, else ``sqlite:///$MILLWRIGHT_HOME/store.db`` (dir created)."""
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return url
    home = Path(os.environ.get(HOME_ENV) or Path.home() / ".millwright").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'store.db'}"


def make_engine(url: str, *, busy_timeout: float = 60.0, cache_mib: int = 64) -> sa.Engine:
    """An engine for a ``sqlite:///`` or ``postgresql+psycopg://`` URL."""
    try:
        parsed = sa.make_url(url)
    except Exception:
        # the URL may hold a password: do not echo it
        raise StoreError(
            "store URL could not be parsed: expected sqlite:///path or "
            "postgresql+psycopg://user@host/db"
        ) from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": busy_timeout})
        _sqlite_events(engine, busy_timeout, cache_mib)
        return engine
    if backend == "postgresql":
        if driver != "psycopg":
            raise StoreError(
                f"PostgreSQL store URLs must use psycopg 3: postgresql+psycopg://... "
                f"(got driver {driver!r} in {parsed.render_as_string(hide_password=True)})"
            )
        return sa.create_engine(parsed, pool_pre_ping=True)
    raise StoreError(
        f"unsupported store URL {parsed.render_as_string(hide_password=True)}: "
        "use sqlite:///path or postgresql+psycopg://user@host/db"
    )


def _sqlite_events(engine: sa.Engine, busy_timeout: float, cache_mib: int) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        # bulk loads: the session's staging tables live in memory (not a temp file written and
        # read back per batch) and a page cache (64 MiB by default) keeps the records indexes'
        # hot pages
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def write_txn(conn: sa.Connection) -> Iterator[sa.Connection]:
    """A write transaction on ``conn``: ``BEGIN IMMEDIATE`` on SQLite (waits up to the busy
    timeout for other writers), a plain transaction on PostgreSQL. Commits or rolls back."""
    if conn.in_transaction():
        conn.commit()
    conn.execution_options(**{WRITE: True})
    try:
        with conn.begin():
            yield conn
    finally:
        conn.execution_options(**{WRITE: False})


def hide_parameters(exc: BaseException) -> None:
    """Leave a statement's parameters (customer data, tokens) out of a database error's text."""
    if isinstance(exc, sa.exc.StatementError):
        exc.hide_parameters = True
