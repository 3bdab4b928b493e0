"""Maximo object structures -> unified EAM entities: the mapping table (data; see include/mapping.py).

What each entity reads (object structure, key, change time, requested fields) is in manifest.yaml.

References are built from exactly the attributes that form the target's key, so they join:
site = (siteid), asset = (siteid, assetnum), location/storeroom = (siteid, location),
vendor = (orgid, company), material = (itemsetid, itemnum), pm = (siteid, pmnum),
team = (persongroup), user = (personid), meter = (siteid, assetnum, metername).
"""

from __future__ import annotations

import mimetypes
from datetime import timedelta
from pathlib import Path
from typing import Any

from connectors.base import EntitySpec
from connectors.kit import entity_specs, load_manifest
from include.mapping import EntityMapping
from include.model import POLineItem
from include.model.keys import make_key
from include.model.timeutil import format_utc, parse_datetime


def _one_ref(*parts: str) -> dict[str, Any]:
    """A list holding one reference key (for list-valued unified fields)."""

    def fn(r: dict, tz: Any) -> list[str]:
        key = make_key([r.get(p) for p in parts])
        return [key] if key else []

    return {"fn": fn}


def _is(attr: str, *values: str) -> dict[str, Any]:
    def fn(r: dict, tz: Any) -> bool | None:
        v = r.get(attr)
        return None if v is None else v in values

    return {"fn": fn}


def _stock_quantity(r: dict, tz: Any) -> float | None:
    if r.get("curbaltotal") is not None:
        return float(r["curbaltotal"])
    bals = r.get("invbalances")
    if not bals:
        return None
    return float(sum(float(b.get("curbal") or 0) for b in bals))


def _pm_triggers(r: dict, tz: Any) -> list[dict[str, Any]]:
    if r.get("frequency") is None:
        return []
    return [{"type": "time", "frequency": r.get("frequency"), "unit": r.get("frequnit")}]


def _po_gross(r: dict, tz: Any) -> float | None:
    if r.get("totalcost") is None:
        return None
    taxes = sum(float(r.get(f"totaltax{i}") or 0) for i in range(1, 6))
    return round(float(r["totalcost"]) + taxes, 2)


STATUS = {"status": "status", "statusKey": {"ref": ["status"]}}

WORK_ORDER = EntityMapping(
    key=("siteid", "wonum"),
    version="changedate",
    remote_id="workorderid",
    created={"ts": "reportdate"},
    fields={
        "code": "wonum", "title": "description", **STATUS,
        "siteKey": {"ref": ["siteid"]}, "organizationKey": {"ref": ["orgid"]},
        "assetKey": {"ref": ["siteid", "assetnum"]}, "locationKey": {"ref": ["siteid", "location"]},
        "parentKey": {"ref": ["siteid", "parent"]}, "pmKey": {"ref": ["siteid", "pmnum"]},
        "teamKey": {"ref": ["persongroup"]}, "laborAssignedKey": {"ref": ["lead"]},
        "severity": {"str": "wopriority"}, "categoryName": "worktype",
        "estimatedTime": {"str": "estdur"}, "actualTime": {"str": "actlabhrs"},
        "scheduledAt": {"ts": "schedstart"}, "dueAt": {"ts": "targcompdate"},
        "completedAt": {"ts": "actfinish"}, "accountKey": {"ref": ["orgid", "glaccount"]},
    },
)  # fmt: skip

ASSET = EntityMapping(
    key=("siteid", "assetnum"),
    version="changedate",
    remote_id="assetuid",
    fields={
        "name": "description", "description": "description", "status": "status",
        "siteKey": {"ref": ["siteid"]}, "organizationKey": {"ref": ["orgid"]},
        "parentKey": {"ref": ["siteid", "parent"]}, "locationKey": {"ref": ["siteid", "location"]},
        "vendorKey": {"ref": ["orgid", "vendor"]}, "categoryName": "assettype",
        "criticality": {"str": "priority"}, "isActive": _is("status", "OPERATING", "NOT READY"),
        "makeName": "manufacturer", "modelName": "pluscmodelnum", "serialNumber": "serialnum",
        "activatedAt": {"ts": "installdate"},
        "assetTemplateKey": {"ref": ["orgid", "templateid"]},
    },
)  # fmt: skip

