"""Connection lifecycle through the admin API (offline Airflow adapter, real store)."""

from __future__ import annotations

import json
import threading

import orjson
import pytest

from include.admin.errors import ConnectionNotActive
from include.admin.guard import write_guard
from include.store import LoadRow
from include.store import registry as lifecycle_db
from include.store.engine import write_txn
from tests.lifecycle.conftest import HEADERS, new_body, parse, snapshot, variable


def create(client, **over):
    r = client.post("/api/system/connections", json=new_body(**over), headers=HEADERS)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def read_api(client, token):
    return client.get("/api/integrations/current", headers={"Authorization": f"Bearer {token}"})


def load(store, cid, keys, guard=None):
    rows = [
        LoadRow(key=k, remote_id=k, version=None, data=orjson.dumps({"key": k, "customFields": {}}),
                raw=orjson.dumps({"id": k}), updated_at=None, created_at=None, deleted_at=None)
        for k in keys
    ]  # fmt: skip
    return store.load_batch(cid, "assets", rows, synced_at="2024-06-01T00:00:00Z", guard=guard)


def test_create_stores_secrets_in_connection_charges_and_syncs(client, airflow):
    c = create(client)
    cid, token = c["key"], c["access_token"]
    assert (c["customer"], c["system"], c["credits"], c["status"]) == (
        "acme",
        "maintainx",
        1,
        "active",
    )
    assert read_api(client, token).status_code == 200
    [entry] = variable(airflow)
    assert entry["id"] == cid and entry["status"] == "active" and "s3cret" not in json.dumps(entry)
    assert airflow.state["connections"][entry["airflow_conn_id"]]["password"] == "s3cret-key"
    assert [p["op"] for p in c["pending"]] == ["unpause", "trigger"]  # DAG not parsed yet
    parse(airflow)
    client.post("/api/system/settle", headers=HEADERS)
    assert airflow.dag_state(f"sync__{cid}").is_paused is False
    [run] = airflow.state["runs"]
    assert (run["dag_id"], run["conf"]) == (f"sync__{cid}", {"full": True})
    assert run["run_id"].startswith("manual__millwright_")  # fixed when queued: see pending.py
    credits = client.get("/api/system/credits/acme", headers=HEADERS).json()["data"]
    assert (credits["pool"], credits["used"], credits["available"]) == (10, 1, 9)


def test_on_premise_costs_double(client):
    assert create(client, deployment="on_premise")["credits"] == 2  # MaintainX: 1 in the cloud


def test_out_of_credits_is_402_and_changes_nothing(client, store, airflow):
    client.put("/api/system/credits/acme", json={"pool": 1}, headers=HEADERS)
    before = snapshot(store, airflow)
    r = client.post(
        "/api/system/connections", json=new_body(deployment="on_premise"), headers=HEADERS
    )
    assert r.status_code == 402
    assert "needs 2 credits but has 1 available" in r.json()["message"]
    assert snapshot(store, airflow) == before


def test_disconnect_revokes_pauses_returns_credits(client, store, airflow):
    c = create(client)
    parse(airflow)
    client.post("/api/system/settle", headers=HEADERS)
    r = client.delete(f"/api/system/connections/{c['key']}", headers=HEADERS)
    assert r.status_code == 200 and r.json()["data"]["status"] == "disconnected"
    assert read_api(client, c["access_token"]).status_code == 401
    assert variable(airflow)[0]["status"] == "disconnected"
    assert airflow.dag_state(f"sync__{c['key']}").is_paused is True
    assert client.get("/api/system/credits/acme", headers=HEADERS).json()["data"]["used"] == 0
    again = client.post(f"/api/system/connections/{c['key']}/disconnect", headers=HEADERS)
    assert again.status_code == 409
    assert (
        client.post(f"/api/system/connections/{c['key']}/token", headers=HEADERS).status_code == 409
    )
    audit = client.get(f"/api/system/connections/{c['key']}/audit", headers=HEADERS).json()["data"]
    assert audit[0]["action"] == "disconnect"
    assert audit[0]["details"] == {"credits_returned": 1, "tokens_revoked": 1}


def test_write_guard_refuses_loads_after_disconnect(client, store):
    c = create(client)
    cid = c["key"]
    load(store, cid, ["a1"], guard=write_guard(cid))
    client.post(f"/api/system/connections/{cid}/disconnect", headers=HEADERS)
    with pytest.raises(ConnectionNotActive):
        load(store, cid, ["a2"], guard=write_guard(cid))
    assert store.get_record(cid, "assets", "a2") is None
    assert store.count(cid, "assets") == 1


