"""Fixtures for the API tests: a migrated store (SQLite, and PostgreSQL where marked), seeded
through the store's real load path, and a TestClient with a token per connection."""

from __future__ import annotations

import copy
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.pool import NullPool

from include.api import create_app, issue_token
from include.model import ENTITIES, record_defaults
from include.store import LoadRow, Store
from tests.conftest import DEFAULT_PG_URL, PG_URL_ENV

SYNCED = "2024-06-01T00:00:00Z"


def _store(url: str) -> Iterator[Store]:
    store = Store(url)
    store.migrate()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    yield from _store(f"sqlite:///{tmp_path / 'store.db'}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The store on each backend (PostgreSQL skips when it does not answer, fails with CI=true)."""
    if request.param == "sqlite":
        yield from _store(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        yield from _store(request.getfixturevalue("pg_url"))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def module_store(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Store]:
    """One store per test module and backend, for tests that share seeded data."""
    if request.param == "sqlite":
        yield from _store(f"sqlite:///{tmp_path_factory.mktemp('api') / 'store.db'}")
        return
    with pg_schema_url() as url:
        yield from _store(url)


@contextmanager
def pg_schema_url() -> Iterator[str]:
    """Like tests/conftest.py's ``pg_url`` (a fresh schema; skip, or fail with CI=true), usable
    at any fixture scope."""
    url = sa.make_url(os.environ.get(PG_URL_ENV, DEFAULT_PG_URL))
    schema = f"t_api_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        msg = (
            f"PostgreSQL at {url.render_as_string(hide_password=True)} does not answer: {exc.orig}"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


def load(store: Store, connection_id: str, entity: str, records: list[dict], raw=None) -> None:
    """Load unified records (dicts with at least ``key``) the way the pipeline does: every field
    of the entity's model present (`record_defaults`), the given values over them."""
    rows = []
    empty = record_defaults(entity) if entity in ENTITIES else {"customFields": {}}
    for i, r in enumerate(records):
        r = {**copy.deepcopy(empty), **r}
        source = raw[i] if raw else {"id": r["key"], "source": True}
        rows.append(
            LoadRow(
                key=r["key"],
                remote_id=r["key"],
                version=r.get("updatedAt"),
                data=orjson.dumps(r),
                raw=orjson.dumps(source),
                updated_at=r.get("updatedAt"),
                created_at=r.get("createdAt"),
                deleted_at=r.get("deletedAt"),
            )
        )
    store.load_batch(connection_id, entity, rows, synced_at=SYNCED)


class Api:
    """A TestClient bound to one connection's token."""

    def __init__(self, client: TestClient, token: str):
        self.client, self.token = client, token

    def get(self, url: str, **params):
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.client.get(url, params=params or None, headers=headers)


def make_client(store: Store, config_provider=None) -> TestClient:
    app = create_app(store, config_provider=config_provider or (lambda cid: None))
    return TestClient(app, raise_server_exceptions=False)


def api_for(client: TestClient, store: Store, connection_id: str) -> Api:
    return Api(client, issue_token(store.engine, connection_id))
