"""Create and reconnect test the source before they save anything (the same check as Airflow's
Test button), against the MaintainX sandbox: a wrong secret is refused with the source's plain
reason and nothing is stored; the Connection gets the system's connection type."""

from __future__ import annotations

from tests.lifecycle.conftest import HEADERS, MAINTAINX_KEY, maintainx_url, new_body, snapshot

URL = "/api/system/connections"


def test_create_refuses_a_wrong_secret_and_saves_nothing(client, store, airflow):
    before = snapshot(store, airflow)
    body = new_body(credentials={"host": maintainx_url(), "password": "not-the-key"})
    r = client.post(URL, json=body, headers=HEADERS)
    assert r.status_code == 422, r.text
    assert r.json()["message"] == (
        "credentials: the connection test failed: "
        "maintainx refused the credentials (HTTP 401): Invalid token"
    )
    assert "credentials" in r.json()["errors"]
    assert snapshot(store, airflow) == before


def test_create_refuses_a_missing_credential_by_its_label(client, store, airflow):
    before = snapshot(store, airflow)
    r = client.post(URL, json=new_body(credentials={"host": maintainx_url()}), headers=HEADERS)
    assert r.status_code == 422
    assert r.json()["message"].endswith("has no API key")
    assert snapshot(store, airflow) == before


def test_create_writes_the_systems_connection_type(client, airflow):
    r = client.post(URL, json=new_body(), headers=HEADERS)
    assert r.status_code == 200, r.text
    (stored,) = airflow.state["connections"].values()
    assert (stored["conn_type"], stored["password"]) == ("millwright_maintainx", MAINTAINX_KEY)


def test_an_http_connection_keeps_working(client, airflow):
    body = new_body(credentials={"host": maintainx_url(), "password": MAINTAINX_KEY,
                                 "conn_type": "http"})  # fmt: skip
    r = client.post(URL, json=body, headers=HEADERS)
    assert r.status_code == 200, r.text
    assert {c["conn_type"] for c in airflow.state["connections"].values()} == {"http"}


def test_reconnect_tests_the_stored_connection(client, store, airflow):
    created = client.post(URL, json=new_body(), headers=HEADERS).json()["data"]
    cid = created["key"]
    client.post(f"{URL}/{cid}/disconnect", headers=HEADERS)
    (conn_id,) = airflow.state["connections"]
    airflow.state["connections"][conn_id]["password"] = "rotated-at-the-source"
    before = snapshot(store, airflow)
    r = client.post(f"{URL}/{cid}/reconnect", headers=HEADERS)
    assert r.status_code == 422, r.text
    assert "maintainx refused the credentials (HTTP 401): Invalid token" in r.json()["message"]
    assert snapshot(store, airflow) == before
    airflow.state["connections"][conn_id]["password"] = MAINTAINX_KEY
    assert client.post(f"{URL}/{cid}/reconnect", headers=HEADERS).status_code == 200