LOCATION = EntityMapping(
    key=("siteid", "location"),
    version="changedate",
    remote_id="locationsid",
    fields={
        "code": "location", "name": "description", "description": "description", "type": "type",
        "siteKey": {"ref": ["siteid"]}, "organizationKey": {"ref": ["orgid"]},
        "isActive": _is("status", "OPERATING"), "isDefault": {"bool": "isdefault"},
    },
)  # fmt: skip

SITE = EntityMapping(
    key=("siteid",),
    remote_id="siteuid",
    fields={
        "code": "siteid", "name": "description", "description": "description",
        "organizationKey": {"ref": ["orgid"]},
    },
)  # fmt: skip

PM = EntityMapping(
    key=("siteid", "pmnum"),
    version="changedate",
    remote_id="pmuid",
    fields={
        "title": "description", "description": "description", **STATUS,
        "siteKey": {"ref": ["siteid"]}, "assetKeys": _one_ref("siteid", "assetnum"),
        "teamKey": {"ref": ["persongroup"]}, "severity": {"str": "priority"},
        "categoryName": "worktype", "dueAt": {"ts": "nextdate"}, "triggers": {"fn": _pm_triggers},
    },
)  # fmt: skip

MATERIAL = EntityMapping(
    key=("itemsetid", "itemnum"),
    remote_id="itemid",
    updated={"ts": "statusdate"},
    fields={
        "code": "itemnum", "partNumber": "itemnum", "name": "description",
        "description": "description", "isActive": _is("status", "ACTIVE"),
        "isAssembly": {"bool": "iskit"}, "uomKey": {"ref": ["issueunit"]},
    },
)  # fmt: skip

STOCK = EntityMapping(
    key=("siteid", "itemnum", "location"),
    remote_id="inventoryid",
    fields={
        "materialKey": {"ref": ["itemsetid", "itemnum"]},
        "locationKey": {"ref": ["siteid", "location"]},
        "storeroomKey": {"ref": ["siteid", "location"]}, "siteKey": {"ref": ["siteid"]},
        "position": "binnum", "uomKey": {"ref": ["issueunit"]},
        "quantity": {"fn": _stock_quantity}, "minLevel": {"float": "minlevel"},
        "maxLevel": {"float": "maxlevel"}, "reorderQuantity": {"float": "orderqty"},
    },
)  # fmt: skip

PO_LINE = EntityMapping(
    key=("siteid", "ponum", "polinenum"),
    remote_id="polineid",
    fields={
        "purchaseOrderKey": {"ref": ["siteid", "ponum"]},
        "materialKey": {"ref": ["itemsetid", "itemnum"]},
        "assetKey": {"ref": ["siteid", "assetnum"]}, "locationKey": {"ref": ["siteid", "storeloc"]},
        "lineNo": {"str": "polinenum"}, "code": "itemnum", "type": "linetype",
        "name": "description", "description": "description",
        "quantity": {"float": "orderqty"}, "receivedQuantity": {"float": "receivedqty"},
        "uomKey": {"ref": ["orderunit"]}, "price": {"float": "unitcost"},
        "lineTotalValue": {"float": "linecost"}, "dueAt": {"ts": "reqdeliverydate"},
        "deliveryAt": {"ts": "vendeliverydate"},
    },
)  # fmt: skip

