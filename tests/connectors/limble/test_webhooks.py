"""Limble webhooks (issue 16): the sandbox's ``/v2/webhooks`` and signed deliveries as the
OpenAPI documents them, the connector's registration and removal, and its re-read by id."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest
import requests

from connectors.limble import CONNECTOR
from connectors.limble.sandbox import start_sandbox
from connectors.limble.sandbox.webhooks import sign
from include.webhooks.schemes import verify_limble
from tests.connectors.limble.test_limble import AUTH, connector, read_all


@pytest.fixture
def sandbox():  # noqa: ANN201
    url, handle = start_sandbox(seed=4, size=200, client_id=AUTH[0], secret=AUTH[1],
                                webhook_retry_delays=(0.05, 0.05))  # fmt: skip
    yield url, handle
    handle.stop()


class Catcher:
    """A receiver answering the next statuses in ``answers`` (then 200), keeping every request."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.got: list[tuple[dict, bytes]] = []
        self.answers = list(answers or [])
        catcher = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                catcher.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(catcher.answers.pop(0) if catcher.answers else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def api(url: str, method: str, path: str, **kw):  # noqa: ANN003, ANN201
    return requests.request(method, f"{url}/v2{path}", auth=AUTH, timeout=10, **kw)


def test_sandbox_webhook_api_as_documented(sandbox) -> None:
    url, _ = sandbox
    assert (
        api(url, "POST", "/webhooks", json={"endpoint": "https://a.example/x"}).status_code == 400
    )
    bad = api(url, "POST", "/webhooks", json={"endpoint": "nope", "type": "task"})
    assert bad.status_code == 400 and "endpoint" in bad.json()["message"]
    r = api(url, "POST", "/webhooks", json={"endpoint": "https://a.example/x", "type": "task"})
    assert r.status_code == 201 and set(r.json()) == {"webhookID"}
    wid = r.json()["webhookID"]
    r2 = api(url, "POST", "/webhooks",
             json={"endpoint": "https://b.example/y", "type": "po", "enabled": 0})  # fmt: skip
    listed = api(url, "GET", "/webhooks").json()
    assert listed[0] == {"webhookID": wid, "endpoint": "https://a.example/x", "type": "task",
                         "enabled": 1}  # fmt: skip
    assert [
        h["webhookID"]
        for h in api(url, "GET", "/webhooks", params={"endpoint": "%b.example%"}).json()
    ] == [r2.json()["webhookID"]]
    assert api(url, "GET", "/webhooks", params={"type": "task", "enabled": 1}).json() == listed[:1]
    assert api(url, "PATCH", f"/webhooks/{wid}", json={"enabled": 0}).json() == {"success": True}
    over = api(url, "POST", f"/webhooks/{wid}", json={"enabled": 1},
               headers={"X-HTTP-Method-Override": "PATCH"})  # fmt: skip
    assert over.json() == {"success": True}
    assert api(url, "DELETE", f"/webhooks/{wid}").status_code == 200
    assert api(url, "DELETE", f"/webhooks/{wid}").status_code == 404
    assert api(url, "PATCH", f"/webhooks/{wid}", json={}).status_code == 404
    r = requests.post(f"{url}/v2/webhooks", json={}, auth=("sbx", "wrong"), timeout=10)
    assert r.status_code == 403


def test_deliveries_are_signed_with_limbles_scheme_and_retried(sandbox) -> None:
    url, handle = sandbox
    catcher = Catcher(answers=[500])
    try:
        api(url, "POST", "/webhooks", json={"endpoint": catcher.url, "type": "task"})
        task = next(r for r in handle.records("/tasks"))
        handle.update("/tasks", task["taskID"], name="renamed")
        handle.update("/assets", handle.records("/assets")[0]["assetID"], name="x")  # no hook
        assert handle.webhooks.wait(10)
        assert len(catcher.got) == 2  # a 500, then the retry
        (h1, b1), (h2, b2) = catcher.got
        assert json.loads(b2) == {"taskID": task["taskID"], "status": "CHANGED TASK DESCRIPTION",
                                  "category": "task", "user": "sandbox@limblecmms.com"}  # fmt: skip
        assert b1 == b2 and h1["token"] == h2["token"]  # the same event, signed again
        for h in (h1, h2):
            assert h["signature"] == sign(AUTH[1], int(h["timestamp"]), h["token"])
            # the receiver's verifier (include.webhooks) accepts it with the API key only
            verify_limble([AUTH[1]], h, b2, time.time())
            with pytest.raises(Exception, match="signature"):
                verify_limble(["another key"], h, b2, time.time())
        # 406: received and ignored on purpose -> no retry; failing every retry disables it
        catcher.answers = [406, 500, 500, 500]
        handle.update("/tasks", task["taskID"], name="again")
        handle.update("/tasks", task["taskID"], name="and again")
        assert handle.webhooks.wait(10)
        assert [d.attempts for d in handle.webhooks.deliveries[-2:]] == [[406], [500, 500, 500]]
        assert api(url, "GET", "/webhooks").json()[0]["enabled"] == 0
    finally:
        catcher.close()


def test_connector_registers_and_removes_its_webhooks(sandbox) -> None:
    url, _ = sandbox
    with connector(url) as c:
        reg = c.register_webhooks("https://mw.example.com/webhooks/lb-1")
        assert reg.secrets == ()  # Limble signs with the API key
        listed = api(url, "GET", "/webhooks").json()
        assert sorted(h["type"] for h in listed) == sorted(CONNECTOR.webhooks.event_types)
        assert {h["endpoint"] for h in listed} == {"https://mw.example.com/webhooks/lb-1"}
        assert [str(h["webhookID"]) for h in listed] == list(reg.ids)
        api(url, "DELETE", f"/webhooks/{reg.ids[0]}")  # gone already: fine
        c.remove_webhooks(reg.ids)
        assert api(url, "GET", "/webhooks").json() == []
        with pytest.raises(ValueError, match="integers"):
            c.remove_webhooks(("1/../x",))


def test_registration_that_fails_midway_removes_what_it_made(sandbox, monkeypatch) -> None:
    url, _ = sandbox
    with connector(url) as c:
        monkeypatch.setattr(type(c), "webhooks", CONNECTOR.webhooks.__class__(
            scheme="limble", subscribe=True, event_types=("task", "asset", "not-a-type")))  # fmt: skip
        with pytest.raises(Exception, match="type"):
            c.register_webhooks("https://mw.example.com/webhooks/lb-1")
        assert api(url, "GET", "/webhooks").json() == []


def test_read_records_re_reads_by_id(sandbox) -> None:
    url, handle = sandbox
    with connector(url, page_size=3) as c:
        wos, pms = read_all(c, "work-orders"), read_all(c, "pm")
        pos = read_all(c, "purchase-orders")
        ids = [str(w["taskID"]) for w in wos[:5]]
        handle.update("/tasks", wos[1]["taskID"], name="fresh")
        handle.delete("/tasks", wos[2]["taskID"])
        got = [r for p in c.read_records("work-orders", [*ids, str(pms[0]["taskID"])]) for r in p]
        # a template is a PM, not a work order; the deleted one is absent
        assert sorted(r["taskID"] for r in got) == sorted(
            int(i) for i in ids if i != str(wos[2]["taskID"])
        )
        assert {r["taskID"]: r["name"] for r in got}[wos[1]["taskID"]] == "fresh"
        assert [r["taskID"] for p in c.read_records("pm", [str(pms[0]["taskID"])]) for r in p] == [
            pms[0]["taskID"]
        ]
        po = [r for p in c.read_records("purchase-orders", [str(pos[0]["poID"])]) for r in p]
        assert po == [pos[0]]  # with its items, as read
        with pytest.raises(ValueError, match="not an integer"):
            list(c.read_records("assets", ["1,2"]))
