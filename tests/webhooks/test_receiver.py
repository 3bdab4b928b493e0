"""The receiver, POST /webhooks/{connection id}: durable before 200, duplicates stored once, every
refusal a 4xx with nothing stored (never a 500), MaintainX sandbox deliveries verified with its
native scheme over a real HTTP server."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from connectors.maintainx.sandbox import start_sandbox
from connectors.maintainx.sandbox.data import ORG_ID
from include.api.webhooks import WebhookSource
from include.store import Store
from include.store import registry as db
from include.store.inbox import Inbox
from include.webhooks import schemes as s
from tests.webhooks.conftest import SECRET, ThreadServer, receiver_app

STD_SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
SOURCES = {
    "std": WebhookSource("std", "active", "standard", (STD_SECRET,)),
    "mx": WebhookSource("mx", "active", "maintainx", (SECRET,)),
    "gone": WebhookSource("gone", "disconnected", "standard", (STD_SECRET,)),
    "maximo": WebhookSource("maximo", "active", "header", ("m-secret",), header="x-maximo-token"),
}


def std(body: bytes, msg_id: str = "msg_1", ts: int | None = None, secret: str = STD_SECRET):
    ts = int(time.time()) if ts is None else ts
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": s.standard_sign(secret, msg_id, ts, body),
        "content-type": "application/json",
    }


def inbox_rows(store: Store, cid: str) -> list[dict]:
    return Inbox(store.engine).events(cid, limit=10_000)


@pytest.fixture
def client(store: Store):
    with TestClient(receiver_app(store, SOURCES), raise_server_exceptions=False) as c:
        yield c


def test_accepted_event_is_stored_before_the_answer_and_duplicates_once(client, store) -> None:
    body = b'{"entity": "work-orders", "id": "1"}'
    r = client.post("/webhooks/std", content=body, headers=std(body))
    assert r.status_code == 200, r.text
    assert r.json() == {"id": "msg_1", "duplicate": False}
    rows = inbox_rows(store, "std")  # committed by the time the 200 arrived
    assert [(x["event_id"], x["status"]) for x in rows] == [("msg_1", "pending")]
    # the sender retries the same id with a fresh timestamp: 200, stored once, counted
    r = client.post("/webhooks/std", content=body, headers=std(body, ts=int(time.time()) + 3))
    assert r.status_code == 200 and r.json()["duplicate"] is True
    rows = inbox_rows(store, "std")
    assert len(rows) == 1 and rows[0]["duplicates"] == 1
    with store.read() as conn:
        body_stored = conn.exec_driver_sql("SELECT body FROM webhook_inbox").scalar()
    assert body_stored == body.decode()  # the raw body, byte for byte


REFUSALS = [
    (
        "bad signature",
        lambda b: std(b, secret="whsec_" + base64.b64encode(b"x" * 32).decode()),
        401,
    ),
    ("no headers", lambda b: {}, 401),
    ("stale", lambda b: std(b, ts=int(time.time()) - 3600), 401),
    ("future", lambda b: std(b, ts=int(time.time()) + 3600), 401),
    ("ts not a number", lambda b: {**std(b), "webhook-timestamp": "soon"}, 400),
    ("signature garbage", lambda b: {**std(b), "webhook-signature": "garbage"}, 400),
    ("signature not base64", lambda b: {**std(b), "webhook-signature": "v1,@@@"}, 400),
    ("only v2", lambda b: {**std(b), "webhook-signature": "v2,AAAA"}, 401),
    ("id with spaces", lambda b: {**std(b), "webhook-id": "a b"}, 400),
    ("huge id", lambda b: {**std(b), "webhook-id": "x" * 5000}, 400),
    ("latin-1 header", lambda b: {**std(b), "webhook-signature": "v1,\xe9\xff"}, 400),
]


@pytest.mark.parametrize(("what", "headers", "status"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_store_nothing_and_are_counted(client, store, what, headers, status) -> None:
    body = b'{"entity": "work-orders", "id": "1"}'
    h = headers(body)
    encoded = [(k.encode(), v.encode("latin-1")) for k, v in h.items()]
    r = client.post("/webhooks/std", content=body, headers=encoded)
    assert r.status_code == status, (what, r.status_code, r.text)
    assert r.json()["message"]  # the API's error shape, naming what is wrong
    assert inbox_rows(store, "std") == []
    stats = Inbox(store.engine).stats("std", datetime.now(UTC) - timedelta(minutes=1))
    assert stats["rejected"] == 1 and stats["received"] == 0


def test_tampered_body_is_refused(client, store) -> None:
    body = b'{"entity": "work-orders", "id": "1"}'
    r = client.post("/webhooks/std", content=body.replace(b"1", b"2"), headers=std(body))
    assert r.status_code == 401 and inbox_rows(store, "std") == []


def test_connection_states_body_limits_and_format(client, store, monkeypatch) -> None:
    body = b'{"entity": "work-orders", "id": "1"}'
    assert client.post("/webhooks/nope", content=body, headers=std(body)).status_code == 404
    assert client.post("/webhooks/gone", content=body, headers=std(body)).status_code == 410
    assert client.post("/webhooks/Bad%20Id", content=body, headers=std(body)).status_code == 400
    # disconnected in the registry (the lifecycle's truth) while the Variable still says active
    with store.write() as conn:
        db.insert(conn, {
            "id": "std", "customer": "c", "system": "maintainx", "deployment": "cloud",
            "credits": 1, "status": "disconnected", "source": "api", "name": None, "email": None,
            "config": {}, "user_metadata": [], "reason": None, "pending": [], "predecessor": None,
            "successor": None, "created_at": "2024-01-01T00:00:00Z", "connected_at": None,
            "disconnected_at": None, "purged_at": None,
        })  # fmt: skip
    assert client.post("/webhooks/std", content=body, headers=std(body)).status_code == 410
    # a static secret header (a Maximo publish channel)
    maximo = {"x-maximo-token": "m-secret", "webhook-id": "mx-1"}
    assert client.post("/webhooks/maximo", content=body, headers=maximo).status_code == 200
    r = client.post("/webhooks/maximo", content=body, headers={"x-maximo-token": "m-secre"})
    assert r.status_code == 401
    # oversized: declared, and streamed without a length
    client.app.state.webhook_max_bytes = 64
    big = b'{"pad": "' + b"x" * 100 + b'"}'
    r = client.post("/webhooks/maximo", content=big, headers=maximo)
    assert r.status_code == 413, r.text
    r = client.post("/webhooks/maximo", content=iter([big[:50], big[50:]]), headers=maximo)
    assert r.status_code == 413, r.text
    client.app.state.webhook_max_bytes = 1 << 20
    # signed but not JSON / not UTF-8
    for bad in (b"not json", b'{"a": "\xff"}'):
        r = client.post("/webhooks/maximo", content=bad, headers={**maximo, "webhook-id": "b"})
        assert r.status_code == 400, r.text
    assert [x["event_id"] for x in inbox_rows(store, "maximo")] == ["mx-1"]


def test_store_failure_answers_503_never_200(store) -> None:
    app = receiver_app(store, SOURCES)
    with TestClient(app, raise_server_exceptions=False) as c:
        body = b'{"entity": "work-orders", "id": "1"}'
        with store.write() as conn:
            conn.exec_driver_sql("DROP TABLE webhook_inbox")
        r = c.post("/webhooks/std", content=body, headers=std(body))
        assert r.status_code == 503 and r.headers["retry-after"] == "5"


def test_maintainx_sandbox_deliveries_verify_with_its_native_scheme(store) -> None:
    """The sandbox's subscription API hands out the secret; its signed deliveries (and its
    retries after a failure) reach the real receiver over HTTP and are stored once each."""
    base, handle = start_sandbox(size=50, webhook_backoff=0.05)
    try:
        api = httpx.Client(base_url=base + "/v1", headers={
            "Authorization": "Bearer maintainx-demo-key", "x-organization-id": str(ORG_ID)})  # fmt: skip
        sources = dict(SOURCES)
        app = receiver_app(store, sources)
        with ThreadServer(app) as server:
            made = []
            for kind in ("WORK_ORDER_CHANGE", "WORK_ORDER_DELETE"):
                r = api.post(
                    "/subscriptions", json={"type": kind, "url": f"{server.url}/webhooks/mx"}
                )
                assert r.status_code == 201, r.text
                made.append(r.json())
            assert (
                made[0]["secret"]
                == api.get(f"/subscriptions/{made[0]['id']}/secret").json()["secret"]
            )
            # both subscriptions sign with their own secret: the connection holds both
            sources["mx"] = WebhookSource(
                "mx", "active", "maintainx", tuple(m["secret"] for m in made)
            )
            ids = [handle.world.collections["/workorders"].id_of(i) for i in range(5)]
            for rid in ids:
                handle.change("/workorders", rid, priority="HIGH")
            handle.delete("/workorders", ids[0])
            assert handle.webhooks.wait(20)
            delivered = [d for d in handle.webhooks.deliveries if d.delivered]
            assert len(delivered) == 6 and all(d.attempts == [200] for d in delivered)
            rows = inbox_rows(store, "mx")
            assert len(rows) == 6
            bodies = {json.loads(d.body)["workOrderId"] for d in delivered}
            assert bodies == set(ids)
            # a delivery that failed once is retried by the sandbox with the same body: one row
            sources["mx"] = WebhookSource("mx", "active", "maintainx", ("wrong",))
            handle.change("/workorders", ids[1], priority="LOW")
            time.sleep(0.08)  # the first attempt is refused (401)...
            sources["mx"] = WebhookSource(
                "mx", "active", "maintainx", tuple(m["secret"] for m in made)
            )
            assert handle.webhooks.wait(20)
            last = handle.webhooks.deliveries[-1]
            assert last.delivered and last.attempts[0] == 401 and last.attempts[-1] == 200
            assert len(inbox_rows(store, "mx")) == 7
    finally:
        handle.stop()
