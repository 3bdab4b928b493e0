"""Fiix CMMS record classes -> unified entities (pure data; see include/mapping/spec.py).

Every Fiix record has an integer ``id``: it is the key. Sites, locations, equipment and parts are
all ``Asset`` records (manifest.yaml selects them). Names of referenced records come as display
values (``dv_intWorkOrderStatusID``...), which the API returns when asked. Dates are epoch ms.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from connectors.base import ChangedWhen
from include.mapping import EntityMapping


def _ids(path: str) -> dict[str, Any]:
    """Keys from a comma-separated id list (``strAssetIds``: ``"1203,1207"``)."""
    return {"fn": lambda r, tz: [p.strip() for p in str(r.get(path) or "").split(",") if p.strip()]}


def _first_id(path: str) -> dict[str, Any]:
    return {"fn": lambda r, tz: next(iter(_ids(path)["fn"](r, tz)), None)}


def _flag(path: str) -> dict[str, Any]:
    return {"fn": lambda r, tz: None if r.get(path) is None else bool(r[path])}


def _gross(r: dict, tz: Any) -> float | None:
    return None if r.get("dblTotal") is None else float(r["dblTotal"])


def _address(r: dict) -> dict[str, Any] | None:
    if not any(r.get(k) for k in ("strAddress", "strCity", "strPostalCode")):
        return None
    return {"line1": r.get("strAddress"), "city": r.get("strCity"), "state": r.get("strProvince"),
            "postalCode": r.get("strPostalCode")}  # fmt: skip


def _guest(r: dict, tz: Any) -> str | None:
    """A guest's request (no user): who asked, as the request portal records it."""
    parts = [r.get(k) for k in ("strNameUserGuest", "strEmailUserGuest", "strPhoneUserGuest")]
    return ", ".join(str(x) for x in parts if x) or None


REF = {"ref": ["intSiteID"]}
# AssetConsumingReference: an asset (or part) consuming a part, its bill of materials
BOM = {
    "materialKey": {"ref": ["intConsumesAssetID"]},
    "name": "dv_intConsumesAssetID",
    "quantity": {"float": "qtyMaxConsumption"},
    "positionNumber": {"str": "intBOMPartControlID"},
}
ASSET_BASE = {"name": "strName", "code": "strCode", "description": "strDescription"}

