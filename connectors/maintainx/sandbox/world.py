"""The sandbox's organisation: every collection, its builder and what `expand` reveals.

Field names and types follow MaintainX's OpenAPI (`GET /workorders` etc.). Builders are pure functions
of (seed, index); references point at records that exist (ids inside the other collection's range).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.maintainx.sandbox.data import (
    FIRST,
    LAST,
    ORG_ID,
    WORDS,
    Collection,
    iso_ms,
    mix,
)

WO_STATUSES = ("OPEN", "IN_PROGRESS", "ON_HOLD", "DONE", "CANCELED")
PRIORITIES = ("NONE", "LOW", "MEDIUM", "HIGH")
PO_STATUSES = ("APPROVED", "CANCELED", "COMPLETED", "DECLINED", "PARTIALLY_FULFILLED", "PENDING", "REQUESTED")  # fmt: skip
WR_STATUSES = ("PENDING", "APPROVED", "REJECTED", "DONE")
MANUFACTURERS = ("Siemens", "ABB", "Grundfos", "Atlas Copco")

# path -> (collection response key, id base, incremental filters allowed, sort values allowed)
SORTS = ("id", "createdAt", "updatedAt", "-id", "-createdAt", "-updatedAt")
WO_SORTS = ("updatedAt", "createdAt", "-updatedAt", "-createdAt")


@dataclass(frozen=True)
class Endpoint:
    path: str
    key: str  # response collection key
    id_base: int
    windows: bool  # accepts updatedAt[gte]/[lte]
    sorts: tuple[str, ...] = ()
    expand: tuple[tuple[str, str], ...] = ()  # (expand value, record field) hidden unless asked
    summary: tuple[str, ...] = ()  # list shows only these fields (detail shows all)
    detail_only: tuple[str, ...] = ()  # fields only `GET <path>/<id>` shows
    list_only: tuple[str, ...] = ()  # fields `GET <path>/<id>` does not show
    filters: tuple[str, ...] = ()  # other query parameters the list takes (`Sandbox.list`)


# in these lists, not in their GET <path>/<id> (the OpenAPI); assets, locations and parts keep it
# in both (README.md, "Sandbox")
ORG_FIELD = ("organizationId",)
ENDPOINTS: dict[str, Endpoint] = {
    e.path: e
    for e in (
        Endpoint("/workorders", "workOrders", 100_000, True, WO_SORTS,
                 (("assignees", "assignees"), ("categories", "categories"), ("asset", "asset"),
                  ("location", "location"), ("vendor_ids", "vendorIds"),
                  ("extra_fields", "extraFields"), ("parts", "parts")),
                 detail_only=("attachments",)),
        Endpoint("/assets", "assets", 2_000_000, True, SORTS,
                 (("barcode", "barcode"), ("team_ids", "teamIds"), ("extra_fields", "extraFields"),
                  ("vendor_ids", "vendorIds"), ("status", "status"),
                  ("manufacturer", "manufacturer"), ("model", "model"))),
        Endpoint("/locations", "locations", 3_000_000, False, (),
                 (("extra_fields", "extraFields"), ("team_ids", "teamIds"),
                  ("vendor_ids", "vendorIds"), ("barcode", "barcode"))),
        Endpoint("/parts", "parts", 4_000_000, True, SORTS,
                 (("extra_fields", "extraFields"), ("vendors", "vendors")),
                 detail_only=("assetIds",)),
        Endpoint("/purchaseorders", "purchaseOrders", 5_000_000, True, SORTS,
                 summary=("id", "status", "updatedAt", "createdAt")),
        Endpoint("/vendors", "vendors", 6_000_000, False, (), (("extra_fields", "extraFields"),)),
        Endpoint("/users", "users", 7_000_000, False, (),
                 (("role", "role"), ("extra_fields", "extraFields")), filters=("onlyAssignable",)),
        Endpoint("/teams", "teams", 8_000_000, False),
        Endpoint("/maintenanceplans", "maintenancePlans", 9_000_000, False),
        Endpoint("/meters", "meters", 10_000_000, False, (),
                 (("asset", "asset"), ("location", "location"), ("last_reading", "lastReading"))),
        Endpoint("/assetstatuses", "assetStatuses", 11_000_000, False,
                 ("createdAt", "updatedAt", "-createdAt", "-updatedAt")),
        Endpoint("/workrequests", "workRequests", 12_000_000, False, (),
                 (("asset", "asset"), ("location", "location"), ("work_order", "workOrder"),
                  ("extra_fields", "extraFields"))),
        Endpoint("/models", "models", 13_000_000, False, list_only=ORG_FIELD),
        Endpoint("/manufacturers", "manufacturers", 14_000_000, False, list_only=ORG_FIELD),
    )
}  # fmt: skip


# ``GET /customfields/{entity}``: the organization's custom fields (``extraFields`` keys are their
# labels). "Shutdown Required" is defined but no work order has a value for it.
CUSTOM_FIELDS: dict[str, list[dict]] = {
    "workOrders": [
        {"id": 1, "label": "Cost Center", "type": "oneline", "sortOrder": 10},
        {"id": 2, "label": "Shutdown Required", "type": "singleSelect", "sortOrder": 20,
         "options": ["Yes", "No"]},
    ],
    "assets": [{"id": 3, "label": "Line", "type": "number", "sortOrder": 10}],
    "locations": [], "parts": [], "vendors": [], "purchaseOrders": [],
    "lineItemPurchaseOrders": [],
}  # fmt: skip


def sizes_for(size: int) -> dict[str, int]:
    """Collection sizes for ``size`` work orders."""
    return {
        "/workorders": size,
        "/assets": max(30, size // 50),
        "/locations": max(12, min(200, size // 500)),
        "/parts": max(40, size // 100),
        "/purchaseorders": max(20, size // 200),
        "/vendors": 15,
        "/users": 25,
        "/teams": 5,
        "/maintenanceplans": max(10, size // 1000),
        "/meters": max(10, size // 500),
        "/assetstatuses": max(40, size // 25),
        "/workrequests": max(20, size // 50),
        "/models": 3 * len(MANUFACTURERS),
        "/manufacturers": len(MANUFACTURERS),
    }


class World:
    """All collections of one sandbox organisation."""

    def __init__(self, seed: int = 1, size: int = 1000) -> None:
        self.seed = seed
        self.sizes = sizes_for(size)
        builders = {
            "/workorders": self._work_order, "/assets": self._asset, "/locations": self._location,
            "/parts": self._part, "/purchaseorders": self._purchase_order, "/vendors": self._vendor,
            "/users": self._user, "/teams": self._team, "/maintenanceplans": self._plan,
            "/meters": self._meter, "/assetstatuses": self._asset_status,
            "/workrequests": self._work_request, "/models": self._model,
            "/manufacturers": self._manufacturer,
        }  # fmt: skip
        self._summaries: dict[int, dict[str, Any]] = {}  # unchanged assets' summaries
        self.collections = {
            path: Collection(e.key, self.sizes[path], seed, builders[path], e.id_base)
            for path, e in ENDPOINTS.items()
        }

    def ref(self, path: str, h: int) -> int:
        """An id of an existing base record of ``path`` picked by hash ``h``."""
        c = self.collections[path]
        return c.id_of(h % max(1, c.size))

    def team_members(self, team_id: int) -> list[dict[str, Any]]:
        users = self.collections["/users"]
        t = team_id - ENDPOINTS["/teams"].id_base - 1
        out = []
        for j in range(users.size):
            if j % self.sizes["/teams"] == t:
                u = users.get(j)
                role = "ADMIN" if j < self.sizes["/teams"] else "MEMBER"
                out.append({"id": u["id"], "firstName": u["firstName"], "lastName": u["lastName"],
                            "teamRole": role})  # fmt: skip
        return out

    def render(
        self, path: str, rec: dict[str, Any], expand: set[str], detail: bool = False
    ) -> dict[str, Any]:
        """The record as the API shows it: only requested expansions, no internal fields; the
        fields only a detail read shows when ``detail``."""
        ep = ENDPOINTS[path]
        for fld in ep.list_only if detail else ep.detail_only:
            rec.pop(fld, None)
        for exp, fld in ep.expand:
            if exp not in expand:
                rec.pop(fld, None)
            elif fld == "asset":
                aid = rec.get("_assetId")
                rec["asset"] = self._asset_summary(aid) if aid else None
            elif fld == "location":
                lid = rec.get("locationId")
                if lid is None and rec.get("_assetId"):
                    lid = self._asset_summary(rec["_assetId"])["locationId"]
                rec["location"] = self._location_summary(lid) if lid else None
            elif fld == "workOrder":
                wos = self.collections["/workorders"]
                i = wos.index_of(rec.get("workOrderId") or -1)
                rec["workOrder"] = (
                    None if i is None else self.render("/workorders", wos.get(i), set())
                )
        rec.pop("_assetId", None)
        return rec

    # -- builders: (collection, index, id, created ms, updated ms) -> record
    def _h(self, c: Collection, i: int, salt: int) -> int:
        return mix(self.seed, c.id_base, i, salt)

    def _asset_summary(self, asset_id: int) -> dict[str, Any]:
        a = self.collections["/assets"]
        i = a.index_of(asset_id)
        if i is None:
            return None  # type: ignore[return-value]
        if i in a.overrides or i not in self._summaries:
            rec = a.get(i)
            keys = ("id", "name", "description", "parentId", "criticalityId", "locationId",
                    "serialNumber", "createdAt", "updatedAt", "creatorId")  # fmt: skip
            summary = {k: rec[k] for k in keys}
            if i in a.overrides:
                return summary
            self._summaries[i] = summary
        return dict(self._summaries[i])

    def _location_summary(self, location_id: int) -> dict[str, Any]:
        c = self.collections["/locations"]
        rec = c.get(location_id - c.id_base - 1)
        keys = ("id", "name", "description", "address", "parentId", "createdAt", "updatedAt")
        return {k: rec[k] for k in keys}

    def _work_order(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict[str, Any]:
        h = self._h(c, i, 1)
        status = WO_STATUSES[h % 5]
        asset_id = self.ref("/assets", h >> 8) if h % 11 else None
        loc = self.ref("/locations", h >> 16)
        assignees: list[dict[str, Any]] = [{"type": "USER", "id": self.ref("/users", h >> 20)}]
        if h % 3 == 0:
            assignees.append({"type": "TEAM", "id": self.ref("/teams", h >> 24)})
        w1, w2 = WORDS[(h >> 4) % len(WORDS)], WORDS[(h >> 12) % len(WORDS)]
        return {
            "id": rid,
            "sequentialId": i + 1,
            "title": f"Inspect {w1} {w2} #{i + 1}",
            "updatedAt": iso_ms(ums),
            "status": status,
            "completedAt": iso_ms(ums) if status == "DONE" else None,
            "completerId": self.ref("/users", h >> 28) if status == "DONE" else None,
            "createdAt": iso_ms(cms),
            "creatorId": self.ref("/users", h >> 32),
            "deletedAt": None,
            "description": f"Check the {w1} and the {w2}; record readings." if h % 4 else None,
            "dueDate": iso_ms(cms + ((h >> 36) % 30 + 1) * 86_400_000),
            "dueDateIsFullDay": bool(h & 2),
            "lastMessageSentAt": None,
            "startDate": iso_ms(cms + 3_600_000) if h % 5 else None,
            "locationId": loc,
            "nextId": None,
            "organizationId": ORG_ID,
            "partsAvailability": "PARTS_AVAILABLE",
            "partStatus": "NO_PARTS",
            "previousId": None,
            "priority": PRIORITIES[(h >> 40) % 4],
            "recurrenceInfo": None,
            "requesterId": self.ref("/users", h >> 44) if h % 7 == 0 else None,
            "type": "PREVENTIVE" if h % 6 == 0 else "REACTIVE",
            "extraFields": {"Cost Center": f"CC-{(h >> 48) % 90 + 10}"},
            "vendorIds": [self.ref("/vendors", h >> 50)] if h % 8 == 0 else [],
            "assignees": assignees,
            "categories": [("Inspection", "Repair", "Safety", "Electrical")[(h >> 52) % 4]],
            "asset": None,  # filled by `expand` from _assetId
            "location": None,  # filled by `expand` from locationId
            "parts": self._wo_parts(h >> 56, status) if h % 4 == 0 else [],
            "attachments": self._attachments(rid, cms, (h >> 58) % 3) if h % 5 == 0 else [],
            "_assetId": asset_id,
        }

    def _wo_parts(self, h: int, status: str) -> list[dict[str, Any]]:
        """Parts a work order uses (``expand=parts``): one or two, each from one of its
        locations; ``quantityUsed`` counts once the work is under way."""
        parts = self.collections["/parts"]
        out = []
        for k in range(h % 2 + 1):
            i = parts.index_of(self.ref("/parts", mix(h, k)))
            if i is None:
                continue
            p = parts.get(i)
            if any(x["id"] == p["id"] for x in out):
                continue
            loc = (p.get("locations") or [{}])[0]
            started = status in ("IN_PROGRESS", "ON_HOLD", "DONE")
            out.append({
                "id": p["id"], "name": p["name"], "description": p.get("description"),
                "area": loc.get("area"), "unitCost": p.get("unitCost"),
                "availableQuantity": loc.get("availableQuantity", 0),
                "minimumQuantity": loc.get("minimumQuantity") or 0, "barcode": p.get("barcode"),
                "quantityUsed": mix(h, k, 1) % 4 + 1 if started else 0,
                "copyOnRecurring": "Default", "locationId": loc.get("locationId"),
                "extraFields": {},
            })  # fmt: skip
        return out

    @staticmethod
    def _attachments(owner_id: int, cms: int, n: int) -> list[dict[str, Any]]:
        """Files on a record (``GET <path>/<id>`` only): a photo, then PDF reports; the URL is
        signed and valid for 60 minutes, as MaintainX's are."""
        out = []
        for k in range(n + 1):
            aid = owner_id * 10 + k
            photo = k == 0
            name = f"photo-{owner_id}.jpg" if photo else f"report-{owner_id}-{k}.pdf"
            out.append({
                "id": aid, "mimeType": "image/jpeg" if photo else "application/pdf",
                "fileName": name,
                "url": f"https://files.example.com/attachments/{aid}/{name}?X-Amz-Expires=3600",
                "createdAt": iso_ms(cms + (k + 1) * 600_000),
                "width": 1280 if photo else None, "height": 960 if photo else None,
            })  # fmt: skip
        return out

    def _asset(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict[str, Any]:
        h = self._h(c, i, 2)
        w = WORDS[h % len(WORDS)]
        model = (h >> 44) % (self.sizes["/models"] - 1)  # the catalogue's, never the maker-less one
        return {
            "id": rid,
            "name": f"{w.title()} {i + 1:05d}",
            "description": f"{w.title()} unit on line {(h >> 8) % 9 + 1}" if h % 5 else None,
            "parentId": c.id_of((i - 1 - (h >> 10) % max(1, i)) % max(1, c.size))
            if i and h % 4 == 0
            else None,  # fmt: skip
            "criticalityId": (h >> 14) % 3 + 1,
            "locationId": self.ref("/locations", h >> 16),
            "serialNumber": f"SN-{h % 10**8:08d}",
            "createdAt": iso_ms(cms),
            "updatedAt": iso_ms(ums),
            "creatorId": self.ref("/users", h >> 24),
            "organizationId": ORG_ID,
            "barcode": f"{rid:012d}",
            "teamIds": [self.ref("/teams", h >> 28)],
            "assetTypes": [w.title()],
            "extraFields": {"Line": str((h >> 8) % 9 + 1)},
            "vendorIds": [self.ref("/vendors", h >> 32)],
            "status": {
                "id": rid,
                "status": ("ONLINE", "OFFLINE", "IGNORE")[(h >> 36) % 3],
                "downtimeType": None,
                "startedAt": iso_ms(cms),
                "endedAt": None,
                "description": None,
                "createdAt": iso_ms(cms),
                "updatedAt": iso_ms(ums),
                "deletedAt": None,
                "customStatus": None,
            },  # fmt: skip
            "manufacturer": MANUFACTURERS[model % len(MANUFACTURERS)],
            "model": _model_name(model),
        }

    def _location(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict[str, Any]:
        h = self._h(c, i, 3)
        return {
            "id": rid,
            "name": f"{('Plant', 'Warehouse', 'Line', 'Building')[i % 4]} {i + 1}",
            "description": f"Site area {i + 1}" if h % 3 else None,
            "address": f"{h % 900 + 100} Industrial Way" if i % 4 != 2 else None,
            "parentId": c.id_of(i // 4) if i >= 4 else None,
            "createdAt": iso_ms(cms),
            "updatedAt": iso_ms(ums),
            "organizationId": ORG_ID,
            "extraFields": {},
            "teamIds": [],
            "vendorIds": [],
            "barcode": f"L{rid}",
        }

    def _part(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict[str, Any]:
        h = self._h(c, i, 4)
        locs = []
        for k in range(h % 3 + 1):
            hh = mix(h, k)
            locs.append({
                "locationId": self.collections["/locations"].id_of((i + k * 5) % self.sizes["/locations"]),  # fmt: skip
                "availableQuantity": hh % 120, "minimumQuantity": 5, "maximumQuantity": 150,
                "area": f"Bin {hh % 40 + 1}", "reservedQuantity": 0,
                "committedQuantities": {"kitted": 0, "reserved": 0, "staged": 0},
                "assignedQuantity": 0,
            })  # fmt: skip
        total = sum(x["availableQuantity"] for x in locs)
        w = WORDS[h % len(WORDS)]
        return {
            "id": rid,
            "name": f"{w.title()} spare {i + 1}",
            "description": f"Replacement {w} component" if h % 4 else None,
            "barcode": f"P{rid}",
            "locationId": locs[0]["locationId"],
            "locations": locs,
            "area": locs[0]["area"],
            "unitCost": (h >> 8) % 50_000 + 100,
            "availableQuantity": total,
            "minimumQuantity": 5 * len(locs),
            "orderedQuantity": 0,
            "reservedQuantity": 0,
            "partTypes": [],
            "createdAt": iso_ms(cms),
            "updatedAt": iso_ms(ums),
            "inStockQuantity": total,
            "committedQuantities": {"kitted": 0, "reserved": 0, "staged": 0},
            "assignedQuantity": 0,
            "maximumQuantity": 150 * len(locs),
            "organizationId": ORG_ID,
            "extraFields": {},
            "vendors": [
                {"vendorId": self.ref("/vendors", h >> 16), "partNumber": f"PN-{h % 99999:05d}"}
            ],  # fmt: skip
            "assetIds": sorted({self.ref("/assets", mix(h, 7, k)) for k in range((h >> 20) % 3)}),
        }

    def _purchase_order(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict:
        h = self._h(c, i, 5)
        status = PO_STATUSES[h % len(PO_STATUSES)]
        items = []
        for k in range(h % 4 + 1):
            hh = mix(h, k)
            qty, cost = hh % 20 + 1, (hh >> 8) % 20_000 + 100
            items.append({
                "id": rid * 10 + k, "partId": self.ref("/parts", hh >> 16),
                "name": f"Line {k + 1}", "partNumber": f"PN-{hh % 99999:05d}",
                "price": qty * cost, "priceDecimal": f"{qty * cost / 100:.6f}",
                "quantityOrdered": qty, "quantityReceived": qty if status == "COMPLETED" else 0,
                "unitCost": cost, "unitCostDecimal": f"{cost / 100:.6f}",
                "fulfillments": [], "extraFields": {}, "lineExtraFields": {},
            })  # fmt: skip
        approved = status in ("APPROVED", "COMPLETED", "PARTIALLY_FULFILLED")
        return {
            "id": rid,
            "note": "Deliver to dock B" if h % 3 == 0 else None,
            "title": f"PO for {WORDS[h % len(WORDS)]} spares",
            "reviewNote": None,
            "status": status,
            "dueDate": iso_ms(cms + 14 * 86_400_000),
            "creatorId": self.ref("/users", h >> 8),
            "vendorId": self.ref("/vendors", h >> 12),
            "autoGeneratedNumber": i + 1,
            "overrideNumber": f"PO-{i + 1:06d}" if h % 5 == 0 else None,
            "approverId": self.ref("/users", h >> 16) if approved else None,
            "approvalDate": iso_ms(cms + 86_400_000) if approved else None,
            "createdAt": iso_ms(cms),
            "updatedAt": iso_ms(ums),
            "deletedAt": None,
            "items": items,
            "costs": [{"id": rid, "name": "Sales Tax", "type": "PERCENT_TAXABLE", "amount": 8}],
            "thumbnail": None,
            "attachments": [],
            "vendorContactIds": [],
            "shippingAddress": None,
            "billingAddress": None,
            "extraFields": {},
        }

    def _vendor(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict[str, Any]:
        name = ("Acme Supply", "Bolt & Nut Co", "Grainger", "Motion Industries", "Fastenal")[i % 5]
        return {"id": rid, "name": f"{name} {i // 5 + 1}", "extraFields": {}}

    def _user(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict[str, Any]:
        h = self._h(c, i, 7)
        first, last = FIRST[i % len(FIRST)], LAST[h % len(LAST)]
        return {
            "id": rid,
            "firstName": first,
            "lastName": last,
            "email": f"{first.lower()}.{last.lower()}{i}@example.com",
            "phoneNumber": None,
            "authType": "NORMAL",
            "hourlyRate": 3000 + (h >> 8) % 4000,
            "lastVisitedAt": iso_ms(cms),
            "role": ("ADMIN", "MEMBER", "MEMBER", "OPERATOR", "REQUESTER")[i % 5],
            "extraFields": {},
        }

    def _team(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict[str, Any]:
        return {"id": rid, "name": ("Mechanical", "Electrical", "Facilities", "Utilities", "Night shift")[i % 5]}  # fmt: skip

    def _plan(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict[str, Any]:
        h = self._h(c, i, 9)
        interval = h % 4 + 1
        return {
            "id": rid, "name": f"PM {WORDS[h % len(WORDS)]} every {interval} weeks",
            "organizationId": ORG_ID, "startDate": iso_ms(cms), "workOrderStartDatePadding": None,
            "workOrderStartDateOffset": None, "workOrderStartDateFixedDay": None,
            "blueprintEstimatedTime": 3600 * interval, "triggerType": "CALENDAR",
            "intervalStrategy": "FIXED",
            "recurrence": {"type": "WEEKLY", "interval": interval, "days": [h % 7]},
            "planningHorizon": {"value": 1, "unit": "MONTH"},
            "workOrderBlueprintId": rid + 1,
            "assets": [{"id": rid * 10, "assetId": self.ref("/assets", h >> 8)}],
            "intervals": [], "nextCycleOccurrence": None,
            "nextScheduledWorkOrderDueDate": iso_ms(ums + interval * 7 * 86_400_000),
            "lastPlannedDueDate": None, "nextWorkOrderGenerationAt": None,
            "lastWorkOrderGeneratedAt": None, "creatorId": self.ref("/users", h >> 16),
            "createdAt": iso_ms(cms), "updatedAt": iso_ms(ums), "archivedAt": None,
        }  # fmt: skip

    def _meter(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict[str, Any]:
        h = self._h(c, i, 10)
        asset_id = self.ref("/assets", h >> 8)
        unit = ("Hours", "Miles", "PSI", "°C")[h % 4]
        return {
            "id": rid, "name": f"{unit} meter {i + 1}", "unit": unit, "measurementType": "MANUAL",
            "asset": None,  # filled by `expand` from _assetId
            "location": None,
            "_assetId": asset_id,
            "lastReading": {"id": f"{rid}-r{(h >> 20) % 1000}", "meterId": rid,
                            "createdAt": iso_ms(ums), "readingDate": iso_ms(ums),
                            "value": (h >> 24) % 100_000 / 10},
        }  # fmt: skip

    def _asset_status(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict:
        """An asset's status period (``GET /assetstatuses``): OFFLINE ones are downtime."""
        h = self._h(c, i, 11)
        status = ("OFFLINE", "ONLINE", "OFFLINE", "IGNORE")[h % 4]
        ended = iso_ms(cms + ((h >> 8) % 48 + 1) * 3_600_000) if (h >> 4) % 3 else None
        reason = ("Overheated - needs servicing.", "Scheduled belt change.", "Waiting for parts.",
                  None)[(h >> 12) % 4]  # fmt: skip
        return {
            "id": rid, "customStatusId": None, "assetId": self.ref("/assets", h >> 16),
            "status": status,
            "downtimeType": ("PLANNED", "UNPLANNED")[(h >> 20) % 2] if status == "OFFLINE" else None,
            "startedAt": iso_ms(cms), "endedAt": ended, "organizationId": ORG_ID,
            "creatorId": self.ref("/users", h >> 24),
            "updaterId": self.ref("/users", h >> 28) if ended else None,
            "createdAt": iso_ms(cms), "updatedAt": iso_ms(ums), "deletedAt": None,
            "description": reason if status == "OFFLINE" else None,
        }  # fmt: skip

    def _work_request(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict:
        """A work request (``GET /workrequests``); approved and done ones name their work order."""
        h = self._h(c, i, 12)
        status = WR_STATUSES[h % len(WR_STATUSES)]
        w = WORDS[(h >> 4) % len(WORDS)]
        asset_id = self.ref("/assets", h >> 8) if h % 3 else None
        email = h % 2 == 0
        return {
            "id": rid,
            "title": f"{w.title()} is making noise ({i + 1})",
            "attachments": self._attachments(rid, cms, 0) if h % 4 == 1 else [],
            "thumbnail": None,
            "priority": PRIORITIES[(h >> 12) % 4],
            "description": f"Noticed near the {w}; please check." if h % 5 else None,
            "requestStatus": status,
            "assetId": asset_id,
            "locationId": self.ref("/locations", h >> 16),
            "workOrderId": self.ref("/workorders", h >> 20) if status in ("APPROVED", "DONE") else None,
            "sendEmailNotification": email,
            "extraFields": {},
            "approverTeamId": self.ref("/teams", h >> 24) if h % 3 != 1 else None,
            "creatorContactInfo": {"type": "EMAIL", "value": f"requester{i}@example.com"}
            if email else None,
            "createdAt": iso_ms(cms),
            "updatedAt": iso_ms(ums),
            "_assetId": asset_id,
        }  # fmt: skip

    def _model(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict[str, Any]:
        """A manufacturer's model (``GET /models``); the last has no manufacturer."""
        maker = None if i == c.size - 1 else self.ref("/manufacturers", i % len(MANUFACTURERS))
        return {
            "id": rid,
            "name": _model_name(i),
            "manufacturerId": maker,
            "organizationId": ORG_ID,
        }

    def _manufacturer(self, c: Collection, i: int, rid: int, cms: int, ums: int) -> dict:
        return {"id": rid, "name": MANUFACTURERS[i % len(MANUFACTURERS)], "organizationId": ORG_ID}


def _model_name(i: int) -> str:
    """Model ``i`` of the catalogue: its manufacturer is ``MANUFACTURERS[i % 4]``."""
    return f"{('D', 'X', 'GX')[i // len(MANUFACTURERS) % 3]}{(i % len(MANUFACTURERS) + 1) * 10}"
