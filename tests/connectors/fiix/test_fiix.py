"""Fiix: signing as the public clients sign, the sandbox refusing what Fiix refuses with Fiix's
error objects, throttling with the wait advisory, keyset paging, windows, BatchRequest, ql."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
import requests

from connectors.base import SourceError, SourceSettings, Window
from connectors.fiix import CONNECTOR
from connectors.fiix import protocol as p
from connectors.fiix.sandbox import start_sandbox
from connectors.fiix.sandbox.ql import QlError, compile_ql
from connectors.kit.sandbox.faults import Faults
from include.mapping.compiled import CompiledMapping

KEYS = ("app-1", "access-1", "secret-1")
UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture
def sandbox() -> Iterator[tuple[str, object]]:
    url, handle = start_sandbox(seed=2, size=600, keys=KEYS)
    try:
        yield url, handle
    finally:
        handle.stop()


def connector(url: str, page_size: int = 100, sleep=None, **creds: str) -> object:
    credentials = {**dict(zip(("app_key", "access_key", "secret_key"), KEYS, strict=True)), **creds}
    settings = SourceSettings("t", url, credentials, UTC_ZONE, page_size=page_size,
                              options={"retry_base_delay": 0.01})  # fmt: skip
    return CONNECTOR(settings, sleep) if sleep else CONNECTOR(settings)


def read_all(c: object, entity: str, window: Window | None = None) -> list[dict]:
    return [r for page in c.read(entity, window or Window()) for r in page]


def post(url: str, body: dict, secret: str = KEYS[2], keys: tuple[str, str] = KEYS[:2],
         action: str | None = None) -> requests.Response:  # fmt: skip
    uri, headers = p.signed_uri(f"{url}/api/", action or body[p.MAGIC], keys[0], keys[1], secret,
                                1_700_000_000_000)  # fmt: skip
    return requests.post(uri, data=orjson.dumps(body), headers=headers, timeout=10)


FIND = {p.MAGIC: "FindRequest", "className": "WorkOrder", "fields": "id, strCode", "maxObjects": 2}


# ---------------------------------------------------------------- the protocol


def test_signing_is_the_java_clients() -> None:
    uri, headers = p.signed_uri("https://acme.macmms.com/api/", "FindRequest", "app key",
                                "acc/key", "s3cret", 1700000000123)  # fmt: skip
    assert uri == ("https://acme.macmms.com/api/?action=FindRequest&service=cmms"
                   "&accessKey=acc%2Fkey&appKey=app%20key&timestamp=1700000000123"
                   "&signatureVersion=1&signatureMethod=HmacSHA256")  # fmt: skip
    message = uri.removeprefix("https://").encode()
    assert headers["Authorization"] == hmac.new(b"s3cret", message, hashlib.sha256).hexdigest()
    assert headers["Content-Type"] == "text/plain"
    assert p.encode_component("a+b (c)!*~'") == "a%2Bb%20(c)!*~'"  # like encodeURIComponent


def test_request_bodies_carry_the_envelope() -> None:
    find = p.FindRequest("Asset", "id, strName", (p.FindFilter("id > ?", (5,)),), "id", 0, 10)
    body = p.request_body(p.BatchRequest((find, p.RpcRequest("Ping"))), 7, 1_700_000_000_000)
    assert body[p.MAGIC] == "BatchRequest" and body["requestId"] == 7
    assert body["clientVersion"]["major"] == 2 and body["requestSentUnixTime"] == 1_700_000_000_000
    [sub, rpc] = body["requests"]
    assert sub == {p.MAGIC: "FindRequest", "className": "Asset", "fields": "id, strName",
                   "filters": [{"ql": "id > ?", "parameters": [5]}], "orderBy": "id",
                   "startIndex": 0, "maxObjects": 10}  # fmt: skip
    assert rpc == {p.MAGIC: "RpcRequest", "name": "Ping"}


# ---------------------------------------------------------------- the sandbox


def test_a_wrong_signature_is_refused_with_fiixs_error_object(sandbox: tuple[str, object]) -> None:
    url, _ = sandbox
    r = post(url, FIND, secret="not-the-secret")
    assert r.status_code == 200  # Fiix answers its errors in the body
    body = r.json()
    assert body[p.MAGIC] == "FindResponse" and "objects" not in body
    err = body["error"]
    assert set(err) >= {"leg", "code", "message"} and err["leg"] in p.LEGS
    assert err["code"] == p.AUTH_BAD_SIGNATURE and "signature" in err["message"]
    assert post(url, FIND, keys=("app-1", "someone")).json()["error"]["code"] == p.AUTH_UNKNOWN_KEY
    r = requests.post(f"{url}/api/?action=FindRequest&service=cmms", data=orjson.dumps(FIND),
                      timeout=10)  # fmt: skip
    assert r.json()["error"]["code"] == p.AUTH_MISSING
    # a malformed signature header is a refusal, never a server error
    uri, headers = p.signed_uri(f"{url}/api/", "FindRequest", *KEYS, 1)
    r = requests.post(uri, data=orjson.dumps(FIND), timeout=10,
                      headers={**headers, "Authorization": "sig\xe9n\xe9e"})  # fmt: skip
    assert r.status_code == 200 and r.json()["error"]["code"] == p.AUTH_BAD_SIGNATURE
    # the signature covers the whole URI: the same signature on another query is refused
    uri, headers = p.signed_uri(f"{url}/api/", "FindRequest", *KEYS, 1)
    r = requests.post(uri.replace("timestamp=1", "timestamp=2"), data=orjson.dumps(FIND),
                      headers=headers, timeout=10)  # fmt: skip
    assert r.json()["error"]["code"] == p.AUTH_BAD_SIGNATURE


def test_requests_and_responses(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    r = post(url, FIND).json()
    assert r[p.MAGIC] == "FindResponse" and r["totalObjects"] == 600 and r["serverVersion"]
    assert [set(o) for o in r["objects"]] == [{"className", "id", "strCode"}] * 2
    assert post(url, FIND, action="AddRequest").json()["error"]["code"] == p.BAD_REQUEST
    for bad_value in ({"startIndex": "x"}, {"maxObjects": [1]}, {"filters": "id > 1"}):
        assert post(url, {**FIND, **bad_value}).json()["error"]["code"] in (
            p.BAD_REQUEST, p.BAD_FILTER)  # fmt: skip
    bad = post(url, {**FIND, "fields": "id, nope"}).json()["error"]
    assert bad["code"] == p.UNKNOWN_FIELD and "nope" in bad["message"]
    bad = post(url, {**FIND, "filters": [{"ql": "id > ? AND", "parameters": [1]}]}).json()["error"]
    assert bad["code"] == p.BAD_FILTER
    wo = h.records("WorkOrder")[0]
    one = post(url, {p.MAGIC: "FindByIdRequest", "className": "WorkOrder", "id": wo["id"],
                     "fields": "id, dv_intWorkOrderStatusID"}).json()  # fmt: skip
    status = h.record("WorkOrderStatus", wo["intWorkOrderStatusID"])["strName"]
    assert one[p.MAGIC] == "FindByIdResponse" and one["object"]["dv_intWorkOrderStatusID"] == status
    ch = post(url, {p.MAGIC: "ChangeRequest", "className": "WorkOrder", "changeFields": "strCode",
                    "object": {"id": wo["id"], "strCode": "NEW"}, "fields": "id, strCode"}).json()  # fmt: skip
    assert ch[p.MAGIC] == "ChangeResponse" and ch["object"]["strCode"] == "NEW"
    assert h.record("WorkOrder", wo["id"])["dtmDateLastModified"] > wo["dtmDateLastModified"]
    rm = post(url, {p.MAGIC: "RemoveRequest", "className": "WorkOrder", "id": wo["id"]}).json()
    assert rm == {p.MAGIC: "RemoveResponse", "count": 1, "serverVersion": rm["serverVersion"]}
    batch = post(url, {p.MAGIC: "BatchRequest", "requests": [FIND, {**FIND, "className": "Nope"}]})
    subs = batch.json()["responses"]
    assert len(subs[0]["objects"]) == 2 and subs[1]["error"]["code"] == p.UNKNOWN_CLASS


def test_throttling_answers_code_1100_with_a_wait_advisory() -> None:
    url, h = start_sandbox(seed=1, size=50, keys=KEYS, rate_limit=2, rate_window=30)
    try:
        assert post(url, FIND).status_code == post(url, FIND).status_code == 200
        r = post(url, FIND)
        assert r.status_code == 429
        err = p.FiixError.from_json(r.json()["error"])
        assert err.throttled and 0 < err.wait_ms <= 30_000
    finally:
        h.stop()


def test_ql() -> None:
    fields = {"id", "intSiteID", "strCode", "dtmDateLastModified"}
    recs = [{"id": i, "intSiteID": i % 3, "strCode": f"WO{i}", "dtmDateLastModified": i * 1000}
            for i in range(10)]  # fmt: skip

    def ids(ql: str, *params: object) -> list[int]:
        pred = compile_ql(ql, params, fields, UTC_ZONE)
        return [r["id"] for r in recs if pred(r)]

    assert ids("intSiteID = ? AND (strCode LIKE ? OR id > ?)", 1, "WO4", 8) == [4]
    assert ids("intSiteID = 1 OR id IN (?, ?)", 2, 3) == [1, 2, 3, 4, 7]
    assert ids("NOT intSiteID = 0 AND id < 3") == [1, 2]
    assert ids("dtmDateLastModified >= ? AND dtmDateLastModified < ?",
               "1970-01-01 00:00:02", 4000) == [2, 3]  # fmt: skip
    for bad, params in (("id >", ()), ("nope = ?", (1,)), ("id = ?", ()), ("id = ?", (1, 2))):
        with pytest.raises(QlError):
            compile_ql(bad, params, fields, UTC_ZONE)


# ---------------------------------------------------------------- the connector


def test_reads_every_entity(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    assets = h.records("Asset")
    expect = {
        "sites": sum(a["bolIsSite"] == 1 for a in assets),
        "locations": sum(a["intSuperCategorySysCode"] == 1 and not a["bolIsSite"] for a in assets),
        "assets": sum(a["intSuperCategorySysCode"] in (2, 3) for a in assets),
        "materials": sum(a["intSuperCategorySysCode"] == 4 for a in assets),
        "stocks": len(h.records("Stock")), "work-orders": 600,
        "pm": len(h.records("ScheduledMaintenance")),
        "purchase-orders": len(h.records("PurchaseOrder")), "vendors": len(h.records("Business")),
        "users": sum(u["bolGroup"] == 0 for u in h.records("User")),
        "teams": sum(u["bolGroup"] == 1 for u in h.records("User")),
        "meter-readings": len(h.records("MeterReading")),
    }  # fmt: skip
    with connector(url) as c:
        c.check()
        for entity, n in expect.items():
            rows = read_all(c, entity)
            assert len(rows) == len({r["id"] for r in rows}) == n, entity
        pos = read_all(c, "purchase-orders")
        assert sum(len(po["lines"]) for po in pos) == len(h.records("PurchaseOrderLineItem"))
        assert {s["name"] for s in c.statuses("purchase-orders")} == {
            s["strName"] for s in h.records("PurchaseOrderStatus")}  # fmt: skip
    calls = h.service.calls
    assert calls["RpcRequest"] == 1 and calls["BatchRequest"] >= 2  # lines and PM assets


def test_many_lines_per_chunk_are_paged_within_the_batch(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    po = h.records("PurchaseOrder")[0]
    for _ in range(250):
        h.add("PurchaseOrderLineItem", intPurchaseOrderID=po["id"], qtyOnOrder=1.0)
    with connector(url) as c:
        c.max_page_size = 100  # sub-requests of 100: the PO's lines take three
        rows = c.attach_lines("purchase-orders", [{"id": po["id"]}])
    expected = [
        x["id"] for x in h.records("PurchaseOrderLineItem") if x["intPurchaseOrderID"] == po["id"]
    ]
    assert sorted(line["id"] for line in rows[0]["lines"]) == sorted(expected)
    assert len(expected) > 250


def test_keyset_paging_skips_nothing_while_records_vanish(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    with connector(url, page_size=50) as c:
        pages = c.read("work-orders", Window())
        first = next(pages)
        for r in first[:10]:
            h.delete("WorkOrder", r["id"])  # offset paging would now skip ten records
        rest = [r for page in pages for r in page]
    ids = [r["id"] for r in first + rest]
    assert len(ids) == len(set(ids)) == 600


def test_windows_include_their_start_and_exclude_their_end(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    wos = h.records("WorkOrder")
    start_ms = sorted({w["dtmDateLastModified"] for w in wos})[-5]
    ties = [w["id"] for w in wos if w["dtmDateLastModified"] == start_ms]
    end_ms = max(w["dtmDateLastModified"] for w in wos)
    start, end = (datetime.fromtimestamp(ms / 1000, UTC) for ms in (start_ms, end_ms))
    with connector(url, page_size=3) as c:
        got = read_all(c, "work-orders", Window(start, end))
        body = c.build_request("work-orders", Window(start, end)).json
    ids = {r["id"] for r in got}
    assert set(ties) <= ids  # every record at exactly the start (ties), across pages of 3
    assert all(start_ms <= r["dtmDateLastModified"] < end_ms for r in got)
    assert body["orderBy"] == "dtmDateLastModified, id"
    assert body["filters"][-1]["parameters"][0] == start.strftime("%Y-%m-%d %H:%M:%S")


def test_throttled_calls_wait_the_advised_time() -> None:
    url, h = start_sandbox(seed=1, size=300, keys=KEYS,
                           faults=Faults(1, fail_429=0.2, rpc=0.2, retry_after=0.25))  # fmt: skip
    waits: list[float] = []
    try:
        with connector(url, page_size=20, sleep=waits.append) as c:
            assert len(read_all(c, "work-orders")) == 300
        counts = h.server.faults.counts
        assert counts["429"] and counts["rpc"]  # both answers: HTTP 429 and HTTP 200, code 1100
        assert waits.count(0.25) == counts["429"] + counts["rpc"]
    finally:
        h.stop()


def test_a_refused_signature_names_its_cause(sandbox: tuple[str, object]) -> None:
    url, _ = sandbox
    with connector(url, secret_key="wrong-secret") as c, pytest.raises(SourceError) as info:
        read_all(c, "work-orders")
    e = info.value
    assert e.status == 401  # an authentication failure: not retried by the DAG
    assert "refused the request signature" in str(e) and "check the secret key" in str(e)
    assert f"code {p.AUTH_BAD_SIGNATURE}" in str(e) and "wrong-secret" not in str(e)
    with connector(url, app_key="who") as c, pytest.raises(SourceError) as info:
        c.check()
    assert "does not know the application or access key" in str(info.value)
    with pytest.raises(ValueError, match="secret_key"):
        connector(url, secret_key="")


def test_the_connector_class_pickles() -> None:
    import pickle

    assert pickle.loads(pickle.dumps(CONNECTOR)) is CONNECTOR


def test_custom_fields_ask_for_and_read_other_attributes(sandbox: tuple[str, object]) -> None:
    url, h = sandbox
    wo = h.records("WorkOrder")[3]
    h.update("WorkOrder", wo["id"], strAdminNotes="ask for the key at the gate")
    settings = SourceSettings(
        "t", url, dict(zip(("app_key", "access_key", "secret_key"), KEYS, strict=True)), UTC_ZONE,
        options={"requested_fields": {"work-orders": ["strAdminNotes"]}},
    )  # fmt: skip
    cm = CompiledMapping(CONNECTOR.entities["work-orders"].mapping, UTC_ZONE,
                         {"adminNotes": "strAdminNotes"})  # fmt: skip
    with CONNECTOR(settings) as c:
        raw = next(r for r in read_all(c, "work-orders") if r["id"] == wo["id"])
    assert cm.row(raw)[3]["customFields"] == {"adminNotes": "ask for the key at the gate"}


def test_connection_test_through_the_connection_form(sandbox: tuple[str, object]) -> None:
    """The Airflow connection type's test (`connectors.connection.check`): a Ping with the keys
    from the form's fields; a wrong secret gives a plain reason that names the refused signature."""
    from connectors.connection import ConnFields, check, settings_from

    url, _ = sandbox

    def conn(secret: str) -> object:
        fields = ConnFields(host=url, login=KEYS[1], password=secret, extra={"app_key": KEYS[0]},
                            conn_type="millwright_fiix")  # fmt: skip
        return settings_from("fiix", fields, connection_id="c", timezone=UTC_ZONE)

    assert conn(KEYS[2]).credentials == dict(
        zip(("app_key", "access_key", "secret_key"), KEYS, strict=True)
    )
    assert check("fiix", conn(KEYS[2])) is None
    reason = check("fiix", conn("a-wrong-secret"))
    assert reason is not None and "401" in reason and "signature" in reason
    assert "a-wrong-secret" not in reason
