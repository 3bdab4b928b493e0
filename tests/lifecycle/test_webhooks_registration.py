"""Create registers the webhook receiver at the source (MaintainX's subscription API) and keeps
the secrets in the Airflow Connection; what it cannot register is said in the audit log; a
create that fails after registering removes the subscriptions again."""

from __future__ import annotations

import json

import pytest
import requests

from connectors.maintainx import CONNECTOR
from connectors.maintainx.sandbox.data import ORG_ID
from tests.lifecycle.conftest import HEADERS, MAINTAINX_KEY, maintainx_url, new_body

AUTH = {"Authorization": f"Bearer {MAINTAINX_KEY}", "x-organization-id": str(ORG_ID)}


def body(**over):  # noqa: ANN003, ANN201
    creds = {"host": maintainx_url(), "password": MAINTAINX_KEY,
             "extra": {"organization_id": str(ORG_ID)}}  # fmt: skip
    return new_body(credentials=creds, config={"schedule": "0 0 * * *", "webhooks": {}}, **over)


def test_create_registers_the_receiver_and_stores_the_secrets(client, airflow, monkeypatch) -> None:
    monkeypatch.setenv("MILLWRIGHT_WEBHOOK_BASE_URL", "https://mw.example.com/millwright/")
    r = client.post("/api/system/connections", json=body(id="mx-hooks"), headers=HEADERS)
    assert r.status_code == 200, r.text
    conn = airflow.state["connections"]["millwright_mx-hooks"]
    secrets = json.loads(conn["extra"]["webhook_secret"])
    ids = json.loads(conn["extra"]["webhook_subscriptions"])
    assert len(ids) == len(secrets) == len(CONNECTOR.webhooks.event_types)
    for sid, secret in zip(ids, secrets, strict=True):
        sub = requests.get(f"{maintainx_url()}/v1/subscriptions/{sid}", headers=AUTH, timeout=10)
        assert (
            sub.json()["subscription"]["url"]
            == "https://mw.example.com/millwright/webhooks/mx-hooks"
        )
        got = requests.get(f"{maintainx_url()}/v1/subscriptions/{sid}/secret", headers=AUTH,
                           timeout=10)  # fmt: skip
        assert got.json()["secret"] == secret
    audit = client.get("/api/system/connections/mx-hooks/audit", headers=HEADERS).json()["data"]
    assert any(a["details"].get("webhooks", {}).get("subscriptions") == ids for a in audit)


def test_without_a_base_url_the_audit_says_register_by_hand(client, airflow, monkeypatch) -> None:
    monkeypatch.delenv("MILLWRIGHT_WEBHOOK_BASE_URL", raising=False)
    r = client.post("/api/system/connections", json=body(id="mx-manual"), headers=HEADERS)
    assert r.status_code == 200, r.text
    conn = airflow.state["connections"]["millwright_mx-manual"]
    assert "webhook_secret" not in conn["extra"]
    audit = client.get("/api/system/connections/mx-manual/audit", headers=HEADERS).json()["data"]
    notes = [a["details"].get("webhooks") for a in audit if a["details"].get("webhooks")]
    assert notes and "MILLWRIGHT_WEBHOOK_BASE_URL" in notes[0]["not_registered"]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_failed_create_removes_its_subscriptions(client, airflow, monkeypatch) -> None:
    monkeypatch.setenv("MILLWRIGHT_WEBHOOK_BASE_URL", "https://mw.example.com")
    before = len(_subscriptions_for("mx-dup"))
    assert client.post("/api/system/connections", json=body(id="mx-dup"),
                       headers=HEADERS).status_code == 200  # fmt: skip
    made = len(_subscriptions_for("mx-dup")) - before
    assert made == len(CONNECTOR.webhooks.event_types)
    # the same id again: refused after registering (Conflict) -> its subscriptions are removed
    first = _probe_id()
    r = client.post("/api/system/connections", json=body(id="mx-dup"), headers=HEADERS)
    assert r.status_code == 409
    assert _probe_id() == first + made + 1  # that many were made in between...
    assert len(_subscriptions_for("mx-dup")) - before == made  # ...and removed again


def _probe_id() -> int:
    """Make (and remove) a subscription: its id tells how many were made before it."""
    r = requests.post(f"{maintainx_url()}/v1/subscriptions", headers=AUTH, timeout=10,
                      json={"type": "NEW_ASSET", "url": "https://probe.example.com"})  # fmt: skip
    sid = r.json()["id"]
    requests.delete(f"{maintainx_url()}/v1/subscriptions/{sid}", headers=AUTH, timeout=10)
    return int(sid)


def _subscriptions_for(cid: str) -> list[int]:
    """Live subscription ids at the sandbox pointing at ``cid``'s receiver (ids are sequential)."""
    out = []
    for sid in range(964, 964 + 400):
        r = requests.get(f"{maintainx_url()}/v1/subscriptions/{sid}", headers=AUTH, timeout=10)
        if r.status_code == 200 and r.json()["subscription"]["url"].endswith(f"/webhooks/{cid}"):
            out.append(sid)
    return out
