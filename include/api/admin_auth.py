"""Admin authentication for /api/system/*: ``Authorization: Bearer <admin token>``.

The expected token is ``MILLWRIGHT_ADMIN_TOKEN`` (env), else the password of the Airflow
Connection ``millwright_admin`` (read in-process; cached 60 s). Both sides are hashed with SHA-256
and compared with `hmac.compare_digest`. Inside Airflow's api-server the same admin token is
required (Airflow's own JWT is not accepted: plugin routes are not protected by Airflow).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

from fastapi import Request

from include.api.errors import ApiError

ADMIN_ENV = "MILLWRIGHT_ADMIN_TOKEN"
ADMIN_CONN_ID = "millwright_admin"
_cache: dict[str, object] = {"at": -1e9, "digest": None}


def _from_airflow() -> str | None:
    try:
        from airflow.models.connection import Connection

        return Connection.get_connection_from_secrets(ADMIN_CONN_ID).password or None
    except Exception:  # no Airflow here, or the Connection is not defined
        return None


def admin_digest() -> bytes | None:
    env = os.environ.get(ADMIN_ENV)
    if env:
        return hashlib.sha256(env.encode()).digest()
    if time.monotonic() - float(_cache["at"]) > 60:  # type: ignore[arg-type]
        secret = _from_airflow()
        _cache["digest"] = hashlib.sha256(secret.encode()).digest() if secret else None
        _cache["at"] = time.monotonic()
    return _cache["digest"]  # type: ignore[return-value]


def require_admin(request: Request) -> str:
    """FastAPI dependency: the actor name ("admin") or 401/503."""
    expected = admin_digest()
    if expected is None:
        raise ApiError(
            503,
            f"admin API not configured: set {ADMIN_ENV} or the Airflow Connection "
            f"{ADMIN_CONN_ID!r} (password = admin token)",
        )
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    given = hashlib.sha256(token.strip().encode()).digest()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given, expected):
        raise ApiError(
            401,
            "admin token required: 'Authorization: Bearer <admin token>'",
            {"Authorization": ["missing or wrong admin token"]},
            {"WWW-Authenticate": "Bearer"},
        )
    return "admin"
