"""Disconnect removes the webhook subscriptions at the source (issue 16): the admin API cannot
read the stored secret, so disconnect leaves a pending operation that the lifecycle pass (the
DAG millwright__lifecycle's task, here with the same `HookSourceAccess` over an Airflow
Connection in the environment) runs against the MaintainX sandbox. Idempotent; a failure keeps
its reason and is retried at the next pass; after the last attempt the audit log says what is
left to remove by hand."""

from __future__ import annotations

import json

import pytest
import requests

from include.admin.lifecycle import Lifecycle
from include.admin.operations import webhooks_source
from include.store import registry as db
from tests.lifecycle.conftest import HEADERS, parse
from tests.lifecycle.test_webhooks_registration import AUTH, body, maintainx_url

pytestmark = pytest.mark.airflow  # the hooks (include/airflow/hooks.py) import Airflow


def _expose(airflow, monkeypatch, conn_id: str, host: str | None = None) -> None:
    """What the lifecycle task sees: the Airflow Connection the create wrote (memory adapter),
    served to the hook the way Airflow serves ``AIRFLOW_CONN_<ID>``."""
    c = airflow.state["connections"][conn_id]
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({
        "conn_type": c["conn_type"], "host": host or c["host"], "login": c["login"], "password": c["password"],
        "extra": c["extra"]}))  # fmt: skip


def _pass(store, airflow):  # noqa: ANN001, ANN202
    from include.airflow.hooks import HookSourceAccess

    return Lifecycle(store, airflow, source=HookSourceAccess()).maintain()


def _alive(sid: str) -> bool:
    r = requests.get(f"{maintainx_url()}/v1/subscriptions/{sid}", headers=AUTH, timeout=10)
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


def _pending(store, cid):  # noqa: ANN001, ANN202
    with store.read() as conn:
        return db.get(conn, cid)["pending"]


def _connected(client, airflow, monkeypatch, cid: str) -> list[str]:
    monkeypatch.setenv("MILLWRIGHT_WEBHOOK_BASE_URL", "https://mw.example.com/millwright")
    r = client.post("/api/system/connections", json=body(id=cid), headers=HEADERS)
    assert r.status_code == 200, r.text
    parse(airflow)
    ids = json.loads(
        airflow.state["connections"][f"millwright_{cid}"]["extra"]["webhook_subscriptions"]
    )
    assert ids and all(_alive(s) for s in ids)
    return ids


def test_disconnect_removes_the_subscriptions_at_the_source(
    client, airflow, store, monkeypatch
) -> None:
    ids = _connected(client, airflow, monkeypatch, "mx-off")
    _expose(airflow, monkeypatch, "millwright_mx-off")
    # one removed by hand meanwhile: an id already gone is fine
    requests.delete(f"{maintainx_url()}/v1/subscriptions/{ids[0]}", headers=AUTH, timeout=10)
    r = client.post("/api/system/connections/mx-off/disconnect", headers=HEADERS)
    assert r.status_code == 200, r.text
    # the api-server ran the stops; the removal waits for the pass (it needs the stored key)
    [op] = [p for p in _pending(store, "mx-off") if p["op"] == "remove_webhooks"]
    assert op["ids"] == ids and op["waiting"] == webhooks_source.NEEDS_PASS
    assert all(_alive(s) for s in ids[1:])
    out = _pass(store, airflow)
    assert "mx-off" not in out["waiting"], out
    assert _pending(store, "mx-off") == []
    assert not any(_alive(s) for s in ids)
    # ... and the DAG was paused before (the removal runs after the stops)
    assert airflow.state["dags"]["sync__mx-off"]["is_paused"] is True


