"""Millwright's Airflow plugin: the unified API (read API, admin API and dashboard) mounted in
Airflow's api-server under ``/millwright``, and the connections dashboard in the UI's navigation.

Every Airflow process imports plugins, but only the api-server serves them: the app is built on its
first request (`LazyApp`), so importing this module costs nothing and touches no database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/millwright"


class LazyApp:
    """An ASGI app that builds Millwright's FastAPI app on first use."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    def app(self) -> Any:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from include.airflow.plugin import build_app
                    from include.api.server import settle_heap

                    self._app = build_app()
                    settle_heap()  # the api-server's heap, once: see its docstring
        return self._app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        await self.app()(scope, receive, send)


class MillwrightPlugin(AirflowPlugin):
    name = "millwright"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "Millwright API"}]
    external_views = [
        {
            "name": "Millwright connections",
            "href": f"{URL_PREFIX}/api/system/dashboard",
            "destination": "nav",
            "category": "admin",
            "url_route": "millwright-connections",
        }
    ]
