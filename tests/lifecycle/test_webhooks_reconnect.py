"""Reconnect registers the new connection's webhook receiver at the source (issue 16): it brings
no credentials, so it queues a pending ``register_webhooks`` that only the lifecycle pass (here
with the same `HookSourceAccess` over the Airflow Connection in the environment) runs against
the MaintainX sandbox, after the disconnect's removal of the old id's subscriptions. A failure
keeps its reason, leaves no subscription behind and is retried at the next pass."""

from __future__ import annotations

import json

import pytest

from connectors.maintainx import CONNECTOR
from include.admin.airflow_adapter import AirflowError
from include.admin.operations import webhooks_source
from tests.lifecycle.conftest import HEADERS, parse
from tests.lifecycle.test_webhooks_registration import _subscriptions_for
from tests.lifecycle.test_webhooks_removal import _alive, _connected, _expose, _pass, _pending

pytestmark = pytest.mark.airflow  # the hooks (include/airflow/hooks.py) import Airflow

N = len(CONNECTOR.webhooks.event_types)


def _reconnect(client, airflow, monkeypatch, cid: str) -> tuple[list[str], str]:  # noqa: ANN001
    old_ids = _connected(client, airflow, monkeypatch, cid)
    _expose(airflow, monkeypatch, f"millwright_{cid}")
    assert client.post(f"/api/system/connections/{cid}/disconnect",
                       headers=HEADERS).status_code == 200  # fmt: skip
    r = client.post(f"/api/system/connections/{cid}/reconnect", headers=HEADERS)
    assert r.status_code == 200, r.text
    parse(airflow)
    return old_ids, r.json()["data"]["key"]


def _registration(waiting: list[dict]) -> list[dict]:
    return [op for op in waiting if op["op"] == "register_webhooks"]


def _settled(store, airflow, *cids: str) -> None:  # noqa: ANN001
    """Passes until none of ``cids`` waits (the successor's registration may wait one pass for
    the predecessor's removal, depending on the order the pass settles them)."""
    for _ in range(3):
        out = _pass(store, airflow)
        if not any(c in out["waiting"] for c in cids):
            return
    raise AssertionError(out["waiting"])


def test_reconnect_registers_the_new_id_and_the_old_ones_are_removed(
    client, airflow, store, monkeypatch
) -> None:
    old_ids, new = _reconnect(client, airflow, monkeypatch, "mx-rc")
    # the api-server runs unpause and trigger; the registration waits for the pass
    assert client.post("/api/system/settle", headers=HEADERS).status_code == 200
    [op] = [p for p in _pending(store, new) if p["op"] == "register_webhooks"]
    assert op["waiting"] == webhooks_source.NEEDS_PASS_REGISTER
    assert _subscriptions_for(new) == []
    audit = client.get(f"/api/system/connections/{new}/audit", headers=HEADERS).json()["data"]
    assert "lifecycle pass" in audit[0]["details"]["webhooks"]["pending"]
    _settled(store, airflow, "mx-rc", new)
    assert _pending(store, new) == [] and _pending(store, "mx-rc") == []
    assert not any(_alive(s) for s in old_ids)  # removed by the disconnect's operation
    live = [str(s) for s in _subscriptions_for(new)]
    assert len(live) == N
    extra = airflow.state["connections"]["millwright_mx-rc"]["extra"]  # shared Connection
    assert sorted(json.loads(extra["webhook_subscriptions"])) == sorted(live)
    assert len(json.loads(extra["webhook_secret"])) == N
    audit = client.get(f"/api/system/connections/{new}/audit", headers=HEADERS).json()["data"]
    [reg] = [a for a in audit if a["action"] == webhooks_source.REGISTERED_ACTION]
    assert sorted(reg["details"]["webhooks"]["subscriptions"]) == sorted(live)
    # a second pass registers nothing more
    _pass(store, airflow)
    assert len(_subscriptions_for(new)) == N
    # disconnecting the successor removes what the pass registered
    _expose(airflow, monkeypatch, "millwright_mx-rc")
    assert client.post(f"/api/system/connections/{new}/disconnect",
                       headers=HEADERS).status_code == 200  # fmt: skip
    [rm] = [p for p in _pending(store, new) if p["op"] == "remove_webhooks"]
    assert sorted(rm["ids"]) == sorted(live)
    _settled(store, airflow, new)
    assert _subscriptions_for(new) == []


def test_a_failed_registration_keeps_its_reason_leaves_nothing_and_is_retried(
    client, airflow, store, monkeypatch
) -> None:
    _, new = _reconnect(client, airflow, monkeypatch, "mx-rcf")
    # the source makes the subscriptions but storing them in the Airflow Connection fails
    real = airflow.set_connection

    def refuse(conn_id, creds):  # noqa: ANN001, ANN202
        raise AirflowError("503 from the api-server")

    monkeypatch.setattr(airflow, "set_connection", refuse)
    for _ in range(2):  # one pass, or two when it settles the successor before the predecessor
        [op] = _registration(_pass(store, airflow)["waiting"][new])
        if op["waiting"] != webhooks_source.WAITS_FOR_REMOVAL:
            break
    assert op["op"] == "register_webhooks" and op["attempts"] == 1
    assert "storing the subscriptions" in op["waiting"] and "503" in op["waiting"]
    assert _subscriptions_for(new) == []  # removed again: a retry makes no duplicates
    monkeypatch.setattr(airflow, "set_connection", real)
    # the source unreachable: the reason is kept, the attempt counted
    _expose(airflow, monkeypatch, "millwright_mx-rcf", host="http://127.0.0.1:9")
    [op] = _registration(_pass(store, airflow)["waiting"][new])
    assert op["attempts"] == 2 and "at the source failed" in op["waiting"]
    assert _subscriptions_for(new) == []
    _expose(airflow, monkeypatch, "millwright_mx-rcf")  # the source is back
    assert new not in _pass(store, airflow)["waiting"]
    assert len(_subscriptions_for(new)) == N
    for sid in _subscriptions_for(new):  # clean up for the other tests
        import requests

        from tests.lifecycle.test_webhooks_registration import AUTH, maintainx_url

        requests.delete(f"{maintainx_url()}/v1/subscriptions/{sid}", headers=AUTH, timeout=10)


def test_without_webhooks_reconnect_queues_no_registration(client, airflow, store) -> None:
    from tests.lifecycle.conftest import new_body

    assert client.post("/api/system/connections", json=new_body(id="mx-rcp"),
                       headers=HEADERS).status_code == 200  # fmt: skip
    client.post("/api/system/connections/mx-rcp/disconnect", headers=HEADERS)
    r = client.post("/api/system/connections/mx-rcp/reconnect", headers=HEADERS)
    assert r.status_code == 200, r.text
    assert all(p["op"] != "register_webhooks" for p in _pending(store, r.json()["data"]["key"]))
