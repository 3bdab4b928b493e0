"""Fiix CMMS record classes -> unified entities (pure data; see include/mapping/spec.py).

Every Fiix record has an integer ``id``: it is the key. Sites, locations, equipment and parts are
all ``Asset`` records (manifest.yaml selects them). Names of referenced records come as display
values (``dv_intWorkOrderStatusID``...), which the API returns when asked. Dates are epoch ms.
"""

from __future__ import annotations

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


REF = {"ref": ["intSiteID"]}
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
                "serialNumber": "strSerialNumber", "notes": "strNotes"},
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
    "purchase-orders": {
        "Draft": "draft", "Requested": "pending_approval", "Approved": "approved",
        "Sent": "approved", "Partially Received": "approved", "Closed": "closed",
    },
}  # fmt: skip