def test_a_failure_keeps_its_reason_and_is_retried_next_pass(
    client, airflow, store, monkeypatch
) -> None:
    ids = _connected(client, airflow, monkeypatch, "mx-retry")
    _expose(airflow, monkeypatch, "millwright_mx-retry", host="http://127.0.0.1:9")  # refused
    assert client.post("/api/system/connections/mx-retry/disconnect",
                       headers=HEADERS).status_code == 200  # fmt: skip
    out = _pass(store, airflow)
    [op] = out["waiting"]["mx-retry"]
    assert op["op"] == "remove_webhooks" and op["attempts"] == 1
    assert "at the source failed" in op["waiting"] and ids[0] in op["waiting"]
    assert all(_alive(s) for s in ids)
    _expose(airflow, monkeypatch, "millwright_mx-retry")  # the source is back
    assert "mx-retry" not in _pass(store, airflow)["waiting"]
    assert not any(_alive(s) for s in ids)


def test_after_the_last_attempt_the_audit_names_what_is_left(
    client, airflow, store, monkeypatch
) -> None:
    ids = _connected(client, airflow, monkeypatch, "mx-gone")
    _expose(airflow, monkeypatch, "millwright_mx-gone", host="http://127.0.0.1:9")
    monkeypatch.setattr(webhooks_source, "MAX_REMOVE_ATTEMPTS", 2)
    client.post("/api/system/connections/mx-gone/disconnect", headers=HEADERS)
    assert _pass(store, airflow)["waiting"]["mx-gone"][0]["attempts"] == 1
    assert "mx-gone" not in _pass(store, airflow)["waiting"]
    audit = client.get("/api/system/connections/mx-gone/audit", headers=HEADERS).json()["data"]
    [left] = [a for a in audit if a["action"] == "webhooks_not_removed"]
    assert left["details"]["subscriptions"] == ids and left["details"]["attempts"] == 2
    assert "by hand" in left["details"]["note"]
    for sid in ids:  # clean up for the other tests
        requests.delete(f"{maintainx_url()}/v1/subscriptions/{sid}", headers=AUTH, timeout=10)


def test_without_webhooks_disconnect_queues_no_removal(client, airflow, store) -> None:
    from tests.lifecycle.conftest import new_body

    assert client.post("/api/system/connections", json=new_body(id="mx-plain"),
                       headers=HEADERS).status_code == 200  # fmt: skip
    client.post("/api/system/connections/mx-plain/disconnect", headers=HEADERS)
    assert all(p["op"] != "remove_webhooks" for p in _pending(store, "mx-plain"))


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_limble_create_registers_and_disconnect_removes(
    client, airflow, store, monkeypatch
) -> None:
    """Limble: create subscribes one webhook per event type (no secret is stored: Limble signs
    with the API key); disconnect and the lifecycle pass delete them at the Limble sandbox."""
    from connectors.limble import CONNECTOR as LIMBLE
    from connectors.limble.sandbox import start_sandbox

    url, handle = start_sandbox(size=30, client_id="lb-id", secret="lb-secret")
    try:
        monkeypatch.setenv("MILLWRIGHT_WEBHOOK_BASE_URL", "https://mw.example.com")
        b = {"customer": "acme", "system": "limble", "id": "lb-hooks", "name": "Acme Limble",
             "credentials": {"host": url, "login": "lb-id", "password": "lb-secret"},
             "config": {"schedule": "0 0 * * *", "webhooks": {}}}  # fmt: skip
        r = client.post("/api/system/connections", json=b, headers=HEADERS)
        assert r.status_code == 200, r.text
        parse(airflow)
        extra = airflow.state["connections"]["millwright_lb-hooks"]["extra"]
        assert "webhook_secret" not in extra
        ids = json.loads(extra["webhook_subscriptions"])
        hooks = handle.webhooks.list({})
        assert [str(h["webhookID"]) for h in hooks] == ids
        assert {h["endpoint"] for h in hooks} == {"https://mw.example.com/webhooks/lb-hooks"}
        assert sorted(h["type"] for h in hooks) == sorted(LIMBLE.webhooks.event_types)
        _expose(airflow, monkeypatch, "millwright_lb-hooks")
        assert client.post("/api/system/connections/lb-hooks/disconnect",
                           headers=HEADERS).status_code == 200  # fmt: skip
        assert handle.webhooks.list({})  # still there until the pass
        assert "lb-hooks" not in _pass(store, airflow)["waiting"]
        assert handle.webhooks.list({}) == []
    finally:
        handle.stop()
