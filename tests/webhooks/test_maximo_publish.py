"""Maximo publish channels as webhooks (connectors/maximo/publish.py): the sandbox's channels
post Maximo's own publish messages (XML ``PublishMXWO``/``MXWOSet``/``WORKORDER``, or the JSON form
with ``Attributes``/``content``) with a static secret header or basic auth to the real receiver;
applying them re-reads the records by their natural key (``siteid`` + ``wonum``...), upserts the
changes and soft-deletes a deleted record (its composite key is in the message). A malformed or
unusable message is a 400 naming what is wrong, and nothing is stored for it."""

from __future__ import annotations

import httpx
import pytest

from connectors.base import Window
from connectors.maximo import CONNECTOR
from connectors.maximo.publish import PublishChannel, key_where
from connectors.maximo.sandbox import start_sandbox
from include.api.webhooks import WebhookSource
from include.config import ConnectionConfig
from include.store.inbox import Inbox
from include.sync.events import apply_pending
from include.webhooks.spec import EventTarget
from tests.connectors.maximo.conftest import connector
from tests.webhooks.conftest import ThreadServer, receiver_app

WO, ASSETS, STORES = "work-orders", "assets", "storerooms"
SECRET = "m-secret"
PARSE = PublishChannel({WO: ("siteid", "wonum"), ASSETS: ("siteid", "assetnum"),
                        "locations": ("siteid", "location"), STORES: ("siteid", "location")})  # fmt: skip


def _cfg(cid: str) -> ConnectionConfig:
    return ConnectionConfig(id=cid, customer="acme", system="maximo", airflow_conn_id=f"{cid}_c",
                            entities=[WO, ASSETS, STORES], webhooks={})  # fmt: skip


def _records(conn, os_entity: str, n: int) -> list[dict]:  # noqa: ANN001
    out = []
    for page in conn.read(os_entity, Window()):
        out += page
        if len(out) >= n:
            break
    return out[:n]


def test_publish_channel_messages_apply_by_re_reading_the_key(store) -> None:
    url, handle = start_sandbox(seed=21, size=60)
    sources = {"mxp": WebhookSource("mxp", "active", "header", (SECRET,),
                                    spec=CONNECTOR.webhooks)}  # fmt: skip
    conn = connector(url)
    try:
        wos, assets = _records(conn, WO, 4), _records(conn, ASSETS, 1)
        with ThreadServer(receiver_app(store, sources)) as server:
            receiver = f"{server.url}/webhooks/mxp"
            handle.publish.add("MXAPIWODETAIL", receiver, SECRET)  # XML, x-webhook-secret
            handle.publish.add("MXAPIASSET", receiver, SECRET, format="json")
            for i, w in enumerate(wos[:3]):
                handle.mutate("MXAPIWODETAIL", (w["siteid"], w["wonum"]), description=f"pub {i}")
            a = assets[0]
            handle.mutate("MXAPIASSET", (a["siteid"], a["assetnum"]), description="pub asset")
            assert handle.publish.wait(20)
            sent = list(handle.publish.deliveries)
            assert len(sent) == 4 and all(d.attempts == [200] for d in sent), sent
            assert sent[0].body.startswith(b"<?xml") and b"<MXWOSet>" in sent[0].body
            assert b'"MXASSETSet"' in sent[-1].body
            # a redelivery (Maximo's Message Reprocessing resends the same message) is stored once
            r = httpx.post(receiver, content=sent[0].body, headers=sent[0].headers)
            assert r.status_code == 200 and r.json()["duplicate"] is True, r.text

        cfg = _cfg("mxp")
        result = apply_pending(store, cfg, conn, run_id="t1")
        assert (result.processed, result.failed, result.reread) == (4, 0, 4), result.errors
        for i, w in enumerate(wos[:3]):
            got = store.get_record("mxp", WO, f"{w['siteid']}:{w['wonum']}")
            assert got["data"]["title"] == f"pub {i}" and got["deleted_at"] is None
        assert store.get_record("mxp", ASSETS, f"{a['siteid']}:{a['assetnum']}")["data"][
            "name"] == "pub asset"  # fmt: skip

        # a delete in Maximo: the channel publishes action="Delete"; the re-read finds nothing,
        # and the composite key from the message soft-deletes the stored record
        gone = wos[0]
        with ThreadServer(receiver_app(store, sources)) as server:
            handle.publish.channels[1].url = f"{server.url}/webhooks/mxp"
            assert handle.delete("MXAPIWODETAIL", (gone["siteid"], gone["wonum"]))
            assert handle.publish.wait(20)
            last = handle.publish.deliveries[-1]
            assert b'action="Delete"' in last.body and last.attempts == [200], last
        result = apply_pending(store, cfg, conn, run_id="t2")
        assert (result.processed, result.deleted, result.failed) == (1, 1, 0), result.errors
        row = store.get_record("mxp", WO, f"{gone['siteid']}:{gone['wonum']}")
        assert row["deleted_at"] is not None
    finally:
        conn.close()
        handle.stop()


