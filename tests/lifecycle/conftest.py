"""Fixtures: a migrated store, the offline Airflow adapter, the full app with an admin token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from include.admin.airflow_adapter import MemoryAirflowAdapter
from include.admin.lifecycle import Lifecycle
from include.airflow.plugin import build_app
from include.config import VARIABLE_NAME, ConnectionConfig, task_group_id
from include.store import Store

ADMIN = "admin-secret-for-tests"
HEADERS = {"Authorization": f"Bearer {ADMIN}"}
MAINTAINX_KEY = "s3cret-key"
_MAINTAINX: list[str] = []


def maintainx_url() -> str:
    """A MaintainX sandbox for this test process (started once, a daemon thread): create and
    reconnect test the source before they save anything, so the credentials must work."""
    if not _MAINTAINX:
        from connectors.maintainx.sandbox import start_sandbox

        url, _handle = start_sandbox(size=20, api_key=MAINTAINX_KEY)
        _MAINTAINX.append(url)
    return _MAINTAINX[0]


def _store(url: str) -> Iterator[Store]:
    store = Store(url)
    store.migrate()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        yield from _store(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        yield from _store(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    yield from _store(f"sqlite:///{tmp_path / 'store.db'}")


@pytest.fixture
def airflow() -> MemoryAirflowAdapter:
    return MemoryAirflowAdapter()


@pytest.fixture
def client(
    store: Store, airflow: MemoryAirflowAdapter, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    monkeypatch.setenv("MILLWRIGHT_ADMIN_TOKEN", ADMIN)
    app = build_app(store, airflow, config_provider=lambda cid: None)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def lifecycle(client: TestClient) -> Lifecycle:
    return client.app.state.lifecycle


def parse(airflow: MemoryAirflowAdapter) -> None:
    """What Airflow's dag-processor does: a DAG per Variable entry (paused at creation), with a
    task group per entity; DAGs no longer generated turn stale."""
    entries = json.loads(airflow.get_variable(VARIABLE_NAME) or "[]")
    ids = set()
    for e in entries:
        dag_id = f"sync__{e['id']}"
        try:
            cfg = ConnectionConfig.model_validate(e)
            tasks = [f"{task_group_id(x)}.sync" for x in cfg.selected_entities()]
        except ValueError:  # an invalid entry: a placeholder DAG with one failing task
            tasks = ["config_error"]
        airflow.register_dag(dag_id, tasks=tasks)
        ids.add(dag_id)
    for dag_id in set(airflow.state["dags"]) - ids:
        airflow.state["dags"][dag_id]["is_stale"] = True


def variable(airflow: MemoryAirflowAdapter) -> list[dict[str, Any]]:
    return json.loads(airflow.get_variable(VARIABLE_NAME) or "[]")


def snapshot(store: Store, airflow: MemoryAirflowAdapter) -> Any:
    """Everything stored that an operation may change."""
    tables = ["connection_registry", "credit_pools", "audit_log", "tokens", "records"]
    with store.engine.connect() as conn:
        rows = {t: conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in tables}
    return rows, json.dumps(airflow.state, sort_keys=True)


def new_body(**over: Any) -> dict[str, Any]:
    body = {
        "customer": "acme",
        "system": "maintainx",
        "name": "Acme MaintainX",
        "email": "ops@acme.example",
        "credentials": {"host": maintainx_url(), "password": MAINTAINX_KEY},
        "config": {"schedule": "*/30 * * * *"},
    }
    return {**body, **over}
