"""MaintainX records -> unified model, as data (`include.mapping.EntityMapping`).

Keys are MaintainX's global ids; every reference (``assetKey``, ``locationKey``...) is built from the
same single id part, so it joins with the target's key. Stocks are one row per (part, location) from
a part's ``locations``; PO line items carry the ``purchaseOrderId`` the client adds to each item;
meter readings are each meter's ``lastReading`` (MaintainX has no endpoint listing readings).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from connectors.base import ChangedWhen
from include.mapping import EntityMapping
from include.model.keys import make_key
from include.model.timeutil import to_utc_iso


def _assignee(kind: str):
    def pick(r: dict[str, Any], tz: ZoneInfo) -> str | None:
        for a in r.get("assignees") or ():
            if a.get("type") == kind:
                return make_key([a.get("id")])
        return None

    return pick


def _first_category(r: dict[str, Any], tz: ZoneInfo) -> str | None:
    cats = r.get("categories") or []
    return cats[0] if cats else None


def _user_name(r: dict[str, Any], tz: ZoneInfo) -> str | None:
    name = " ".join(p for p in (r.get("firstName"), r.get("lastName")) if p)
    return name or None


def _first_id(path: str):
    def pick(r: dict[str, Any], tz: ZoneInfo) -> str | None:
        ids = r.get(path) or []
        return make_key([ids[0]]) if ids else None

    return pick


def _vendor_part_number(r: dict[str, Any], tz: ZoneInfo) -> str | None:
    vendors = r.get("vendors") or []
    return vendors[0].get("partNumber") if vendors else None


def _pm_triggers(r: dict[str, Any], tz: ZoneInfo) -> list[dict[str, Any]]:
    return [{"type": r.get("triggerType"), "recurrence": r.get("recurrence")}]


def _reading_at(r: dict[str, Any], tz: ZoneInfo) -> str | None:
    return to_utc_iso(r.get("readingDate") or r.get("createdAt"), tz)


def _cents(path: str):
    """MaintainX's costs are integer cents (``unitCost``: 120 is $1.20): currency units."""

    def pick(r: dict[str, Any], tz: ZoneInfo) -> float | None:
        v = r.get(path)
        return None if v is None else int(v) / 100

    return pick


def _documents(r: dict[str, Any], tz: ZoneInfo) -> list[dict[str, Any]]:
    """A record's ``attachments`` as Makini document entries (their URLs expire: 60 minutes)."""
    return [
        {"key": make_key([a.get("id")]), "name": a.get("fileName"), "url": a.get("url"),
         "contentType": a.get("mimeType"), "createdAt": to_utc_iso(a.get("createdAt"), tz)}
        for a in r.get("attachments") or ()
    ]  # fmt: skip


ORG = {"ref": ["organizationId"]}

WORK_ORDER = EntityMapping(
    key=("id",),
    version="updatedAt",
    remote_id="id",
    created={"ts": "createdAt"},
    deleted={"ts": "deletedAt"},
    fields={
        "title": "title",
        "code": {"str": "sequentialId"},
        "status": "status",
        "statusKey": "status",
        "severity": "priority",
        "instructions": "description",
        "locationKey": {"ref": ["locationId"]},
        "assetKey": {"ref": ["asset.id"]},
        "organizationKey": ORG,
        "teamKey": {"fn": _assignee("TEAM")},
        "laborAssignedKey": {"fn": _assignee("USER")},
        "categoryName": {"fn": _first_category},
        "dueAt": {"ts": "dueDate"},
        "scheduledAt": {"ts": "startDate"},
        "completedAt": {"ts": "completedAt"},
    },
)

ASSET = EntityMapping(
    key=("id",),
    version="updatedAt",
    remote_id="id",
    created={"ts": "createdAt"},
    fields={
        "name": "name",
        "description": "description",
        "parentKey": {"ref": ["parentId"]},
        "locationKey": {"ref": ["locationId"]},
        "organizationKey": ORG,
        "vendorKey": {"fn": _first_id("vendorIds")},
        "teamKey": {"fn": _first_id("teamIds")},
        "criticality": {"str": "criticalityId"},
        "status": "status.status",
        "isActive": {"map": "status.status", "values": {"ONLINE": True, "OFFLINE": False}},
        "makeName": "manufacturer",
        "modelName": "model",
        "serialNumber": "serialNumber",
    },
)

