"""Limble CMMS (API v2) -> unified entities (pure data; see include/mapping/spec.py).

Limble's times are Unix SECONDS (0 or null when unset), so times go through `_secs`; versions are
the integer ``lastEdited``. A Limble "location" is a facility: it is the unified site. Tasks are
work orders, except template tasks (``template: true``), which spawn the scheduled ones: those
are the PMs. A part belongs to one location, so it is both a material and that location's stock.
"""

from __future__ import annotations

from typing import Any

from connectors.base import ChangedWhen
from include.mapping import EntityMapping
from include.model.keys import key_part


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


TASK_FIELDS = {
    "title": "name", "siteKey": _id("locationID"), "teamKey": _id("teamID"),
    "statusKey": _id("statusID"), "severity": {"str": "priorityID"},
    "categoryName": {"map": "type", "values": {
        1: "Preventive Maintenance", 2: "Unplanned Work Order", 4: "Planned Work Order",
        5: "Cycle Count", 6: "Work Request", 7: "Min Part Threshold", 8: "Materials Request"}},
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
        fields={"name": {"fn": lambda r, tz: " ".join(p for p in (r.get("firstName"),
                                                                  r.get("lastName")) if p) or None},
                "email": "email", "description": "username",
                "isActive": {"bool": "active"},
                "roleName": {"fn": lambda r, tz: (r.get("roles") or [{}])[0].get("name")},
                "siteKeys": {"fn": lambda r, tz: sorted({key_part(t["locationID"])
                                                         for t in r.get("teams") or []})}},
    ),  # fmt: skip
    "teams": EntityMapping(
        key=("teamID",), remote_id="teamID",
        fields={"name": "name", "code": {"str": "teamID"}, "organizationKey": _id("locationID")},
    ),  # fmt: skip
}
# fmt: on

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
    "purchase-orders": {
        "Setup": "draft", "Ready to Receive": "approved", "Partially Received": "approved",
        "Fully Received": "received", "Closed": "closed",
    },
}  # fmt: skip
