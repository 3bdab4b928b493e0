"""The system API as Makini documents it (oas3_system.json): its sample bodies are accepted, and
every field of its Connection, ConnectionStore, ConnectionMetadata, Client and token answers is
there. Millwright's extras are documented in docs/LIFECYCLE.md."""

from __future__ import annotations

import pytest

from tests.lifecycle.conftest import HEADERS, MAINTAINX_KEY, maintainx_url

# Makini's sample bodies, verbatim but for the provider (Makini's sample names "inextia", a
# system Millwright has no connector for; that is refused naming `system`) and the credentials'
# values (its keys `api`, `login`, `password` kept): the create tests them against the source, a
# MaintainX sandbox here
MAKINI_CREATE = {
    "name": "Inextia",
    "email": "hey@makini.io",
    "provider": "inextia",
    "credentials": {"api": "https://sample.inextia.dk", "login": "login", "password": "password"},
}
MAKINI_METADATA = [
    {"key": "uc_first", "value": "UC Value"},
    {"key": "uc_last", "value": "Other uc value"},
]
MAKINI_TOKEN = {"token": "{{TOKEN_GENERATED}}", "expires_in": 300}

CONNECTION = {
    "key", "name", "email", "status", "integration_name", "redirect", "scopes", "tags",
    "user_metadata", "client_id", "updated_at", "created_at", "connected_at",
}  # fmt: skip
METADATA = CONNECTION - {"tags"}
STORE = {"access_token", "refresh_token", "expires_in"}
CLIENT = {"id", "name", "logo_url", "email", "default_redirect", "redirects"}


@pytest.fixture
def created(client):
    creds = {"api": maintainx_url(), "login": "login", "password": MAINTAINX_KEY}
    body = {**MAKINI_CREATE, "provider": "maintainx", "credentials": creds}
    r = client.post("/api/system/connections", json=body, headers=HEADERS)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_makinis_create_body_is_accepted_and_answers_its_fields(client, created):
    assert set(created) >= STORE | CONNECTION
    assert created["refresh_token"] is None and created["expires_in"] is None
    assert created["access_token"].startswith("mw_")
    assert created["name"] == "Inextia" and created["email"] == "hey@makini.io"
    assert created["customer"] == "hey@makini.io"  # no customer given: the email
    assert created["integration_name"] == "maintainx"
    listed = client.get("/api/system/connections", headers=HEADERS).json()
    [row] = [c for c in listed["data"] if c["key"] == created["key"]]
    assert set(row) >= CONNECTION
    assert row["client_id"] == "millwright" and row["updated_at"]
    assert set(listed["links"]) == {"first", "last", "prev", "next"}
    r = client.post("/api/system/connections", json=MAKINI_CREATE, headers=HEADERS)
    assert r.status_code == 400 and "system" in r.json()["errors"]


def test_metadata_is_makinis_connection_metadata(client, created):
    url = f"/api/system/connections/{created['key']}/metadata"
    r = client.post(url, json=MAKINI_METADATA, headers=HEADERS)
    assert r.status_code == 200, r.text
    one = r.json()["data"]
    assert set(one) == METADATA
    assert one["user_metadata"] == MAKINI_METADATA
    body = client.get(url, headers=HEADERS).json()
    assert [set(m) for m in body["data"]] == [METADATA]
    assert body["meta"]["total"] == 1 and set(body["links"]) == {"first", "last", "prev", "next"}


def test_token_takes_makinis_sample_and_expires(client, created, monkeypatch):
    url = f"/api/system/connections/{created['key']}/token"
    r = client.post(url, json=MAKINI_TOKEN, headers=HEADERS)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert {"token", *STORE} <= set(data)
    assert (
        data["expires_in"] == 300 and data["token"] == data["access_token"] != "{{TOKEN_GENERATED}}"
    )
    auth = {"Authorization": f"Bearer {data['token']}"}
    assert client.get("/api/integrations/current", headers=auth).status_code == 200
    # 301 seconds later the token is refused
    from datetime import timedelta

    from include.model import timeutil
    from include.store import tokens

    later = timeutil.utcnow() + timedelta(seconds=301)
    monkeypatch.setattr(tokens, "utcnow", lambda: later)
    assert client.get("/api/integrations/current", headers=auth).status_code == 401
    # without a body: a token that does not expire
    plain = client.post(url, headers=HEADERS).json()["data"]
    assert plain["expires_in"] is None
    auth = {"Authorization": f"Bearer {plain['token']}"}
    assert client.get("/api/integrations/current", headers=auth).status_code == 200
    bad = client.post(url, json={"expires_in": 0}, headers=HEADERS)
    assert bad.status_code == 400 and "expires_in" in str(bad.json()["errors"])


def test_client(client, monkeypatch):
    r = client.get("/api/system/client", headers=HEADERS)
    assert r.status_code == 200 and set(r.json()["data"]) == CLIENT
    monkeypatch.setenv("MILLWRIGHT_CLIENT_REDIRECTS", "https://app.example/cb,https://b.example/x")
    monkeypatch.setenv("MILLWRIGHT_CLIENT_NAME", "Acme Ops")
    data = client.get("/api/system/client", headers=HEADERS).json()["data"]
    assert data["name"] == "Acme Ops" and data["default_redirect"] == "https://app.example/cb"
    assert data["redirects"] == ["https://app.example/cb", "https://b.example/x"]
    monkeypatch.setenv("MILLWRIGHT_CLIENT_REDIRECTS", "ftp://nope")
    r = client.get("/api/system/client", headers=HEADERS)
    assert r.status_code == 400 and "MILLWRIGHT_CLIENT_REDIRECTS" in r.json()["message"]


def test_platforms_serve_the_coverage_matrix(client):
    data = client.get("/api/system/platforms", headers=HEADERS).json()["data"]
    systems = {p["name"]: p for p in data}
    assert {"maximo", "maintainx", "sap_s4hana", "tryton"} <= set(systems)
    for p in systems.values():
        cells = {c["resource"]: c for c in p["coverage"]}
        assert len(cells) == 32
        for c in cells.values():
            assert c["coverage"] in ("mapped", "no_concept", "not_yet")
            assert c["reason"] is not None or c["coverage"] != "no_concept"
            assert c["reason"] is None or c["coverage"] != "mapped"
    assert systems["tryton"]["coverage"][0]["resource"] == "organizations"
    tryton = {c["resource"]: c for c in systems["tryton"]["coverage"]}
    assert tryton["work-orders"]["coverage"] == "mapped"
    assert tryton["pm"]["coverage"] == "no_concept" and "preventive" in tryton["pm"]["reason"]


def test_a_status_category_override_resyncs_its_entity():
    from include.admin.operations.change import affected_entities
    from include.config import ConnectionConfig

    base = {"id": "m1", "customer": "acme", "system": "maximo", "airflow_conn_id": "x"}
    old = ConnectionConfig(**base)
    new = ConnectionConfig(**base, status_categories={"work-orders": {"WMATL": "open"}})
    assert affected_entities(old, new) == ["work-orders"]
    assert affected_entities(new, new) == []
