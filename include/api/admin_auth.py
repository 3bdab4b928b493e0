"""Admin authentication for /api/system/*: ``Authorization: Bearer <admin token>``.

The expected token is ``MILLWRIGHT_ADMIN_TOKEN`` (env), else the password of the Airflow
Connection ``millwright_admin`` (read in-process; cached 60 s). Both sides are hashed with SHA-256
and compared with `hmac.compare_digest`.

Inside Airflow's api-server (the plugin), Airflow's own authentication is accepted too: a valid
Airflow JWT (``Authorization: Bearer`` or the UI's ``_token`` cookie, so the dashboard opened from
the Airflow UI just works) of a user whom Airflow's auth manager allows to edit Connections. Plugin
routes get no protection from Airflow, so this check is ours.
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


def _airflow_auth_manager():  # noqa: ANN202 - Airflow's BaseAuthManager, or None
    """Airflow's auth manager when running inside its api-server (initialised), else None."""
    try:
        from airflow.api_fastapi.app import get_auth_manager

        return get_auth_manager()
    except Exception:  # not in Airflow's api-server, or Airflow absent
        return None


async def _airflow_user(request: Request, bearer: str | None) -> str | None:
    """The name of the Airflow user behind a valid Airflow JWT allowed to edit Connections."""
    manager = _airflow_auth_manager()
    if manager is None:
        return None
    for token in (bearer, request.cookies.get("_token")):
        if not token:
            continue
        try:
            user = await manager.get_user_from_token(token)
        except Exception:  # invalid, expired or revoked token
            continue
        if manager.is_authorized_connection(method="PUT", user=user):
            return f"airflow:{user.get_name()}"
    return None


async def require_admin(request: Request) -> str:
    """FastAPI dependency: the actor name ("admin" or "airflow:<user>") or 401/503."""
    expected = admin_digest()
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    given = hashlib.sha256((bearer or "").encode()).digest()
    if expected is not None and bearer and hmac.compare_digest(given, expected):
        return "admin"
    airflow_user = await _airflow_user(request, bearer)
    if airflow_user:
        return airflow_user
    if expected is None and _airflow_auth_manager() is None:
        raise ApiError(
            503,
            f"admin API not configured: set {ADMIN_ENV} or the Airflow Connection "
            f"{ADMIN_CONN_ID!r} (password = admin token)",
        )
    raise ApiError(
        401,
        "admin token (or, inside Airflow, an Airflow login allowed to edit Connections) required: "
        "'Authorization: Bearer <admin token>'",
        {"Authorization": ["missing or wrong admin token"]},
        {"WWW-Authenticate": "Bearer"},
    )
