"""End to end through Airflow (`dag.test()`) for SAP S/4HANA, MaintainX and Tryton: each system's
sandbox (or the real Tryton server), one connection configured through the Variable and an Airflow
Connection, the generated DAG, the pipeline and a SQLite store. Sizes are small: CI runs these."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.airflow.conftest import ROOT

pytestmark = pytest.mark.airflow

SECRET = "e2e-secret"
TRYTON_PARTS = int(
    os.environ.get("MILLWRIGHT_TRYTON_TEST_PARTS", "1000")
)  # shares the tests' cache


def _configure(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    cid: str,
    system: str,
    conn: dict,
    entities: list[str],
    **extra: object,
) -> str:
    """Point Millwright at a SQLite store under tmp_path and define the connection; the store URL."""
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    conn_id = "mw_" + cid.replace("-", "_")
    monkeypatch.setenv("MILLWRIGHT_HOME", str(tmp_path / "mw"))
    monkeypatch.setenv("MILLWRIGHT_STORE_URL", store_url)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "http", **conn}))
    monkeypatch.setenv("AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS", json.dumps([
        {"id": cid, "customer": "acme", "system": system, "airflow_conn_id": conn_id,
         "entities": entities, "page_size": 100, **extra}
    ]))  # fmt: skip
    return store_url


def _dag(cid: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags[f"sync__{cid}"]


def _run(dag, entities: list[str]):
    """One `dag.test()`; every entity's sync succeeded (and the statuses task)."""
    run = dag.test()
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    for entity in entities:
        assert states[f"{entity}.sync"] == "success", states
    assert states["statuses"] == "success", states
    assert run.state == "success", states
    return run


def _same(data: dict, expected: dict) -> None:
    """Field by field: every expected field equals the stored unified record's."""
    diff = {k: (data.get(k), v) for k, v in expected.items() if data.get(k) != v}
    assert not diff, diff


# ---------------------------------------------------------------- SAP S/4HANA


@pytest.fixture
def sap() -> Iterator[tuple[str, object]]:
    from connectors.sap_s4hana.sandbox import start

    url, handle = start(seed=4, size=300, user="e2e", password=SECRET, server_page_size=100)
    try:
        yield url, handle
    finally:
        handle.stop()


