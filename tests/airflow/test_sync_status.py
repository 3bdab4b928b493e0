"""Sync status through the real DAG task code (`dag.test()`, the real Maximo sandbox in a thread)
and through the API: a source 401 is Makini's ``fail`` with the reason, a source that does not
answer is ``error``, a missing Airflow Connection is ``fail`` (never ``inprogress``), and a later
successful run returns it to ``fulldone``. Both DAG shapes (``streaming``, ``staged``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.airflow.conftest import ROOT

pytestmark = pytest.mark.airflow

CID = "st-mx"
KEY = "k-right"
CONN_ENV = "AIRFLOW_CONN_MW_ST"


@pytest.fixture
def maximo() -> Iterator[tuple[str, object]]:
    from connectors.maximo.sandbox import start_sandbox

    url, handle = start_sandbox(0, seed=5, size=40, apikey=KEY)
    try:
        yield url, handle
    finally:
        handle.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def env(
    airflow_home: Path, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> pytest.MonkeyPatch:
    monkeypatch.setenv("MILLWRIGHT_HOME", str(tmp_path / "mw"))
    monkeypatch.setenv("MILLWRIGHT_STORE_URL", store_url)
    monkeypatch.delenv(CONN_ENV, raising=False)
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", raising=False)
    # no back-off between the HTTP client's retries (seconds per attempt against a stopped
    # source; dag.test() runs the tasks in this process); the retries still happen
    monkeypatch.setattr("connectors.http.HttpClient._delay", lambda self, attempt, response: 0.0)
    return monkeypatch


def set_source(env: pytest.MonkeyPatch, url: str, key: str) -> None:
    env.setenv(CONN_ENV, json.dumps({"conn_type": "http", "host": url, "password": key}))


def build_dag(env: pytest.MonkeyPatch, pipeline: str = "streaming", retries: int = 0):
    """The DAG as Airflow's DagBag builds it; ``retries`` with no delay (dag.test() waits)."""
    from airflow.dag_processing.dagbag import DagBag

    env.setenv("AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS", json.dumps([
        {"id": CID, "customer": "acme", "system": "maximo", "airflow_conn_id": "mw_st",
         "entities": ["work-orders"], "page_size": 20, "pipeline": pipeline}
    ]))  # fmt: skip
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags[f"sync__{CID}"]
    for t in dag.tasks:
        t.retries, t.retry_delay, t.retry_exponential_backoff = retries, timedelta(0), 0
    return dag


