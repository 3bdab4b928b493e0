"""Limble CMMS (API v2) -> unified entities (pure data; see include/mapping/spec.py).

Limble's times are Unix SECONDS (0 or null when unset), so times go through `_secs`; versions are
the integer ``lastEdited``. A Limble "location" is a facility: it is the unified site. Tasks are
work orders, except template tasks (``template: true``), which spawn the scheduled ones: those
are the PMs. A part belongs to one location, so it is both a material and that location's stock.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from connectors.base import ChangedWhen
from include.mapping import EntityMapping
from include.mapping.spec import epoch_s_to_utc_iso
from include.model.keys import key_part
from include.model.timeutil import to_utc_iso


def _secs(path: str) -> dict[str, Any]:
    """A Unix-seconds field as a UTC ISO time (0 and null: no time)."""
    return {"epoch_s": path}


def _id(path: str) -> dict[str, Any]:
    """A reference by id; Limble's 0 means none."""
    return {"fn": lambda r, tz: key_part(r.get(path)) if r.get(path) else None}


def _level(path: str) -> dict[str, Any]:
    """A quantity threshold; -1 means the feature is off."""
    return {"fn": lambda r, tz: None if r.get(path) in (None, -1) else float(r[path])}


def _po_net(r: dict, tz: Any) -> float | None:
    items = r.get("items") or []
    return round(sum(float(i.get("qty") or 0) * float(i.get("rate") or 0) for i in items), 2)


def _text_number(value: Any) -> float | None:
    """A number Limble sends as text (an asset field's value); not a number: none."""
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _downtime_start(r: dict, tz: Any) -> str | None:
    """Limble records downtime as seconds on the completed task: taken to end at completion."""
    done, secs = r.get("dateCompleted") or 0, r.get("downtime") or 0
    return epoch_s_to_utc_iso(done - secs) if done and secs else None


def _part(owner: str, path: str, qty: str) -> EntityMapping:
    """A part on a task or an asset (a relation row: ``relationID``)."""
    return EntityMapping(key=("relationID",), version="lastEdited", version_is_time=False,
                         remote_id="relationID", updated=_secs("lastEdited"),
                         created=_secs("createdAt"),
                         fields={owner: _id(path), "materialKey": _id("partID"),
                                 "name": "partName", "quantity": {"float": qty}})  # fmt: skip


TASK_FIELDS = {
    "title": "name", "siteKey": _id("locationID"), "teamKey": _id("teamID"),
    "statusKey": _id("statusID"), "severity": {"str": "priorityID"},
    "categoryName": {"map": "type", "values": {
        1: "Preventive Maintenance", 2: "Unplanned Work Order", 4: "Planned Work Order",
        5: "Cycle Count", 6: "Work Request", 7: "Min Part Threshold", 8: "Materials Request"}},
}  # fmt: skip
USER_FIELDS = {
    "name": {"fn": lambda r, tz: " ".join(p for p in (r.get("firstName"), r.get("lastName")) if p)
             or None},
    "isActive": {"bool": "active"},
    "roleName": {"fn": lambda r, tz: (r.get("roles") or [{}])[0].get("name")},
    "siteKeys": {"fn": lambda r, tz: sorted({key_part(t["locationID"]) for t in r.get("teams") or []})},
}  # fmt: skip
TASK = dict(key=("taskID",), version="lastEdited", version_is_time=False, remote_id="taskID",
            updated=_secs("lastEdited"), created=_secs("createdDate"))  # fmt: skip