# fmt: off
MAPPINGS: dict[str, EntityMapping] = {
    "sites": EntityMapping(
        key=("id",), remote_id="id",
        fields={**ASSET_BASE, "address": {"fn": lambda r, tz: {
            "line1": r.get("strAddress"), "city": r.get("strCity"), "state": r.get("strProvince"),
            "postalCode": r.get("strPostalCode")} if r.get("strAddress") else None}},
    ),  # fmt: skip
    "locations": EntityMapping(
        key=("id",), remote_id="id",
        fields={**ASSET_BASE, "siteKey": REF, "parentKey": {"ref": ["intAssetParentID"]},
                "isActive": _flag("bolIsOnline"), "type": {"const": "facility"}},
    ),  # fmt: skip
    "assets": EntityMapping(
        key=("id",), remote_id="id",
        fields={"name": "strName", "description": "strDescription", "siteKey": REF,
                "locationKey": {"ref": ["intAssetLocationID"]},
                "parentKey": {"ref": ["intAssetParentID"]}, "categoryName": "dv_intCategoryID",
                "isActive": _flag("bolIsOnline"), "makeName": "strMake", "modelName": "strModel",
                "serialNumber": "strSerialNumber", "notes": "strNotes",
                "customerKey": _first_id("strCustomerIds"), "vendorKey": _first_id("strVendorIds")},
    ),  # fmt: skip
    "materials": EntityMapping(
        key=("id",), remote_id="id",
        fields={**ASSET_BASE, "partNumber": "strCode", "manufacturerName": "strMake",
                "notes": "strNotes"},
    ),  # fmt: skip
    "stocks": EntityMapping(
        key=("id",), remote_id="id",
        fields={"materialKey": {"ref": ["intAssetID"]}, "locationKey": {"ref": ["intFacilityID"]},
                "storeroomKey": {"ref": ["intFacilityID"]},
                "position": {"fn": lambda r, tz: "-".join(str(r[k]) for k in (
                    "strAisle", "strRow", "strBin") if r.get(k)) or None},
                "quantity": {"float": "qtyOnHand"}, "minLevel": {"float": "qtyMinQty"},
                "maxLevel": {"float": "qtyMaxQty"}},
    ),  # fmt: skip
    "work-orders": EntityMapping(
        key=("id",), version="dtmDateLastModified", remote_id="id",
        created={"ts": "dtmDateCreated"},
        fields={"code": "strCode", "title": "strDescription", "siteKey": REF,
                "status": "dv_intWorkOrderStatusID", "statusKey": {"ref": ["intWorkOrderStatusID"]},
                "severity": "dv_intPriorityID", "categoryName": "dv_intMaintenanceTypeID",
                "assetKey": _first_id("strAssetIds"), "laborAssignedKey": _first_id("strAssignedUserIds"),
                "pmKey": {"ref": ["intScheduledMaintenanceID"]}, "notes": "strCompletionNotes",
                "dueAt": {"ts": "dtmSuggestedCompletionDate"}, "completedAt": {"ts": "dtmDateCompleted"}},
    ),  # fmt: skip
    "pm": EntityMapping(
        key=("id",), version="dtmUpdatedDate", remote_id="id", created={"ts": "dtmCreateDate"},
        fields={"title": "strCode", "description": "strDescription", "siteKey": REF,
                "severity": "dv_intPriorityID", "categoryName": "dv_intMaintenanceTypeID",
                "assetKeys": {"refs": "assets", "each": ["intAssetID"]}},
    ),  # fmt: skip
    "purchase-orders": EntityMapping(
        key=("id",), version="dtmDateLastUpdated", remote_id="id", created={"ts": "dtmDateCreated"},
        fields={"orderNo": {"str": "intCode"}, "title": "strPurchaseOrderReference", "siteKey": REF,
                "vendorKey": {"ref": ["intSupplierID"]}, "status": "dv_intPurchaseOrderStatusID",
                "statusKey": {"ref": ["intPurchaseOrderStatusID"]},
                "orderDate": {"ts": "dtmDateSubmitted"}, "dueAt": {"ts": "dtmDateRequiredBy"},
                "totalNetValue": {"float": "dblSubtotal"}, "totalGrossValue": {"fn": _gross}},
        children={"purchase-orders.line-items": ("lines", EntityMapping(
            key=("id",), remote_id="id", fields={
                "purchaseOrderKey": {"ref": ["intPurchaseOrderID"]},
                "materialKey": {"ref": ["intAssetID"]}, "vendorKey": {"ref": ["intSupplierID"]},
                "lineNo": {"str": "id"}, "description": "strDescription",
                "quantity": {"float": "qtyOnOrder"}, "receivedQuantity": {"float": "qtyRecieved"},
                "price": {"float": "dblUnitPrice"}, "dueAt": {"ts": "dtmRequiredByDate"},
                "lineTotalValue": {"fn": lambda r, tz: None if r.get("qtyOnOrder") is None
                                   or r.get("dblUnitPrice") is None
                                   else round(r["qtyOnOrder"] * r["dblUnitPrice"], 2)}}))},
    ),  # fmt: skip
    "vendors": EntityMapping(key=("id",), remote_id="id", fields={"name": "strName", "code": "strCode"}),
    "users": EntityMapping(
        key=("id",), remote_id="id",
        fields={"name": "strFullName", "email": "strEmailAddress", "description": "strUserTitle",
                "roleName": "strUserTitle",
                "isActive": {"fn": lambda r, tz: None if r.get("intUserStatusID") is None
                             else r["intUserStatusID"] == 1}},
    ),  # fmt: skip
    "teams": EntityMapping(key=("id",), remote_id="id", fields={"name": "strFullName",
                                                                 "code": "strUserName"}),  # fmt: skip
    "meter-readings": EntityMapping(
        key=("id",), version="dtmDateSubmitted", remote_id="id",
        fields={"assetKey": {"ref": ["intAssetID"]},
                "meterKey": {"ref": ["intAssetID", "intMeterReadingUnitsID"]},
                "reading": {"float": "dblMeterReading"}, "readAt": {"ts": "dtmDateSubmitted"}},
    ),  # fmt: skip
    "storerooms": EntityMapping(
        key=("id",), remote_id="id",
        fields={**ASSET_BASE, "siteKey": REF, "parentKey": {"ref": ["intAssetParentID"]},
                "locationKey": {"ref": ["id"]}, "type": {"const": "facility"}},
    ),  # fmt: skip
    "accounts": EntityMapping(
        key=("id",), remote_id="id",
        fields={"code": "strCode", "name": "strDescription", "description": "strDescription"},
    ),  # fmt: skip
    "labors": EntityMapping(
        key=("id",), remote_id="id",
        fields={"userKey": {"ref": ["id"]}, "name": "strFullName", "code": "strPersonnelCode",
                "roleName": "strUserTitle", "notes": "strNotes",
                "isActive": {"fn": lambda r, tz: None if r.get("intUserStatusID") is None
                             else r["intUserStatusID"] == 1}},
    ),  # fmt: skip
    "uom": EntityMapping(key=("id",), remote_id="id",
                         fields={"name": "strName", "code": "strSymbol"}),  # fmt: skip
    "companies": EntityMapping(
        key=("id",), remote_id="id",
        fields={"name": "strName", "code": "strCode", "notes": "strNotes",
                "addresses": {"fn": lambda r, tz: [a] if (a := _address(r)) else []}},
    ),  # fmt: skip
    "customers": EntityMapping(
        key=("id",), remote_id="id",
        fields={"name": "strName", "code": "strCode", "companyKey": {"ref": ["id"]},
                "addresses": {"fn": lambda r, tz: [a] if (a := _address(r)) else []}},
    ),  # fmt: skip
    "assets-downtime": EntityMapping(
        key=("id",), remote_id="id",
        fields={"assetKey": {"ref": ["intAssetID"]}, "startedAt": {"ts": "dtmOfflineFrom"},
                "endedAt": {"ts": "dtmOffLineTo"}, "categoryName": "dv_intReasonOfflineID",
                "description": "strOfflineAdditionalInfo", "notes": "strOnlineAdditionalInfo"},
    ),  # fmt: skip
    "meters": EntityMapping(
        key=("intAssetID", "intMeterReadingUnitsID"),
        fields={"assetKeys": {"fn": lambda r, tz: [str(r["intAssetID"])]}, "siteKey": REF,
                "name": {"fn": lambda r, tz: " ".join(str(x) for x in (
                    r.get("strName"), (r.get("unit") or {}).get("strName")) if x) or None},
                "uomName": "unit.strName",
                "uomKey": {"ref": ["intMeterReadingUnitsID"]},
                "lastReading": {"float": "lastReading.dblMeterReading"},
                "lastReadingAt": {"ts": "lastReading.dtmDateSubmitted"}},
    ),  # fmt: skip
    "service-requests": EntityMapping(
        key=("id",), version="dtmDateLastModified", remote_id="id",
        created={"ts": "dtmDateCreated"},
        fields={"title": "strCode", "description": "strDescription", "siteKey": REF,
                "workOrderKey": {"ref": ["id"]}, "assetKey": _first_id("strAssetIds"),
                "laborAssignedKey": _first_id("strAssignedUserIds"),
                "userRequestedKey": {"ref": ["intRequestedByUserID"]},
                "status": "dv_intWorkOrderStatusID", "statusKey": {"ref": ["intWorkOrderStatusID"]},
                "severity": "dv_intPriorityID", "categoryName": "dv_intMaintenanceTypeID",
                "dueAt": {"ts": "dtmSuggestedCompletionDate"}, "notes": {"fn": _guest}},
    ),  # fmt: skip
    "documents": EntityMapping(
        key=("id",), remote_id="id",
        fields={"name": "strName", "url": "strLink", "description": "strNotes",
                "entityKeys": {"fn": lambda r, tz: [str(r["intWorkOrderID"])]
                               if r.get("intWorkOrderID") is not None else []},
                "contentType": {"fn": lambda r, tz: mimetypes.guess_type(
                    str(r.get("strName") or ""))[0]}},
    ),  # fmt: skip
    "inventories": EntityMapping(
        key=("id",), remote_id="id",
        fields={"code": "part.strCode", "name": "dv_intAssetID",
                "quantity": {"float": "qtyOnHand"}, "unitCost": {"float": "part.dblLastPrice"},
                "locationKey": {"ref": ["intFacilityID"]}},
    ),  # fmt: skip
    "work-orders.materials": EntityMapping(
        key=("id",), remote_id="id",
        fields={"workOrderKey": {"ref": ["intWorkOrderID"]}, "materialKey": {"ref": ["intPartID"]},
                "assetKey": {"ref": ["intAssetID"]}, "name": "dv_intPartID",
                "quantity": {"float": "qtyActualQuantityUsed"},
                "requiredQuantity": {"float": "qtySuggestedQuantity"}},
    ),  # fmt: skip
    "pm.materials": EntityMapping(
        key=("id",), remote_id="id",
        fields={"pmKey": {"ref": ["intScheduledMaintenanceID"]},
                "materialKey": {"ref": ["intPartID"]}, "assetKey": {"ref": ["intAssetID"]},
                "name": "dv_intPartID", "requiredQuantity": {"float": "qtySuggestedQuantity"}},
    ),  # fmt: skip
    "assets.materials": EntityMapping(key=("id",), remote_id="id", fields={
        "assetKey": {"ref": ["intAssetID"]}, **BOM}),  # fmt: skip
    "materials.children": EntityMapping(key=("id",), remote_id="id", fields={
        "assemblyKey": {"ref": ["intAssetID"]}, **BOM}),  # fmt: skip
}
# fmt: on

