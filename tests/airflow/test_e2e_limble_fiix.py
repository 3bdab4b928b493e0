"""Limble and Fiix end to end through Airflow (`dag.test()`): sandboxes, three connections of the
system in the Variable (one with a wrong secret, one on another tenant whose ids overlap the
first's), the generated DAGs, the pipeline and a SQLite store. Per system, in order: a full read
(with a custom field the default mapping does not read), isolation (the bad connection fails
alone with its cause; the other tenant's records stay under their own connection), an incremental
run that must pick up a record edited at exactly the window's start (a tie at the boundary,
overlap 0), and a reconciling run that soft-deletes records hard-deleted at the source."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.airflow.conftest import ROOT

pytestmark = pytest.mark.airflow

SECRET = "e2e-secret"


def _configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, system: str,
               conns: dict[str, dict], entities: list[str], **extra: object) -> str:  # fmt: skip
    """Connections of ``system`` (``conns``: id -> Airflow Connection), one SQLite store."""
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("MILLWRIGHT_HOME", str(tmp_path / "mw"))
    monkeypatch.setenv("MILLWRIGHT_STORE_URL", store_url)
    variable = []
    for cid, conn in conns.items():
        conn_id = "mw_" + cid.replace("-", "_")
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}",
                           json.dumps({"conn_type": "http", **conn}))  # fmt: skip
        variable.append({"id": cid, "customer": "acme", "system": system,
                         "airflow_conn_id": conn_id, "entities": entities, "page_size": 50,
                         "overlap": "0s", **extra})  # fmt: skip
    monkeypatch.setenv("AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS", json.dumps(variable))
    return store_url


def _dags(*cids: str) -> list:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return [bag.dags[f"sync__{cid}"] for cid in cids]


def _states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def _run(dag, entities: list[str], **conf: object):
    run = dag.test(run_conf=conf or None)
    states = _states(run)
    for entity in entities:
        assert states[f"{entity}.sync"] == "success", states
    assert run.state == "success", states
    return run


def _last(store, cid: str, entity: str) -> dict:
    [row] = [r for r in store.last_runs(cid) if r["entity"] == entity]
    return row


def _epoch(cursor: str) -> float:
    return datetime.fromisoformat(cursor.replace("Z", "+00:00")).timestamp()


def _tenants_stay_apart(store, dag, cid: str, other: str, key: str, title: str) -> None:
    """A second tenant of the same system (its own sandbox, ids overlapping the first's): its
    sync stores its own records under its own connection; the first's are untouched."""
    before = store.get_record(cid, "work-orders", key)["data"]
    _run(dag, ["work-orders"])
    theirs = store.get_record(other, "work-orders", key)
    assert theirs is not None and theirs["data"]["title"] == title != before["title"]
    assert store.get_record(cid, "work-orders", key)["data"] == before


def _bad_connection_failed_alone(store, dag, cid: str, entity: str, words: str) -> None:
    """The connection with the wrong secret: its entity fails as an authentication failure whose
    reason names the cause; it stored nothing."""
    run = dag.test()
    assert _states(run)[f"{entity}.sync"] == "failed"
    row = _last(store, cid, entity)
    assert row["status"] == "failed" and row["failure"] == "auth", row
    assert words in (row["error"] or ""), row["error"]
    assert SECRET not in (row["error"] or "")
    assert store.count(cid, entity) == 0


# ---------------------------------------------------------------- Limble


@pytest.fixture
def limble() -> Iterator[tuple[str, object]]:
    from connectors.limble.sandbox import start_sandbox

    url, handle = start_sandbox(seed=7, size=300, client_id="e2e", secret=SECRET)
    try:
        yield url, handle
    finally:
        handle.stop()


def test_limble(airflow_home: Path, limble: tuple[str, object], tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from connectors.limble.sandbox import start_sandbox
    from include.store import Store

    url, h = limble
    url_b, h_b = start_sandbox(seed=70, size=60, client_id="e2e-b", secret=SECRET)
    cid, bad, other = "e2e-limble", "e2e-limble-bad", "e2e-limble-b"
    entities = ["work-orders", "pm", "purchase-orders", "assets"]
    store_url = _configure(
        monkeypatch, tmp_path, "limble",
        {cid: {"host": url, "login": "e2e", "password": SECRET},
         bad: {"host": url, "login": "e2e", "password": "not-the-secret"},
         other: {"host": url_b, "login": "e2e-b", "password": SECRET}},
        entities, custom_fields={"work-orders": {"requestor": "requestorName"}},
    )  # fmt: skip
    dag, bad_dag, other_dag = _dags(cid, bad, other)
    store = Store(store_url)
    try:
        # 1. a full read; the custom field reads an attribute the default mapping does not
        _run(dag, entities)
        tasks = h.records("/tasks")
        wos = [t for t in tasks if not t["template"]]
        assert store.count(cid, "work-orders") == len(wos)
        assert store.count(cid, "pm") == len(tasks) - len(wos) > 0
        assert store.count(cid, "purchase-orders") == len(h.records("/po"))
        assert store.count(cid, "purchase-orders.line-items") == len(h.records("/po/items"))
        assert store.count(cid, "assets") == len(h.records("/assets"))
        src = next(t for t in wos if t["requestorName"] and t["assetID"])
        rec = store.get_record(cid, "work-orders", str(src["taskID"]))
        assert rec is not None
        data = rec["data"]
        assert data["title"] == src["name"] and data["assetKey"] == str(src["assetID"])
        assert data["siteKey"] == str(src["locationID"])
        assert data["customFields"] == {"requestor": src["requestorName"]}

        # 2. isolation: the connection with a wrong secret fails alone, saying why; another
        #    tenant's records (the same ids) stay under their own connection
        _bad_connection_failed_alone(store, bad_dag, bad, "work-orders", "403")
        assert store.count(cid, "work-orders") == len(wos)
        mine = {t["taskID"]: t["name"] for t in wos}
        theirs = next(t for t in h_b.records("/tasks")
                      if not t["template"] and mine.get(t["taskID"], t["name"]) != t["name"])  # fmt: skip
        _tenants_stay_apart(store, other_dag, cid, other, str(theirs["taskID"]), theirs["name"])

        # 3. incremental: one task edited at exactly the window start (the cursor: overlap 0)
        cursor = store.get_cursor(cid, "work-orders")
        assert cursor is not None
        boundary = int(_epoch(cursor))
        older = [t for t in wos if t["lastEdited"] < boundary]
        tie, moved = older[0], older[1]
        h.update("/tasks", tie["taskID"], name="edited at the boundary", lastEdited=boundary)
        h.update("/tasks", moved["taskID"], name="edited now")
        _run(dag, entities)
        last = _last(store, cid, "work-orders")
        assert (last["inserted"], last["updated"]) == (0, 2), last
        assert last["read"] < len(wos)  # a window, not a full read
        for t, title in ((tie, "edited at the boundary"), (moved, "edited now")):
            got = store.get_record(cid, "work-orders", str(t["taskID"]))
            assert got is not None and got["data"]["title"] == title

        # 4. hard deletes at the source, reconciled: soft-deleted here, with their PO items
        gone_wo, gone_po = wos[5]["taskID"], h.records("/po")[0]["poID"]
        h.delete("/tasks", gone_wo)
        h.delete("/po", gone_po)
        _run(dag, entities, reconcile=True)
        assert store.count(cid, "work-orders") == len(wos) - 1
        assert store.get_record(cid, "work-orders", str(gone_wo))["deleted_at"] is not None
        assert store.get_record(cid, "purchase-orders", str(gone_po))["deleted_at"] is not None
        assert store.count(cid, "purchase-orders") == len(h.records("/po"))
        assert store.count(other, "work-orders") == sum(
            not t["template"] for t in h_b.records("/tasks")
        )  # the other tenant's reconciliation is its own
    finally:
        store.close()
        h_b.stop()


# ---------------------------------------------------------------- Fiix


@pytest.fixture
def fiix() -> Iterator[tuple[str, object]]:
    from connectors.fiix.sandbox import start_sandbox

    url, handle = start_sandbox(seed=8, size=300, keys=("e2e-app", "e2e-access", SECRET))
    try:
        yield url, handle
    finally:
        handle.stop()


def test_fiix(airflow_home: Path, fiix: tuple[str, object], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from connectors.fiix.sandbox import start_sandbox
    from include.store import Store

    url, h = fiix
    url_b, h_b = start_sandbox(seed=80, size=40, keys=("e2e-app", "e2e-access", SECRET))
    cid, bad, other = "e2e-fiix", "e2e-fiix-bad", "e2e-fiix-b"
    entities = ["work-orders", "pm", "purchase-orders", "assets"]
    keys = {"login": "e2e-access", "extra": json.dumps({"app_key": "e2e-app"})}
    store_url = _configure(
        monkeypatch, tmp_path, "fiix",
        {cid: {"host": url, "password": SECRET, **keys},
         bad: {"host": url, "password": "not-the-secret", **keys},
         other: {"host": url_b, "password": SECRET, **keys}},
        entities, custom_fields={"work-orders": {"adminNotes": "strAdminNotes"}},
    )  # the custom field's path is requested by itself (no options.requested_fields)  # fmt: skip
    dag, bad_dag, other_dag = _dags(cid, bad, other)
    store = Store(store_url)
    wos = sorted(h.records("WorkOrder"), key=lambda r: r["id"])
    noted = wos[10]["id"]
    h.update("WorkOrder", noted, strAdminNotes="call the vendor first")
    try:
        # 1. a full read, with a custom field on an attribute the default mapping does not read
        _run(dag, entities)
        assert store.count(cid, "work-orders") == len(wos) == 300
        assert store.count(cid, "pm") == len(h.records("ScheduledMaintenance"))
        assert store.count(cid, "purchase-orders") == len(h.records("PurchaseOrder"))
        assert store.count(cid, "purchase-orders.line-items") == len(
            h.records("PurchaseOrderLineItem")
        )
        assert store.count(cid, "assets") == sum(
            1 for a in h.records("Asset") if a["intSuperCategorySysCode"] in (2, 3)
        )
        src = h.record("WorkOrder", noted)
        data = store.get_record(cid, "work-orders", str(noted))["data"]
        status = h.record("WorkOrderStatus", src["intWorkOrderStatusID"])["strName"]
        assert data["code"] == src["strCode"] and data["status"] == status
        assert data["assetKey"] == src["strAssetIds"].split(",")[0]
        assert data["customFields"] == {"adminNotes": "call the vendor first"}
        sm = h.records("ScheduledMaintenance")[0]
        assets = sorted(str(a["intAssetID"]) for a in h.records("ScheduledMaintenanceAsset")
                        if a["intScheduledMaintenanceID"] == sm["id"])  # fmt: skip
        pm = store.get_record(cid, "pm", str(sm["id"]))["data"]
        assert sorted(pm["assetKeys"]) == assets  # from the BatchRequest per page

        # 2. isolation: a wrong secret key is refused by the sandbox; the run says why; another
        #    tenant's work orders (the same ids) stay under their own connection
        _bad_connection_failed_alone(store, bad_dag, bad, "work-orders", "signature")
        assert store.count(cid, "work-orders") == 300
        mine = {w["id"]: w["strDescription"] for w in wos}
        theirs = next(w for w in h_b.records("WorkOrder")
                      if mine.get(w["id"], w["strDescription"]) != w["strDescription"])  # fmt: skip
        _tenants_stay_apart(
            store, other_dag, cid, other, str(theirs["id"]), theirs["strDescription"]
        )
        assert store.count(other, "work-orders") == 40

        # 3. incremental: one work order edited at exactly the window start (the cursor)
        cursor = store.get_cursor(cid, "work-orders")
        boundary_ms = int(round(_epoch(cursor) * 1000))
        older = [w for w in wos if w["dtmDateLastModified"] < boundary_ms and w["id"] != noted]
        tie, moved = older[0], older[1]
        h.update("WorkOrder", tie["id"], strDescription="edited at the boundary",
                 dtmDateLastModified=boundary_ms)  # fmt: skip
        h.update("WorkOrder", moved["id"], strDescription="edited now")
        _run(dag, entities)
        last = _last(store, cid, "work-orders")
        assert (last["inserted"], last["updated"]) == (0, 2), last
        assert last["read"] < 300
        for w, title in ((tie, "edited at the boundary"), (moved, "edited now")):
            assert store.get_record(cid, "work-orders", str(w["id"]))["data"]["title"] == title

        # 4. hard deletes (RemoveRequest-equivalent at the source), reconciled
        gone_wo, gone_po = wos[20]["id"], h.records("PurchaseOrder")[0]["id"]
        h.delete("WorkOrder", gone_wo)
        h.delete("PurchaseOrder", gone_po)
        _run(dag, entities, reconcile=True)
        assert store.count(cid, "work-orders") == 299
        assert store.get_record(cid, "work-orders", str(gone_wo))["deleted_at"] is not None
        assert store.get_record(cid, "purchase-orders", str(gone_po))["deleted_at"] is not None
        assert store.count(other, "work-orders") == 40  # untouched by the first's reconciliation
    finally:
        store.close()
        h_b.stop()