LOCATION = EntityMapping(
    key=("id",),
    version="updatedAt",
    remote_id="id",
    created={"ts": "createdAt"},
    fields={
        "name": "name",
        "description": "description",
        "parentKey": {"ref": ["parentId"]},
        "organizationKey": ORG,
        "teamKey": {"fn": _first_id("teamIds")},
        "address": {"fn": lambda r, tz: {"street": r["address"]} if r.get("address") else None},
    },
)

MATERIAL = EntityMapping(
    key=("id",),
    version="updatedAt",
    remote_id="id",
    created={"ts": "createdAt"},
    fields={
        "name": "name",
        "description": "description",
        "code": "barcode",
        "partNumber": {"fn": _vendor_part_number},
        "organizationKey": ORG,
    },
)

STOCK = EntityMapping(
    key=("partId", "locationId"),
    version="updatedAt",
    fields={
        "materialKey": {"ref": ["partId"]},
        "locationKey": {"ref": ["locationId"]},
        "storeroomKey": {"ref": ["locationId"]},
        "position": "area",
        "quantity": {"float": "availableQuantity"},
        "minLevel": {"float": "minimumQuantity"},
        "maxLevel": {"float": "maximumQuantity"},
    },
)

PO_LINE = EntityMapping(
    key=("id",),
    remote_id="id",
    fields={
        "purchaseOrderKey": {"ref": ["purchaseOrderId"]},
        "vendorKey": {"ref": ["vendorId"]},
        "materialKey": {"ref": ["partId"]},
        "name": "name",
        "code": "partNumber",
        "quantity": {"float": "quantityOrdered"},
        "receivedQuantity": {"float": "quantityReceived"},
        "price": {"float": "unitCostDecimal"},
        "lineTotalValue": {"float": "priceDecimal"},
    },
)

PURCHASE_ORDER = EntityMapping(
    key=("id",),
    version="updatedAt",
    remote_id="id",
    created={"ts": "createdAt"},
    deleted={"ts": "deletedAt"},
    fields={
        "orderNo": {"first": ["overrideNumber", {"str": "autoGeneratedNumber"}]},
        "title": "title",
        "status": "status",
        "statusKey": "status",
        "notes": "note",
        "vendorKey": {"ref": ["vendorId"]},
        "userRequestedKey": {"ref": ["creatorId"]},
        "userApprovedKey": {"ref": ["approverId"]},
        "orderDate": {"ts": "createdAt"},
        "approvedAt": {"ts": "approvalDate"},
        "dueAt": {"ts": "dueDate"},
    },
    children={"purchase-orders.line-items": ("items", PO_LINE)},
)

VENDOR = EntityMapping(key=("id",), remote_id="id", fields={"name": "name"})

USER = EntityMapping(
    key=("id",),
    remote_id="id",
    fields={"name": {"fn": _user_name}, "email": "email", "roleName": "role"},
)

TEAM = EntityMapping(
    key=("id",),
    remote_id="id",
    fields={"name": "name", "userKeys": {"refs": "members", "each": ["id"]}},
)

PM = EntityMapping(
    key=("id",),
    version="updatedAt",
    remote_id="id",
    created={"ts": "createdAt"},
    deleted={"ts": "archivedAt"},
    fields={
        "title": "name",
        "assetKeys": {"refs": "assets", "each": ["assetId"]},
        "estimatedTime": {"str": "blueprintEstimatedTime"},
        "dueAt": {"ts": "nextScheduledWorkOrderDueDate"},
        "triggers": {"fn": _pm_triggers},
    },
)

METER = EntityMapping(
    key=("id",),
    remote_id="id",
    fields={
        "name": "name",
        "uomName": "unit",
        "assetKeys": {
            "fn": lambda r, tz: [k for k in [make_key([(r.get("asset") or {}).get("id")])] if k]
        },  # fmt: skip
        "lastReading": {"float": "lastReading.value"},
        "lastReadingAt": {"fn": lambda r, tz: _reading_at(r.get("lastReading") or {}, tz)},
    },
)