def test_sap_s4hana(
    airflow_home: Path, sap: tuple[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from include.store import Store

    url, handle = sap
    cid, entities = "e2e-sap", ["work-orders", "purchase-orders", "products"]
    store_url = _configure(
        monkeypatch, tmp_path, cid, "sap_s4hana", {"host": url, "login": "e2e", "password": SECRET},
        entities, overlap="1m",  # the sandbox's orders change within 5 minutes: 10m reads them all
    )  # fmt: skip
    dag = _dag(cid)
    store = Store(store_url)
    try:
        # 1. a full read of everything
        _run(dag, entities)
        orders = handle.records("MaintenanceOrder")
        assert store.count(cid, "work-orders") == len(orders) == 300
        assert store.count(cid, "purchase-orders") == len(handle.records("A_PurchaseOrder"))
        assert store.count(cid, "products") == len(handle.records("A_Product"))
        src = orders[17]
        rec = store.get_record(cid, "work-orders", src["MaintenanceOrder"])
        assert rec is not None
        _same(rec["data"], {
            "code": src["MaintenanceOrder"],
            "title": src["MaintenanceOrderDesc"],
            "status": (src["SystemStatusText"] or "").split()[0] or None,
            "severity": src["MaintPriority"] or None,
            "categoryName": src["MaintenanceOrderType"] or None,
            "assetKey": src["Equipment"] or None,
            "siteKey": src["MaintenancePlant"] or None,
        })  # fmt: skip

        # 2. three work orders change at the source: the next run updates exactly those
        changed = [orders[i]["MaintenanceOrder"] for i in (3, 150, 299)]
        for key in changed:
            handle.update("MaintenanceOrder", (key,), {"MaintenanceOrderDesc": f"changed {key}"})
        _run(dag, entities)
        [last] = [r for r in store.last_runs(cid) if r["entity"] == "work-orders"]
        assert (last["inserted"], last["updated"]) == (0, 3)
        assert last["read"] < 300  # a window, not a full read
        for key in changed:
            rec = store.get_record(cid, "work-orders", key)
            assert rec is not None and rec["data"]["title"] == f"changed {key}"
        assert store.count(cid, "work-orders") == 300
    finally:
        store.close()


# ---------------------------------------------------------------- MaintainX


@pytest.fixture
def maintainx() -> Iterator[tuple[str, object]]:
    from connectors.maintainx.sandbox import start_sandbox

    url, handle = start_sandbox(seed=5, size=400, api_key=SECRET)
    try:
        yield url, handle
    finally:
        handle.stop()


def test_maintainx(
    airflow_home: Path,
    maintainx: tuple[str, object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from include.store import Store

    url, handle = maintainx
    cid, entities = "e2e-mxx", ["work-orders", "purchase-orders", "materials"]
    store_url = _configure(
        monkeypatch, tmp_path, cid, "maintainx", {"host": url, "password": SECRET}, entities
    )
    dag = _dag(cid)
    store = Store(store_url)
    world = handle.world.collections
    try:
        _run(dag, entities)
        assert store.count(cid, "work-orders") == world["/workorders"].count == 400
        assert store.count(cid, "purchase-orders") == world["/purchaseorders"].count
        assert store.count(cid, "materials") == world["/parts"].count
        wo = world["/workorders"].id_of(42)
        src = handle.record("/workorders", wo)
        rec = store.get_record(cid, "work-orders", str(wo))
        assert rec is not None
        _same(rec["data"], {
            "title": src["title"],
            "code": str(src["sequentialId"]),
            "status": src["status"],
            "severity": src["priority"],
            "instructions": src.get("description"),
            "locationKey": str(src["locationId"]) if src.get("locationId") else None,
            "assetKey": str(src["asset"]["id"]) if src.get("asset") else None,
        })  # fmt: skip
    finally:
        store.close()


# ---------------------------------------------------------------- Tryton (a real server)


@pytest.fixture(scope="module")
def tryton() -> Iterator[object]:
    from connectors.tryton.server import start_tryton

    default = Path.home() / ".cache" / "millwright" / "tryton"
    directory = Path(os.environ.get("MILLWRIGHT_TRYTON_CACHE", default))
    db = f"e2e_{os.getpid()}"
    handle = start_tryton(directory, db, parts=TRYTON_PARTS, fresh=True)  # the cached template
    try:
        yield handle
    finally:
        handle.stop(drop=True)


def test_tryton(
    airflow_home: Path, tryton, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.tryton.client import TrytonRpc
    from include.store import Store

    cid, entities = "e2e-tryton", ["materials", "products", "purchase-orders"]
    store_url = _configure(
        monkeypatch, tmp_path, cid, "tryton",
        {"host": tryton.url, "login": tryton.user, "password": tryton.password},
        entities, options={"database": tryton.db},
    )  # fmt: skip
    dag = _dag(cid)
    rpc = TrytonRpc(tryton.url, tryton.db, tryton.user, tryton.password)
    rpc.context.update({"active_test": False})
    store = Store(store_url)
    try:
        _run(dag, entities)
        parts = rpc.search_read(
            "product.product", [], ["id", "code", "active", "description"], limit=None
        )
        assert len(parts) >= TRYTON_PARTS
        assert store.count(cid, "materials") == len(parts)
        assert store.count(cid, "products") == len(parts)
        purchases = rpc.search_read("purchase.purchase", [], ["id"], limit=None)
        assert store.count(cid, "purchase-orders") == len(purchases) > 0
        src = sorted(parts, key=lambda p: p["id"])[len(parts) // 2]
        [tmpl] = rpc.search_read(
            "product.product", [("id", "=", src["id"])], ["template.name", "template.type"], limit=1
        )
        rec = store.get_record(cid, "products", str(src["id"]))
        assert rec is not None
        _same(rec["data"], {
            "code": src["code"],
            "sku": src["code"],
            "partNumber": src["code"],
            "name": tmpl["template_rel"]["name"],
            "type": tmpl["template_rel"]["type"],
            "description": src["description"] or None,
            "status": "active" if src["active"] else "inactive",
        })  # fmt: skip
    finally:
        store.close()
        rpc.close()
