"""Limble: the sandbox behaves as the OpenAPI says, and the connector reads it right (keyset
paging, exclusive window starts, PO items, task kinds, statuses, errors, rate limits)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from connectors.base import SourceError, SourceSettings, Window
from connectors.kit.sandbox.faults import Faults
from connectors.limble import CONNECTOR
from connectors.limble.sandbox import start_sandbox
from include.mapping.compiled import CompiledMapping

FOLDER = Path(__file__).resolve().parents[3] / "connectors" / "limble"
AUTH = ("sbx", "sbx-secret")


@pytest.fixture
def sandbox() -> Iterator[tuple[str, object]]:
    url, handle = start_sandbox(seed=4, size=400, client_id=AUTH[0], secret=AUTH[1])
    try:
        yield url, handle
    finally:
        handle.stop()


def connector(url: str, page_size: int = 40, **creds: str) -> object:
    credentials = {"user": AUTH[0], "password": AUTH[1], **creds}
    return CONNECTOR(SourceSettings("t", url, credentials, ZoneInfo("UTC"), page_size=page_size,
                                    options={"retry_base_delay": 0.01}))  # fmt: skip


def read_all(c: object, entity: str, window: Window | None = None) -> list[dict]:
    return [r for page in c.read(entity, window or Window()) for r in page]


def get(url: str, path: str, auth: tuple[str, str] | None = AUTH, **params: object):
    return requests.get(f"{url}/v2{path}", params=params, auth=auth, timeout=10)


# ---------------------------------------------------------------- the sandbox


def test_sandbox_answers_as_the_openapi_says(sandbox: tuple[str, object]) -> None:
    url, _ = sandbox
    r = get(url, "/tasks", auth=None)
    assert r.status_code == 401 and r.json() == {
        "error": 401, "success": False, "msg": "No authorization header"}  # fmt: skip
    r = get(url, "/tasks", auth=("sbx", "wrong"))
    assert r.status_code == 403 and r.json()["error"] == 403 and r.json()["success"] is False
    r = requests.get(f"{url}/v2/tasks", headers={"Authorization": "Basic \xe9\xe9"}, timeout=10)
    assert r.status_code == 403  # a malformed header is refused, never a server error
    r = requests.get(f"{url}/v2/tasks", headers={"Authorization": "Basic w6nDqTpzZWNyZXQ="},
                     timeout=10)  # fmt: skip
    assert r.status_code == 403  # a non-ASCII client id
    r = get(url, "/tasks", limit=1001)
    assert r.status_code == 400
    assert r.json() == {
        "error": {"status": 400, "message": '"limit" must be less than or equal to 1000'}
    }
    assert get(url, "/tasks", page=1, cursor=5).status_code == 400
    assert get(url, "/users", page=1).status_code == 400  # users page by cursor only
    r = get(url, "/tasks", limit=100, page=2)
    assert isinstance(r.json(), list) and len(r.json()) == 100  # a bare array
    assert r.headers["Next-Page"].endswith("page=3") and r.headers["Previous-Page"].endswith(
        "page=1"
    )
    assert r.headers["Last-Page"].endswith("page=4")
    assert "Next-Page" not in get(url, "/tasks", limit=100, page=4).headers
    assert get(url, "/tasks", limit=100, page=9).json() == []  # past the end: empty
    first = get(url, "/tasks", limit=5).json()
    after = get(url, "/tasks", limit=5, cursor=first[-1]["taskID"]).json()
    assert after[0]["taskID"] > first[-1]["taskID"]
    assert int(r.headers["X-RateLimit-Minute-Remaining"]) > 0


def test_windows_are_exclusive_as_documented(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    t = h.records("/tasks")[0]
    at = t["lastEdited"]
    ids = {x["taskID"] for x in get(url, "/tasks", start=at, end=at + 1, limit=1000).json()}
    assert t["taskID"] not in ids  # "edited after start": not at it
    ids = {x["taskID"] for x in get(url, "/tasks", start=at - 1, end=at, limit=1000).json()}
    assert t["taskID"] not in ids  # "edited before end": not at it
    ids = {x["taskID"] for x in get(url, "/tasks", start=at - 1, end=at + 1, limit=1000).json()}
    assert t["taskID"] in ids


def test_control_endpoint_changes_adds_and_deletes(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    key = {"X-Sandbox-Key": AUTH[1]}
    r = requests.patch(f"{url}/_sandbox/records/work-orders", json={"key": [16], "set": {"name": "x"}},
                       headers=key, timeout=10)  # fmt: skip
    assert r.status_code == 200 and r.json()["record"]["name"] == "x"
    assert r.json()["record"]["lastEdited"] > 1_764_547_200  # dated now
    assert requests.delete(f"{url}/_sandbox/records/assets", json={"key": [10700]}, headers=key,
                           timeout=10).status_code == 204  # fmt: skip
    assert 10700 not in {a["assetID"] for a in h.records("/assets")}
    r = requests.patch(f"{url}/_sandbox/records/work-orders", json={"key": [16], "set": {"n": 1}},
                       headers={"X-Sandbox-Key": "no"}, timeout=10)  # fmt: skip
    assert r.status_code == 401


# ---------------------------------------------------------------- the connector


def test_reads_every_entity_as_the_sandbox_holds_it(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    tasks = h.records("/tasks")
    with connector(url) as c:
        wos, pms = read_all(c, "work-orders"), read_all(c, "pm")
        assert sorted(r["taskID"] for r in wos) == sorted(
            t["taskID"] for t in tasks if not t["template"]
        )
        assert sorted(r["taskID"] for r in pms) == sorted(
            t["taskID"] for t in tasks if t["template"]
        )
        pos = read_all(c, "purchase-orders")
        items = h.records("/po/items")
        assert sum(len(p["items"]) for p in pos) == len(items)
        assert all(i["poID"] == p["poID"] for p in pos for i in p["items"])
        for entity, coll in (
            ("sites", "/locations"),
            ("assets", "/assets"),
            ("materials", "/parts"),
            ("vendors", "/vendors"),
            ("users", "/users"),
            ("teams", "/teams"),
        ):
            assert len(read_all(c, entity)) == len(h.records(coll)), entity
        assert len([k for p in c.read_keys("work-orders") for k in p]) == len(wos)
        statuses = c.statuses("work-orders")
        # the completion values records' status holds, then the customer's statuses by statusID
        assert [s["code"] for s in statuses[:2]] == ["Incomplete", "Complete"]
        assert {(s["key"], s["name"]) for s in statuses[2:]} == {
            (str(s["statusID"]), s["name"]) for s in h.records("/statuses")}  # fmt: skip


def test_keyset_paging_skips_nothing_while_records_vanish(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    with connector(url, page_size=50) as c:
        pages = c.read("assets", Window())
        first = next(pages)
        h.delete("/assets", first[0]["assetID"])  # a record already read vanishes
        rest = [r for p in pages for r in p]
    ids = [r["assetID"] for r in first + rest]
    assert len(ids) == len(set(ids)) == len(h.records("/assets")) + 1


def test_a_record_edited_at_the_window_start_is_read(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    t = next(x for x in h.records("/tasks") if not x["template"])
    start = datetime.fromtimestamp(t["lastEdited"], UTC)
    with connector(url) as c:
        got = read_all(c, "work-orders", Window(start, datetime(2030, 1, 1, tzinfo=UTC)))
        assert t["taskID"] in {r["taskID"] for r in got}
        assert all(r["lastEdited"] >= t["lastEdited"] for r in got)
        assert c.build_request("purchase-orders", Window(start)).params["lastEditedStart"] == str(
            t["lastEdited"] - 1
        )


def test_custom_fields_read_attributes_the_mapping_does_not(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    src = next(t for t in h.records("/tasks") if t["requestorName"] and not t["template"])
    cm = CompiledMapping(CONNECTOR.entities["work-orders"].mapping, ZoneInfo("UTC"),
                         {"requestor": "requestorName", "downtime": "downtime"})  # fmt: skip
    with connector(url) as c:
        raw = next(r for r in read_all(c, "work-orders") if r["taskID"] == src["taskID"])
    key, _, version, data = cm.row(raw)
    assert key == str(src["taskID"]) and version == f"{src['lastEdited']:020d}"
    assert data["customFields"] == {"requestor": src["requestorName"], "downtime": src["downtime"]}
    assert "requestorName" not in str(CONNECTOR.entities["work-orders"].mapping.fields)


def test_wrong_secret_and_rate_limits(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    with connector(url, password="wrong") as c, pytest.raises(SourceError) as info:
        c.check()
    assert info.value.status == 403 and "Invalid client id or secret" in str(info.value)
    assert "wrong" not in str(info.value)
    h.server.faults.update(fail_429=0.3, fail_500=0.1, truncate=0.1, retry_after=0)
    with connector(url, page_size=25) as c:
        assert len(read_all(c, "assets")) == len(h.records("/assets"))
        assert c.http.retries > 0


def test_rate_limit_headers_make_the_client_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    url, h = start_sandbox(seed=1, size=100, client_id=AUTH[0], secret=AUTH[1], rate_limit=3,
                           faults=Faults(1))  # fmt: skip
    waits: list[float] = []
    try:
        c = CONNECTOR(SourceSettings("t", url, {"user": AUTH[0], "password": AUTH[1]},
                                     ZoneInfo("UTC"), page_size=5), sleep=waits.append)  # fmt: skip
        with pytest.raises(SourceError):  # the budget never comes back while sleep is a no-op
            read_all(c, "assets")
        assert waits and all(w > 0 for w in waits)
    finally:
        h.stop()


def test_the_connector_class_pickles() -> None:
    """Map worker processes receive it by reference (a large sync maps in worker processes)."""
    import pickle

    assert pickle.loads(pickle.dumps(CONNECTOR)) is CONNECTOR


def test_manifest_and_mapping_stay_small() -> None:
    lines = sum(len((FOLDER / f).read_text().splitlines()) for f in ("manifest.yaml", "mapping.py"))
    assert lines < 350  # 24 entities (issue 15: every Makini resource Limble has)
    readme = (FOLDER / "README.md").read_text()
    assert f"{lines} lines" in readme  # the README's count is the true one


def test_basic_auth_header_is_what_limble_documents(sandbox: tuple[str, object]) -> None:
    url, _ = sandbox
    token = base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()
    r = requests.get(f"{url}/v2/regions", headers={"Authorization": f"Basic {token}"}, timeout=10)
    assert r.status_code == 200 and r.json()[0]["regionName"]


def test_connection_test_through_the_connection_form(sandbox: tuple[str, object]) -> None:
    from connectors.connection import ConnFields, check, settings_from

    url, _ = sandbox

    def conn(secret: str) -> object:
        fields = ConnFields(host=url, login=AUTH[0], password=secret, conn_type="millwright_limble")
        return settings_from("limble", fields, connection_id="c", timezone=ZoneInfo("UTC"))

    assert conn(AUTH[1]).credentials == {"user": AUTH[0], "password": AUTH[1]}
    assert check("limble", conn(AUTH[1])) is None
    reason = check("limble", conn("a-wrong-secret"))
    assert reason is not None and "403" in reason and "a-wrong-secret" not in reason
