"""Per-connection API tokens in the store.

A token is ``mw_`` + ``secrets.token_urlsafe(32)`` (256 random bits). It is shown once by
`issue_token`; the store keeps only its SHA-256 hex (unique index) and a short prefix to recognise
it. `resolve_token` looks the hash up through the index and confirms it with
`hmac.compare_digest`. A token is valid iff its row exists, is not revoked and has not expired
(issued with ``expires_in``: `expires_at`; without it a token does not expire); disconnecting a
connection revokes its tokens through `revoke_tokens`. Tokens are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

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


MAX_EXPIRES_IN = 10 * 365 * 86400  # seconds


def _stamp(value) -> str:  # noqa: ANN001
    """A UTC time as fixed-width text (microseconds always), so text order is time order."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def issue_token(target: ConnOrEngine, connection_id: str, expires_in: int | None = None) -> str:
    """Create a token for ``connection_id`` and return it (the only time it is visible);
    with ``expires_in`` (seconds, 1..10 years) it stops working that long after now.

    With a Connection the insert joins the caller's transaction (commit is the caller's job)."""
    if not isinstance(connection_id, str) or not connection_id:
        raise ValueError("connection_id must be a non-empty string")
    if expires_in is not None and not (
        isinstance(expires_in, int) and 0 < expires_in <= MAX_EXPIRES_IN
    ):
        raise ValueError(f"expires_in must be 1..{MAX_EXPIRES_IN} seconds, got {expires_in!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = {
        "connection_id": connection_id,
        "token_hash": hash_token(token),
        "prefix": token[:PREFIX_LEN],
        "created_at": format_utc(now),
        "expires_at": _stamp(now + timedelta(seconds=expires_in)) if expires_in else None,
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
    cols = (
        tokens.c.id, tokens.c.prefix, tokens.c.created_at, tokens.c.revoked_at,
        tokens.c.expires_at,
    )  # fmt: skip
    stmt = sa.select(*cols).where(tokens.c.connection_id == connection_id).order_by(tokens.c.id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def resolve_token(engine: sa.Engine, token: str | None) -> str | None:
    """The connection id a live token belongs to, else None (unknown, revoked, malformed)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LEN:
        return None
    digest = hash_token(token)
    live = sa.or_(tokens.c.expires_at.is_(None), tokens.c.expires_at > _stamp(utcnow()))
    stmt = sa.select(tokens.c.connection_id, tokens.c.token_hash).where(
        tokens.c.token_hash == digest, tokens.c.revoked_at.is_(None), live
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row.connection_id