# fmt: off
MAPPINGS: dict[str, EntityMapping] = {
    "sites": EntityMapping(
        key=("locationID",), remote_id="locationID",
        fields={"name": "name", "code": {"str": "locationID"}, "organizationKey": _id("regionID"),
                "address": {"fn": lambda r, tz: {"line1": r.get("address"), "line2": r.get("address2")}
                            if r.get("address") else None}},
    ),  # fmt: skip
    "assets": EntityMapping(
        key=("assetID",), version="lastEdited", version_is_time=False, remote_id="assetID",
        updated=_secs("lastEdited"),
        fields={"name": "name", "siteKey": _id("locationID"), "parentKey": _id("parentAssetID"),
                "activatedAt": _secs("startedOn")},
    ),  # fmt: skip
    "work-orders": EntityMapping(
        **TASK,
        fields={**TASK_FIELDS, "code": {"str": "taskID"}, "instructions": "description",
                "assetKey": _id("assetID"), "laborAssignedKey": _id("userID"),
                "notes": "completionNotes",
                "dueAt": _secs("due"), "scheduledAt": _secs("scheduledStart"),
                "completedAt": _secs("dateCompleted"),
                "status": {"map": "status", "values": {1: "Complete", 0: "Incomplete"}}},
    ),  # fmt: skip
    "pm": EntityMapping(**TASK, fields={**TASK_FIELDS, "description": "description",
                                        "dueAt": _secs("due"),
                                        "assetKeys": {"fn": lambda r, tz: [key_part(r["assetID"])]
                                                      if r.get("assetID") else []}}),  # fmt: skip
    "materials": EntityMapping(
        key=("partID",), version="lastEdited", version_is_time=False, remote_id="partID",
        updated=_secs("lastEdited"),
        fields={"code": "number", "partNumber": "number", "name": "name", "uomKey": "unitCode",
                "description": "category"},
    ),  # fmt: skip
    "stocks": EntityMapping(
        key=("partID",), version="lastEdited", version_is_time=False, remote_id="partID",
        updated=_secs("lastEdited"),
        fields={"materialKey": _id("partID"), "siteKey": _id("locationID"),
                "storeroomKey": _id("locationID"), "position": "location", "uomKey": "unitCode",
                "quantity": {"float": "stockOnHand"}, "minLevel": _level("minQtyThreshold"),
                "maxLevel": _level("maxQtyThreshold")},
    ),  # fmt: skip
    "purchase-orders": EntityMapping(
        key=("poID",), version="lastEdited", time_unit="epoch_s", remote_id="poID",
        created=_secs("date"),
        fields={"orderNo": {"fn": lambda r, tz: f"{r.get('poPrefix') or ''}{r.get('poNumber')}"},
                "vendorKey": _id("vendorID"), "siteKey": _id("locationID"),
                "userRequestedKey": _id("requestedByUserID"), "orderDate": _secs("date"),
                "dueAt": _secs("expectedDate"), "notes": "notesToVendor",
                "status": "stateDetails.current.label", "statusKey": {"str": "state"},
                "totalNetValue": {"fn": _po_net}},
        children={"purchase-orders.line-items": ("items", EntityMapping(
            key=("poItemID",), remote_id="poItemID", fields={
                "purchaseOrderKey": _id("poID"), "materialKey": _id("partID"),
                "lineNo": {"str": "poItemID"}, "name": "name", "description": "description",
                "quantity": {"float": "qty"}, "receivedQuantity": {"float": "qtyReceived"},
                "price": {"float": "rate"}, "uomKey": "orderUnitAbbreviation",
                "type": {"map": "itemType", "values": {1: "part", 2: "service", 3: "other"}}}))},
    ),  # fmt: skip
    "vendors": EntityMapping(
        key=("vendorID",), version="lastEdited", version_is_time=False, remote_id="vendorID",
        updated=_secs("lastEdited"), created=_secs("startedOn"),
        fields={"name": "name", "code": {"str": "vendorID"}},
    ),  # fmt: skip
    "users": EntityMapping(
        key=("userID",), remote_id="userID", created=_secs("dateAdded"),
        fields={**USER_FIELDS, "email": "email", "description": "username"},
    ),  # fmt: skip
    "teams": EntityMapping(
        key=("teamID",), remote_id="teamID",
        fields={"name": "name", "code": {"str": "teamID"}, "organizationKey": _id("locationID")},
    ),  # fmt: skip
    "organizations": EntityMapping(key=("regionID",), remote_id="regionID",
                                   fields={"name": "regionName", "code": {"str": "regionID"}}),
    "storerooms": EntityMapping(key=("locationID",), remote_id="locationID", fields={
        "siteKey": _id("locationID"), "name": "name", "code": {"str": "locationID"}}),
    "accounts": EntityMapping(key=("glID",), remote_id="glID",
                              fields={"code": "abbr", "name": "name", "description": "description"}),
    "labors": EntityMapping(
        key=("userID",), remote_id="userID", created=_secs("dateAdded"),
        fields={**USER_FIELDS, "userKey": _id("userID"), "code": "username",
                "firstName": "firstName", "lastName": "lastName",
                "teamKey": {"fn": lambda r, tz: key_part(r["teams"][0]["teamID"])
                            if r.get("teams") else None}},
    ),  # fmt: skip
    "uom": EntityMapping(key=("unitCode",), remote_id="unitCode",
                         fields={"name": "name", "code": "abbreviation"}),
    "inventories": EntityMapping(
        key=("partID",), version="lastEdited", version_is_time=False, remote_id="partID",
        updated=_secs("lastEdited"),
        fields={"code": "number", "name": "name", "quantity": {"float": "stockOnHand"},
                "unitCost": {"float": "generalPrice"}},
    ),  # fmt: skip
    "assets-downtime": EntityMapping(**TASK, fields={
        "assetKey": _id("assetID"), "description": "name", "notes": "completionNotes",
        "startedAt": {"fn": _downtime_start}, "endedAt": _secs("dateCompleted"),
        "severity": {"str": "priorityID"}, "categoryName": TASK_FIELDS["categoryName"]}),
    "service-requests": EntityMapping(
        key=("workRequestSubmissionId",), version="updatedAt", remote_id="workRequestSubmissionId",
        created={"ts": "createdAt"}, deleted={"ts": "deletedAt"},
        fields={"title": "requestTitle", "description": "requestDescription", "status": "status",
                "statusKey": "status", "siteKey": _id("locationId"), "assetKey": _id("assetId"),
                "workOrderKey": _id("checklistID"), "userRequestedKey": _id("createdByUserId"),
                "userApprovedKey": {"fn": lambda r, tz: key_part(r["reviewedByUserId"])
                                    if r.get("status") == "Approved" else None},
                "approvedAt": {"fn": lambda r, tz: to_utc_iso(r.get("reviewedAt"), tz)
                               if r.get("status") == "Approved" else None},
                "severity": {"str": "priorityId"}, "notes": "additionalNotes"},
    ),  # fmt: skip
    "meters": EntityMapping(
        key=("valueID",), version="lastEdited", version_is_time=False, remote_id="valueID",
        updated=_secs("lastEdited"),
        fields={"name": "field", "siteKey": _id("locationID"), "lastReading": {"fn": lambda r, tz: _text_number(r.get("value"))},
                "lastReadingAt": _secs("lastEdited"),
                "assetKeys": {"fn": lambda r, tz: [key_part(r["assetID"])]}},
    ),  # fmt: skip
    "meter-readings": EntityMapping(
        key=("meterValueID", "dateUpdated"), remote_id="valueID", created=_secs("dateUpdated"),
        fields={"meterKey": _id("meterValueID"), "assetKey": _id("assetID"),
                "reading": {"fn": lambda r, tz: _text_number(r.get("value"))}, "readAt": _secs("dateUpdated")},
    ),  # fmt: skip
    "documents": EntityMapping(
        key=("valueID", "fileName"), version="lastEdited", version_is_time=False,
        remote_id="valueID", updated=_secs("lastEdited"),
        fields={"name": "fileName", "url": "link", "type": "fieldType", "description": "field",
                "contentType": {"fn": lambda r, tz: mimetypes.guess_type(r["fileName"])[0]},
                "entityKeys": {"fn": lambda r, tz: [key_part(r["assetID"])]}},
    ),  # fmt: skip
    "work-orders.materials": _part("workOrderKey", "taskID", "quantity"),
    "pm.materials": _part("pmKey", "taskID", "quantity"),
    "assets.materials": _part("assetKey", "assetID", "qty"),
}
# fmt: on