def test_export_then_delete_data(client, store, airflow):
    c = create(client)
    cid = c["key"]
    parse(airflow)
    load(store, cid, ["a1", "a2"])
    client.post(f"/api/system/connections/{cid}/disconnect", headers=HEADERS)
    r = client.get(f"/api/system/connections/{cid}/export?entity=assets", headers=HEADERS)
    assert r.status_code == 200
    assert [json.loads(line)["key"] for line in r.text.splitlines()] == ["a1", "a2"]
    d = client.delete(f"/api/system/connections/{cid}/data", headers=HEADERS)
    assert d.status_code == 200
    assert d.json()["data"]["purged"]["records"] == 2 and d.json()["data"]["purged"]["tokens"] == 1
    assert store.count(cid, "assets") == 0 and variable(airflow) == []
    assert airflow.state["connections"] == {}
    assert airflow.dag_state(f"sync__{cid}") is not None  # not stale yet: kept
    parse(airflow)  # Airflow re-parses; the DAG is gone from the file -> stale
    client.post("/api/system/settle", headers=HEADERS)
    assert airflow.dag_state(f"sync__{cid}") is None
    view = client.get(f"/api/system/connections/{cid}", headers=HEADERS).json()["data"]
    assert view["status"] == "purged" and view["pending"] == []
    audit = client.get(f"/api/system/connections/{cid}/audit", headers=HEADERS).json()["data"]
    assert audit[0]["action"] == "delete_data" and audit[0]["details"]["purged"]["records"] == 2


def test_delete_data_of_active_connection_is_refused(client, store, airflow):
    c = create(client)
    before = snapshot(store, airflow)
    r = client.delete(f"/api/system/connections/{c['key']}/data", headers=HEADERS)
    assert r.status_code == 409 and "disconnect it first" in r.json()["message"]
    assert snapshot(store, airflow) == before


def test_reconnect_new_id_and_token_same_credentials(client, store, airflow):
    c = create(client)
    old = c["key"]
    client.post(f"/api/system/connections/{old}/disconnect", headers=HEADERS)
    r = client.post(f"/api/system/connections/{old}/reconnect", headers=HEADERS)
    assert r.status_code == 200, r.text
    n = r.json()["data"]
    assert n["key"] != old and n["predecessor"] == old and n["status"] == "active"
    assert read_api(client, n["access_token"]).status_code == 200
    assert read_api(client, c["access_token"]).status_code == 401
    entries = {e["id"]: e for e in variable(airflow)}
    assert entries[n["key"]]["airflow_conn_id"] == entries[old]["airflow_conn_id"]
    assert entries[n["key"]]["schedule"] == "*/30 * * * *"
    again = client.post(f"/api/system/connections/{old}/reconnect", headers=HEADERS)
    assert again.status_code == 200  # a disconnected connection may be reconnected again
    # purging the old one keeps the credentials the new one uses
    client.delete(f"/api/system/connections/{old}/data", headers=HEADERS)
    assert entries[old]["airflow_conn_id"] in airflow.state["connections"]


def test_patch_resyncs_what_changed(client, airflow):
    c = create(client, config={"entities": ["assets"]})
    parse(airflow)
    client.post("/api/system/settle", headers=HEADERS)
    r = client.patch(
        f"/api/system/connections/{c['key']}",
        json={"entities": ["assets", "work-orders"], "schedule": "0 * * * *"},
        headers=HEADERS,
    )
    assert r.status_code == 200, r.text
    assert variable(airflow)[0]["schedule"] == "0 * * * *"
    # Airflow has not re-parsed the DAG: it has no work-orders task yet, so a run triggered now
    # would skip everything; the re-sync waits, and says why
    runs = len(airflow.state["runs"])
    (waiting,) = r.json()["data"]["pending"]
    assert waiting["op"] == "trigger" and "re-parse" in waiting["waiting"], waiting
    parse(airflow)
    assert client.post("/api/system/settle", headers=HEADERS).json()["data"] == {}
    assert len(airflow.state["runs"]) == runs + 1
    assert airflow.state["runs"][-1]["conf"] == {"entities": ["work-orders"], "full": True}
    bad = client.patch(
        f"/api/system/connections/{c['key']}", json={"entities": ["nope"]}, headers=HEADERS
    )
    assert bad.status_code == 400 and "nope" in bad.json()["message"]


def test_pool_shrink_keeps_existing_refuses_new(client):
    create(client, deployment="on_premise")  # 2 credits
    r = client.put("/api/system/credits/acme", json={"pool": 1}, headers=HEADERS)
    assert r.json()["data"] == {
        "customer": "acme",
        "pool": 1,
        "pool_is_default": False,
        "used": 2,
        "available": 0,
    }
    assert (
        client.get("/api/system/connections", headers=HEADERS).json()["data"][0]["status"]
        == "active"
    )
    assert (
        client.post("/api/system/connections", json=new_body(), headers=HEADERS).status_code == 402
    )


