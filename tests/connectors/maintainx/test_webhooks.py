"""Webhook subscriptions on the sandbox and signed deliveries to a tiny local receiver."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
import requests

from connectors.maintainx.sandbox import DEFAULT_API_KEY, start_sandbox
from connectors.maintainx.sandbox.webhooks import sign, verify

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}", "x-organization-id": "4242"}


class Receiver:
    """Records every POST; answers 500 to the first ``fail_first`` of them."""

    def __init__(self, fail_first: int = 0) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = fail_first
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = 500 if len(outer.got) <= outer.fail_first else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def env():
    url, handle = start_sandbox(size=100, webhook_backoff=0.05)
    rx = Receiver(fail_first=2)
    yield url, handle, rx
    handle.stop()
    rx.stop()


def _subscribe(url: str, rx: Receiver, event: str = "WORK_ORDER_CHANGE") -> dict:
    r = requests.post(f"{url}/v1/subscriptions", json={"type": event, "url": rx.url}, headers=AUTH, timeout=5)  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def test_signed_delivery_verifies_and_tampered_body_does_not(env):
    url, handle, rx = env
    sub = _subscribe(url, rx)
    assert sub["status"] == "VALID" and len(sub["secret"]) >= 32
    rid = handle.world.collections["/workorders"].id_of(3)
    handle.change("/workorders", rid, title="Replace the bearing")
    assert handle.webhooks.wait(10)
    assert len(rx.got) == 3  # two 500s, then delivered
    headers, body = rx.got[-1]
    payload = orjson.loads(body)
    assert payload["workOrderId"] == rid and payload["orgId"] == 4242
    assert payload["newWorkOrder"]["title"] == "Replace the bearing"
    sig = headers["x-maintainx-webhook-body-signature"]
    assert sig.startswith("t=") and ",v1=" in sig
    assert verify(sub["secret"], sig, body)
    assert not verify(sub["secret"], sig, body.replace(b"bearing", b"Bearing"))
    assert not verify("wrong-secret", sig, body)
    assert not verify(sub["secret"], "garbage", body) and not verify(sub["secret"], None, body)
    ts = int(sig.split(",")[0][2:])
    assert verify(sub["secret"], headers["x-maintainx-webhook-uri-signature"], rx.url.encode())
    assert not verify(sub["secret"], sign(sub["secret"], ts - 3600, body), body)  # too old


def test_retries_keep_event_id_and_body(env):
    url, handle, rx = env
    _subscribe(url, rx)
    handle.change("/workorders", handle.world.collections["/workorders"].id_of(1), priority="HIGH")
    assert handle.webhooks.wait(10)
    ids = {h["x-maintainx-webhook-event-id"] for h, _ in rx.got}
    bodies = {b for _, b in rx.got}
    assert len(rx.got) == 3 and len(ids) == 1 and len(bodies) == 1
    assert handle.webhooks.deliveries[0].attempts == [500, 500, 200]


def test_status_change_and_new_work_order_events(env):
    url, handle, rx = env
    rx.fail_first = 0
    _subscribe(url, rx, "WORK_ORDER_STATUS_CHANGE")
    _subscribe(url, rx, "NEW_WORK_ORDER")
    rec = handle.world.collections["/workorders"].get(0)
    new_status = "DONE" if rec["status"] != "DONE" else "OPEN"
    handle.change("/workorders", rec["id"], status=new_status)
    created = handle.create("/workorders", title="Fresh")
    assert handle.webhooks.wait(10)
    payloads = [orjson.loads(b) for _, b in rx.got]
    assert {"oldStatus": rec["status"], "newStatus": new_status}.items() <= payloads[0].items()
    assert payloads[1]["workOrderId"] == created["id"]


def test_subscription_api_errors_and_lifecycle(env):
    url, handle, rx = env
    no_org = {"Authorization": AUTH["Authorization"]}
    r = requests.post(f"{url}/v1/subscriptions", json={"type": "NEW_PART", "url": rx.url}, headers=no_org, timeout=5)  # fmt: skip
    assert r.status_code == 400 and "x-organization-id" in r.text
    r = requests.post(f"{url}/v1/subscriptions", json={"type": "NOPE", "url": rx.url}, headers=AUTH, timeout=5)  # fmt: skip
    assert r.status_code == 400 and "NOPE" in r.text
    r = requests.post(f"{url}/v1/subscriptions", json={"type": "NEW_PART", "url": "x" * 600}, headers=AUTH, timeout=5)  # fmt: skip
    assert r.status_code == 400
    sub = _subscribe(url, rx, "NEW_PART")
    got = requests.get(f"{url}/v1/subscriptions/{sub['id']}", headers=AUTH, timeout=5).json()
    assert got["subscription"] == {"id": sub["id"], "type": "NEW_PART", "url": rx.url, "status": "VALID"}  # fmt: skip
    secret = requests.get(f"{url}/v1/subscriptions/{sub['id']}/secret", headers=AUTH, timeout=5)
    assert secret.json() == {"secret": sub["secret"]}
    assert requests.delete(f"{url}/v1/subscriptions/{sub['id']}", headers=AUTH, timeout=5).status_code == 204  # fmt: skip
    handle.create("/parts", name="Gasket")
    time.sleep(0.2)
    assert handle.webhooks.wait(5) and rx.got == []
