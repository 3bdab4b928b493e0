"""`create_app`: the FastAPI application (read API; the admin side adds its routers to it).

Standalone: ``python -m include.cli.serve``; inside Airflow: mounted by plugins/ (``fastapi_apps``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from include.api import errors
from include.api.guard import InputGuard
from include.api.read import read_routers
from include.api.settings import ApiSettings
from include.api.webhooks import SourceProvider, max_body_bytes, webhooks_router
from include.store import Store

if TYPE_CHECKING:
    from include.config import ConnectionConfig

log = logging.getLogger(__name__)
ConfigProvider = Callable[[str], "ConnectionConfig | None"]


def cached_config_provider(read: Callable[[], list[Any]], ttl: float = 60.0) -> ConfigProvider:
    """Connection configs from ``read()`` (the Airflow layer passes its Variable reader), cached
    ``ttl`` seconds. Returns None for every id while ``read`` fails, so callers fall back to what
    the store holds."""
    from include.config import ConnectionConfig

    lock = threading.Lock()
    cache: dict[str, object] = {"at": -ttl, "by_id": {}}

    def load() -> dict[str, ConnectionConfig]:
        try:
            entries = read()
        except Exception as exc:  # no Airflow here, Variable missing or unreadable
            log.info(
                "connection configs unavailable (%s); using stored records", type(exc).__name__
            )
            return {}
        return {c.id: c for c in entries if isinstance(c, ConnectionConfig)}

    def provide(connection_id: str) -> ConnectionConfig | None:
        with lock:
            if time.monotonic() - float(cache["at"]) >= ttl:  # type: ignore[arg-type]
                cache["by_id"], cache["at"] = load(), time.monotonic()
            return cache["by_id"].get(connection_id)  # type: ignore[union-attr]

    def refresh(min_age: float) -> None:
        """Re-read now when the cache is at least ``min_age`` seconds old (a connection created
        or reconnected within the ``ttl``: the webhook receiver's miss; at most one read per
        ``min_age``, whatever ids are asked)."""
        with lock:
            if time.monotonic() - float(cache["at"]) >= min_age:  # type: ignore[arg-type]
                cache["by_id"], cache["at"] = load(), time.monotonic()

    provide.refresh = refresh  # type: ignore[attr-defined]
    return provide


def _no_configs(connection_id: str) -> None:
    """Without a config source the API serves what the store holds."""
    return None


def _no_source(cfg: ConnectionConfig) -> Any:
    raise RuntimeError("this server has no access to the connections' sources")


def create_app(
    store: Store | None = None,
    *,
    config_provider: ConfigProvider | None = None,
    routers: Sequence[APIRouter] = (),
    migrate: bool = True,
    settings: ApiSettings | None = None,
    source: Callable[[ConnectionConfig], Any] | None = None,
    webhook_sources: SourceProvider | None = None,
) -> FastAPI:
    """The API over ``store`` (default: `Store.from_env()`), migrated to head unless told not to.

    ``config_provider(connection_id)`` returns the connection's ConnectionConfig or None
    (default: the Airflow Variable); ``routers`` are mounted after the read routers;
    ``settings`` (default: `ApiSettings.from_env()`) hold the caps, timeout and link base;
    ``source(config)`` opens a connection's source (a connector) for the admin API's custom-field
    routes (default: none, they answer 409).
    ``webhook_sources(connection_id)`` gives the webhook receiver a connection's scheme and
    secrets (without it, ``POST /webhooks/{id}`` answers 404)."""
    settings = settings or ApiSettings.from_env()
    store = store or Store.from_env()
    if migrate:
        store.migrate()
    app = FastAPI(
        title="Millwright API",
        version="0.1.0",
        description="Makini-compatible unified API for industrial systems (self-hosted).",
    )
    app.state.store = store
    app.state.settings = settings
    app.state.config_provider = config_provider or _no_configs
    app.state.source = source or _no_source
    app.state.webhook_sources = webhook_sources
    app.state.webhook_max_bytes = max_body_bytes()
    errors.install(app)
    app.add_middleware(InputGuard, settings=settings)
    for router in read_routers():
        app.router.routes.extend(router.routes)  # prefixed already; shared, built once
    app.include_router(webhooks_router())
    for router in routers:
        app.include_router(router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_DB_PREFIXES = ("/api/eam/", "/api/erp/", "/api/integrations/")
_ERRORS = {
    "400": "a parameter is malformed, unknown, or over a limit (the message names it)",
    "401": "missing, malformed, unknown or revoked bearer token",
    "503": "the request needed more database time than MILLWRIGHT_API_STATEMENT_TIMEOUT",
}


def _openapi(app: FastAPI) -> dict:
    """FastAPI's document, corrected to what the API answers: 400 (not 422) with the error
    body, 401 where a token is required, 503 where the database is read, and every error
    response described by the ``Error`` schema."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = errors.ErrorBody.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, ops in doc.get("paths", {}).items():
        for op in ops.values():
            _fix_responses(path, op)
    app.openapi_schema = doc
    return doc


def _fix_responses(path: str, op: dict) -> None:
    responses = op.setdefault("responses", {})
    had_422 = responses.pop("422", None) is not None
    wanted = {"400"} if had_422 or op.get("parameters") or op.get("requestBody") else set()
    if op.get("security"):
        wanted.add("401")
    if path.startswith(_DB_PREFIXES):
        wanted.add("503")
    for code in wanted:
        responses.setdefault(code, {"description": _ERRORS[code]})
    if "401" in responses:
        responses["401"].setdefault("headers", {})["WWW-Authenticate"] = {
            "schema": {"type": "string"},
            "description": "Bearer",
        }
    for code, response in responses.items():
        if code[0] in "45":
            response["content"] = {"application/json": {"schema": _ERROR_REF}}