def current(store_url: str) -> dict:
    """``GET /api/integrations/current`` with the connection's own token."""
    from fastapi.testclient import TestClient

    from include.api import create_app, issue_token
    from include.store import Store

    store = Store(store_url)
    try:
        token = issue_token(store.engine, CID)
        client = TestClient(create_app(store, config_provider=lambda cid: None))
        r = client.get("/api/integrations/current", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        return r.json()["data"]
    finally:
        store.close()


def entity(data: dict, name: str) -> dict:
    return next(e for e in data["entities"] if e["entity"] == name)


@pytest.mark.parametrize("pipeline", ["streaming", "staged"])
def test_rotated_key_is_fail_with_the_reason_then_a_good_run_is_fulldone(
    env: pytest.MonkeyPatch, maximo: tuple[str, object], store_url: str, pipeline: str
) -> None:
    url, _ = maximo
    set_source(env, url, "k-rotated-away")
    dag = build_dag(env, pipeline, retries=2)
    run = dag.test()
    assert run.state == "failed"
    data = current(store_url)
    assert data["sync_status"] == "fail"
    wo = entity(data, "work-orders")
    assert wo["status"] == "failed" and wo["failure"] == "auth"
    assert "status 401" in wo["error"] and "BMXAA7901E" in wo["error"]  # Maximo's own message
    assert "k-rotated-away" not in json.dumps(data)
    assert data["sync_error"].startswith("work-orders: maximo: GET /maximo/api/os/")
    from include.store import Store

    store = Store(store_url)
    try:  # an authentication failure is not retried (a wrong key repeated locks accounts)
        [row] = [r for r in store.last_runs(CID) if r["entity"] == "work-orders"]
        assert row["attempt"] == 1 and row["task"] == (
            "sync" if pipeline == "streaming" else "extract"
        )
    finally:
        store.close()

    set_source(env, url, KEY)  # the operator fixes the Airflow Connection
    assert dag.test().state == "success"
    data = current(store_url)
    assert data["sync_status"] == "fulldone" and data["sync_error"] is None
    assert {e["status"] for e in data["entities"]} == {"success"}
    assert entity(data, "work-orders")["error"] is None


def test_stopped_source_is_error_with_the_reason_and_retries_show_it(
    env: pytest.MonkeyPatch, maximo: tuple[str, object], store_url: str
) -> None:
    from include.store import Store

    url, handle = maximo
    set_source(env, url, KEY)
    dag = build_dag(env, retries=1)
    assert dag.test().state == "success"
    assert current(store_url)["sync_status"] == "fulldone"

    handle.stop()  # the source stops answering
    assert dag.test().state == "failed"
    data = current(store_url)
    assert data["sync_status"] == "error"
    wo = entity(data, "work-orders")
    assert wo["failure"] == "error" and wo["status"] == "failed"
    assert "ConnectionError" in wo["error"] and "gave up after 5 retries" in wo["error"]
    assert wo["last_success_at"] is not None  # the earlier success is still known
    store = Store(store_url)
    try:  # the task was retried once: the row records the second attempt
        [row] = [r for r in store.last_runs(CID) if r["entity"] == "work-orders"]
        assert row["attempt"] == 2
    finally:
        store.close()

    _, handle2 = maximo_again(url)
    try:
        assert dag.test().state == "success"
        assert current(store_url)["sync_status"] in ("done", "fulldone")
    finally:
        handle2.stop()


def maximo_again(url: str):
    """A sandbox on the same port again (the source is back)."""
    from connectors.maximo.sandbox import start_sandbox

    port = int(url.rsplit(":", 1)[1])
    return start_sandbox(port, seed=5, size=40, apikey=KEY)


def test_missing_airflow_connection_from_the_start_is_fail(
    env: pytest.MonkeyPatch, store_url: str
) -> None:
    dag = build_dag(env, retries=2)  # no AIRFLOW_CONN_MW_ST: the Connection does not exist
    assert dag.test().state == "failed"
    data = current(store_url)
    assert data["sync_status"] == "fail"
    wo = entity(data, "work-orders")
    assert wo["failure"] == "auth" and "Airflow Connection 'mw_st' not found" in wo["error"]
    assert entity(data, "statuses")["failure"] == "auth"  # the statuses task's own row


def test_a_killed_task_is_closed_by_the_next_start(
    env: pytest.MonkeyPatch, maximo: tuple[str, object], store_url: str
) -> None:
    """A task that died without a Python exception leaves ``running``; the entity's next start
    closes that row as failed (``error``), so the status never stays ``inprogress`` for it."""
    from include.store import Store

    url, _ = maximo
    set_source(env, url, KEY)
    store = Store(store_url)
    store.migrate()
    try:
        store.run_started(CID, "work-orders", "manual__dead", task="sync", attempt=1)
        assert current(store_url)["sync_status"] == "inprogress"
        assert build_dag(env).test().state == "success"
        runs = store.last_runs(CID, per_entity=2)
        dead = next(r for r in runs if r["run_id"] == "manual__dead")
        assert dead["status"] == "failed" and dead["failure"] == "error"
        assert "without reporting a result" in dead["error"]
        assert current(store_url)["sync_status"] == "fulldone"  # the newer run succeeded
    finally:
        store.close()


def test_failure_callback_without_an_exception_records_a_killed_task(
    env: pytest.MonkeyPatch, store_url: str
) -> None:
    """What Airflow runs for a task that died without a Python exception (its
    ``on_failure_callback``, no ``exception`` in the context): failed, ``error``, the reason."""
    from types import SimpleNamespace

    from include.airflow.dag_factory import record_failure
    from include.config import ConnectionConfig
    from include.store import Store

    cfg = ConnectionConfig(id=CID, customer="acme", system="maximo", airflow_conn_id="mw_st")
    store = Store(store_url)
    store.migrate()
    try:
        store.run_started(CID, "work-orders", "r1", task="sync", attempt=1)
        ti = SimpleNamespace(task_id="work-orders.sync", run_id="r1", try_number=1)
        record_failure(cfg, "work-orders", False, {"ti": ti, "run_id": "r1"})
        [row] = store.last_runs(CID)
        assert (row["status"], row["failure"]) == ("failed", "error")
        assert row["error"].startswith("the task ended without reporting a result")
        assert current(store_url)["sync_status"] == "error"
    finally:
        store.close()
