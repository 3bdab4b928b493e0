"""Issue 9 (attack review): hostile input on every read route answers a 4xx in the JSON error
shape on a real uvicorn server (as `python -m include.cli.serve` configures it), and the same
kept-alive connection answers the next request; caps, strict integers, links and 405."""

from __future__ import annotations

import base64
import http.client
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.routing import APIRoute

from include.api import create_app, issue_token
from include.api.server import server_config
from include.api.settings import ApiSettings
from include.model import EAM_ENTITIES, ERP_ENTITIES
from include.store import Store
from tests.api.conftest import load, make_client

CID = "hx"


def _seed(store: Store) -> str:
    for entity in sorted(set(EAM_ENTITIES) | set(ERP_ENTITIES)):
        load(store, CID, entity, [{"key": "k1", "updatedAt": "2024-01-01T00:00:00Z"}])
    store.upsert_statuses(CID, "work-orders", [{"key": "OPEN", "name": "Open"}])
    return issue_token(store.engine, CID)


class Live:
    """A uvicorn server on a free port in a thread, with one persistent HTTP connection."""

    def __init__(self, app: FastAPI, token: str) -> None:
        config = server_config(app, host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "server did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, target: str) -> tuple[int, dict, bytes, tuple]:
        self.conn.request("GET", target, headers=self.headers)
        r = self.conn.getresponse()
        body = r.read()
        return r.status, dict(r.getheaders()), body, self.conn.sock.getsockname()

    def stop(self) -> None:
        self.conn.close()
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live(store: Store) -> Iterator[tuple[Live, FastAPI]]:
    token = _seed(store)
    app = create_app(store, config_provider=lambda cid: None, settings=ApiSettings())
    server = Live(app, token)
    try:
        yield server, app
    finally:
        server.stop()


def read_routes(app: FastAPI) -> list[str]:
    paths = [
        r.path
        for r in app.routes
        if isinstance(r, APIRoute)
        and "GET" in r.methods
        and r.path.startswith(("/api/eam/", "/api/erp/", "/api/integrations/"))
    ]
    return sorted(p.replace("{key}", "k1") for p in paths)


def _cursor(*parts) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(["c1", *parts])).decode().rstrip("=")


HOSTILE = {
    "nul in a filter value": "?filter[key]=%00",
    "nul in a filter field": "?filter[ke%00y]=x",
    "nul in a sort field": "?sort[ke%00y]=0",
    "control character in a value": "?filterMatch=any%1b",
    "nul in a cursor": f"?cursor={_cursor(None, 'a' + chr(0))}",
    "nul inside a crafted cursor's key": f"?cursor={_cursor('2024-01-01T00:00:00Z', 'x' + chr(0))}",
    "1,000 filters": "?" + "&".join(f"filter[key:contains]=v{i}" for i in range(1000)),
    "64 KB query": "?filter[key]=" + "a" * 65_536,
    "per_page with a space": "?per_page=%205",
    "per_page with a sign": "?per_page=%2B5",
    "per_page with an underscore": "?per_page=1_000",
}


def test_hostile_requests_get_json_4xx_and_keep_the_connection(live):
    server, app = live
    routes = read_routes(app)
    assert len(routes) == 88, (
        routes
    )  # 65 EAM GETs (Makini's), ERP lists and items, statuses, current
    status, _, _, sock = server.get("/api/eam/sites")
    assert status == 200
    for route in routes:
        targets = [route + q for q in HOSTILE.values()]
        if route.endswith("/k1"):
            targets.append(route[: -len("k1")] + quote("BEDFORD\x00"))
            targets.append(route[: -len("k1")] + "k%01%7f")
        for target in targets:
            status, headers, body, used = server.get(target)
            where = (target[:120], status, body[:300])
            assert 400 <= status < 500, where
            assert headers.get("content-type") == "application/json", where
            doc = orjson.loads(body)
            assert set(doc) == {"message", "errors"} and doc["message"], where
            assert b"\\u0000" not in body and b"\x00" not in body, where  # never echoed raw
            assert headers.get("connection") != "close", where
            ok, _, _, again = server.get(route)
            assert ok == 200, (route, ok)
            assert used == sock == again, "the kept-alive connection was dropped"


def test_nul_in_a_key_names_the_key(live):
    server, _ = live
    status, _, body, _ = server.get("/api/eam/sites/BEDFORD%00")
    assert status == 400 and orjson.loads(body)["errors"].keys() == {"key"}
    status, _, body, _ = server.get("/api/eam/work-orders?filter[title:contains]=%00")
    assert status == 400
    assert list(orjson.loads(body)["errors"]) == ["filter[title:contains]"]