PURCHASE_ORDER = EntityMapping(
    key=("siteid", "ponum"),
    version="changedate",
    remote_id="poid",
    fields={
        "orderNo": "ponum", "title": "description", "description": "description", **STATUS,
        "siteKey": {"ref": ["siteid"]}, "organizationKey": {"ref": ["orgid"]},
        "vendorKey": {"ref": ["orgid", "vendor"]}, "orderDate": {"ts": "orderdate"},
        "dueAt": {"ts": "requireddate"}, "currencyKey": {"ref": ["currencycode"]},
        "terms": "paymentterms",
        "totalNetValue": {"float": "totalcost"}, "totalGrossValue": {"fn": _po_gross},
    },
    children={"purchase-orders.line-items": ("poline", PO_LINE)},
)  # fmt: skip

VENDOR = EntityMapping(
    key=("orgid", "company"),
    version="changedate",
    remote_id="companiesid",
    fields={
        "code": "company", "name": "name", "organizationKey": {"ref": ["orgid"]},
        "companyKey": {"ref": ["orgid", "company"]},
    },
)  # fmt: skip

USER = EntityMapping(
    key=("personid",),
    remote_id="personuid",
    updated={"ts": "statusdate"},
    fields={
        "name": "displayname", "email": "primaryemail", "description": "title",
        "isActive": _is("status", "ACTIVE"), "organizationKey": {"ref": ["locationorg"]},
        "siteKeys": _one_ref("locationsite"), "locationKeys": _one_ref("locationsite", "location"),
    },
)  # fmt: skip

TEAM = EntityMapping(
    key=("persongroup",),
    fields={
        "code": "persongroup", "name": "description", "description": "description",
        "userKeys": {"refs": "persongroupteam", "each": ["respparty"]},
    },
)  # fmt: skip

METER = EntityMapping(
    key=("siteid", "assetnum", "metername"),
    remote_id="assetmeterid",
    fields={
        "name": "metername", "siteKey": {"ref": ["siteid"]},
        "assetKeys": _one_ref("siteid", "assetnum"), "uomName": "measureunitid",
        "uomKey": {"ref": ["measureunitid"]}, "lastReading": {"float": "lastreading"},
        "lastReadingAt": {"ts": "lastreadingdate"},
    },
)  # fmt: skip

METER_READING = EntityMapping(
    key=("meterreadingid",),
    version="readingdate",
    remote_id="meterreadingid",
    created={"ts": "enterdate"},
    fields={
        "assetKey": {"ref": ["siteid", "assetnum"]},
        "meterKey": {"ref": ["siteid", "assetnum", "metername"]},
        "reading": {"float": "reading"}, "readAt": {"ts": "readingdate"},
    },
)  # fmt: skip

STOREROOM = EntityMapping(
    key=("siteid", "location"),
    version="changedate",
    remote_id="locationsid",
    fields={
        "code": "location", "name": "description", "description": "description", "type": "type",
        "siteKey": {"ref": ["siteid"]}, "locationKey": {"ref": ["siteid", "location"]},
    },
)  # fmt: skip

ORGANIZATION = EntityMapping(
    key=("orgid",),
    remote_id="organizationid",
    fields={
        "code": "orgid", "name": "description", "description": "description",
        "currencyKey": {"ref": ["basecurrency1"]},
    },
)  # fmt: skip


def _wo_of_sr(r: dict, tz: Any) -> str | None:
    """The work order a service request became (Maximo's origrecordid on the SR)."""
    if r.get("origrecordclass") != "WORKORDER":
        return None
    return make_key([r.get("siteid"), r.get("origrecordid")])


SERVICE_REQUEST = EntityMapping(
    key=("ticketid",),
    version="changedate",
    remote_id="ticketuid",
    created={"ts": "reportdate"},
    fields={
        "title": "description", "description": "description", **STATUS,
        "siteKey": {"ref": ["siteid"]}, "assetKey": {"ref": ["siteid", "assetnum"]},
        "locationKey": {"ref": ["siteid", "location"]},
        "teamKey": {"ref": ["ownergroup"]}, "userRequestedKey": {"ref": ["reportedby"]},
        "laborAssignedKey": {"ref": ["owner"]}, "workOrderKey": {"fn": _wo_of_sr},
        "severity": {"str": "internalpriority"}, "categoryName": "commoditygroup",
        "dueAt": {"ts": "targetfinish"},
    },
)  # fmt: skip