METER_READING = EntityMapping(
    key=("id",),
    remote_id="id",
    created={"ts": "createdAt"},
    fields={
        "meterKey": {"ref": ["meterId"]},
        "assetKey": {"ref": ["assetId"]},
        "reading": {"float": "value"},
        "readAt": {"fn": _reading_at},
    },
)

LABOR = EntityMapping(
    key=("id",),
    remote_id="id",
    fields={
        "userKey": {"ref": ["id"]},
        "name": {"fn": _user_name},
        "firstName": "firstName",
        "lastName": "lastName",
        "roleName": "role",
    },
)

COMPANY = EntityMapping(
    key=("id",), remote_id="id", fields={"name": "name", "organizationKey": ORG}
)  # fmt: skip

ASSET_TEMPLATE = EntityMapping(
    key=("id",),
    remote_id="id",
    fields={"name": "name", "manufacturerName": "manufacturerName"},
)

ASSET_DOWNTIME = EntityMapping(
    key=("id",),
    version="updatedAt",
    remote_id="id",
    created={"ts": "createdAt"},
    deleted={"ts": "deletedAt"},
    fields={
        "assetKey": {"ref": ["assetId"]},
        "description": "description",
        "startedAt": {"ts": "startedAt"},
        "endedAt": {"ts": "endedAt"},
        "categoryName": "downtimeType",
    },
)

SERVICE_REQUEST = EntityMapping(
    key=("id",),
    version="updatedAt",
    remote_id="id",
    created={"ts": "createdAt"},
    fields={
        "title": "title",
        "description": "description",
        "status": "requestStatus",
        "statusKey": "requestStatus",
        "severity": "priority",
        "assetKey": {"ref": ["assetId"]},
        "locationKey": {"ref": ["locationId"]},
        "workOrderKey": {"ref": ["workOrderId"]},
        "teamKey": {"ref": ["approverTeamId"]},
        "documents": {"fn": _documents},
    },
)

INVENTORY = EntityMapping(
    key=("partId", "locationId"),
    version="updatedAt",
    fields={
        "code": "barcode",
        "name": "name",
        "quantity": {"float": "availableQuantity"},
        "unitCost": {"fn": _cents("unitCost")},
        "locationKey": {"ref": ["locationId"]},
    },
)

WO_MATERIAL = EntityMapping(
    key=("workOrderId", "partId"),
    version="updatedAt",
    fields={
        "workOrderKey": {"ref": ["workOrderId"]},
        "materialKey": {"ref": ["partId"]},
        "name": "name",
        "quantity": {"float": "quantityUsed"},
    },
)

ASSET_MATERIAL = EntityMapping(
    key=("assetId", "partId"),
    version="updatedAt",
    fields={
        "assetKey": {"ref": ["assetId"]},
        "materialKey": {"ref": ["partId"]},
        "name": "name",
        "partNumber": {"fn": _vendor_part_number},
    },
)

DOCUMENT = EntityMapping(
    key=("id",),
    version="updatedAt",
    remote_id="id",
    created={"ts": "createdAt"},
    fields={
        "entityKeys": {"fn": lambda r, tz: [make_key([r.get("workOrderId")])]},
        "name": "fileName",
        "url": "url",
        "type": {"const": "work-order attachment"},
        "contentType": "mimeType",
    },
)

# "Changed when" per entity (`connectors.base.ChangedWhen`, connectors/maintainx/README.md).
CHANGED_WHEN: dict[str, ChangedWhen] = {
    "purchase-orders": ChangedWhen(
        note="a PO's items have no updatedAt of their own; they are edited through the PO "
        "(PATCH /purchaseorders/{id}, .../fulfillment), which moves the PO's updatedAt; the "
        "items are read with their PO and carry its updatedAt"
    ),
    "stocks": ChangedWhen(
        untracked=("quantity",),
        note="one row per part and location from the part's `locations`, dated by the part's "
        "updatedAt (an edit of the part moves it); MaintainX does not document that a quantity "
        "moved by a work order's parts or a PO fulfilment dates the part, so stocks are also "
        "re-read in full every full_read_every",
    ),
    "work-orders": ChangedWhen(
        note="related records are served by id only (asset, location, assignees) or as the "
        "work order's own values (category names): nothing to date through them"
    ),
    "inventories": ChangedWhen(
        untracked=("quantity",),
        note="one row per part and location, as stocks, dated by the part's updatedAt; a "
        "quantity a work order or a PO fulfilment moves may not date the part, so inventories "
        "are also re-read in full every full_read_every",
    ),
    "work-orders.materials": ChangedWhen(
        note="the parts a work order lists (expand=parts), dated by the work order's "
        "updatedAt: adding or using a part is an edit of the work order"
    ),
    "assets.materials": ChangedWhen(
        note="a part's assetIds, dated by the part's updatedAt: linking a part to an asset is "
        "an edit of the part (PATCH /parts/{id} assetIds)"
    ),
    "documents": ChangedWhen(
        note="a work order's attachments, dated by the work order's updatedAt; that an "
        "upload (PUT /workorders/{id}/attachments/{filename}) moves it is assumed (README.md)"
    ),
    "asset-templates": ChangedWhen(
        note="manufacturerName is the manufacturer's (GET /manufacturers); both are read in "
        "full every run"
    ),
}

