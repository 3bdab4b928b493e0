"""The sandbox tenant: Fiix record classes, their fields, and seeded generated records.

Field names are those of Fiix's generated DTOs (fiixlabs/fiix-cmms-client-java ``dto/*.java``).
Sites, locations, equipment and parts are all ``Asset`` records, told apart by ``bolIsSite`` and
``intSuperCategorySysCode`` (the sandbox uses 1 locations and facilities, 2 equipment, 3 tools,
4 parts and supplies). Dates (``dtm...``) are epoch milliseconds. Many records share a change
time to the millisecond (ties), as batch jobs produce.
"""

from __future__ import annotations

import random
from typing import Any

from connectors.fiix.schema import CLASSES as SCHEMA

LOCATION, EQUIPMENT, TOOLS, PARTS = 1, 2, 3, 4

# The time each class's records carry of their last change (set by the control endpoint).
CHANGE_TIME = {
    "WorkOrder": "dtmDateLastModified",
    "ScheduledMaintenance": "dtmUpdatedDate",
    "PurchaseOrder": "dtmDateLastUpdated",
    "MeterReading": "dtmDateSubmitted",
}
DISPLAY_FIELD = {"User": "strFullName", "Business": "strName", "WorkOrder": "strCode"}

BASE_MS = 1_764_547_200_000  # 2025-12-01T00:00:00Z
DAY_MS = 86_400_000

WO_STATUSES = ["Requested", "Assigned", "Open", "Work In Progress", "On Hold", "Closed"]
PO_STATUSES = ["Draft", "Requested", "Approved", "Sent", "Partially Received", "Closed"]
PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"]
MAINT_TYPES = ["Corrective", "Preventive", "Damage", "Inspection", "Safety"]
WORDS = ["Pump", "Motor", "Conveyor", "Boiler", "Chiller", "Compressor", "Press", "Valve", "Fan"]


class Ids:
    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def __call__(self, cls: str) -> int:
        n = self.next.get(cls, 100) + 1
        self.next[cls] = n
        return n


