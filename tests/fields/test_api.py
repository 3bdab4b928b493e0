"""The admin API's custom-field routes against real sandboxes: discovery and preview (saving
nothing), refusal of an unknown path by create and patch (naming the path, the entity and the
closest fields), and isolation (each call uses its own connection's credentials; application
tokens reach none of it)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from connectors.connection import ConnFields
from connectors.maximo.sandbox import start_sandbox
from connectors.registry import get_connector
from include.admin.airflow_adapter import MemoryAirflowAdapter
from include.airflow.plugin import build_app
from include.api import issue_token
from include.config import VARIABLE_NAME, ConnectionConfig
from include.config.source import settings_for
from include.store import Store, schema
from tests.lifecycle.conftest import ADMIN, HEADERS

KEY_A, KEY_B = "key-of-a", "key-of-b"


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[tuple[str, str]]:
    a, ha = start_sandbox(seed=6, size=60, apikey=KEY_A)
    b, hb = start_sandbox(seed=7, size=60, apikey=KEY_B)
    try:
        yield a, b
    finally:
        ha.stop()
        hb.stop()


@pytest.fixture
def client(store: Store, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The full app; a connection's source is opened with ITS Airflow Connection (kept by the
    offline adapter), as `glue.make_connector` does inside Airflow."""
    monkeypatch.setenv("MILLWRIGHT_ADMIN_TOKEN", ADMIN)
    airflow = MemoryAirflowAdapter()

    def source(cfg: ConnectionConfig):
        conn = airflow.state["connections"][cfg.airflow_conn_id]
        fields = ConnFields(**{k: conn.get(k) for k in ("host", "login", "password", "schema",
                                                         "port", "conn_type")},
                            extra=conn.get("extra") or {}, conn_id=cfg.airflow_conn_id)  # fmt: skip
        return get_connector(cfg.system)(settings_for(cfg, fields))

    app = build_app(store, airflow, config_provider=lambda cid: None, source=source)
    return TestClient(app, raise_server_exceptions=False)


def create(client: TestClient, url: str, key: str, cid: str, **config) -> dict:
    body = {"id": cid, "customer": "acme", "system": "maximo",
            "credentials": {"host": url, "password": key},
            "config": {"entities": ["work-orders", "purchase-orders"], **config}}  # fmt: skip
    r = client.post("/api/system/connections", json=body, headers=HEADERS)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def count(store: Store, table: sa.Table, cid: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.connection_id == cid)
        ).scalar()


def test_discovery_lists_every_attribute_and_where_it_is_mapped(client, sandboxes):
    create(client, sandboxes[0], KEY_A, "mx-a", custom_fields={"work-orders": {"crew": "crewid"}})
    r = client.get("/api/system/connections/mx-a/fields", params={"entity": "work-orders"},
                   headers=HEADERS)  # fmt: skip
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["entity"] == "work-orders" and data["system"] == "maximo"
    by = {f["name"]: f for f in data["fields"]}
    assert by["crewid"]["mapped_to"] == ["customFields.crew"] and by["crewid"]["label"] == "Crew"
    assert by["wonum"]["mapped"] and "code" in by["wonum"]["mapped_to"]
    assert not by["cxpermitno"]["mapped"] and not by["supervisor"]["mapped"]
    assert by["assignment"]["object"] and by["assignment"]["many"]
    assert by["assignment.laborcode"]["type"] and not by["assignment.laborcode"]["mapped"]
    lines = client.get("/api/system/connections/mx-a/fields",
                       params={"entity": "purchase-orders.line-items"}, headers=HEADERS)  # fmt: skip
    assert lines.status_code == 200 and "linecost" in {
        f["name"] for f in lines.json()["data"]["fields"]
    }


def test_preview_maps_the_first_records_with_candidates_and_saves_nothing(client, store, sandboxes):
    create(client, sandboxes[0], KEY_A, "mx-p")
    variable_before = client.app.state.lifecycle.airflow.get_variable(VARIABLE_NAME)
    audit_before = len(
        client.get("/api/system/connections/mx-p/audit", headers=HEADERS).json()["data"]
    )
    body = {"entity": "work-orders", "limit": 7,
            "custom_fields": {"crew": "crewid", "labor": "assignment.laborcode", "nothing": "jpnum"}}  # fmt: skip
    r = client.post("/api/system/connections/mx-p/preview", json=body, headers=HEADERS)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["read"] == 7 and len(data["data"]) == 7 and data["failed"] == []
    assert all(set(rec["customFields"]) == {"crew", "labor", "nothing"} for rec in data["data"])
    rates = data["fill_rates"]
    assert rates["nothing"] == {"filled": 0, "of": 7, "rate": 0.0}
    assert 0 < rates["crew"]["filled"] <= 7
    # nothing saved: no records, no re-map digest, no config change, no audit entry
    assert count(store, schema.records, "mx-p") == 0
    assert count(store, schema.mapped_fields, "mx-p") == 0
    assert client.app.state.lifecycle.airflow.get_variable(VARIABLE_NAME) == variable_before
    view = client.get("/api/system/connections/mx-p", headers=HEADERS).json()["data"]
    assert view["config"].get("custom_fields", {}) == {}
    audit_after = client.get("/api/system/connections/mx-p/audit", headers=HEADERS).json()["data"]
    assert len(audit_after) == audit_before
    # default limit 20, at most 200
    r = client.post("/api/system/connections/mx-p/preview", json={"entity": "work-orders"},
                    headers=HEADERS)  # fmt: skip
    assert r.status_code == 200 and r.json()["data"]["read"] == 20
    r = client.post("/api/system/connections/mx-p/preview",
                    json={"entity": "work-orders", "limit": 201}, headers=HEADERS)  # fmt: skip
    assert r.status_code == 400 and "limit" in r.json()["message"]