# Makini resources Limble has no such thing for (the coverage matrix, docs/API.md)
NO_CONCEPT = {
    "locations": "Limble's locations are its facilities (served as sites); places inside one are "
    "parent assets (assets' parentKey)",
    "companies": "Limble keeps no companies: suppliers are vendors (/vendors)",
    "customers": "Limble keeps no customers (a work request's customerID is the Limble account; "
    "its requester is a name on it)",
    "asset-templates": "Limble has no asset templates (its templates are task templates: pm)",
    "asset-templates.materials": "Limble has no asset templates (its templates are task templates)",
    "return-orders": "Limble purchase orders have no returns (their states run Setup to Closed)",
    "materials.children": "Limble parts have no bill of materials: a part is one stock item",
}

CHANGED_WHEN = {
    "purchase-orders": ChangedWhen(
        related=("items.lastEdited",),
        note="a PO item has its own lastEdited (Unix seconds); an incremental read also lists the "
        "items edited in the window and reads their POs",
    ),  # fmt: skip
}

# Unified status (docs/API.md, "Unified status"): Limble's work-order completion and purchase-order
# state labels -> statusCategory; a connection's `status_categories` overrides them.
STATUS_CATEGORIES: dict[str, dict[str, str]] = {
    "work-orders": {"Incomplete": "open", "Complete": "completed"},
    "service-requests": {"Pending": "open", "Approved": "converted", "Rejected": "rejected"},
    "purchase-orders": {
        "Setup": "draft", "Ready to Receive": "approved", "Partially Received": "approved",
        "Fully Received": "received", "Closed": "closed",
    },
}  # fmt: skip