def generate(seed: int, size: int) -> dict[str, dict[int, dict[str, Any]]]:
    """``{className: {id: record}}`` with ``size`` work orders; the rest scale with it."""
    rng = random.Random(seed)
    ids = Ids()
    world: dict[str, dict[int, dict[str, Any]]] = {cls: {} for cls in SCHEMA}

    def add(cls: str, **values: Any) -> dict[str, Any]:
        rec = {f: None for f in SCHEMA[cls]}
        rec.update(values, id=ids(cls), intUpdated=0)
        world[cls][rec["id"]] = rec
        return rec

    def when(days: float) -> int:
        """A time ``days`` before the base, on a coarse grid so that many records tie."""
        return BASE_MS - int(days * DAY_MS) // 60_000 * 60_000

    for i, name in enumerate(WO_STATUSES):
        add("WorkOrderStatus", strName=name, intControlID=i + 1, intSysCode=i + 1)
    for i, name in enumerate(PO_STATUSES):
        add("PurchaseOrderStatus", strName=name, strDefaultLabel=name, intSysCode=i + 1,
            intControlID=i + 1)  # fmt: skip
    for i, name in enumerate(PRIORITIES):
        add("Priority", strName=name, intOrder=i + 1, intSysCode=i + 1)
    for i, name in enumerate(MAINT_TYPES):
        add("MaintenanceType", strName=name, intSysCode=i + 1, strColor=f"#{i * 3:02d}a0c0")
    units = [add("MeterReadingUnit", strName=n, strSymbol=s, intPrecision=1)
             for n, s in (("Hours", "h"), ("Kilometres", "km"), ("Cycles", "cyc"))]  # fmt: skip
    cats = {sc: add("AssetCategory", strName=n, intSysCode=sc)
            for sc, n in ((LOCATION, "Locations And Facilities"), (EQUIPMENT, "Equipment"),
                          (TOOLS, "Tools"), (PARTS, "Parts And Supplies"))}  # fmt: skip

    sites = []
    for s in range(3):
        sites.append(add(
            "Asset", strName=f"Plant {s + 1}", strCode=f"SITE{s + 1}", bolIsSite=1, bolIsRegion=0,
            intSuperCategorySysCode=LOCATION, intCategoryID=cats[LOCATION]["id"], intKind=1,
            strAddress=f"{100 + s} Industrial Way", strCity=["Austin", "Lyon", "Osaka"][s],
            bolIsOnline=1,
        ))  # fmt: skip
    for site in sites:
        site["intSiteID"] = site["id"]
    locations = []
    for n in range(12):
        site = sites[n % 3]
        locations.append(add(
            "Asset", strName=f"Building {n + 1}", strCode=f"LOC{n + 1:03d}", bolIsSite=0,
            intSuperCategorySysCode=LOCATION, intCategoryID=cats[LOCATION]["id"], intKind=1,
            intSiteID=site["id"], intAssetParentID=site["id"], intAssetLocationID=site["id"],
            bolIsOnline=1,
        ))  # fmt: skip
    equipment = []
    for n in range(max(20, size // 10)):
        loc = rng.choice(locations)
        equipment.append(add(
            "Asset", strName=f"{rng.choice(WORDS)} {n + 1}", strCode=f"EQ{n + 1:05d}",
            strDescription=f"{rng.choice(WORDS)} unit", bolIsSite=0, intKind=2,
            intSuperCategorySysCode=EQUIPMENT, intCategoryID=cats[EQUIPMENT]["id"],
            intSiteID=loc["intSiteID"], intAssetLocationID=loc["id"],
            intAssetParentID=equipment[-1]["id"] if equipment and n % 7 == 0 else None,
            strMake=rng.choice(["Siemens", "ABB", "Grundfos", "Atlas Copco"]),
            strModel=f"M-{rng.randint(100, 999)}", strSerialNumber=f"SN{rng.randint(10**6, 10**7)}",
            bolIsOnline=rng.choice([1, 1, 1, 0]), strNotes=rng.choice([None, "check belts"]),
        ))  # fmt: skip
    parts = []
    for n in range(max(20, size // 20)):
        parts.append(add(
            "Asset", strName=f"Part {n + 1}", strCode=f"P{n + 1:05d}", intKind=4,
            strDescription=f"{rng.choice(WORDS)} spare", bolIsSite=0,
            intSuperCategorySysCode=PARTS, intCategoryID=cats[PARTS]["id"],
            intSiteID=rng.choice(sites)["id"], strMake=rng.choice(["SKF", "Gates", "Parker"]),
            qtyStockCount=float(rng.randint(0, 80)), dblLastPrice=round(rng.uniform(2, 400), 2),
            strBarcode=f"BC{n + 1:07d}",
        ))  # fmt: skip
    stocks = []
    for part in parts:
        for loc in rng.sample(locations, rng.randint(1, 2)):
            stocks.append(add(
                "Stock", intAssetID=part["id"], intFacilityID=loc["id"],
                qtyOnHand=float(rng.randint(0, 50)), qtyMinQty=float(rng.randint(1, 5)),
                qtyMaxQty=float(rng.randint(20, 60)), strAisle=f"A{rng.randint(1, 9)}",
                strRow=str(rng.randint(1, 20)), strBin=f"B{rng.randint(1, 99):02d}",
                bolDeactivated=0,
            ))  # fmt: skip
    vendors = [add(
        "Business", strName=f"{rng.choice(['Acme', 'Apex', 'Nordic', 'Delta'])} Supply {n + 1}",
        strCode=f"V{n + 1:03d}", strCity=rng.choice(["Dallas", "Hamburg", "Kobe"]),
        strPhone=f"+1-555-{n:04d}", strPrimaryEmail=f"sales{n + 1}@vendor.example",
        strPrimaryContact=f"Contact {n + 1}",
    ) for n in range(15)]  # fmt: skip
    users = [add(
        "User", strFullName=f"Technician {n + 1}", strUserName=f"tech{n + 1}",
        strUserTitle=rng.choice(["Technician", "Planner", "Supervisor"]),
        strEmailAddress=f"tech{n + 1}@tenant.example", strPersonnelCode=f"E{n + 1:04d}",
        intUserStatusID=rng.choice([1, 1, 1, 2]), bolGroup=0,
        dblHourlyRate=float(rng.randint(25, 60)),
    ) for n in range(25)]  # fmt: skip
    for n, name in enumerate(["Mechanical", "Electrical", "Facilities", "Contractors"]):
        add("User", strFullName=name, strUserName=f"group{n + 1}", bolGroup=1, intUserStatusID=1)

    statuses = list(world["WorkOrderStatus"].values())
    prios = list(world["Priority"].values())
    mtypes = list(world["MaintenanceType"].values())
    sms = []
    for n in range(max(5, size // 20)):
        created = when(rng.uniform(100, 400))
        sm = add(
            "ScheduledMaintenance", strCode=f"SM{n + 1:04d}",
            strDescription=f"Service {rng.choice(WORDS).lower()} every {rng.choice([1, 3, 6])} months",
            intSiteID=rng.choice(sites)["id"], intPriorityID=rng.choice(prios)["id"],
            intMaintenanceTypeID=mtypes[1]["id"], intScheduledMaintenanceStatusID=1,
            dtmCreateDate=created, dtmUpdatedDate=when(rng.uniform(0, 90)),
        )  # fmt: skip
        sms.append(sm)
        for eq in rng.sample(equipment, rng.randint(1, 3)):
            add(
                "ScheduledMaintenanceAsset", intScheduledMaintenanceID=sm["id"], intAssetID=eq["id"]
            )
    for n in range(size):
        created = when(rng.uniform(5, 365))
        status = rng.choice(statuses)
        closed = status["strName"] == "Closed"
        eqs = rng.sample(equipment, rng.choice([1, 1, 1, 2]))
        add(
            "WorkOrder", strCode=f"WO{n + 1:06d}",
            strDescription=f"{rng.choice(['Repair', 'Inspect', 'Replace', 'Lubricate'])} "
                           f"{rng.choice(WORDS).lower()}",
            intWorkOrderStatusID=status["id"], intPriorityID=rng.choice(prios)["id"],
            intMaintenanceTypeID=rng.choice(mtypes)["id"], intSiteID=eqs[0]["intSiteID"],
            intScheduledMaintenanceID=rng.choice(sms)["id"] if n % 5 == 0 else None,
            intRequestedByUserID=rng.choice(users)["id"],
            intCompletedByUserID=rng.choice(users)["id"] if closed else None,
            strAssetIds=",".join(str(e["id"]) for e in eqs),
            strAssignedUserIds=str(rng.choice(users)["id"]),
            strCompletionNotes="done" if closed else None,
            dtmDateCreated=created, dtmDateCompleted=created + 3 * DAY_MS if closed else None,
            dtmSuggestedCompletionDate=created + 7 * DAY_MS,
            dtmDateLastModified=when(rng.uniform(0, 5) if n % 3 else rng.uniform(0, 120)),
        )  # fmt: skip
    po_statuses = list(world["PurchaseOrderStatus"].values())
    for n in range(max(5, size // 10)):
        created = when(rng.uniform(10, 300))
        vendor = rng.choice(vendors)
        po = add(
            "PurchaseOrder", intCode=1000 + n, intSupplierID=vendor["id"],
            intPurchaseOrderStatusID=rng.choice(po_statuses)["id"], intSiteID=rng.choice(sites)["id"],
            strPurchaseOrderReference=f"REF-{n + 1:05d}", dtmDateCreated=created,
            dtmDateSubmitted=created + DAY_MS, dtmDateExpectedDelivery=created + 14 * DAY_MS,
            dtmDateRequiredBy=created + 21 * DAY_MS, dtmDateLastUpdated=when(rng.uniform(0, 60)),
        )  # fmt: skip
        subtotal = 0.0
        for _ in range(rng.randint(1, 4)):
            stock = rng.choice(stocks)
            qty, price = float(rng.randint(1, 20)), round(rng.uniform(2, 300), 2)
            subtotal += qty * price
            add(
                "PurchaseOrderLineItem", intPurchaseOrderID=po["id"], intStockID=stock["id"],
                intAssetID=stock["intAssetID"], intSiteID=po["intSiteID"], intSupplierID=vendor["id"],
                strDescription=world["Asset"][stock["intAssetID"]]["strName"], qtyOnOrder=qty,
                qtyRecieved=float(rng.randint(0, int(qty))), dblUnitPrice=price, dblTaxRate=0.08,
                dtmDateCreated=created, dtmRequiredByDate=created + 21 * DAY_MS,
            )  # fmt: skip
        po.update(dblSubtotal=round(subtotal, 2), dblTax1=round(subtotal * 0.08, 2), dblTax2=0.0,
                  dblFreight=25.0, dblTotal=round(subtotal * 1.08 + 25.0, 2))  # fmt: skip
    for n in range(max(10, size // 5)):
        eq = equipment[n % len(equipment)]
        add(
            "MeterReading", intAssetID=eq["id"], intMeterReadingUnitsID=units[n % 3]["id"],
            intSubmittedByUserID=rng.choice(users)["id"], dblMeterReading=float(100 + n * 3),
            dtmDateSubmitted=when(rng.uniform(0, 200)),
        )  # fmt: skip
    _extend(world, random.Random(seed * 7919 + 1), add, when, sites, locations, equipment, parts,
            stocks, vendors, users, units)  # fmt: skip
    return world


ACCOUNTS = [("5000-100", "Maintenance labour"), ("5000-200", "Maintenance parts"),
            ("5000-300", "Contracted services"), ("5100-100", "Utilities"),
            ("1500-000", "Capital equipment"), ("1400-100", "Spare parts inventory"),
            ("6200-150", "Vehicle fleet"), ("6900-000", "Safety and compliance")]  # fmt: skip
OFFLINE_REASONS = ["Breakdown", "Planned maintenance", "Waiting on parts", "Power outage"]
FILES = [("manual.pdf", "Operating manual"), ("wiring.png", "Wiring diagram"),
         ("inspection.jpg", "Inspection photo"), ("quote.xlsx", "Supplier quote"),
         ("notes.txt", None)]  # fmt: skip


def _extend(world: dict, rng: random.Random, add: Any, when: Any, sites: list, locations: list,
            equipment: list, parts: list, stocks: list, vendors: list, users: list,
            units: list) -> None:  # fmt: skip
    """The classes beyond the first seeding (their own random stream, so that the records
    seeded before keep their values for a given seed)."""
    for code, text in ACCOUNTS:
        add("Account", strCode=code, strDescription=text)
    # a storeroom per site: a facility (a location asset) holding most of the stock
    for site in sites:
        room = add(
            "Asset", strName=f"Storeroom {site['strCity']}", strCode=f"STR-{site['strCode']}",
            bolIsSite=0, intSuperCategorySysCode=LOCATION, intCategoryID=locations[0]["intCategoryID"],
            intKind=1, intSiteID=site["id"], intAssetParentID=site["id"],
            intAssetLocationID=site["id"], bolIsOnline=1,
        )  # fmt: skip
        for part in rng.sample(parts, max(3, len(parts) // 3)):
            stocks.append(add(
                "Stock", intAssetID=part["id"], intFacilityID=room["id"],
                qtyOnHand=float(rng.randint(0, 120)), qtyMinQty=float(rng.randint(2, 10)),
                qtyMaxQty=float(rng.randint(60, 200)), strAisle=f"S{rng.randint(1, 4)}",
                strRow=str(rng.randint(1, 8)), strBin=f"B{rng.randint(1, 40):02d}",
                bolDeactivated=0,
            ))  # fmt: skip
    # a yard with no stock: a facility that is no storeroom
    add("Asset", strName="Yard", strCode="YARD", bolIsSite=0, intSuperCategorySysCode=LOCATION,
        intCategoryID=locations[0]["intCategoryID"], intKind=1, intSiteID=sites[0]["id"],
        intAssetParentID=sites[0]["id"], intAssetLocationID=sites[0]["id"], bolIsOnline=1)  # fmt: skip
    # customers: businesses some assets are tracked for (business tracking, strCustomerIds)
    customers = [add(
        "Business", strName=name, strCode=f"C{n + 1:03d}", strCity=city,
        strAddress=f"{10 + n} Harbour Road", strPostalCode=f"{70000 + n * 11}",
        strPhone=f"+1-555-7{n:03d}", strPrimaryEmail=f"facilities@{name.split()[0].lower()}.example",
        strPrimaryContact=f"Customer contact {n + 1}", strNotes="tenant under service contract",
    ) for n, (name, city) in enumerate([("Harbour Foods Ltd", "Dallas"),
                                        ("Riverside Clinic", "Lyon"),
                                        ("Kobe Logistics KK", "Osaka")])]  # fmt: skip
    for n, eq in enumerate(equipment):
        if n % 4 == 1:
            eq["strCustomerIds"] = str(customers[n % len(customers)]["id"])
        if n % 3 == 0:
            eq["strVendorIds"] = ",".join(str(v["id"]) for v in rng.sample(vendors, 2))
    reasons = [add("ReasonToSetAssetOffline", strName=name) for name in OFFLINE_REASONS]
    wos = list(world["WorkOrder"].values())
    for n in range(max(8, len(equipment) // 2)):
        eq = equipment[n % len(equipment)]
        start = when(rng.uniform(2, 200))
        ended = n % 5 != 0  # every fifth asset is still offline
        wo = rng.choice(wos) if wos and n % 2 == 0 else None
        add(
            "AssetOfflineTracker", intAssetID=eq["id"], dtmOfflineFrom=start,
            dtmOffLineTo=start + rng.randint(1, 72) * 3_600_000 if ended else None,
            intReasonOfflineID=rng.choice(reasons)["id"],
            intReasonOnlineID=None, intSetOfflineByUserID=rng.choice(users)["id"],
            intSetOnlineByUserID=rng.choice(users)["id"] if ended else None,
            intWorkOrderID=wo["id"] if wo else None,
            dblProductionHoursAffected=float(rng.randint(0, 40)) if ended else None,
            strOfflineAdditionalInfo=rng.choice(["bearing noise", "seal leak", None]),
            strOnlineAdditionalInfo="back in service" if ended else None,
        )  # fmt: skip
    stock_of = {}
    for s in stocks:
        stock_of.setdefault(s["intAssetID"], s)
    # work requests: work orders raised by a user or a guest; PM-generated ones have no requester
    for n, wo in enumerate(wos):
        if wo["intScheduledMaintenanceID"] is not None or n % 4 == 3:
            wo["intRequestedByUserID"] = None
        if n % 9 == 4:
            wo["intRequestedByUserID"] = None
            wo.update(strNameUserGuest=f"Guest {n}", strEmailUserGuest=f"guest{n}@visitor.example",
                      strPhoneUserGuest=f"+1-555-9{n % 1000:03d}")  # fmt: skip
    for wo in wos[: max(10, len(wos) // 3)]:
        for part in rng.sample(parts, rng.randint(1, 3)):
            closed = wo["dtmDateCompleted"] is not None
            suggested = float(rng.randint(1, 6))
            add(
                "WorkOrderPart", intWorkOrderID=wo["id"], intPartID=part["id"],
                intStockID=stock_of.get(part["id"], {}).get("id"),
                intAssetID=int(wo["strAssetIds"].split(",")[0]), qtySuggestedQuantity=suggested,
                qtyActualQuantityUsed=suggested - rng.randint(0, 1) if closed else 0.0,
            )  # fmt: skip
    for sm in world["ScheduledMaintenance"].values():
        sm_assets = [a for a in world["ScheduledMaintenanceAsset"].values()
                     if a["intScheduledMaintenanceID"] == sm["id"]]  # fmt: skip
        for part in rng.sample(parts, rng.randint(1, 2)):
            add(
                "ScheduledMaintenancePart", intScheduledMaintenanceID=sm["id"], intPartID=part["id"],
                intStockID=stock_of.get(part["id"], {}).get("id"),
                intAssetID=sm_assets[0]["intAssetID"] if sm_assets else None,
                qtySuggestedQuantity=float(rng.randint(1, 4)),
            )  # fmt: skip
    # bills of materials: equipment consuming parts, and assemblies (parts made of parts)
    for n, eq in enumerate(equipment[: max(6, len(equipment) // 2)]):
        for k, part in enumerate(rng.sample(parts, rng.randint(1, 3))):
            add("AssetConsumingReference", intAssetID=eq["id"], intConsumesAssetID=part["id"],
                qtyMaxConsumption=float(rng.randint(1, 8)), intBOMControlID=None,
                intBOMPartControlID=1000 * (n + 1) + k)  # fmt: skip
    for n, assembly in enumerate(parts[:4]):
        for k, part in enumerate(p for p in parts[4 + n * 2 : 7 + n * 2]):
            add("AssetConsumingReference", intAssetID=assembly["id"], intConsumesAssetID=part["id"],
                qtyMaxConsumption=float(k + 1), intBOMControlID=None,
                intBOMPartControlID=90000 + 10 * n + k)  # fmt: skip
    for n, wo in enumerate(wos[: max(12, len(wos) // 10)]):
        name, notes = FILES[n % len(FILES)]
        add("File", strName=f"{wo['strCode']}-{name}", strNotes=notes, intFileTypeID=1,
            intFileContentsID=5000 + n, intSize=rng.randint(2_000, 4_000_000),
            intWorkOrderID=wo["id"],
            strLink=f"/files/{5000 + n}/{wo['strCode']}-{name}")  # fmt: skip
