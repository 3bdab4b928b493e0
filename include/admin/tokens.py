"""Per-connection API tokens, the admin-level API: issue, revoke, verify, purge.

A token is ``mw_`` + ``secrets.token_urlsafe(32)`` (256 random bits). It is shown once by
`issue`; the store keeps only its SHA-256 hex (unique index) and a short prefix to recognise it.
`verify` looks the hash up through the index and confirms it with `hmac.compare_digest`. A token
is valid iff its row exists and is not revoked; disconnecting a connection revokes its tokens
(`revoke`). Tokens are never logged.

The rules live here; the SQL runs in the module that owns the tokens table, `include.api.auth`
until the store holds every statement: `_sql` is then the one place to change (the admin layer
imports nothing else of `include.api`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import sqlalchemy as sa

from include.store.engine import write_txn
from include.timeutil import format_utc, utcnow

TOKEN_PREFIX = "mw_"
PREFIX_LEN = 10  # "mw_" + 7 characters: enough to tell tokens apart in a listing, useless to guess
MAX_TOKEN_LEN = 256

ConnOrEngine = sa.Connection | sa.Engine


def _sql() -> ModuleType:
    """The token statements (imported late: that module imports the rules above)."""
    from include.api import auth

    return auth


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str | None) -> bool:
    return bool(token) and token.startswith(TOKEN_PREFIX) and len(token) <= MAX_TOKEN_LEN


def same_digest(stored: str, digest: str) -> bool:
    """Constant-time comparison of a stored hash with a presented token's hash."""
    return hmac.compare_digest(stored, digest)


@contextmanager
def _writing(target: ConnOrEngine) -> Iterator[sa.Connection]:
    """A write transaction of our own for an engine; the caller's transaction for a connection."""
    if isinstance(target, sa.Engine):
        with target.connect() as conn, write_txn(conn):
            yield conn
    else:
        yield target


def issue(target: ConnOrEngine, connection_id: str) -> str:
    """Create a token for ``connection_id`` and return it (the only time it is visible).

    With a Connection the insert joins the caller's transaction (commit is the caller's job)."""
    if not isinstance(connection_id, str) or not connection_id:
        raise ValueError("connection_id must be a non-empty string")
    token = new_token()
    with _writing(target) as conn:
        _sql().insert_token(
            conn, connection_id, hash_token(token), token[:PREFIX_LEN], format_utc(utcnow())
        )
    return token


def revoke(target: ConnOrEngine, connection_id: str) -> int:
    """Revoke every live token of ``connection_id``; returns how many were revoked."""
    with _writing(target) as conn:
        return _sql().revoke_rows(conn, connection_id, format_utc(utcnow()))


def verify(engine: sa.Engine, token: str | None) -> str | None:
    """The connection id a live token belongs to, else None (unknown, revoked, malformed)."""
    if not well_formed(token):
        return None
    digest = hash_token(token)
    row = _sql().live_token(engine, digest)
    if row is None or not same_digest(row.token_hash, digest):
        return None
    return row.connection_id


def purge(conn: sa.Connection, connection_id: str) -> int:
    """Delete every token row of ``connection_id`` (in the caller's transaction)."""
    return _sql().delete_rows(conn, connection_id)


def listing(engine: sa.Engine, connection_id: str) -> list[dict]:
    """Token metadata (never the hash) of one connection, oldest first."""
    return _sql().list_tokens(engine, connection_id)
