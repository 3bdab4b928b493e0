"""Schemathesis over our OpenAPI document, in process (ASGI), with a valid token: whatever the
generated parameters, no response is a 5xx. Bounded: a few examples per operation."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from include.api import create_app, issue_token
from include.store import Store
from tests.api.conftest import load

# Collection needs the schema, so the app is built at import; the store is only touched (migrated,
# seeded) by the module fixture below, and its temporary directory is removed afterwards.
_DIR = Path(tempfile.mkdtemp(prefix="mw-fuzz-"))
STORE = Store(f"sqlite:///{_DIR / 'store.db'}")
TOKEN: dict[str, str] = {}
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(STORE, config_provider=lambda cid: None, migrate=False)
)


@pytest.fixture(scope="module", autouse=True)
def seeded():
    STORE.migrate()
    for entity in ("work-orders", "sites", "stocks", "products"):
        rows = [
            {"key": f"k{i}", "updatedAt": f"2024-01-0{i}T00:00:00Z", "customFields": {"x": i}}
            for i in range(1, 4)
        ]
        load(STORE, "fz", entity, rows)
    STORE.upsert_statuses("fz", "work-orders", [{"key": "OPEN", "name": "Open"}])
    TOKEN["fz"] = issue_token(STORE.engine, "fz")
    yield
    STORE.close()
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case):
    response = case.call(headers={"Authorization": f"Bearer {TOKEN['fz']}"})
    assert response.status_code < 500, (case.path, case.query, response.text[:500])
    content_type = response.headers.get("content-type") or response.headers.get("Content-Type")
    assert str(content_type).find("application/json") >= 0, content_type
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"message", "errors"} and body["message"]