LABOR = EntityMapping(
    key=("orgid", "laborcode"),
    remote_id="laborid",
    fields={
        "code": "laborcode", "name": "laborcode", "organizationKeys": _one_ref("orgid"),
        "siteKeys": _one_ref("worksite"), "locationKeys": _one_ref("worksite", "worklocation"),
        "userKey": {"ref": ["personid"]}, "vendorKey": {"ref": ["orgid", "vendor"]},
        "roleName": "craft", "isActive": _is("status", "ACTIVE"),
    },
)  # fmt: skip

ACCOUNT = EntityMapping(
    key=("orgid", "glaccount"),
    remote_id="chartofaccountsid",
    fields={"code": "glaccount", "name": "accountname", "description": "accountname"},
)  # fmt: skip

UOM = EntityMapping(
    key=("measureunitid",),
    fields={"code": "measureunitid", "name": "description"},
)


def _address(r: dict, tz: Any) -> dict[str, Any] | None:
    """Maximo's company address: address1 street, address2 city, address3 state or province,
    address4 postal code, address5 country (the Companies application's labels)."""
    parts = {k: r.get(f"address{i}") for i, k in
             enumerate(("addressLines", "city", "state", "postCode", "country"), 1)}  # fmt: skip
    if not any(parts.values()) and not r.get("phone"):
        return None
    return {**parts, "addressee": r.get("name"), "phone": r.get("phone")}


COMPANY = EntityMapping(
    key=("orgid", "company"),
    version="changedate",
    remote_id="companiesid",
    fields={
        "code": "company", "name": "name", "organizationKey": {"ref": ["orgid"]},
        "parentKey": {"ref": ["orgid", "parentcompany"]}, "currencyKey": {"ref": ["currencycode"]},
        "addresses": {"fn": lambda r, tz: [a] if (a := _address(r, tz)) else []},
    },
)  # fmt: skip


def _down_since(r: dict, tz: Any) -> str | None:
    """When the downtime began: the up row's change time less the hours it was down."""
    up = parse_datetime(r.get("changedate"), tz)
    if up is None or r.get("downtime") is None:
        return None
    return format_utc(up - timedelta(hours=float(r["downtime"])))


ASSET_DOWNTIME = EntityMapping(
    key=("assetstatusid",),
    version="changedate",
    remote_id="assetstatusid",
    created={"ts": "changedate"},
    fields={
        "assetKey": {"ref": ["siteid", "assetnum"]}, "startedAt": {"fn": _down_since},
        "endedAt": {"ts": "changedate"}, "categoryName": "code", "notes": "wonum",
    },
)  # fmt: skip

ASSET_TEMPLATE = EntityMapping(
    key=("orgid", "templateid"),
    remote_id="plusctemplateid",
    fields={"name": "description", "manufacturerName": "manufacturer"},
)

TEMPLATE_PART = EntityMapping(
    key=("orgid", "templateid", "itemnum"),
    remote_id="plusctsparepartid",
    fields={
        "assetTemplateKey": {"ref": ["orgid", "templateid"]},
        "materialKey": {"ref": ["itemsetid", "itemnum"]}, "partNumber": "itemnum",
        "name": "description", "quantity": {"float": "quantity"},
    },
)  # fmt: skip


def _content_type(r: dict, tz: Any) -> str | None:
    """DOCLINKS records no media type: guessed from the file name (a URL link has none)."""
    if r.get("urltype") != "FILE" or not r.get("urlname"):
        return None
    return mimetypes.guess_type(str(r["urlname"]))[0]