def test_reconcile_hand_added_entries(client, airflow):
    entries = [
        {"id": "hand-1", "customer": "beta", "system": "tryton", "airflow_conn_id": "x"},
        {"id": "hand-2", "customer": "beta", "system": "maximo", "airflow_conn_id": "y",
         "deployment": "on_premise"},
    ]  # fmt: skip
    airflow.set_variable_if("millwright_connections", None, json.dumps(entries))
    client.put("/api/system/credits/beta", json={"pool": 5}, headers=HEADERS)
    r = client.post("/api/system/reconcile", headers=HEADERS)
    assert r.json()["data"] == {"registered": ["hand-1"], "refused": ["hand-2"], "disconnected": []}
    rows = {
        c["key"]: c for c in client.get("/api/system/connections", headers=HEADERS).json()["data"]
    }
    assert rows["hand-2"]["status"] == "refused" and "needs 8 credits" in rows["hand-2"]["reason"]
    assert {e["id"]: e.get("status", "active") for e in variable(airflow)} == {
        "hand-1": "active", "hand-2": "disconnected"}  # fmt: skip
    tok = client.post("/api/system/connections/hand-1/token", headers=HEADERS).json()["data"][
        "token"
    ]
    assert read_api(client, tok).status_code == 200
    # a data engineer disconnects by hand: reconcile revokes and returns credits
    airflow.state["variables"]["millwright_connections"] = json.dumps(
        [{**entries[0], "status": "disconnected"}, entries[1]]
    )
    assert client.post("/api/system/reconcile", headers=HEADERS).json()["data"]["disconnected"] == [
        "hand-1"
    ]
    assert read_api(client, tok).status_code == 401


def test_metadata(client):
    cid = create(client)["key"]
    url = f"/api/system/connections/{cid}/metadata"
    r = client.post(
        url, json=[{"key": "uc_first", "value": "A"}, {"key": "b", "value": "B"}], headers=HEADERS
    )
    assert r.status_code == 200
    client.post(url, json=[{"key": "b", "value": "B2"}], headers=HEADERS)
    [item] = client.get(url, headers=HEADERS).json()["data"]
    assert item["key"] == cid
    assert item["user_metadata"] == [
        {"key": "uc_first", "value": "A"}, {"key": "b", "value": "B2"}]  # fmt: skip


def test_variable_cas_retries_then_409_without_changes(client, store, airflow, monkeypatch):
    before = snapshot(store, airflow)
    monkeypatch.setattr(airflow, "set_variable_if", lambda *a: False)  # someone always wins
    r = client.post("/api/system/connections", json=new_body(), headers=HEADERS)
    assert r.status_code == 409 and "keeps changing" in r.json()["message"]
    assert snapshot(store, airflow) == before


def test_variable_writers_of_other_processes_wait_for_each_other(client, store, airflow):
    """Airflow's REST API cannot compare-and-swap, so Millwright's writers of the Variable
    serialise on a lock in the shared store: here another process holds it (a transaction with
    `lock_variable` on its own connection), and a patch waits until that transaction ends."""
    c = create(client)
    with store.engine.connect() as other, write_txn(other):
        lifecycle_db.lock_variable(other)
        url = f"/api/system/connections/{c['key']}"
        patcher = threading.Thread(
            target=lambda: client.patch(url, json={"name": "renamed"}, headers=HEADERS)
        )
        patcher.start()
        patcher.join(1.0)
        assert patcher.is_alive()  # waiting for the lock
        assert variable(airflow)[0].get("name") != "renamed"
    patcher.join(30)
    assert not patcher.is_alive()
    assert variable(airflow)[0]["name"] == "renamed"


def test_connection_disconnects_itself_with_its_own_token(client, store, airflow):
    """Makini's `DELETE /api/integrations/current`: the token's own connection, nothing else."""
    c = create(client)
    other = create(client)
    parse(airflow)
    client.post("/api/system/settle", headers=HEADERS)
    token = {"Authorization": f"Bearer {c['access_token']}"}
    r = client.delete("/api/integrations/current", headers=token)
    assert r.status_code == 200 and r.json()["data"]["status"] == "disconnected"
    assert read_api(client, c["access_token"]).status_code == 401
    assert airflow.dag_state(f"sync__{c['key']}").is_paused is True
    assert read_api(client, other["access_token"]).status_code == 200
    assert client.delete("/api/integrations/current", headers=token).status_code == 401