def test_caps_are_settings(store: Store):
    token = _seed(store)
    env = {"MILLWRIGHT_API_MAX_FILTERS": "3", "MILLWRIGHT_API_MAX_QUERY_BYTES": "200"}
    app = create_app(store, config_provider=lambda c: None, settings=ApiSettings.from_env(env))
    with (
        make_client(store) as default,
        __import__("fastapi.testclient").testclient.TestClient(app) as client,
    ):
        h = {"Authorization": f"Bearer {token}"}
        four = "&".join(f"filter[key]=k{i}" for i in range(4))
        r = client.get(f"/api/eam/sites?{four}", headers=h)
        assert (
            r.status_code == 400 and "MILLWRIGHT_API_MAX_FILTERS" in r.json()["errors"]["filter"][0]
        )
        three = "&".join(f"filter[key]=k{i}" for i in range(3))
        assert client.get(f"/api/eam/sites?{three}", headers=h).status_code == 200
        r = client.get("/api/eam/sites?filter[key]=" + "a" * 200, headers=h)
        assert r.status_code == 400 and list(r.json()["errors"]) == ["query"]
        assert default.get(f"/api/eam/sites?{four}", headers=h).status_code == 200  # default 50
        fifty_one = "&".join(f"filter[key]=k{i}" for i in range(51))
        assert default.get(f"/api/eam/sites?{fifty_one}", headers=h).status_code == 400


def test_settings_refuse_bad_values():
    from include.api.settings import SettingError

    for env in (
        {"MILLWRIGHT_API_MAX_FILTERS": "0"},
        {"MILLWRIGHT_API_MAX_FILTERS": "1_000"},
        {"MILLWRIGHT_API_STATEMENT_TIMEOUT": "soon"},
        {"MILLWRIGHT_PUBLIC_URL": "api.example.com"},
        {"MILLWRIGHT_TRUSTED_HOSTS": "a b"},
    ):
        with pytest.raises(SettingError, match=next(iter(env))):
            ApiSettings.from_env(env)


def test_links_never_echo_an_untrusted_host(sqlite_store: Store):
    token = _seed(sqlite_store)
    h = {"Authorization": f"Bearer {token}"}
    from fastapi.testclient import TestClient

    def links(settings: ApiSettings, host: str) -> dict:
        app = create_app(sqlite_store, config_provider=lambda c: None, settings=settings)
        with TestClient(app) as client:
            body = client.get("/api/eam/sites?per_page=1", headers={**h, "Host": host}).json()
        return {**body["links"], "path": body["meta"]["path"]}

    forged = links(ApiSettings(), "evil.example")
    assert all("evil" not in (v or "") for v in forged.values()), forged
    assert forged["first"] == "/api/eam/sites?per_page=1&page=1"
    trusted = links(ApiSettings(), "localhost:8000")
    assert trusted["first"].startswith("http://localhost:8000/api/eam/sites?")
    public = ApiSettings(public_url="https://api.example.com/mw")
    fixed = links(public, "evil.example")
    assert fixed["path"] == "https://api.example.com/mw/api/eam/sites"
    assert fixed["first"] == "https://api.example.com/mw/api/eam/sites?per_page=1&page=1"
    wildcard = ApiSettings(trusted_hosts=("*.example.com",))
    assert links(wildcard, "a.example.com")["first"].startswith("http://a.example.com/")
    assert links(wildcard, "example.com.evil")["first"].startswith("/api/")


def test_405_allow_lists_every_method(sqlite_store: Store):
    token = _seed(sqlite_store)
    with make_client(sqlite_store) as client:
        r = client.post("/api/integrations/current", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 405
        assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "DELETE"}
        assert set(r.json()) == {"message", "errors"}
        r = client.put("/api/eam/sites/k1")
        assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_openapi_declares_what_the_api_answers(sqlite_store: Store):
    with make_client(sqlite_store) as client:
        doc = client.get("/openapi.json").json()
    assert "Error" in doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert "422" not in op["responses"], path
    op = doc["paths"]["/api/eam/work-orders"]["get"]
    assert {"200", "400", "401", "503"} <= set(op["responses"])
    ref = op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/Error"
    item = doc["paths"]["/api/eam/work-orders/{key}"]["get"]["responses"]["200"]
    item_ref = item["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    data_ref = doc["components"]["schemas"][item_ref]["properties"]["data"]["$ref"]
    assert "remoteData" in doc["components"]["schemas"][data_ref.rsplit("/", 1)[-1]]["properties"]
