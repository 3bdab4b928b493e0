"""Bad input: a clear 4xx naming what is wrong, and nothing stored changes."""

from __future__ import annotations

import pytest

from tests.lifecycle.conftest import HEADERS, new_body, snapshot


@pytest.fixture
def store(sqlite_store):
    """Input checks run before the store: SQLite only (the lifecycle suite covers PostgreSQL)."""
    return sqlite_store


@pytest.fixture
def cid(client):
    r = client.post("/api/system/connections", json=new_body(), headers=HEADERS)
    assert r.status_code == 200
    return r.json()["data"]["key"]


CASES = [
    ("post", "/api/system/connections", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "JSON"),
    ("post", "/api/system/connections", {"json": new_body(colour="red")}, 400, "colour"),
    ("post", "/api/system/connections", {"json": new_body(system="sap_r2")}, 400, "sap_r2"),
    ("post", "/api/system/connections", {"json": new_body(id="Bad Id!")}, 400, "id"),
    ("post", "/api/system/connections", {"json": new_body(config={"status": "x"})}, 400, "config.status"),
    ("post", "/api/system/connections", {"json": new_body(config={"schedule": "every day"})}, 400, "schedule"),
    ("post", "/api/system/connections", {"json": new_body(credentials=None)}, 400, "credentials"),
    ("post", "/api/system/connections", {"json": new_body(deployment="moon")}, 400, "deployment"),
    ("get", "/api/system/connections/Not_A%20Slug", {}, 400, "cid"),
    ("get", "/api/system/connections/unknown-1", {}, 404, "unknown-1"),
    ("delete", "/api/system/connections/unknown-1", {}, 404, "unknown-1"),
    ("post", "/api/system/connections/unknown-1/reconnect", {}, 404, "unknown-1"),
    ("delete", "/api/system/connections/unknown-1/data", {}, 404, "unknown-1"),
    ("post", "/api/system/connections/unknown-1/token", {}, 404, "unknown-1"),
    ("put", "/api/system/credits/acme", {"json": {"pool": -1}}, 400, "pool"),
    ("put", "/api/system/credits/acme", {"json": {"pool": 5, "extra": 1}}, 400, "extra"),
    ("patch", "/api/system/connections/{cid}", {"json": {"customer": "evil"}}, 400, "customer"),
    ("patch", "/api/system/connections/{cid}", {"json": [1, 2]}, 400, "body"),
    ("post", "/api/system/connections/{cid}/metadata", {"json": [{"key": ""}]}, 400, "key"),
    ("get", "/api/system/connections/{cid}/export?entity=spaceships", {}, 400, "spaceships"),
    ("post", "/api/system/connections/{cid}/reconnect", {}, 409, "active"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "kw", "status", "names"), CASES)
def test_bad_input(client, store, airflow, cid, method, url, kw, status, names):
    before = snapshot(store, airflow)
    kw = {**kw, "headers": {**HEADERS, **kw.get("headers", {})}}
    r = client.request(method.upper(), url.format(cid=cid), **kw)
    assert r.status_code == status, r.text
    assert names in r.json()["message"] or names in str(r.json()["errors"])
    assert snapshot(store, airflow) == before


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer "])
def test_admin_token_required(client, store, airflow, header):
    before = snapshot(store, airflow)
    headers = {"Authorization": header} if header else {}
    r = client.post("/api/system/connections", json=new_body(), headers=headers)
    assert r.status_code == 401 and "admin token" in r.json()["message"]
    assert client.get("/api/system/connections", headers=headers).status_code == 401
    assert snapshot(store, airflow) == before


def test_connection_token_is_not_an_admin_token(client, cid):
    token = client.post(f"/api/system/connections/{cid}/token", headers=HEADERS).json()["data"][
        "token"
    ]
    r = client.get("/api/system/connections", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
