"""`create_app`: the FastAPI application (read API; the admin side adds its routers to it).

Standalone: ``python -m include.api``; inside Airflow: mounted by plugins/ (``fastapi_apps``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI

from include.api import errors
from include.api.read import read_routers
from include.store import Store

if TYPE_CHECKING:
    from include.config import ConnectionConfig

log = logging.getLogger(__name__)
ConfigProvider = Callable[[str], "ConnectionConfig | None"]


def airflow_config_provider(ttl: float = 60.0) -> ConfigProvider:
    """Connection configs from the Airflow Variable (via include.airflow_glue), cached ``ttl``
    seconds. Returns None for every id when Airflow or the Variable is unavailable, so callers
    fall back to what the store holds."""
    lock = threading.Lock()
    cache: dict[str, object] = {"at": -ttl, "by_id": {}}

    def provide(connection_id: str) -> ConnectionConfig | None:
        with lock:
            if time.monotonic() - float(cache["at"]) >= ttl:  # type: ignore[arg-type]
                cache["by_id"], cache["at"] = _read_configs(), time.monotonic()
            return cache["by_id"].get(connection_id)  # type: ignore[union-attr]

    return provide


def _read_configs() -> dict[str, ConnectionConfig]:
    try:
        from include import airflow_glue
        from include.config import ConnectionConfig

        entries = airflow_glue.read_connections()
    except Exception as exc:  # no Airflow here, Variable missing or unreadable
        log.info("connection configs unavailable (%s); using stored records", type(exc).__name__)
        return {}
    return {c.id: c for c in entries if isinstance(c, ConnectionConfig)}


def create_app(
    store: Store | None = None,
    *,
    config_provider: ConfigProvider | None = None,
    routers: Sequence[APIRouter] = (),
    migrate: bool = True,
) -> FastAPI:
    """The API over ``store`` (default: `Store.from_env()`), migrated to head unless told not to.

    ``config_provider(connection_id)`` returns the connection's ConnectionConfig or None
    (default: the Airflow Variable); ``routers`` are mounted after the read routers."""
    store = store or Store.from_env()
    if migrate:
        store.migrate()
    app = FastAPI(
        title="Millwright API",
        version="0.1.0",
        description="Makini-compatible unified API for industrial systems (self-hosted).",
    )
    app.state.store = store
    app.state.config_provider = config_provider or airflow_config_provider()
    errors.install(app)
    for router in read_routers():
        app.router.routes.extend(router.routes)  # prefixed already; shared, built once
    for router in routers:
        app.include_router(router)
    return app
