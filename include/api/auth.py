"""Per-connection API tokens: the bearer check of the read API and the tokens table's SQL.

The token rules (format, SHA-256 hash, constant-time comparison) and the issue/revoke/verify API
are `include.admin.tokens`; this module keeps the table and runs its statements (until the store
holds them). ``issue_token``, ``revoke_tokens``, ``resolve_token`` stay as old names.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from include.admin import tokens as rules
from include.admin.tokens import MAX_TOKEN_LEN, PREFIX_LEN, TOKEN_PREFIX, hash_token  # noqa: F401
from include.api.errors import ApiError

metadata = sa.MetaData()
tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("connection_id", sa.Text, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False),
    sa.Column("prefix", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("revoked_at", sa.Text),
)

issue_token = rules.issue
revoke_tokens = rules.revoke
resolve_token = rules.verify


def insert_token(
    conn: sa.Connection, connection_id: str, token_hash: str, prefix: str, created_at: str | None
) -> None:
    row = {"connection_id": connection_id, "token_hash": token_hash, "prefix": prefix,
           "created_at": created_at}  # fmt: skip
    conn.execute(sa.insert(tokens), row)


def revoke_rows(conn: sa.Connection, connection_id: str, at: str | None) -> int:
    stmt = (
        sa.update(tokens)
        .where(tokens.c.connection_id == connection_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return conn.execute(stmt).rowcount


def live_token(engine: sa.Engine, token_hash: str) -> Any:
    """The live row (connection_id, token_hash) with this hash, else None."""
    stmt = sa.select(tokens.c.connection_id, tokens.c.token_hash).where(
        tokens.c.token_hash == token_hash, tokens.c.revoked_at.is_(None)
    )
    with engine.connect() as conn:
        return conn.execute(stmt).first()


def delete_rows(conn: sa.Connection, connection_id: str) -> int:
    return conn.execute(sa.delete(tokens).where(tokens.c.connection_id == connection_id)).rowcount


def list_tokens(engine: sa.Engine, connection_id: str) -> list[dict]:
    """Token metadata (never the hash) of one connection, oldest first."""
    cols = (tokens.c.id, tokens.c.prefix, tokens.c.created_at, tokens.c.revoked_at)
    stmt = sa.select(*cols).where(tokens.c.connection_id == connection_id).order_by(tokens.c.id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


_bearer = HTTPBearer(
    auto_error=False, scheme_name="bearerAuth", description="A per-connection token (mw_...)"
)
_Declared = Security(_bearer)  # declares bearerAuth in OpenAPI; the check is ours


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, {"Authorization": [message]}, {"WWW-Authenticate": "Bearer"})


def current_connection(
    request: Request, _declared: HTTPAuthorizationCredentials | None = _Declared
) -> str:
    """FastAPI dependency: the connection id of the request's bearer token, else 401."""
    header = request.headers.get("authorization")
    if not header:
        raise _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("the Authorization header must be 'Bearer <token>'")
    connection_id = resolve_token(request.app.state.store.engine, token.strip())
    if connection_id is None:
        raise _unauthorized("invalid or revoked token")
    return connection_id
