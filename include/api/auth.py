"""Per-connection API tokens: the bearer check of the read API (FastAPI dependency).

The tokens themselves are issued, revoked and resolved by the store (include/store/tokens.py):

A token is ``mw_`` + ``secrets.token_urlsafe(32)`` (256 random bits). It is shown once by
`issue_token`; the store keeps only its SHA-256 hex (unique index) and a short prefix to recognise
it. `resolve_token` looks the hash up through the index and confirms it with
`hmac.compare_digest`. A token is valid iff its row exists and is not revoked; disconnecting a
connection revokes its tokens through `revoke_tokens`. Tokens are never logged.
"""

from __future__ import annotations

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from include.api.errors import ApiError
from include.store.schema import tokens  # noqa: F401  (old import path)
from include.store.tokens import (  # noqa: F401  (old import path: the store runs token SQL)
    MAX_TOKEN_LEN,
    PREFIX_LEN,
    TOKEN_PREFIX,
    hash_token,
    issue_token,
    list_tokens,
    resolve_token,
    revoke_tokens,
)

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