def test_basic_auth_channel_and_a_wrong_secret(store) -> None:
    url, handle = start_sandbox(seed=22, size=30)
    sources = {"mxb": WebhookSource("mxb", "active", "basic", ("maxadmin:pw",),
                                    spec=CONNECTOR.webhooks)}  # fmt: skip
    conn = connector(url)
    try:
        w = _records(conn, WO, 1)[0]
        with ThreadServer(receiver_app(store, sources)) as server:
            good = handle.publish.add("MXAPIWODETAIL", f"{server.url}/webhooks/mxb", "maxadmin:pw",
                                      auth="basic")  # fmt: skip
            handle.mutate("MXAPIWODETAIL", (w["siteid"], w["wonum"]), description="basic")
            assert handle.publish.wait(20)
            handle.publish.remove(good.id)
            handle.publish.retries, handle.publish.backoff = 1, 0.01
            handle.publish.add("MXAPIWODETAIL", f"{server.url}/webhooks/mxb", "maxadmin:wrong",
                               auth="basic")  # fmt: skip
            handle.mutate("MXAPIWODETAIL", (w["siteid"], w["wonum"]), description="refused")
            assert handle.publish.wait(20)
        first, second = handle.publish.deliveries
        assert first.attempts == [200] and second.attempts == [401, 401]
        assert handle.publish.errors == [second]  # parked, as Maximo's error queue does
        assert len(Inbox(store.engine).events("mxb", limit=10)) == 1
        result = apply_pending(store, _cfg("mxb"), conn, run_id="t")
        assert result.processed == 1 and result.failed == 0, result.errors
        got = store.get_record("mxb", WO, f"{w['siteid']}:{w['wonum']}")
        assert got["data"]["title"] == "refused"  # the re-read sees Maximo's current record
    finally:
        conn.close()
        handle.stop()


XML_OK = ('<?xml version="1.0" encoding="UTF-8"?><PublishMXWO xmlns="http://www.ibm.com/maximo" '
          'messageID="1"><MXWOSet><WORKORDER action="Replace"><WONUM>1001</WONUM>'
          "<SITEID>BEDFORD</SITEID></WORKORDER></MXWOSet></PublishMXWO>")  # fmt: skip


@pytest.mark.parametrize(("body", "ctype", "reason"), [
    ("<PublishMXWO><MXWOSet><WORKORDER>", "application/xml", "the XML is malformed"),
    ('{"PublishMXWO": {"MXWOSet": ', "application/json", "the body is not JSON"),
    ("<PublishMXWO><Other/></PublishMXWO>", "text/xml", "must hold one <ObjectStructure>Set"),
    ("<PublishMXWO><MXWOSet/></PublishMXWO>", None, "holds no record"),
    ("<PublishMXWO><MXWOSet><WORKORDER><WONUM>1</WONUM></WORKORDER></MXWOSet></PublishMXWO>",
     None, "WORKORDER record 1 has no SITEID"),
    ("<PublishMXX><MXXSet><WIDGET><A>1</A></WIDGET></MXXSet></PublishMXX>", None,
     "record 1 is a WIDGET, not an object Millwright reads"),
    ('<!DOCTYPE x [<!ENTITY a "b">]><PublishMXWO/>', None, "DOCTYPE or ENTITY"),
    ('{"MXWO": [1, 2]}', None, "must be an object holding <OS>Set"),
    ('{"a": 1, "b": 2}', "application/json", "one Maximo publish channel message"),
    ("plain text", "text/plain", "neither XML nor JSON"),
    (XML_OK, "application/json", "the body is not JSON"),  # content-type says JSON: parsed so
])  # fmt: skip
def test_malformed_messages_are_400_naming_the_problem_and_store_nothing(
    store, body: str, ctype: str | None, reason: str
) -> None:
    sources = {"mxm": WebhookSource("mxm", "active", "header", (SECRET,),
                                    spec=CONNECTOR.webhooks)}  # fmt: skip
    headers = {"x-webhook-secret": SECRET, **({"content-type": ctype} if ctype else {})}
    with ThreadServer(receiver_app(store, sources)) as server:
        r = httpx.post(f"{server.url}/webhooks/mxm", content=body.encode(), headers=headers)
        assert r.status_code == 400, r.text
        assert reason in r.text, r.text
        assert Inbox(store.engine).events("mxm", limit=10) == []
        # wrong secret first: 401 before the body is read as a message
        r = httpx.post(f"{server.url}/webhooks/mxm", content=XML_OK.encode(),
                       headers={"x-webhook-secret": "nope"})  # fmt: skip
        assert r.status_code == 401
        r = httpx.post(f"{server.url}/webhooks/mxm", content=XML_OK.encode(),
                       headers={"x-webhook-secret": SECRET, "content-type": "application/xml"})  # fmt: skip
        assert r.status_code == 200, r.text
        assert len(Inbox(store.engine).events("mxm", limit=10)) == 1


