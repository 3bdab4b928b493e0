"""Schemathesis over our OpenAPI document, in process (ASGI), with a valid token, on SQLite and
PostgreSQL: whatever the generated parameters, no response is a 5xx, every error is the JSON
error shape, and every response conforms to the document (status code declared, content type,
headers, body schema). Bounded: a few examples per operation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from include.api import create_app, issue_token
from include.api.settings import ApiSettings
from include.store import Store
from tests.api.conftest import load

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Collection needs the document, so an app is built at import over a store that is never
# opened (the document is the same whatever the store); the requests go to `fuzz_app`.
DOC_STORE = Store("sqlite:///:memory:")
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(DOC_STORE, config_provider=lambda cid: None, migrate=False)
)


def _seed(store: Store) -> str:
    for entity in ("work-orders", "sites", "stocks", "products"):
        rows = [
            {"key": f"k{i}", "updatedAt": f"2024-01-0{i}T00:00:00Z", "customFields": {"x": i}}
            for i in range(1, 4)
        ]
        load(store, "fz", entity, rows)
    store.upsert_statuses("fz", "work-orders", [{"key": "OPEN", "name": "Open"}])
    return issue_token(store.engine, "fz")


@pytest.fixture(scope="module")
def fuzz_app(module_store: Store) -> Iterator[tuple[object, str]]:
    """An app over each store (module_store: SQLite, then PostgreSQL) and a seeded token."""
    token = _seed(module_store)
    yield create_app(module_store, config_provider=lambda cid: None, settings=ApiSettings()), token


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_responses_conform(case, fuzz_app):
    app, token = fuzz_app
    response = case.call(app=app, headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=CHECKS)
    content_type = response.headers.get("content-type") or response.headers.get("Content-Type")
    assert "application/json" in str(content_type), content_type
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"message", "errors"} and body["message"]
