"""Custom fields through Airflow (`dag.test()`, the generated DAG, the real Maximo sandbox): a
misspelt path fails the first task before any data is read; after a change of the Variable's
custom fields, the next run re-reads the entity in full and every stored record carries them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.airflow.conftest import ROOT

pytestmark = pytest.mark.airflow

CID = "cf-mx"


@pytest.fixture
def maximo() -> Iterator[tuple[str, object]]:
    from connectors.maximo.sandbox import start_sandbox

    url, handle = start_sandbox(0, seed=8, size=90, apikey="k-cf")
    try:
        yield url, handle
    finally:
        handle.stop()


def _dag(monkeypatch: pytest.MonkeyPatch, custom: dict):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS", json.dumps([
        {"id": CID, "customer": "acme", "system": "maximo", "airflow_conn_id": "mw_cf",
         "entities": ["work-orders"], "page_size": 40, "custom_fields": custom}
    ]))  # fmt: skip
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags[f"sync__{CID}"]


def test_a_variable_change_re_reads_and_every_record_gets_the_field(
    airflow_home: Path, maximo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    from include.store import Store

    url, _ = maximo
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("MILLWRIGHT_HOME", str(tmp_path / "mw"))
    monkeypatch.setenv("MILLWRIGHT_STORE_URL", store_url)
    monkeypatch.setenv("AIRFLOW_CONN_MW_CF", json.dumps(
        {"conn_type": "http", "host": url, "password": "k-cf"}))  # fmt: skip
    store = Store(store_url)
    try:
        # a misspelt path: the first task fails before reading anything
        run = _dag(monkeypatch, {"work-orders": {"crew": "crewidd"}}).test()
        assert run.state == "failed"
        assert store.count(CID, "work-orders") == 0
        [row] = [r for r in store.last_runs(CID) if r["entity"] == "work-orders"]
        assert "'crewidd' is not a field of maximo work-orders; closest: crewid" in row["error"]

        # no custom fields: a full read, then an incremental one
        dag = _dag(monkeypatch, {})
        assert dag.test().state == "success"
        assert dag.test().state == "success"
        assert store.count(CID, "work-orders") == 90
        assert all(r["data"]["customFields"] == {} for r in _records(store))

        # the Variable gains a custom field: the next run re-reads in full
        dag = _dag(monkeypatch, {"work-orders": {"crew": "crewid"}})
        with caplog.at_level(logging.INFO):
            assert dag.test().state == "success"
        assert "custom fields changed: full re-read" in caplog.text
        [last] = [r for r in store.last_runs(CID) if r["entity"] == "work-orders"]
        assert last["window_start"] is None and last["read"] == 90
        records = _records(store)
        assert len(records) == 90 and all("crew" in r["data"]["customFields"] for r in records)
        assert {r["data"]["customFields"]["crew"] for r in records} >= {"CREW-A", "CREW-B"}
    finally:
        store.close()


def _records(store) -> list[dict]:
    import sqlalchemy as sa

    from include.store import schema

    with store.engine.connect() as conn:
        keys = conn.execute(sa.select(schema.records.c.key).where(
            schema.records.c.connection_id == CID, schema.records.c.entity == "work-orders"
        )).scalars().all()  # fmt: skip
    return [store.get_record(CID, "work-orders", k) for k in keys]


def test_the_staged_shape_checks_in_its_extract_task(
    airflow_home: Path, maximo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from include.store import Store

    url, _ = maximo
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("MILLWRIGHT_HOME", str(tmp_path / "mw"))
    monkeypatch.setenv("MILLWRIGHT_STORE_URL", store_url)
    monkeypatch.setenv("AIRFLOW_CONN_MW_CF", json.dumps(
        {"conn_type": "http", "host": url, "password": "k-cf"}))  # fmt: skip
    monkeypatch.setenv("AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS", json.dumps([
        {"id": CID, "customer": "acme", "system": "maximo", "airflow_conn_id": "mw_cf",
         "entities": ["work-orders"], "pipeline": "staged",
         "custom_fields": {"work-orders": {"labor": "assignment.labourcode"}}}
    ]))  # fmt: skip
    dag = DagBag(dag_folder=str(ROOT / "dags")).dags[f"sync__{CID}"]
    assert dag.test().state == "failed"
    store = Store(store_url)
    try:
        assert store.count(CID, "work-orders") == 0
        [row] = [r for r in store.last_runs(CID) if r["entity"] == "work-orders"]
        assert row["task"] == "extract" and "assignment.laborcode" in row["error"]
        assert not [p for p in (tmp_path / "mw").rglob("pages.jsonl")]  # nothing was read
    finally:
        store.close()
