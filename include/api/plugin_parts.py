"""Pieces for plugins/millwright_plugin.py and the standalone server: the full app (read API +
admin API + dashboard) and the plugin's ``fastapi_apps`` / ``external_views`` entries."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from include.admin.airflow_adapter import AirflowAdapter, RestAirflowAdapter
from include.admin.lifecycle import Lifecycle
from include.api.app import create_app
from include.api.dashboard import dashboard_router
from include.api.system import system_router
from include.store import Store

URL_PREFIX = "/millwright"


def build_app(
    store: Store | None = None, airflow: AirflowAdapter | None = None, **kw: Any
) -> FastAPI:
    """`create_app` plus the admin routers, with a `Lifecycle` on ``app.state.lifecycle``."""
    store = store or Store.from_env()
    app = create_app(store, routers=[system_router(), dashboard_router()], **kw)
    app.state.lifecycle = Lifecycle(store, airflow or RestAirflowAdapter.from_env())
    return app


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
