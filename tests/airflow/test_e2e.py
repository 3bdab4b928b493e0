"""End to end through Airflow (`dag.test()`): the real Maximo sandbox in a thread, the generated
DAG, the pipeline, and the store on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.airflow.conftest import ROOT

pytestmark = pytest.mark.airflow

CID = "e2e-mx"
WO = "MXAPIWODETAIL"


@pytest.fixture
def maximo() -> Iterator[tuple[str, object]]:
    from connectors.maximo.sandbox import start_sandbox

    url, handle = start_sandbox(0, seed=3, size=150, apikey="k-e2e")
    try:
        yield url, handle
    finally:
        handle.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


def test_full_then_incremental_sync(
    airflow_home: Path,
    maximo: tuple[str, object],
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from include.store import Store

    url, handle = maximo
    mw_home = tmp_path / "mw"
    monkeypatch.setenv("MILLWRIGHT_HOME", str(mw_home))
    monkeypatch.setenv("MILLWRIGHT_STORE_URL", store_url)
    monkeypatch.setenv("AIRFLOW_CONN_MW_E2E", json.dumps(
        {"conn_type": "http", "host": url, "password": "k-e2e"}
    ))  # fmt: skip
    monkeypatch.setenv("AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS", json.dumps([
        {"id": CID, "customer": "acme", "system": "maximo", "airflow_conn_id": "mw_e2e",
         "entities": ["work-orders", "assets"], "page_size": 40}
    ]))  # fmt: skip
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags[f"sync__{CID}"]
    table = handle.sandbox.table(WO)
    store = Store(store_url)
    try:
        # 1. first run: a full read of everything
        run = dag.test()
        assert run.state == "success"
        assert store.count(CID, "work-orders") == table.base_count == 150
        assert store.count(CID, "assets") == handle.sandbox.table("MXAPIASSET").base_count
        cursor = store.get_cursor(CID, "work-orders")
        newest = max(table.base(i)["changedate"] for i in range(table.base_count))
        assert cursor is not None and cursor.startswith(_iso(newest))
        assert not [p for p in (mw_home / "staging").rglob("*") if p.is_file()]  # cleaned

        # 2. the source changes five work orders; the next run picks up exactly those
        keys = [table.key(table.base(i)) for i in (3, 50, 77, 120, 149)]
        for key in keys:
            handle.mutate(WO, key, description=f"changed {key[1]}")
        run = dag.test()
        assert run.state == "success"
        [last] = [r for r in store.last_runs(CID) if r["entity"] == "work-orders"]
        assert (last["inserted"], last["updated"]) == (0, 5)
        assert last["read"] < 150  # a window, not a full read
        for key in keys:
            rec = store.get_record(CID, "work-orders", f"{key[0]}:{key[1]}")
            assert rec is not None and rec["data"]["title"] == f"changed {key[1]}"
        assert store.get_cursor(CID, "work-orders") > cursor
        assert store.count(CID, "work-orders") == 150
    finally:
        store.close()


def _iso(epoch: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")