def test_preview_refuses_an_unknown_path_and_entity(client, sandboxes):
    create(client, sandboxes[0], KEY_A, "mx-u")
    r = client.post("/api/system/connections/mx-u/preview", headers=HEADERS,
                    json={"entity": "work-orders", "custom_fields": {"crew": "crewd"}})  # fmt: skip
    assert r.status_code == 400
    msg = r.json()["message"]
    assert "custom_fields.work-orders.crew: 'crewd' is not a field of maximo work-orders" in msg
    assert "closest: crewid" in msg
    r = client.get(
        "/api/system/connections/mx-u/fields", params={"entity": "bogus"}, headers=HEADERS
    )
    assert r.status_code == 400 and "bogus" in r.json()["message"]


def test_patch_and_create_refuse_a_misspelt_path_before_saving(client, store, sandboxes):
    create(client, sandboxes[0], KEY_A, "mx-c")
    r = client.patch("/api/system/connections/mx-c", headers=HEADERS,
                     json={"custom_fields": {"work-orders": {"crew": "crew_id"}}})  # fmt: skip
    assert r.status_code == 400, r.text
    assert "'crew_id'" in r.json()["message"] and "crewid" in r.json()["message"]
    assert "custom_fields.work-orders.crew" in r.json()["errors"]
    view = client.get("/api/system/connections/mx-c", headers=HEADERS).json()["data"]
    assert view["config"].get("custom_fields", {}) == {}  # unchanged
    r = client.patch("/api/system/connections/mx-c", headers=HEADERS,
                     json={"custom_fields": {"work-orders": {"crew": "crewid"}}})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["data"]["config"]["custom_fields"] == {"work-orders": {"crew": "crewid"}}
    # create: checked with the request's credentials before anything exists
    body = {"id": "mx-new", "customer": "acme", "system": "maximo",
            "credentials": {"host": sandboxes[0], "password": KEY_A},
            "config": {"custom_fields": {"purchase-orders": {"lines": "poline.linecst"}}}}  # fmt: skip
    r = client.post("/api/system/connections", json=body, headers=HEADERS)
    assert r.status_code == 400 and "poline.linecost" in r.json()["message"]
    assert client.get("/api/system/connections/mx-new", headers=HEADERS).status_code == 404


def test_isolation_each_connection_its_own_credentials_and_no_app_token(client, store, sandboxes):
    create(client, sandboxes[0], KEY_A, "iso-a")
    create(client, sandboxes[1], KEY_B, "iso-b")
    # B's Airflow Connection gets a wrong key: B's routes fail, they never borrow A's
    conns = client.app.state.lifecycle.airflow.state["connections"]
    b_conn = next(k for k in conns if "iso-b" in k)
    conns[b_conn] = {**conns[b_conn], "password": "wrong"}
    ok = client.get("/api/system/connections/iso-a/fields", params={"entity": "work-orders"},
                    headers=HEADERS)  # fmt: skip
    bad = client.get("/api/system/connections/iso-b/fields", params={"entity": "work-orders"},
                     headers=HEADERS)  # fmt: skip
    assert ok.status_code == 200
    assert bad.status_code == 502 and "401" in bad.json()["message"]
    assert "wrong" not in bad.text and KEY_A not in bad.text
    assert set(store.source_fields("iso-a")) == {"work-orders"}
    assert store.source_fields("iso-b") == {}
    # an application token (of either connection) reaches neither route
    for cid in ("iso-a", "iso-b"):
        token = issue_token(store.engine, cid)
        auth = {"Authorization": f"Bearer {token}"}
        for other in ("iso-a", "iso-b"):
            r1 = client.get(f"/api/system/connections/{other}/fields",
                            params={"entity": "work-orders"}, headers=auth)  # fmt: skip
            r2 = client.post(f"/api/system/connections/{other}/preview",
                             json={"entity": "work-orders"}, headers=auth)  # fmt: skip
            assert r1.status_code == 401 and r2.status_code == 401
            assert "crewid" not in r1.text and "member" not in r2.text


def test_a_disconnected_connection_has_no_discovery(client, sandboxes):
    create(client, sandboxes[0], KEY_A, "mx-d")
    assert (
        client.post("/api/system/connections/mx-d/disconnect", headers=HEADERS).status_code == 200
    )
    r = client.get("/api/system/connections/mx-d/fields", params={"entity": "work-orders"},
                   headers=HEADERS)  # fmt: skip
    assert r.status_code == 409 and "disconnected" in r.json()["message"]


def test_the_variable_entry_carries_the_checked_fields(client, sandboxes):
    create(client, sandboxes[0], KEY_A, "mx-v", custom_fields={"work-orders": {"crew": "crewid"}})
    entries = json.loads(client.app.state.lifecycle.airflow.get_variable(VARIABLE_NAME))
    entry = next(e for e in entries if e["id"] == "mx-v")
    assert entry["custom_fields"] == {"work-orders": {"crew": "crewid"}}