DOCUMENT = EntityMapping(
    key=("doclinksid",),
    version="changedate",
    remote_id="doclinksid",
    created={"ts": "createdate"},
    fields={
        "entityKeys": {"fn": lambda r, tz: [r["_ownerkey"]] if r.get("_ownerkey") else []},
        "name": "document", "url": "urlname", "type": "doctype",
        "contentType": {"fn": _content_type}, "description": "description",
    },
)  # fmt: skip

INVENTORY = EntityMapping(
    key=("siteid", "itemnum", "location"),
    remote_id="inventoryid",
    fields={
        "code": "itemnum", "quantity": {"float": "curbaltotal"}, "unitCost": {"float": "avgcost"},
        "locationKey": {"ref": ["siteid", "location"]},
    },
)  # fmt: skip


def _abs(attr: str) -> dict[str, Any]:
    def fn(r: dict, tz: Any) -> float | None:
        v = r.get(attr)
        return None if v is None else abs(float(v))

    return {"fn": fn}


def _return_line(r: dict, tz: Any) -> list[dict[str, Any]]:
    """The returned PO line: a return (MATRECTRANS) is one line of one PO."""
    line: dict[str, Any] = dict.fromkeys(POLineItem.model_fields)
    line.update(
        key=make_key([r.get("matrectransid")]),
        purchaseOrderKey=make_key([r.get("siteid"), r.get("ponum")]),
        materialKey=make_key([r.get("itemsetid"), r.get("itemnum")]),
        storeroomKey=make_key([r.get("siteid"), r.get("tostoreloc")]),
        lineNo=None if r.get("polinenum") is None else str(r["polinenum"]),
        code=r.get("itemnum"),
        name=r.get("description"),
        description=r.get("description"),
        quantity=_abs("quantity")["fn"](r, tz),
        price=_abs("unitcost")["fn"](r, tz),
        lineTotalValue=_abs("linecost")["fn"](r, tz),
        currencyKey=make_key([r.get("currencycode")]),
        type=r.get("issuetype"),
        customFields={},
    )
    return [line]


RETURN_ORDER = EntityMapping(
    key=("matrectransid",),
    version="transdate",
    remote_id="matrectransid",
    created={"ts": "transdate"},
    fields={
        "code": {"str": "matrectransid"}, **STATUS, "siteKey": {"ref": ["siteid"]},
        "organizationKey": {"ref": ["orgid"]}, "poKey": {"ref": ["siteid", "ponum"]},
        "orderNo": "ponum", "orderDate": {"ts": "transdate"}, "completedAt": {"ts": "actualdate"},
        "type": "issuetype", "title": "description", "description": "description",
        "notes": "remark", "currencyKey": {"ref": ["currencycode"]},
        "totalNetValue": _abs("linecost"), "totalGrossValue": _abs("linecost"),
        "lineItems": {"fn": _return_line},
    },
)  # fmt: skip

WO_MATERIAL = EntityMapping(
    key=("siteid", "wonum", "wpitemid"),
    remote_id="wpitemid",
    fields={
        "workOrderKey": {"ref": ["siteid", "wonum"]},
        "materialKey": {"ref": ["itemsetid", "itemnum"]}, "partNumber": "itemnum",
        "name": "description", "uomKey": {"ref": ["orderunit"]},
        "quantity": {"float": "itemqty"}, "requiredQuantity": {"float": "itemqty"},
    },
)  # fmt: skip

PM_MATERIAL = EntityMapping(
    key=("siteid", "pmnum", "jobmaterialid"),
    fields={
        "pmKey": {"ref": ["siteid", "pmnum"]}, "materialKey": {"ref": ["itemsetid", "itemnum"]},
        "partNumber": "itemnum", "uomKey": {"ref": ["orderunit"]},
        "quantity": {"float": "itemqty"}, "requiredQuantity": {"float": "itemqty"},
    },
)  # fmt: skip