def test_message_shapes() -> None:
    key = (("siteid", "BEDFORD"), ("wonum", "1001"))
    assert PARSE(XML_OK, "application/xml") == [EventTarget(WO, "", key)]
    assert PARSE(XML_OK, None) == [EventTarget(WO, "", key)]  # sniffed (the apply step)
    attrs = ('{"PublishMXWO": {"messageID": "1", "MXWOSet": {"WORKORDER": {"action": "Replace", '
             '"Attributes": {"WONUM": {"content": 1001}, "SITEID": {"content": "BEDFORD"}}}}}}')  # fmt: skip
    assert PARSE(attrs, "application/json") == [EventTarget(WO, "", key)]
    plain = '{"PublishMXWO": {"MXWOSet": {"WORKORDER": [{"wonum": "1001", "siteid": "BEDFORD"}]}}}'
    assert PARSE(plain, None) == [EventTarget(WO, "", key)]
    loc = ("<PublishMXOPERLOC><MXOPERLOCSet><LOCATIONS><LOCATION>CENTRAL</LOCATION>"
           "<SITEID>BEDFORD</SITEID></LOCATIONS></MXOPERLOCSet></PublishMXOPERLOC>")  # fmt: skip
    assert {t.entity for t in PARSE(loc, None)} == {"locations", STORES}
    assert PARSE('{"entity": "work-orders", "id": 7}', None) is None  # the generic shape
    # every entity the connector reads comes from a main object a message can name, and a
    # message with that entity's key fields names it (keys from the manifest)
    from connectors.maximo.client import MANIFEST
    from connectors.maximo.publish import MAIN_OBJECTS, NOT_PUBLISHED

    named = {e for v in MAIN_OBJECTS.values() for e in v}
    assert named == set(CONNECTOR.entities) - set(NOT_PUBLISHED)
    for obj, entities in MAIN_OBJECTS.items():
        fields = {f for e in entities for f in MANIFEST.entity(e).key}
        xml = "".join(f"<{f.upper()}>v{f}</{f.upper()}>" for f in sorted(fields))
        got = CONNECTOR.webhooks.parse(f"<P><S1Set><{obj}>{xml}</{obj}></S1Set></P>", None)
        assert got == [EventTarget(e, "", tuple((f, f"v{f}") for f in MANIFEST.entity(e).key))
                       for e in entities], obj  # fmt: skip


