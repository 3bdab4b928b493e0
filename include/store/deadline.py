"""A budget of database time shared by the statements of one read: PostgreSQL gets ``SET LOCAL
statement_timeout`` with what is left of the budget before each statement; SQLite a progress
handler that interrupts the running statement once the budget is spent. Either way the read ends
with `StoreTimeout` (the API answers 503: include/api/deadline.py)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import sqlalchemy as sa

from include.store.types import StoreError

if TYPE_CHECKING:
    from include.store.store import Store

SQLITE_CHECK_EVERY = 10_000  # SQLite VM instructions between two looks at the clock


class StoreTimeout(StoreError):
    """A read needed more than its budget of database time."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the read needed more than {seconds:g} s of database time")
        self.seconds = seconds


class Budget:
    """The database time left to one read on one connection."""

    def __init__(self, conn: sa.Connection, dialect: str, seconds: float) -> None:
        self.conn, self.dialect, self.seconds = conn, dialect, seconds
        self.deadline = time.monotonic() + seconds if seconds > 0 else None

    def arm(self) -> None:
        """Call before each statement: on PostgreSQL the statement may use what is left."""
        if self.deadline is None or self.dialect != "postgresql":
            return
        left_ms = int((self.deadline - time.monotonic()) * 1000)
        if left_ms < 1:
            raise StoreTimeout(self.seconds)
        self.conn.exec_driver_sql(f"SET LOCAL statement_timeout = {left_ms}")

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline


def _is_timeout(exc: sa.exc.DBAPIError) -> bool:
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        return "interrupted" in str(orig)
    return getattr(orig, "sqlstate", None) == "57014"  # query_canceled (statement_timeout)


@contextmanager
def budgeted(store: Store, seconds: float) -> Iterator[Budget]:
    """A read connection whose statements share ``seconds`` of database time (0 = no limit);
    `StoreTimeout` beyond."""
    with store.engine.connect() as conn:
        budget = Budget(conn, store.dialect, seconds)
        raw = conn.connection.driver_connection if store.dialect == "sqlite" else None
        if raw is not None and budget.deadline is not None:
            raw.set_progress_handler(budget.expired, SQLITE_CHECK_EVERY)
        try:
            yield budget
        except sa.exc.DBAPIError as exc:
            if _is_timeout(exc):
                raise StoreTimeout(seconds) from None
            raise
        finally:
            if raw is not None:
                raw.set_progress_handler(None, SQLITE_CHECK_EVERY)
