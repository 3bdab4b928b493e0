"""Limble and Maximo events end to end (issue 16): the Limble sandbox's own signed deliveries
(registered through the connector's subscription call) reach the real receiver over HTTP, verify
with Limble's scheme and the API key, and applying them re-reads the records by id (a deleted
one is soft-deleted). A Maximo publish channel's event, authenticated with a static secret
header, is applied by re-reading with ``oslc.where=<remote id> in [..]``."""

from __future__ import annotations

import httpx

from connectors.limble.sandbox import start_sandbox as start_limble
from connectors.maximo.sandbox import start_sandbox as start_maximo
from include.api.webhooks import WebhookSource
from include.config import ConnectionConfig
from include.store.inbox import Inbox
from include.sync.events import apply_pending
from tests.connectors.limble.test_limble import AUTH
from tests.connectors.limble.test_limble import connector as limble_connector
from tests.connectors.maximo.conftest import connector as maximo_connector
from tests.webhooks.conftest import ThreadServer, receiver_app

WO = "work-orders"


def _cfg(cid: str, system: str, **webhooks: object) -> ConnectionConfig:
    return ConnectionConfig(id=cid, customer="acme", system=system, airflow_conn_id=f"{cid}_conn",
                            entities=[WO, "assets"], webhooks=webhooks)  # fmt: skip


def test_limble_deliveries_verify_and_apply_by_re_reading(store) -> None:
    url, handle = start_limble(seed=5, size=120, client_id=AUTH[0], secret=AUTH[1],
                               webhook_retry_delays=(0.05, 0.05))  # fmt: skip
    sources = {"lb": WebhookSource("lb", "active", "limble", (AUTH[1],))}  # the API key
    try:
        with ThreadServer(receiver_app(store, sources)) as server, limble_connector(url) as c:
            reg = c.register_webhooks(f"{server.url}/webhooks/lb")
            tasks = [t for t in handle.records("/tasks") if not t.get("template")][:4]
            asset = handle.records("/assets")[0]
            for t in tasks:
                handle.update("/tasks", t["taskID"], name=f"changed {t['taskID']}")
            handle.update("/assets", asset["assetID"], name="renamed asset")
            handle.delete("/tasks", tasks[0]["taskID"])
            assert handle.webhooks.wait(20)
            assert all(d.attempts == [200] for d in handle.webhooks.deliveries)
            rows = Inbox(store.engine).events("lb", limit=100)
            assert len(rows) == 6  # 4 changes + 1 asset + 1 delete, each stored once
            result = apply_pending(store, _cfg("lb", "limble", scheme="limble"), c, run_id="t")
            assert (result.processed, result.failed) == (6, 0), result.errors
            for t in tasks[1:]:
                rec = store.get_record("lb", WO, str(t["taskID"]))
                assert rec["data"]["title"] == f"changed {t['taskID']}" and not rec["deleted_at"]
            assert (
                store.get_record("lb", "assets", str(asset["assetID"]))["data"]["name"]
                == "renamed asset"
            )
            # the deleted task: never loaded before, so nothing to soft-delete; load it, delete
            handle.add("/tasks", {**tasks[0], "name": "back"})
            handle.webhooks.wait(20)
            assert apply_pending(store, _cfg("lb", "limble"), c, run_id="t").processed == 1
            assert store.get_record("lb", WO, str(tasks[0]["taskID"]))["data"]["title"] == "back"
            handle.delete("/tasks", tasks[0]["taskID"])
            handle.webhooks.wait(20)
            assert apply_pending(store, _cfg("lb", "limble"), c, run_id="t").deleted == 1
            assert store.get_record("lb", WO, str(tasks[0]["taskID"]))["deleted_at"]
            # a delivery signed with another key is refused (401), nothing stored
            sources["lb"] = WebhookSource("lb", "active", "limble", ("another key",))
            before = len(Inbox(store.engine).events("lb", limit=100))
            handle.update("/tasks", tasks[1]["taskID"], name="unsigned")
            handle.webhooks.wait(20)
            assert handle.webhooks.deliveries[-1].attempts[0] == 401
            assert len(Inbox(store.engine).events("lb", limit=100)) == before
            c.remove_webhooks(reg.ids)
    finally:
        handle.stop()


def test_maximo_static_secret_events_apply_by_re_reading(store) -> None:
    url, handle = start_maximo(size=80, seed=9)
    sources = {"mxm": WebhookSource("mxm", "active", "header", ("m-secret",),
                                    header="x-maximo-token")}  # fmt: skip
    try:
        conn = maximo_connector(url)
        from connectors.base import Window

        wos = [r for page in conn.read(WO, Window()) for r in page][:3]
        handle.mutate("MXAPIWODETAIL", (wos[0]["siteid"], wos[0]["wonum"]), description="via hook")
        with ThreadServer(receiver_app(store, sources)) as server, httpx.Client() as http:
            for i, w in enumerate(wos):
                body = {"entity": WO, "id": w["workorderid"]}
                r = http.post(f"{server.url}/webhooks/mxm", json=body,
                              headers={"x-maximo-token": "m-secret", "webhook-id": f"pub-{i}"})  # fmt: skip
                assert r.status_code == 200, r.text
            r = http.post(f"{server.url}/webhooks/mxm", json={"entity": WO, "id": "1"},
                          headers={"x-maximo-token": "wrong"})  # fmt: skip
            assert r.status_code == 401
        result = apply_pending(store, _cfg("mxm", "maximo", scheme="header"), conn, run_id="t")
        assert (result.processed, result.failed, result.inserted) == (3, 0, 3), result.errors
        key = f"{wos[0]['siteid']}:{wos[0]['wonum']}"
        assert store.get_record("mxm", WO, key)["data"]["title"] == "via hook"
        conn.close()
    finally:
        handle.stop()