def test_key_reread_keeps_the_entitys_own_filter_and_only_exact_keys() -> None:
    assert key_where(("siteid", "wonum"), [{"siteid": "B", "wonum": "1"},
                                           {"siteid": "C", "wonum": "2"}]) == (
        'siteid in ["B","C"] and wonum in ["1","2"]')  # fmt: skip
    with pytest.raises(ValueError, match="cannot be queried"):
        key_where(("siteid",), [{"siteid": 'B" or 1=1'}])
    url, handle = start_sandbox(seed=23, size=80)
    conn = connector(url)
    try:
        stores = _records(conn, STORES, 2)
        wos = _records(conn, WO, 40)
        assert len(stores) == 2
        a = wos[0]  # two keys differing in both fields: the query lists a superset of four
        b = next(w for w in wos if w["siteid"] != a["siteid"] and w["wonum"] != a["wonum"])
        keys = [{"siteid": a["siteid"], "wonum": a["wonum"]},
                {"siteid": b["siteid"], "wonum": b["wonum"]}]  # fmt: skip
        got = [r for page in conn.read_records_by_key(WO, keys) for r in page]
        assert sorted((r["siteid"], r["wonum"]) for r in got) == sorted(
            (k["siteid"], k["wonum"]) for k in keys)  # fmt: skip
        # storerooms keep type="STOREROOM": a plain location's key finds no storeroom
        plain = next(r for r in _records(conn, "locations", 60) if r.get("type") != "STOREROOM")
        keys = [{"siteid": s["siteid"], "location": s["location"]} for s in stores]
        keys.append({"siteid": plain["siteid"], "location": plain["location"]})
        got = [r for page in conn.read_records_by_key(STORES, keys) for r in page]
        assert sorted(r["location"] for r in got) == sorted(s["location"] for s in stores)
    finally:
        conn.close()
        handle.stop()


def test_control_endpoint_sets_up_a_channel_and_its_changes_publish(store) -> None:
    """From another process: ``POST /_sandbox/publish`` adds a channel, a ``PATCH`` of
    ``/_sandbox/records/work-orders`` (the kit's control endpoint) publishes the change."""
    from connectors.maximo.sandbox import DEFAULT_API_KEY

    url, handle = start_sandbox(seed=24, size=20)
    sources = {"mxc": WebhookSource("mxc", "active", "header", (SECRET,), header="x-mx-token",
                                    spec=CONNECTOR.webhooks)}  # fmt: skip
    key = {"X-Sandbox-Key": DEFAULT_API_KEY}
    try:
        w = handle.sandbox.table("MXAPIWODETAIL").base(0)
        with ThreadServer(receiver_app(store, sources)) as server, httpx.Client() as http:
            r = http.post(f"{url}/_sandbox/publish", headers={"X-Sandbox-Key": "wrong"}, json={})
            assert r.status_code == 401
            r = http.post(f"{url}/_sandbox/publish", headers=key, json={"entity": "widgets"})
            assert r.status_code == 400 and "no publish channel" in r.text
            r = http.post(f"{url}/_sandbox/publish", headers=key, json={
                "entity": WO, "url": f"{server.url}/webhooks/mxc", "secret": SECRET,
                "header": "X-MX-Token", "format": "json"})  # fmt: skip
            assert r.status_code == 201, r.text
            r = http.patch(f"{url}/_sandbox/records/{WO}", headers=key,
                           json={"key": [w["siteid"], w["wonum"]], "set": {"description": "ctl"}})  # fmt: skip
            assert r.status_code == 200, r.text
            assert handle.publish.wait(20)
            listed = http.get(f"{url}/_sandbox/publish", headers=key).json()
            assert listed["sent"] == 1 and listed["errors"] == 0, listed
            assert handle.publish.deliveries[0].attempts == [200]
        conn = connector(url)
        result = apply_pending(store, _cfg("mxc"), conn, run_id="t")
        conn.close()
        assert result.processed == 1 and result.failed == 0, result.errors
        got = store.get_record("mxc", WO, f"{w['siteid']}:{w['wonum']}")
        assert got["data"]["title"] == "ctl"
    finally:
        handle.stop()


def test_every_published_entity_re_reads_by_its_key() -> None:
    """For every entity a message can name: three records read as a sync reads them are found
    again by their key alone (numeric keys unquoted, the entity's own filter kept, its transform
    applied: documents carry their owner's key)."""
    from connectors.maximo.client import MANIFEST
    from connectors.maximo.publish import MAIN_OBJECTS

    url, handle = start_sandbox(seed=25, size=60)
    conn = connector(url)
    try:
        for entity in sorted({e for v in MAIN_OBJECTS.values() for e in v}):
            fields = MANIFEST.entity(entity).key
            rows = _records(conn, entity, 3)
            assert rows, entity
            keys = [{f: str(r[f]) for f in fields} for r in rows]
            got = [r for page in conn.read_records_by_key(entity, keys) for r in page]
            assert sorted(tuple(str(r[f]) for f in fields) for r in got) == sorted(
                tuple(k[f] for f in fields) for k in keys), entity  # fmt: skip
            if entity == "documents":
                assert all("_ownerkey" in r for r in got)
    finally:
        conn.close()
        handle.stop()