ASSET_PART = EntityMapping(
    key=("siteid", "assetnum", "itemnum"),
    remote_id="sparepartid",
    fields={
        "assetKey": {"ref": ["siteid", "assetnum"]},
        "materialKey": {"ref": ["itemsetid", "itemnum"]}, "partNumber": "itemnum",
        "name": "description", "quantity": {"float": "quantity"},
    },
)  # fmt: skip

KIT_PART = EntityMapping(
    key=("itemstructid",),
    remote_id="itemstructid",
    fields={
        "assemblyKey": {"ref": ["itemsetid", "itemnum"]},
        "materialKey": {"ref": ["itemsetid", "itemid"]}, "partNumber": "itemid",
        "quantity": {"float": "quantity"},
    },
)  # fmt: skip

MAPPINGS: dict[str, EntityMapping] = {
    "sites": SITE, "locations": LOCATION, "assets": ASSET, "work-orders": WORK_ORDER, "pm": PM,
    "materials": MATERIAL, "stocks": STOCK, "purchase-orders": PURCHASE_ORDER, "vendors": VENDOR,
    "users": USER, "teams": TEAM, "meters": METER, "meter-readings": METER_READING,
    "organizations": ORGANIZATION, "service-requests": SERVICE_REQUEST, "labors": LABOR,
    "storerooms": STOREROOM, "accounts": ACCOUNT, "uom": UOM, "companies": COMPANY,
    "assets-downtime": ASSET_DOWNTIME, "asset-templates": ASSET_TEMPLATE,
    "asset-templates.materials": TEMPLATE_PART, "documents": DOCUMENT, "inventories": INVENTORY,
    "return-orders": RETURN_ORDER, "work-orders.materials": WO_MATERIAL,
    "pm.materials": PM_MATERIAL, "assets.materials": ASSET_PART, "materials.children": KIT_PART,
}  # fmt: skip

# Unified status (docs/API.md, "Unified status"): Maximo's synonym values (WOSTATUS, POSTATUS,
# LOCASSETSTATUS) -> statusCategory; a connection's `status_categories` overrides them.
STATUS_CATEGORIES: dict[str, dict[str, str]] = {
    "work-orders": {
        "WAPPR": "open", "APPR": "open", "WSCH": "open", "WMATL": "on_hold", "WPCOND": "on_hold",
        "INPRG": "in_progress", "COMP": "completed", "CLOSE": "closed", "HISTEDIT": "closed",
        "CAN": "cancelled",
    },
    "purchase-orders": {
        "WAPPR": "pending_approval", "APPR": "approved", "INPRG": "approved", "HOLD": "on_hold",
        "REVISE": "draft", "PNDREV": "draft", "CLOSE": "closed", "CAN": "cancelled",
    },
    "service-requests": {
        "NEW": "open", "QUEUED": "open", "INPROG": "in_progress", "RESOLVED": "closed",
        "CLOSED": "closed", "CANCELLED": "cancelled",
    },
    "assets": {
        "OPERATING": "active", "ACTIVE": "active", "NOT READY": "inactive",
        "INACTIVE": "inactive", "BROKEN": "in_repair", "DECOMMISSIONED": "decommissioned",
    },
    # RECEIPTSTATUS of the return's MATRECTRANS row
    "return-orders": {"COMP": "completed", "WINSP": "pending_approval", "WASSET": "approved"},
}  # fmt: skip

# Makini resources Maximo has no concept for (the coverage matrix, docs/API.md)
NO_CONCEPT: dict[str, str] = {
    "customers": "Maximo Manage has no customer master: customers (PLUSPCUSTOMER) come only with "
    "the Maximo for Service Providers add-on; companies are vendors, manufacturers and carriers",
}

# With the manifest (paths, keys, change times, requested fields): what the pipeline reads.
ENTITIES: dict[str, EntitySpec] = entity_specs(
    load_manifest(Path(__file__).with_name("manifest.yaml")), MAPPINGS
)
