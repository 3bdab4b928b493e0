"""Pieces for plugins/millwright_plugin.py and the standalone server: the full app (read API +
admin API + dashboard) wired to Airflow (connection configs from the Variable, the lifecycle's
Airflow REST adapter) and the plugin's ``fastapi_apps`` / ``external_views`` entries."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from include.admin.airflow_adapter import AirflowAdapter, RestAirflowAdapter
from include.admin.lifecycle import Lifecycle
from include.airflow import glue
from include.api.app import cached_config_provider, create_app
from include.api.dashboard import dashboard_router
from include.api.system import system_router
from include.store import Store

URL_PREFIX = "/millwright"


def build_app(
    store: Store | None = None, airflow: AirflowAdapter | None = None, **kw: Any
) -> FastAPI:
    """`create_app` plus the admin routers, with a `Lifecycle` on ``app.state.lifecycle``."""
    store = store or Store.from_env()
    kw.setdefault("config_provider", variable_configs())
    kw.setdefault("source", glue.make_connector)  # the connection's Airflow Connection
    kw.setdefault("webhook_sources", glue.webhook_sources(kw["config_provider"]))
    app = create_app(store, routers=[system_router(), dashboard_router()], **kw)
    app.state.lifecycle = Lifecycle(store, airflow or RestAirflowAdapter.from_env())
    return app


def variable_configs():  # noqa: ANN201 - include.api.app.ConfigProvider
    """Connection configs from the Airflow Variable, cached a minute (None while unreadable)."""
    return cached_config_provider(glue.read_connections)


def fastapi_apps() -> list[dict[str, Any]]:
    return [{"app": build_app(), "url_prefix": URL_PREFIX, "name": "Millwright API"}]


def external_views() -> list[dict[str, Any]]:
    return [
        {
            "name": "Millwright connections",
            "href": f"{URL_PREFIX}/api/system/dashboard",
            "destination": "nav",
            "category": "admin",
            "url_route": "millwright-connections",
        }
    ]
