"""Entities read from released APIs without a reference EDMX (metadata/released.py), end to end:
the connector reads the sandbox through pyodata, the mapping makes unified records, and each value
is checked against the record the sandbox served (or against the time SAP's wire form encodes)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connectors.base import Window
from connectors.sap_s4hana.client import SapS4HanaConnector
from connectors.sap_s4hana.mapping import ENTITIES, NOTIF_PHASE_TEXT, STATUS_CATEGORIES
from connectors.sap_s4hana.sandbox import start
from connectors.sap_s4hana.sandbox.data import BASE
from include.mapping import CompiledMapping
from include.model import STATUS_CATEGORIES as ALLOWED

from .conftest import settings

BERLIN = ZoneInfo("Europe/Berlin")


def _all(pages) -> list[dict]:
    return [r for page in pages for r in page]


def _wall(date_value: str, time_value: str) -> datetime:
    """Wall clock of an Edm.DateTime date (``/Date(ms)/``) plus an Edm.Time (``PT10H20M00S``)."""
    day = datetime.fromtimestamp(int(date_value[6:-2]) / 1000, UTC).replace(tzinfo=None)
    h, rest = time_value[2:].split("H")
    m, rest = rest.split("M")
    return day + timedelta(hours=int(h), minutes=int(m), seconds=int(rest.rstrip("S")))


def _utc(wall: datetime, tz: ZoneInfo) -> str:
    return wall.replace(tzinfo=tz).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def berlin():
    """A sandbox whose Edm.DateTime values are Berlin wall clock, read by a Berlin connection."""
    url, handle = start(size=600, seed=5, server_page_size=40, timezone="Europe/Berlin")
    try:
        yield SapS4HanaConnector(settings(url, tz="Europe/Berlin")), handle
    finally:
        handle.stop()


def _mapped(entity: str, rows: list[dict], tz: ZoneInfo = BERLIN) -> dict[str, dict]:
    """Unified records by key (a field the mapping left empty reads as None)."""
    m = CompiledMapping(ENTITIES[entity].mapping, tz)
    return {d["key"]: defaultdict(lambda: None, d) for d in (m(r).data for r in rows)}


def test_service_requests_field_by_field(berlin):
    c, handle = berlin
    rows = _all(c.read("service-requests", Window()))
    assert len(rows) == len(handle.records("MaintenanceNotification")) == 120
    mapped = _mapped("service-requests", rows)
    on_equipment = on_floc = 0
    for src in handle.records("MaintenanceNotification"):
        m = mapped[src["MaintenanceNotification"]]
        assert m["title"] == src["NotificationText"]
        assert m["statusKey"] == src["NotifProcessingPhase"]
        assert m["status"] == NOTIF_PHASE_TEXT[src["NotifProcessingPhase"]]
        assert m["severity"] == src["MaintPriority"]
        assert m["categoryName"] == src["NotificationType"]
        assert m["siteKey"] == src["MaintenancePlant"]
        assert m["teamKey"] == f"{src['MainWorkCenterPlant']}:{src['MainWorkCenter']}"
        assert m["workOrderKey"] == (src["MaintenanceOrder"] or None)
        if src["TechObjIsEquipOrFuncnlLoc"] == "EAMS_EQUI":
            assert m["assetKey"] == src["TechnicalObject"]
            on_equipment += 1
        else:  # a notification on a functional location names no asset
            assert m["assetKey"] is None and m["locationKey"] == src["FunctionalLocation"]
            on_floc += 1
        # Edm.DateTime + Edm.Time are Berlin wall clock: the unified times are UTC
        assert m["dueAt"] == _utc(_wall(src["RequiredEndDate"], src["RequiredEndTime"]), BERLIN)
        assert m["createdAt"] == _utc(_wall(src["CreationDate"], src["CreationTime"]), BERLIN)
        ms = int(src["LastChangeDateTime"][6:-7])
        assert m["updatedAt"] == datetime.fromtimestamp(ms / 1000, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    assert on_equipment and on_floc


def test_service_request_statuses_have_categories(berlin):
    c, _ = berlin
    listed = c.statuses("service-requests")
    # the served status is the phase's text; the status route looks its category up by code
    assert [(s["code"], s["subCode"]) for s in listed] == [
        (t, c) for c, t in NOTIF_PHASE_TEXT.items()
    ]
    table = STATUS_CATEGORIES["service-requests"]
    assert all(table[s["code"]] for s in listed)
    assert set(table) == set(NOTIF_PHASE_TEXT.values())
    assert set(table.values()) <= set(ALLOWED["service-requests"])


def test_service_requests_incremental_window_and_change(berlin):
    c, handle = berlin
    # 20 notifications share each minute from BASE: [BASE+1min, BASE+3min) holds exactly 40
    start, end = BASE + timedelta(minutes=1), BASE + timedelta(minutes=3)
    window = _all(c.read("service-requests", Window(start, end)))
    assert sorted(r["MaintenanceNotification"] for r in window) == [
        str(10000020 + i) for i in range(40)
    ]
    at = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    handle.update("MaintenanceNotification", ("10000007",),
                  {"NotifProcessingPhase": "4", "NotificationText": "Seal replaced"}, at=at)  # fmt: skip
    later = _all(c.read("service-requests", Window(at, None)))
    assert [r["MaintenanceNotification"] for r in later] == ["10000007"]
    m = _mapped("service-requests", later)["10000007"]
    assert (m["title"], m["status"]) == ("Seal replaced", "Completed")
    assert m["updatedAt"] == "2025-03-01T12:00:00Z"


def test_asset_downtime_from_breakdowns(berlin):
    c, handle = berlin
    rows = _all(c.read("assets-downtime", Window()))
    breakdowns = [r for r in handle.records("MaintenanceNotification")
                  if r["MaintenanceObjectIsDown"] and r["MalfunctionStartDate"]]  # fmt: skip
    assert sorted(r["MaintenanceNotification"] for r in rows) == sorted(
        r["MaintenanceNotification"] for r in breakdowns
    )
    assert 0 < len(rows) < len(handle.records("MaintenanceNotification"))
    mapped = _mapped("assets-downtime", rows)
    ended = running = 0
    for src in breakdowns:
        m = mapped[src["MaintenanceNotification"]]
        assert m["startedAt"] == _utc(
            _wall(src["MalfunctionStartDate"], src["MalfunctionStartTime"]), BERLIN
        )
        if src["MalfunctionEndDate"]:
            end = _wall(src["MalfunctionEndDate"], src["MalfunctionEndTime"])
            assert m["endedAt"] == _utc(end, BERLIN) and m["endedAt"] > m["startedAt"]
            ended += 1
        else:  # still down
            assert m["endedAt"] is None
            running += 1
        assert m["description"] == src["NotificationText"]
        assert m["categoryName"] == src["MalfunctionEffectText"]
        if src["TechObjIsEquipOrFuncnlLoc"] == "EAMS_EQUI":
            assert m["assetKey"] == src["TechnicalObject"]
    assert ended and running
    # a breakdown ending now shows in the next incremental read with its end
    src = next(r for r in breakdowns if not r["MalfunctionEndDate"])
    at = datetime(2025, 4, 1, 8, 0, tzinfo=UTC)
    handle.update("MaintenanceNotification", (src["MaintenanceNotification"],),
                  {"MalfunctionEndDate": "/Date(1743465600000)/",
                   "MalfunctionEndTime": "PT09H30M00S"}, at=at)  # fmt: skip
    later = _mapped("assets-downtime", _all(c.read("assets-downtime", Window(at, None))))
    assert list(later) == [src["MaintenanceNotification"]]
    # 2025-04-01 09:30 in Berlin (CEST, UTC+2)
    assert later[src["MaintenanceNotification"]]["endedAt"] == "2025-04-01T07:30:00Z"


def test_stocks_sites_storerooms_organizations_join(berlin):
    c, handle = berlin
    stocks = _mapped("stocks", _all(c.read("stocks", Window())))
    sites = _mapped("sites", _all(c.read("sites", Window())))
    rooms = _mapped("storerooms", _all(c.read("storerooms", Window())))
    orgs = _mapped("organizations", _all(c.read("organizations", Window())))
    served = handle.records("A_MatlStkInAcctMod")
    assert len(stocks) == len(served) > 0
    for src in served:
        key = (
            f"{src['Material']}:{src['Plant']}:{src['StorageLocation']}.{src['InventoryStockType']}"
        )
        m = stocks[key]
        assert m["quantity"] == float(src["MatlWrhsStkQtyInMatlBaseUnit"])
        assert m["materialKey"] == m["productKey"] == src["Material"]
        assert m["uomKey"] == src["MaterialBaseUnit"]
        assert m["storeroomKey"] in rooms and m["siteKey"] in sites
    assert {k: s["name"] for k, s in sites.items()} == {
        p["Plant"]: p["PlantName"] for p in handle.records("A_Plant")
    }
    room = rooms["1010:102A"]
    assert (room["code"], room["name"], room["siteKey"]) == ("102A", "Central Store", "1010")
    assert orgs["1710"]["currencyKey"] == "USD" and orgs["1710"]["name"] == "Company Code 1710"
    # the plants and company codes work orders name are read as sites and organizations
    orders = _mapped(
        "work-orders", _all(c.read("work-orders", Window(BASE, BASE + timedelta(minutes=2))))
    )
    assert orders and all(o["siteKey"] in sites and o["organizationKey"] in orgs
                          for o in orders.values())  # fmt: skip


def test_stock_with_special_stock_keys_and_key_listing(berlin):
    c, handle = berlin
    handle.add("A_MatlStkInAcctMod", {
        "Material": "SP-000001", "Plant": "1010", "StorageLocation": "101A", "Batch": "0000012",
        "Supplier": "17100001", "InventorySpecialStockType": "K", "InventoryStockType": "01",
        "MaterialBaseUnit": "PC", "MatlWrhsStkQtyInMatlBaseUnit": "4.5"})  # fmt: skip
    stocks = _mapped("stocks", _all(c.read("stocks", Window())))
    consignment = stocks["SP-000001:1010:101A.01.B=0000012.V=17100001.K=K"]
    assert consignment["quantity"] == 4.5 and consignment["storeroomKey"] == "1010:101A"
    keys = {
        tuple(r[k] for k in ENTITIES["stocks"].mapping.key) for r in _all(c.read_keys("stocks"))
    }
    assert ("SP-000001", "1010", "101A.01.B=0000012.V=17100001.K=K") in keys
    assert len(keys) == len(stocks)


def test_teams_are_maintenance_work_centers(berlin):
    c, handle = berlin
    handle.add("A_WorkCenters", {"WorkCenterInternalID": "90000001", "WorkCenterTypeCode": "H",
                                 "WorkCenter": "POOL", "Plant": "1010"})  # fmt: skip
    teams = _mapped("teams", _all(c.read("teams", Window())))
    assert "1010:POOL" not in teams  # a hierarchy (type H) is no team
    assert teams["1020:ELEC"]["name"] == "Electrical maintenance 1020"
    requests_ = _mapped("service-requests", _all(c.read("service-requests", Window())))
    assert all(r["teamKey"] in teams for r in requests_.values())


def test_accounts_named_in_the_connection_language():
    url, handle = start(size=100, seed=2)
    try:
        for lang, name in (("EN", "External Maintenance"), ("DE", "Fremdinstandhaltung")):
            s = settings(url)
            s = type(s)(**{**s.__dict__, "options": {**s.options, "language": lang}})
            rows = _all(SapS4HanaConnector(s).read("accounts", Window()))
            m = _mapped("accounts", rows, ZoneInfo("UTC"))
            assert len(m) == 10
            assert m["YCOA:61000000"]["name"] == name
            assert m["YCOA:61000000"]["code"] == "61000000"
            assert m["YCOA:61000000"]["description"] == f"{name} (61000000)"
            deleted = [k for k, v in m.items() if v["deletedAt"]]
            assert deleted == ["YCOA:94308000"]
        # incremental on LastChangeDateTime: one account changed since
        at = datetime(2025, 1, 2, tzinfo=UTC)
        handle.update("A_GLAccountInChartOfAccounts", ("YCOA", "21100000"),
                      {"AccountIsBlockedForPosting": True}, at=at)  # fmt: skip
        later = _all(SapS4HanaConnector(settings(url)).read("accounts", Window(at, None)))
        assert [(r["GLAccount"], r["_text"]["GLAccountName"]) for r in later] == [
            ("21100000", "Payables Domestic")
        ]
    finally:
        handle.stop()


def test_return_orders_are_purchase_orders_with_returns_items(berlin):
    c, handle = berlin
    returns: dict[str, list[dict]] = {}
    for item in handle.records("A_PurchaseOrderItem"):
        if item["IsReturnsItem"]:
            returns.setdefault(item["PurchaseOrder"], []).append(item)
    pos = {p["PurchaseOrder"] for p in handle.records("A_PurchaseOrder")}
    assert returns and len(returns) < len(pos)
    rows = _all(c.read("return-orders", Window()))
    mapped = _mapped("return-orders", rows)
    assert set(mapped) == set(returns)
    keys = {r["PurchaseOrder"] for r in _all(c.read_keys("return-orders"))}
    assert keys == set(returns)  # the key listing has the return orders only
    mixed = next(po for po, items in returns.items()
                 if len(items) < len([i for i in handle.records("A_PurchaseOrderItem")
                                      if i["PurchaseOrder"] == po]))  # fmt: skip
    for po, items in returns.items():
        m = mapped[po]
        src = handle.get("A_PurchaseOrder", po)
        assert m["vendorKey"] == src["Supplier"] and m["orderNo"] == po
        assert [x["lineNo"] for x in m["lineItems"]] == [i["PurchaseOrderItem"] for i in items]
        line, item = m["lineItems"][0], items[0]
        assert line["key"] == f"{po}:{item['PurchaseOrderItem']}"
        assert line["quantity"] == float(item["OrderQuantity"])
        assert line["materialKey"] == item["Material"]
        assert m["totalNetValue"] == round(
            sum(float(i["OrderQuantity"]) * float(i["NetPriceAmount"]) for i in items), 2
        )
    # a PO with returns and normal items: only the returns items are the return order's lines
    assert len(mapped[mixed]["lineItems"]) == len(returns[mixed])
    assert set(STATUS_CATEGORIES["return-orders"].values()) <= set(ALLOWED["return-orders"])
    # flagging an item of another PO as a return saves the PO: the next window finds it
    other = next(p for p in sorted(pos) if p not in returns)
    item = next(i for i in handle.records("A_PurchaseOrderItem") if i["PurchaseOrder"] == other)
    at = datetime(2025, 5, 1, tzinfo=UTC)
    handle.update("A_PurchaseOrderItem", (other, item["PurchaseOrderItem"]),
                  {"IsReturnsItem": True}, at=at)  # fmt: skip
    later = _all(c.read("return-orders", Window(at, None)))
    assert [r["PurchaseOrder"] for r in later] == [other]


def test_material_bom_items_are_material_children(berlin):
    c, handle = berlin
    rows = _all(c.read("materials.children", Window()))
    served = handle.records("MaterialBOMItem")
    assert len(rows) == len(served) > 0
    mapped = _mapped("materials.children", rows)
    materials = _mapped("materials", _all(c.read("materials", Window())))
    for src in served:
        key = (f"{src['Material']}:{src['Plant']}:{src['BillOfMaterial']}."
               f"{src['BillOfMaterialVariant']}.-.{src['BillOfMaterialItemNodeNumber']}")  # fmt: skip
        m = mapped[key]
        assert m["assemblyKey"] == src["Material"] and m["assemblyKey"] in materials
        assert m["materialKey"] == src["BillOfMaterialComponent"] and m["materialKey"] in materials
        assert m["positionNumber"] == src["BillOfMaterialItemNumber"]
        assert m["quantity"] == float(src["BillOfMaterialItemQuantity"])
        assert m["uomKey"] == src["BillOfMaterialItemUnit"]
        assert m["name"] == src["ComponentDescription"]
    keys = _all(c.read_keys("materials.children"))
    assert len(keys) == len(served)


def test_asset_materials_are_the_construction_type_bom(berlin):
    c, handle = berlin
    current = [e for e in handle.records("Equipment")
               if e["ValidityEndDate"] == "/Date(253402214400000)/"]  # fmt: skip
    built = [e for e in current if e["ConstructionMaterial"]]
    assert 0 < len(built) < len(current)
    items = handle.records("MaterialBOMItem")
    expected = {
        (e["Equipment"], i["BillOfMaterial"], i["BillOfMaterialItemNodeNumber"]): i
        for e in built
        for i in items
        if (i["Material"], i["Plant"]) == (e["ConstructionMaterial"], e["MaintenancePlant"])
    }
    assert expected
    rows = _all(c.read("assets.materials", Window()))
    mapped = _mapped("assets.materials", rows)
    assert len(mapped) == len(expected)
    for (equipment, bom, node), item in expected.items():
        key = f"{equipment}:{item['Material']}:{item['Plant']}:{bom}.1.-.{node}"
        m = mapped[key]
        assert m["assetKey"] == equipment and m["assemblyKey"] == item["Material"]
        assert m["materialKey"] == item["BillOfMaterialComponent"]
        assert m["quantity"] == float(item["BillOfMaterialItemQuantity"])
    # an equipment given a construction type gets its BOM's items on the next read
    other = next(e for e in current if not e["ConstructionMaterial"]
                 and e["MaintenancePlant"] == "1010")  # fmt: skip
    handle.update("Equipment", (other["Equipment"], other["ValidityEndDate"]),
                  {"ConstructionMaterial": "SP-000005"})  # fmt: skip
    again = _mapped("assets.materials", _all(c.read("assets.materials", Window())))
    added = [m for m in again.values() if m["assetKey"] == other["Equipment"]]
    assert len(added) == len([i for i in items if i["Material"] == "SP-000005"]) > 0


def test_inventories_are_valuated_plant_stock(berlin):
    c, handle = berlin
    rows = _all(c.read("inventories", Window()))
    served = handle.records("A_ProductValuation")
    assert len(rows) == len(served) > 0
    mapped = _mapped("inventories", rows)
    stock: dict[tuple[str, str], float] = {}
    for s in handle.records("A_MatlStkInAcctMod"):
        key = (s["Material"], s["Plant"])
        stock[key] = stock.get(key, 0.0) + float(s["MatlWrhsStkQtyInMatlBaseUnit"])
    kinds = set()
    for src in served:
        m = mapped[f"{src['Product']}:{src['ValuationArea']}"]
        price = src["MovingAveragePrice" if src["InventoryValuationProcedure"] == "V"
                    else "StandardPrice"]  # fmt: skip
        assert m["unitCost"] == round(float(price) / float(src["PriceUnitQty"]), 4) > 0
        assert m["quantity"] == pytest.approx(stock.get((src["Product"], src["ValuationArea"]), 0))
        assert m["code"] == src["Product"]
        kinds.add((src["InventoryValuationProcedure"], src["PriceUnitQty"] != "1"))
    assert len(kinds) >= 3  # standard and moving price, price units of 1 and 10
    assert any(m["quantity"] > 0 for m in mapped.values())
    assert any(m["quantity"] == 0 for m in mapped.values())  # valuated, nothing in stock


def test_labors_are_persons_in_the_employee_role(berlin):
    c, handle = berlin
    employees = {r["BusinessPartner"] for r in handle.records("A_BusinessPartnerRole")
                 if r["BusinessPartnerRole"] == "BUP003"}  # fmt: skip
    persons = {p["BusinessPartner"]: p for p in handle.records("A_BusinessPartner")
               if p["BusinessPartnerCategory"] == "1"}  # fmt: skip
    assert employees and employees < set(persons)  # some persons are contacts only
    labors = _mapped("labors", _all(c.read("labors", Window())))
    assert set(labors) == employees
    for key, m in labors.items():
        src = persons[key]
        assert (m["firstName"], m["lastName"]) == (src["FirstName"], src["LastName"])
        assert m["name"] == src["PersonFullName"] and m["middleName"] is None
        assert m["isActive"] is (not src["BusinessPartnerIsBlocked"])
    assert {r["BusinessPartner"] for r in _all(c.read_keys("labors"))} == employees
    # persons are no companies; organizations still are
    companies = _mapped("companies", _all(c.read("companies", Window())))
    assert not set(companies) & set(persons)
    assert len(companies) == len(handle.records("A_BusinessPartner")) - len(persons)
    # incremental on the partner's local change date and time, as vendors
    key = sorted(employees)[0]
    at = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    handle.update("A_BusinessPartner", (key,), {"LastName": "Schmidt"}, at=at)
    later = _mapped("labors", _all(c.read("labors", Window(at, None))))
    assert list(later) == [key] and later[key]["lastName"] == "Schmidt"


def test_documents_are_the_attachments_of_each_equipment(berlin):
    c, handle = berlin
    served = handle.records("AttachmentContentSet")
    rows = _all(c.read("documents", Window()))
    assert len(rows) == len(served) > 0
    docs = _mapped("documents", rows)
    assets = {r["Equipment"] for r in handle.records("Equipment")}
    kinds = set()
    for src in served:
        ident = src["ArchiveDocumentID"] or ".".join(
            src[p] for p in ("DocumentInfoRecordDocType", "DocumentInfoRecordDocNumber",
                             "DocumentInfoRecordDocVersion", "DocumentInfoRecordDocPart"))  # fmt: skip
        m = docs[f"EQUI:{src['LinkedSAPObjectKey']}:{ident}"]
        assert m["name"] == src["FileName"] and m["contentType"] == src["MimeType"]
        assert m["entityKeys"] == [src["LinkedSAPObjectKey"].lstrip("0")]
        assert m["entityKeys"][0] in assets
        assert m["type"] == (src["DocumentInfoRecordDocType"] or None)
        kinds.add("dms" if src["DocumentInfoRecordDocType"] else "archivelink")
    assert kinds == {"dms", "archivelink"}
    # GetAllOriginals needs both parameters as string literals, as SAP's function import does
    url = c.settings.host + "/sap/opu/odata/sap/API_CV_ATTACHMENT_SRV/GetAllOriginals"
    bad = c.http.session.get(url, params={"BusinessObjectTypeName": "'EQUI'", "$format": "json"})
    assert bad.status_code == 400 and "LinkedSAPObjectKey" in bad.text