# Unified status (docs/API.md, "Unified status"): MaintainX's enums -> statusCategory; a
# connection's `status_categories` overrides them.
STATUS_CATEGORIES: dict[str, dict[str, str]] = {
    "work-orders": {
        "OPEN": "open", "IN_PROGRESS": "in_progress", "ON_HOLD": "on_hold", "DONE": "completed",
        "CANCELED": "cancelled", "SKIPPED": "cancelled",
    },
    "purchase-orders": {
        "REQUESTED": "pending_approval", "PENDING": "pending_approval", "APPROVED": "approved",
        "PARTIALLY_FULFILLED": "approved", "COMPLETED": "received", "DECLINED": "cancelled",
        "CANCELED": "cancelled",
    },
    "assets": {"ONLINE": "active", "OFFLINE": "inactive"},
    # a work request is approved by creating its work order (workOrderId), which is done later
    "service-requests": {
        "PENDING": "open", "APPROVED": "converted", "REJECTED": "rejected", "DONE": "closed",
    },
}  # fmt: skip

# Makini resources MaintainX has no concept for (the coverage matrix, docs/API.md)
NO_CONCEPT: dict[str, str] = {
    "accounts": "MaintainX has no general-ledger or cost accounts",
    "return-orders": "MaintainX purchase orders have no returns",
    "organizations": "one MaintainX organization per API key: the connection itself",
    "sites": "MaintainX has no sites: places are one hierarchy of locations (GET /locations, "
    "parentId), served as locations",
    "storerooms": "MaintainX has no storerooms: parts are kept at ordinary locations (a part's "
    "`locations`), served as stocks and inventories keyed by that location",
    "uom": "MaintainX has no units of measure: part quantities are plain counts; a meter's "
    "free-text `unit` is served as its uomName",
    "customers": "MaintainX has no customers: outside parties are vendors and manufacturers "
    "(served as companies); requests arrive as work requests (service-requests)",
    "pm.materials": "MaintainX keeps a maintenance plan's parts on its work order blueprint, "
    "which the API can create (POST /maintenanceplans/workorderblueprints) but not read",
    "asset-templates.materials": "MaintainX models (GET /models, served as asset-templates) "
    "carry a name and a manufacturer only; parts are linked to assets (assets.materials)",
    "materials.children": "MaintainX parts have no assemblies or bills of materials: a part "
    "lists its locations, vendors and assets only",
}

# The mapping table: what connectors/kit pairs with manifest.yaml's entities.
MAPPINGS: dict[str, EntityMapping] = {
    "work-orders": WORK_ORDER, "assets": ASSET, "locations": LOCATION, "materials": MATERIAL,
    "stocks": STOCK, "purchase-orders": PURCHASE_ORDER, "vendors": VENDOR, "users": USER,
    "teams": TEAM, "pm": PM, "meters": METER, "meter-readings": METER_READING,
    "labors": LABOR, "companies": COMPANY, "asset-templates": ASSET_TEMPLATE,
    "assets-downtime": ASSET_DOWNTIME, "service-requests": SERVICE_REQUEST,
    "inventories": INVENTORY, "work-orders.materials": WO_MATERIAL,
    "assets.materials": ASSET_MATERIAL, "documents": DOCUMENT,
}  # fmt: skip
