"""The admin dashboard: one static page (``/api/system/dashboard``) whose script calls the admin API.
Inside Airflow's UI the browser's Airflow login is the credential (its ``_token`` cookie); outside,
the user types the admin token (kept in sessionStorage only). Listed in Airflow's UI via an
``external_views`` entry (include/airflow/plugin.py). A red banner lists the Variable's
configuration errors; a connection registered from a hand-added entry has a "Show token" button
(its first token, shown once)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).parent / "static"


def dashboard_router() -> APIRouter:
    r = APIRouter(prefix="/api/system", tags=["Dashboard"])

    @r.get("/dashboard", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "dashboard.html", media_type="text/html")

    @r.get("/dashboard/dashboard.js", include_in_schema=False)
    def script() -> FileResponse:
        return FileResponse(STATIC / "dashboard.js", media_type="text/javascript")

    @r.get("/dashboard/fields", include_in_schema=False)
    def fields_page() -> FileResponse:
        """Custom fields of one connection (``?connection=ID``): discover, preview, save."""
        return FileResponse(STATIC / "fields.html", media_type="text/html")

    @r.get("/dashboard/fields.js", include_in_schema=False)
    def fields_script() -> FileResponse:
        return FileResponse(STATIC / "fields.js", media_type="text/javascript")

    return r