CHANGED_WHEN = {
    "purchase-orders": ChangedWhen(
        untracked=("lines",),
        note="PurchaseOrderLineItem has no change time: a full read every full_read_every "
        "catches line edits that leave the PO's dtmDateLastUpdated alone",
    ),  # fmt: skip
    "pm": ChangedWhen(untracked=("assets",), note="ScheduledMaintenanceAsset has no change time"),
}

# Unified status (docs/API.md, "Unified status"): Fiix's status names (its default lists) ->
# statusCategory; a connection's `status_categories` overrides them (Fiix statuses are editable).
STATUS_CATEGORIES: dict[str, dict[str, str]] = {
    "work-orders": {
        "Requested": "open", "Assigned": "open", "Open": "open",
        "Work In Progress": "in_progress", "On Hold": "on_hold", "Closed": "closed",
    },
    # a work request is a work order in a requested status; once approved (any later status)
    # the request has become work: converted, until the work order closes
    "service-requests": {
        "Requested": "open", "Assigned": "converted", "Open": "converted",
        "Work In Progress": "converted", "On Hold": "converted", "Closed": "closed",
    },
    "purchase-orders": {
        "Draft": "draft", "Requested": "pending_approval", "Approved": "approved",
        "Sent": "approved", "Partially Received": "approved", "Closed": "closed",
    },
}  # fmt: skip

# Makini resources Fiix has no concept for (the coverage matrix, docs/API.md)
NO_CONCEPT: dict[str, str] = {
    "organizations": "one Fiix tenant per connection: sites are the top of Fiix's location tree",
    "asset-templates": "Fiix has no asset templates or models: make and model are text fields of "
    "the asset (strMake, strModel)",
    "asset-templates.materials": "Fiix has no asset templates",
    "return-orders": "Fiix purchasing has purchase orders, receipts and RFQs; its API has no "
    "return-order class",
}
