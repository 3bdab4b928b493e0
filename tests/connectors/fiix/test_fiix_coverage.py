"""Fiix: the resources beyond the first entities (issue 15's coverage), read through the sandbox
and mapped: each unified record's values are checked against the sandbox's own records (Fiix's
wire format: integer ids, epoch-ms dates, ``dv_`` display values), key listings agree with the
reads, work requests read incrementally, and the coverage matrix has no cell left undecided."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.base import SourceSettings, Window
from connectors.fiix import CONNECTOR
from connectors.fiix.sandbox import start_sandbox
from include.config.coverage import system_coverage
from include.mapping.compiled import CompiledMapping

KEYS = ("app-c", "access-c", "secret-c")
UTC_ZONE = ZoneInfo("UTC")
LOCATION, EQUIPMENT, TOOLS, PARTS = 1, 2, 3, 4


@pytest.fixture(scope="module")
def fiix() -> Iterator[tuple[str, Any]]:
    url, handle = start_sandbox(seed=3, size=240, keys=KEYS)
    try:
        yield url, handle
    finally:
        handle.stop()


def connector(url: str, page_size: int = 25) -> Any:
    creds = dict(zip(("app_key", "access_key", "secret_key"), KEYS, strict=True))
    return CONNECTOR(SourceSettings("t", url, creds, UTC_ZONE, page_size=page_size))


def unified(url: str, entity: str, window: Window | None = None) -> dict[str, dict]:
    """``{key: unified record}`` of a read (pages of 25: several pages per entity)."""
    spec = CONNECTOR.entities[entity]
    cm = CompiledMapping(spec.mapping, UTC_ZONE, entity=entity,
                         status_categories=CONNECTOR.status_categories.get(entity))  # fmt: skip
    with connector(url) as c:
        rows = [r for page in c.read(entity, window or Window()) for r in page]
    out = {}
    for raw in rows:
        key, _, _, data = cm.row(raw)
        assert key not in out, (entity, key)
        out[key] = data
    return out


def keys(url: str, entity: str) -> set[str]:
    cm = CompiledMapping(CONNECTOR.entities[entity].mapping, UTC_ZONE, entity=entity)
    with connector(url) as c:
        return {cm.key_of(r) for page in c.read_keys(entity) for r in page}


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_no_resource_is_left_undecided() -> None:
    cells = {c["resource"]: c for c in system_coverage("fiix")}
    assert [r for r, c in cells.items() if c["coverage"] == "not_yet"] == []
    no = {r for r, c in cells.items() if c["coverage"] == "no_concept"}
    assert no == {"organizations", "asset-templates", "asset-templates.materials", "return-orders"}
    assert all(cells[r]["reason"] for r in no)


def test_storerooms_are_the_facilities_that_hold_stock(fiix: tuple[str, Any]) -> None:
    url, h = fiix
    assets = {a["id"]: a for a in h.records("Asset")}
    held = {s["intFacilityID"] for s in h.records("Stock")}
    facilities = {i for i, a in assets.items()
                  if a["intSuperCategorySysCode"] == LOCATION and not a["bolIsSite"]}  # fmt: skip
    got = unified(url, "storerooms")
    assert set(got) == {str(i) for i in facilities & held}
    assert facilities - held  # the yard (and any empty building) is no storeroom
    room = next(a for a in assets.values() if a["strCode"] == "STR-SITE2")
    rec = got[str(room["id"])]
    assert rec["name"] == "Storeroom Lyon" and rec["siteKey"] == str(room["intSiteID"])
    assert rec["locationKey"] == str(room["id"]) and rec["type"] == "facility"
    assert keys(url, "storerooms") == set(got)
    # the storeroom a stock row names is a storeroom record
    stocks = unified(url, "stocks")
    assert {s["storeroomKey"] for s in stocks.values()} == set(got)


def test_accounts_labors_and_units(fiix: tuple[str, Any]) -> None:
    url, h = fiix
    accounts = unified(url, "accounts")
    assert {r["code"]: r["name"] for r in accounts.values()} == {
        a["strCode"]: a["strDescription"] for a in h.records("Account")}  # fmt: skip
    assert accounts[str(h.records("Account")[1]["id"])]["code"] == "5000-200"
    labors = unified(url, "labors")
    people = [u for u in h.records("User") if u["bolGroup"] == 0]
    assert set(labors) == {str(u["id"]) for u in people}
    for u in people:
        rec = labors[str(u["id"])]
        assert rec["userKey"] == str(u["id"]) and rec["name"] == u["strFullName"]
        assert rec["code"] == u["strPersonnelCode"] and rec["roleName"] == u["strUserTitle"]
        assert rec["isActive"] is (u["intUserStatusID"] == 1)
    assert {r["isActive"] for r in labors.values()} == {True, False}
    uom = unified(url, "uom")
    assert sorted((r["name"], r["code"]) for r in uom.values()) == [
        ("Cycles", "cyc"), ("Hours", "h"), ("Kilometres", "km")]  # fmt: skip


def test_companies_and_customers(fiix: tuple[str, Any]) -> None:
    url, h = fiix
    businesses = {b["id"]: b for b in h.records("Business")}
    companies = unified(url, "companies")
    assert set(companies) == {str(i) for i in businesses}
    named = {int(x) for a in h.records("Asset") for x in (a["strCustomerIds"] or "").split(",")
             if x}  # fmt: skip
    assert 0 < len(named) < len(businesses)
    customers = unified(url, "customers")
    assert set(customers) == {str(i) for i in named}
    for i in named:
        b, rec = businesses[i], customers[str(i)]
        assert rec["name"] == b["strName"] and rec["code"] == b["strCode"]
        assert rec["companyKey"] == str(i) and rec["key"] in companies
        assert rec["addresses"] == [{"line1": b["strAddress"], "city": b["strCity"],
                                     "state": b["strProvince"], "postalCode": b["strPostalCode"]}]  # fmt: skip
    assert keys(url, "customers") == set(customers)
    # a business an asset starts naming becomes a customer on the next read
    vendor = next(b for b in businesses.values() if b["id"] not in named)
    asset = next(a for a in h.records("Asset") if a["intSuperCategorySysCode"] == EQUIPMENT)
    h.update("Asset", asset["id"], strCustomerIds=f"{vendor['id']}")
    try:
        assert str(vendor["id"]) in unified(url, "customers")
        assert unified(url, "assets")[str(asset["id"])]["customerKey"] == str(vendor["id"])
    finally:
        h.update("Asset", asset["id"], strCustomerIds=asset["strCustomerIds"])


def test_asset_downtime_is_the_offline_tracker(fiix: tuple[str, Any]) -> None:
    url, h = fiix
    reasons = {r["id"]: r["strName"] for r in h.records("ReasonToSetAssetOffline")}
    got = unified(url, "assets-downtime")
    rows = h.records("AssetOfflineTracker")
    assert set(got) == {str(t["id"]) for t in rows}
    for t in rows:
        rec = got[str(t["id"])]
        assert rec["assetKey"] == str(t["intAssetID"])
        assert rec["startedAt"] == iso(t["dtmOfflineFrom"])
        assert rec["endedAt"] == iso(t["dtmOffLineTo"])
        assert rec["categoryName"] == reasons[t["intReasonOfflineID"]]
        assert rec["description"] == t["strOfflineAdditionalInfo"]
    assert any(r["endedAt"] is None for r in got.values())  # still offline
    assert any(r["endedAt"] is not None for r in got.values())


def test_meters_are_an_assets_units_with_their_latest_reading(fiix: tuple[str, Any]) -> None:
    url, h = fiix
    units = {u["id"]: u["strName"] for u in h.records("MeterReadingUnit")}
    assets = {a["id"]: a for a in h.records("Asset")}
    latest: dict[tuple[int, int], dict] = {}
    for m in h.records("MeterReading"):
        pair = (m["intAssetID"], m["intMeterReadingUnitsID"])
        if pair not in latest or (m["dtmDateSubmitted"], m["id"]) > (
                latest[pair]["dtmDateSubmitted"], latest[pair]["id"]):  # fmt: skip
            latest[pair] = m
    # a second, later reading on one meter: the meter shows it
    (asset_id, unit_id), last = next(iter(latest.items()))
    newer = h.add("MeterReading", intAssetID=asset_id, intMeterReadingUnitsID=unit_id,
                  dblMeterReading=last["dblMeterReading"] + 17.5,
                  dtmDateSubmitted=last["dtmDateSubmitted"] + 3_600_000)  # fmt: skip
    latest[(asset_id, unit_id)] = newer
    try:
        got = unified(url, "meters")
        readings = unified(url, "meter-readings")
        listed = keys(url, "meters")
    finally:
        h.delete("MeterReading", newer["id"])
    assert set(got) == {f"{a}:{u}" for a, u in latest} == listed
    for (a, u), m in latest.items():
        rec = got[f"{a}:{u}"]
        assert rec["assetKeys"] == [str(a)] and rec["uomKey"] == str(u)
        assert rec["uomName"] == units[u] and rec["name"] == f"{assets[a]['strName']} {units[u]}"
        assert rec["lastReading"] == m["dblMeterReading"]
        assert rec["lastReadingAt"] == iso(m["dtmDateSubmitted"])
        assert rec["siteKey"] == str(assets[a]["intSiteID"])
    assert got[f"{asset_id}:{unit_id}"]["lastReading"] == last["dblMeterReading"] + 17.5
    # every reading's meter is a meter record
    assert {r["meterKey"] for r in readings.values()} <= set(got)


def test_service_requests_are_the_requested_work_orders(fiix: tuple[str, Any]) -> None:
    url, h = fiix
    wos = h.records("WorkOrder")
    statuses = {s["id"]: s["strName"] for s in h.records("WorkOrderStatus")}
    asked = [w for w in wos if w["intRequestedByUserID"] is not None or w["strEmailUserGuest"]]
    assert 0 < len(asked) < len(wos)
    got = unified(url, "service-requests")
    assert set(got) == {str(w["id"]) for w in asked}
    table = CONNECTOR.status_categories["service-requests"]
    for w in asked:
        rec = got[str(w["id"])]
        assert rec["workOrderKey"] == str(w["id"]) and rec["title"] == w["strCode"]
        assert rec["status"] == statuses[w["intWorkOrderStatusID"]]
        assert rec["statusCategory"] == table[rec["status"]]
        assert rec["userRequestedKey"] == (
            str(w["intRequestedByUserID"]) if w["intRequestedByUserID"] else None
        )
        assert rec["createdAt"] == iso(w["dtmDateCreated"])
    guest = next(w for w in asked if w["strEmailUserGuest"])
    assert got[str(guest["id"])]["notes"] == (
        f"{guest['strNameUserGuest']}, {guest['strEmailUserGuest']}, {guest['strPhoneUserGuest']}"
    )
    assert {r["statusCategory"] for r in got.values()} == {"open", "converted", "closed"}
    with connector(url) as c:
        assert {s["name"] for s in c.statuses("service-requests")} == set(statuses.values())


def test_service_requests_read_incrementally(fiix: tuple[str, Any]) -> None:
    url, h = fiix
    wos = h.records("WorkOrder")
    start = datetime.fromtimestamp(max(w["dtmDateLastModified"] for w in wos) / 1000 + 60, UTC)
    asked = next(w for w in wos if w["intRequestedByUserID"] is not None)
    unasked = next(w for w in wos if w["intRequestedByUserID"] is None
                   and not w["strEmailUserGuest"])  # fmt: skip
    h.update("WorkOrder", asked["id"], strDescription="Replace the door seal")
    h.update("WorkOrder", unasked["id"], strDescription="PM route")
    got = unified(url, "service-requests", Window(start, None))
    assert list(got) == [str(asked["id"])]  # the changed request; not the PM work order
    assert got[str(asked["id"])]["description"] == "Replace the door seal"


def test_documents_are_the_work_orders_files(fiix: tuple[str, Any]) -> None:
    url, h = fiix
    got = unified(url, "documents")
    files = h.records("File")
    assert set(got) == {str(f["id"]) for f in files}
    types = {}
    for f in files:
        rec = got[str(f["id"])]
        assert rec["name"] == f["strName"] and rec["url"] == f["strLink"]
        assert rec["entityKeys"] == [str(f["intWorkOrderID"])]
        assert rec["description"] == f["strNotes"]
        types[f["strName"].rsplit(".", 1)[1]] = rec["contentType"]
    assert types["pdf"] == "application/pdf" and types["png"] == "image/png"


def test_inventories_carry_the_parts_price(fiix: tuple[str, Any]) -> None:
    url, h = fiix
    assets = {a["id"]: a for a in h.records("Asset")}
    got = unified(url, "inventories")
    stocks = h.records("Stock")
    assert set(got) == {str(s["id"]) for s in stocks}
    for s in stocks:
        rec, part = got[str(s["id"])], assets[s["intAssetID"]]
        assert rec["code"] == part["strCode"] and rec["name"] == part["strName"]
        assert rec["unitCost"] == part["dblLastPrice"] and rec["quantity"] == s["qtyOnHand"]
        assert rec["locationKey"] == str(s["intFacilityID"])


def test_work_order_and_pm_materials(fiix: tuple[str, Any]) -> None:
    url, h = fiix
    names = {a["id"]: a["strName"] for a in h.records("Asset")}
    got = unified(url, "work-orders.materials")
    rows = h.records("WorkOrderPart")
    assert set(got) == {str(r["id"]) for r in rows}
    for r in rows:
        rec = got[str(r["id"])]
        assert rec["workOrderKey"] == str(r["intWorkOrderID"])
        assert rec["materialKey"] == str(r["intPartID"]) and rec["name"] == names[r["intPartID"]]
        assert rec["assetKey"] == str(r["intAssetID"])
        assert rec["quantity"] == r["qtyActualQuantityUsed"]
        assert rec["requiredQuantity"] == r["qtySuggestedQuantity"]
    pm = unified(url, "pm.materials")
    rows = h.records("ScheduledMaintenancePart")
    assert set(pm) == {str(r["id"]) for r in rows}
    for r in rows:
        rec = pm[str(r["id"])]
        assert rec["pmKey"] == str(r["intScheduledMaintenanceID"])
        assert rec["materialKey"] == str(r["intPartID"])
        assert rec["requiredQuantity"] == r["qtySuggestedQuantity"] and rec["quantity"] is None


def test_bills_of_materials_split_by_the_consuming_asset(fiix: tuple[str, Any]) -> None:
    url, h = fiix
    kind = {a["id"]: a["intSuperCategorySysCode"] for a in h.records("Asset")}
    refs = h.records("AssetConsumingReference")
    of_assets = unified(url, "assets.materials")
    of_parts = unified(url, "materials.children")
    assert set(of_assets) == {str(r["id"]) for r in refs if kind[r["intAssetID"]] in (2, 3)}
    assert set(of_parts) == {str(r["id"]) for r in refs if kind[r["intAssetID"]] == PARTS}
    assert of_assets and of_parts and not set(of_assets) & set(of_parts)
    for r in refs:
        rec = of_assets.get(str(r["id"])) or of_parts[str(r["id"])]
        owner = "assetKey" if str(r["id"]) in of_assets else "assemblyKey"
        assert rec[owner] == str(r["intAssetID"])
        assert rec["materialKey"] == str(r["intConsumesAssetID"])
        assert rec["quantity"] == r["qtyMaxConsumption"]
        assert rec["positionNumber"] == str(r["intBOMPartControlID"])
    # key listings select the same rows (they read the consuming asset too)
    assert keys(url, "assets.materials") == set(of_assets)
    assert keys(url, "materials.children") == set(of_parts)


def test_describe_and_custom_fields_of_the_derived_records(fiix: tuple[str, Any]) -> None:
    """A meter's fields are its derivation's (asset, unit, latest reading); a stock row's
    attached part is described and readable as custom fields, never asked of the Stock class."""
    url, h = fiix
    creds = dict(zip(("app_key", "access_key", "secret_key"), KEYS, strict=True))
    custom = {"inventories": {"partCode": "part.strCode", "aisle": "strAisle"},
              "meters": {"symbol": "unit.strSymbol", "readingId": "lastReading.id"}}  # fmt: skip
    settings = SourceSettings("t", url, creds, UTC_ZONE, page_size=25,
                              custom_paths={e: tuple(c.values()) for e, c in custom.items()})  # fmt: skip
    with CONNECTOR(settings) as c:
        meters = {f.name: f for f in c.describe("meters")}
        stock = {f.name: f for f in c.describe("inventories")}
        for entity in CONNECTOR.entities:  # every entity is described
            assert c.describe(entity), entity
        raw = {e: [r for page in c.read(e, Window()) for r in page] for e in custom}
    assert set(meters) == {"id", "intAssetID", "intMeterReadingUnitsID", "intSiteID", "strName",
                           "unit", "lastReading"}  # fmt: skip
    assert {f.name for f in meters["unit"].children} == {"id", "strName", "strSymbol"}
    assert meters["lastReading"].children and not meters["lastReading"].many
    assert {"qtyOnHand", "strAisle"} <= set(stock) and stock["part"].type == "object"
    assert "dblLastPrice" in {f.name for f in stock["part"].children}
    assets = {a["id"]: a for a in h.records("Asset")}
    stocks = {s["id"]: s for s in h.records("Stock")}
    symbols = {u["id"]: u["strSymbol"] for u in h.records("MeterReadingUnit")}
    cm = CompiledMapping(CONNECTOR.entities["inventories"].mapping, UTC_ZONE,
                         custom["inventories"])  # fmt: skip
    for r in raw["inventories"]:
        s = stocks[r["id"]]
        assert cm.row(r)[3]["customFields"] == {
            "partCode": assets[s["intAssetID"]]["strCode"], "aisle": s["strAisle"]}  # fmt: skip
    cm = CompiledMapping(CONNECTOR.entities["meters"].mapping, UTC_ZONE, custom["meters"])
    for r in raw["meters"]:
        got = cm.row(r)[3]["customFields"]
        assert got["symbol"] == symbols[r["intMeterReadingUnitsID"]]
        assert h.record("MeterReading", got["readingId"])["intAssetID"] == r["intAssetID"]
