"""Per-connection API tokens in the store.

A token is ``mw_`` + ``secrets.token_urlsafe(32)`` (256 random bits). It is shown once by
`issue_token`; the store keeps only its SHA-256 hex (unique index) and a short prefix to recognise
it. `resolve_token` looks the hash up through the index and confirms it with
`hmac.compare_digest`. A token is valid iff its row exists and is not revoked; disconnecting a
connection revokes its tokens through `revoke_tokens`. Tokens are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from include.model.timeutil import format_utc, utcnow
from include.store.engine import write_txn
from include.store.schema import tokens

TOKEN_PREFIX = "mw_"
PREFIX_LEN = 10  # "mw_" + 7 characters: enough to tell tokens apart in a listing, useless to guess
MAX_TOKEN_LEN = 256

ConnOrEngine = sa.Connection | sa.Engine


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@contextmanager
def _writing(target: ConnOrEngine) -> Iterator[sa.Connection]:
    """A write transaction of our own for an engine; the caller's transaction for a connection."""
    if isinstance(target, sa.Engine):
        with target.connect() as conn, write_txn(conn):
            yield conn
    else:
        yield target


def issue_token(target: ConnOrEngine, connection_id: str) -> str:
    """Create a token for ``connection_id`` and return it (the only time it is visible).

    With a Connection the insert joins the caller's transaction (commit is the caller's job)."""
    if not isinstance(connection_id, str) or not connection_id:
        raise ValueError("connection_id must be a non-empty string")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = {
        "connection_id": connection_id,
        "token_hash": hash_token(token),
        "prefix": token[:PREFIX_LEN],
        "created_at": format_utc(utcnow()),
    }
    with _writing(target) as conn:
        conn.execute(sa.insert(tokens), row)
    return token


def revoke_tokens(target: ConnOrEngine, connection_id: str) -> int:
    """Revoke every live token of ``connection_id``; returns how many were revoked."""
    stmt = (
        sa.update(tokens)
        .where(tokens.c.connection_id == connection_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=format_utc(utcnow()))
    )
    with _writing(target) as conn:
        return conn.execute(stmt).rowcount


def list_tokens(engine: sa.Engine, connection_id: str) -> list[dict]:
    """Token metadata (never the hash) of one connection, oldest first."""
    cols = (tokens.c.id, tokens.c.prefix, tokens.c.created_at, tokens.c.revoked_at)
    stmt = sa.select(*cols).where(tokens.c.connection_id == connection_id).order_by(tokens.c.id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def resolve_token(engine: sa.Engine, token: str | None) -> str | None:
    """The connection id a live token belongs to, else None (unknown, revoked, malformed)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LEN:
        return None
    digest = hash_token(token)
    stmt = sa.select(tokens.c.connection_id, tokens.c.token_hash).where(
        tokens.c.token_hash == digest, tokens.c.revoked_at.is_(None)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row.connection_id
