"""The connector against the sandbox: paging, windows, segments, faults, auth, CSRF, fields."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from connectors.base import SourceError, Window
from connectors.sap_s4hana.mapping import ENTITIES, combine_date_time
from connectors.sap_s4hana.sandbox import start
from connectors.sap_s4hana.sandbox.data import BASE
from include.mapping import CompiledMapping

from .conftest import connector

UTC_TZ = ZoneInfo("UTC")


def _all(pages) -> list[dict]:
    return [r for page in pages for r in page]


def test_paging_follows_next_to_the_end(sandbox):
    url, handle = sandbox
    before = handle.server.requests
    with connector(url) as c:
        pages = list(c.read("work-orders", Window()))
    keys = [r["MaintenanceOrder"] for p in pages for r in p]
    assert len(pages) == 15  # 3000 orders, server pages of 200
    assert len(keys) == len(set(keys)) == 3000
    assert handle.server.requests - before == 1 + 15  # $metadata + one request per page
    stamps = [(r["LastChangeDateTime"], r["MaintenanceOrder"]) for p in pages for r in p]
    assert [int(s[0][6:-7]) for s in stamps] == sorted(int(s[0][6:-7]) for s in stamps)


def test_windows_are_half_open_and_lose_nothing_at_a_shared_timestamp(sandbox):
    url, _ = sandbox
    # orders i share LastChangeDateTime BASE + (i // 50) minutes: 50 records sit on each boundary
    t = [BASE + timedelta(minutes=m) for m in (3, 7, 11)]
    with connector(url) as c:
        first = _all(c.read("work-orders", Window(t[0], t[1])))
        second = _all(c.read("work-orders", Window(t[1], t[2])))
    k1 = {r["MaintenanceOrder"] for r in first}
    k2 = {r["MaintenanceOrder"] for r in second}
    assert not k1 & k2
    assert k1 | k2 == {str(4000000 + i) for i in range(150, 550)}
    assert {
        str(4000000 + i) for i in range(350, 400)
    } <= k2  # the boundary group: start is inclusive


def test_sub_second_window_end_is_not_rounded_down(sandbox):
    url, _ = sandbox
    end = BASE + timedelta(minutes=2, microseconds=500)  # records at exactly +2min must be read
    with connector(url) as c:
        keys = {r["MaintenanceOrder"] for r in _all(c.read("work-orders", Window(BASE, end)))}
    assert {str(4000000 + i) for i in range(100, 150)} <= keys


def test_vendor_window_on_local_change_date_and_time():
    tz = "America/New_York"
    url, handle = start(size=4000, timezone=tz)  # 200 business partners
    try:
        zone = ZoneInfo(tz)
        start_, end = BASE + timedelta(hours=1), BASE + timedelta(hours=3, minutes=5)
        expected = set()
        for bp in handle.records("A_BusinessPartner"):
            if not bp["Supplier"]:
                continue
            wall = combine_date_time(bp["LastChangeDate"], bp["LastChangeTime"]) if bp[
                "LastChangeDate"] else combine_date_time(bp["CreationDate"], bp["CreationTime"])  # fmt: skip
            if start_ <= wall.replace(tzinfo=zone) < end:
                expected.add(bp["Supplier"])
        assert len(expected) > 10
        with connector(url, tz=tz) as c:
            got = _all(c.read("vendors", Window(start_, end)))
            mapping = CompiledMapping(ENTITIES["vendors"].mapping, zone)
            mapped = [mapping(r) for r in got]
        assert {r["Supplier"] for r in got} == expected
        assert all(start_ <= datetime.fromisoformat(m.version) < end for m in mapped)
        # a never-changed partner (no LastChangeDate) is found by its creation time
        handle.add("A_BusinessPartner", {
            "BusinessPartner": "99", "Supplier": "99", "BusinessPartnerFullName": "New Co",
            "CreationDate": "/Date(1704067200000)/", "CreationTime": "PT21H00M00S",
        })  # fmt: skip
        # 2024-01-01T21:00 New York = 2024-01-02T02:00Z
        w = Window(datetime(2024, 1, 2, 2, tzinfo=UTC), datetime(2024, 1, 2, 2, 1, tzinfo=UTC))
        with connector(url, tz=tz) as c:
            assert [r["Supplier"] for r in _all(c.read("vendors", w))] == ["99"]
    finally:
        handle.stop()


def test_one_asset_per_equipment_from_the_current_segment(sandbox):
    url, handle = sandbox
    rows = handle.records("Equipment")
    equipments = {r["Equipment"] for r in rows}
    assert len(rows) > len(equipments)  # several time segments exist
    with connector(url) as c:
        assets = _all(c.read("assets", Window()))
    assert sorted(r["Equipment"] for r in assets) == sorted(equipments)
    first = next(r for r in assets if r["Equipment"] == "10000000")
    assert first["ValidityEndDate"] == "/Date(253402214400000)/"
    assert "(segment" not in first["EquipmentName"]
    handle.new_equipment_segment("10000001", date(2024, 3, 1), {"EquipmentName": "Moved pump"})
    with connector(url) as c:
        assets = _all(c.read("assets", Window()))
        keys = _all(c.read_keys("assets"))
    assert len(assets) == len(equipments) == len(keys)
    assert next(r for r in assets if r["Equipment"] == "10000001")["EquipmentName"] == "Moved pump"


def test_faults_end_in_success_through_retries(sandbox):
    url, handle = sandbox
    handle.faults.retry_after = 0.3
    with connector(url) as c:
        slept: list[float] = []
        c.http._sleep = slept.append
        handle.faults.forced.extend(["429", "500", "truncate"])
        rows = _all(c.read("work-orders", Window(BASE, BASE + timedelta(minutes=10))))
    assert len(rows) == 500
    assert c.http.retries == 3
    assert slept[0] == 0.3  # Retry-After honoured


def test_persistent_failure_raises_source_error(sandbox):
    url, handle = sandbox
    handle.faults.forced.extend(["500"] * 3)
    with connector(url, retries=2) as c, pytest.raises(SourceError) as info:
        list(c.read("locations", Window()))
    err = info.value
    assert (err.system, err.status) == ("sap_s4hana", 500)
    assert "/sap/opu/odata/sap/API_FUNCTIONALLOCATION/" in err.endpoint
    assert "sap_s4hana" in str(err) and "500" in str(err)


def test_wrong_password_is_401_without_retries(sandbox):
    url, handle = sandbox
    before = handle.server.requests
    with connector(url, password="wrong") as c, pytest.raises(SourceError) as info:
        list(c.read("work-orders", Window()))
    assert info.value.status == 401 and "$metadata" in info.value.endpoint
    assert "wrong" not in str(info.value)
    assert handle.server.requests - before == 1


def test_csrf_dance_for_writes(sandbox):
    url, handle = sandbox
    base = f"{url}/sap/opu/odata/sap/API_MAINTENANCEORDER;v=0002/"
    s = requests.Session()
    s.auth = ("demo", "demo")
    target = base + "MaintenanceOrder('4000007')"
    denied = s.patch(target, json={"MaintenanceOrderDesc": "x"})
    assert denied.status_code == 403 and denied.headers["x-csrf-token"] == "Required"
    token = s.get(base, headers={"x-csrf-token": "Fetch"}).headers["x-csrf-token"]
    ok = s.patch(
        target, json={"MaintenanceOrderDesc": "Fixed leak"}, headers={"x-csrf-token": token}
    )
    assert ok.status_code == 204
    assert handle.get("MaintenanceOrder", "4000007")["MaintenanceOrderDesc"] == "Fixed leak"
    bad = s.patch(target, json={"Nope": 1}, headers={"x-csrf-token": token})
    assert bad.status_code == 400 and "Nope" in bad.json()["error"]["message"]["value"]
    no_cookie = requests.patch(
        target, json={}, auth=("demo", "demo"), headers={"x-csrf-token": token}
    )
    assert no_cookie.status_code == 403


def test_records_field_by_field(sandbox):
    url, handle = sandbox
    with connector(url) as c:
        orders = {r["MaintenanceOrder"]: r for r in _all(c.read("work-orders", Window()))}
        pos = _all(c.read("purchase-orders", Window()))
    wo_map = CompiledMapping(ENTITIES["work-orders"].mapping, UTC_TZ)
    for number in ("4000000", "4000005", "4002999"):
        src = handle.get("MaintenanceOrder", number)
        m = wo_map(orders[number]).data
        assert m["key"] == m["code"] == number
        assert m["title"] == src["MaintenanceOrderDesc"]
        assert m["status"] == src["SystemStatusText"].split()[0]
        assert m["assetKey"] == src["Equipment"] and m["locationKey"] == src["FunctionalLocation"]
        assert m["siteKey"] == src["MaintenancePlant"]
        ms = int(src["LastChangeDateTime"][6:-7])
        assert m["updatedAt"] == datetime.fromtimestamp(ms / 1000, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    po_map = CompiledMapping(ENTITIES["purchase-orders"].mapping, ZoneInfo("Europe/Berlin"))
    po = next(p for p in pos if p["PurchaseOrder"] == "4500000002")
    items = [i for i in handle.records("A_PurchaseOrderItem") if i["PurchaseOrder"] == "4500000002"]
    assert po["to_PurchaseOrderItem"]["results"] == items and len(items) == 3
    m = po_map(po).data
    assert m["vendorKey"] == po["Supplier"] and m["currencyKey"] == "EUR"
    # PurchaseOrderDate is an Edm.DateTime: local midnight in Berlin is 23:00Z the day before
    assert m["orderDate"].endswith("T23:00:00Z")
    line_map = po_map.children["purchase-orders.line-items"][1]
    line = line_map(items[0]).data
    assert line["key"] == "4500000002:10" and line["purchaseOrderKey"] == "4500000002"
    assert line["quantity"] == float(items[0]["OrderQuantity"])
    assert line["price"] == float(items[0]["NetPriceAmount"])
    assert line["materialKey"] == items[0]["Material"]


def test_two_regional_systems_stay_separate():
    eu_url, eu = start(size=300, seed=1)
    us_url, us = start(size=500, seed=2, user="us", password="secret")
    try:
        eu.update("MaintenanceOrder", ("4000001",), {"MaintenanceOrderDesc": "EU only"})
        with connector(eu_url) as a, connector(us_url, user="us", password="secret") as b:
            ra = {r["MaintenanceOrder"]: r for r in _all(a.read("work-orders", Window()))}
            rb = {r["MaintenanceOrder"]: r for r in _all(b.read("work-orders", Window()))}
        assert (len(ra), len(rb)) == (300, 500)
        assert ra["4000001"]["MaintenanceOrderDesc"] == "EU only"
        assert rb["4000001"]["MaintenanceOrderDesc"] != "EU only"
        with connector(us_url) as wrong, pytest.raises(SourceError):
            list(wrong.read("work-orders", Window()))
    finally:
        eu.stop()
        us.stop()
