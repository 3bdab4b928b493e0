"""MaintainX REST v1: the Python the manifest cannot say (see README.md, "Where Python is needed").

manifest.yaml describes the protocol: bearer auth (``api_key``), cursor paging (``cursor`` +
``limit`` <= 200 -> ``{"<key>": [...], "nextCursor": ...}``), ``updatedAt[gte]``/``[lte]`` windows
with ``sort=updatedAt`` (``lte`` is inclusive, so records at exactly the end are dropped here to make
the window half-open ``[start, end)``; the next window's ``gte`` reads them), ``expand`` parameters,
per-record detail reads (purchase orders), team members, rate-limit headers
(``X-Rate-Limit-Remaining``/``-Reset``: when Remaining reaches 0 the next call waits ``Reset``
seconds), the static status lists. This subclass adds only:

- ``extra_headers``: the ``organization_id`` option as ``x-organization-id`` (an integer);
- transforms that derive rows MaintainX has no list for: stocks and inventories (one per part and
  location, from a part's ``locations``), meter readings (each meter's ``lastReading``), PO items
  stamped with their PO's id and vendor (items carry neither), the parts a work order uses (its
  ``parts``), the assets a part is linked to (its ``assetIds``), work orders' attachments
  (documents), asset downtime (the OFFLINE periods of ``/assetstatuses``) and models stamped
  with their manufacturer's name (``/manufacturers``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import SourceError, SourceField, WebhookRegistration, Window
from connectors.kit import ManifestConnector, entity_specs, load_manifest
from connectors.kit.engine import Request
from connectors.maintainx import mapping as m
from connectors.maintainx.fields import STANDARD
from include.webhooks.spec import EventRule, WebhookSpec

SYSTEM = "maintainx"
MANIFEST = load_manifest(Path(__file__).with_name("manifest.yaml"))
MAX_LIMIT = MANIFEST.paginator.max_size
DETAIL_THREADS = 8  # concurrent GET <path>/<id> when re-reading records by id

Records = list[dict[str, Any]]


def format_ms(dt: datetime) -> str:
    """UTC ISO 8601 with milliseconds, truncated (records carry ms resolution)."""
    dt = dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _stock_rows(parts: Records) -> Records:
    rows = []
    for p in parts:
        for loc in p.get("locations") or ():
            rows.append({**loc, "partId": p["id"], "updatedAt": p.get("updatedAt")})
    return rows


def _inventory_rows(parts: Records) -> Records:
    rows = []
    for p in parts:
        for loc in p.get("locations") or ():
            rows.append({
                **loc, "partId": p["id"], "updatedAt": p.get("updatedAt"), "name": p.get("name"),
                "barcode": p.get("barcode"), "unitCost": p.get("unitCost"),
            })  # fmt: skip
    return rows


def _wo_part_rows(orders: Records) -> Records:
    """One row per part a work order lists; a part listed twice (from two locations) counts
    once, its quantities added."""
    rows = []
    for wo in orders:
        mine: dict[Any, dict[str, Any]] = {}
        for part in wo.get("parts") or ():
            row = mine.get(part.get("id"))
            if row is None:
                mine[part.get("id")] = {**part, "partId": part.get("id"), "workOrderId": wo["id"],
                                        "updatedAt": wo.get("updatedAt")}  # fmt: skip
            else:
                row["quantityUsed"] = (row.get("quantityUsed") or 0) + (
                    part.get("quantityUsed") or 0
                )
        rows.extend(mine.values())
    return rows


def _asset_part_rows(parts: Records) -> Records:
    return [
        {"assetId": aid, "partId": p["id"], "name": p.get("name"), "vendors": p.get("vendors"),
         "updatedAt": p.get("updatedAt")}
        for p in parts for aid in dict.fromkeys(p.get("assetIds") or ())
    ]  # fmt: skip


def _attachment_rows(orders: Records) -> Records:
    return [
        {**a, "workOrderId": wo["id"], "updatedAt": wo.get("updatedAt")}
        for wo in orders for a in wo.get("attachments") or ()
    ]  # fmt: skip


def _reading_rows(meters: Records) -> Records:
    rows = []
    for meter in meters:
        r = meter.get("lastReading")
        if r:
            rows.append({**r, "assetId": (meter.get("asset") or {}).get("id")})
    return rows


# entity -> ``/customfields/{entity}``
CUSTOM_FIELD_ENTITY = {
    "work-orders": "workOrders", "assets": "assets", "locations": "locations",
    "materials": "parts", "vendors": "vendors", "purchase-orders": "purchaseOrders",
    "purchase-orders.line-items": "lineItemPurchaseOrders",
}  # fmt: skip
# the ``expand`` values each list takes (MaintainX's OpenAPI): a custom field asks only for these
EXPAND_VALUES = {
    "/workorders": {"thumbnail", "assignees", "categories", "parts", "asset", "location",
                    "procedure", "vendor_ids", "times", "time_items", "expenditures",
                    "extra_fields"},
    "/assets": {"barcode", "team_ids", "extra_fields", "vendor_ids", "status", "manufacturer",
                "model"},
    "/locations": {"extra_fields", "team_ids", "vendor_ids", "barcode"},
    "/parts": {"extra_fields", "vendors"}, "/vendors": {"extra_fields"},
    "/users": {"role", "extra_fields"}, "/meters": {"asset", "location", "last_reading"},
    "/workrequests": {"asset", "location", "extra_fields"},
}  # fmt: skip
# a record field MaintainX sends only when asked -> its ``expand`` value
EXPANDS = {
    "extraFields": "extra_fields", "location": "location", "vendorIds": "vendor_ids",
    "parts": "parts", "assignees": "assignees", "categories": "categories", "asset": "asset",
    "teamIds": "team_ids", "barcode": "barcode", "thumbnail": "thumbnail",
    "procedure": "procedure", "times": "times", "timeItems": "time_items",
    "expenditures": "expenditures",
}  # fmt: skip


# the object key of GET <path>/<id>
SINGULAR = {
    "/workorders": "workOrder", "/assets": "asset", "/locations": "location", "/parts": "part",
    "/purchaseorders": "purchaseOrder", "/vendors": "vendor", "/users": "user", "/teams": "team",
    "/maintenanceplans": "maintenancePlan", "/meters": "meter", "/workrequests": "workRequest",
    "/models": "model", "/manufacturers": "manufacturer",
}  # fmt: skip


def _standard(f: tuple) -> SourceField:
    if len(f) == 2:
        return SourceField(f[0], f[1])
    name, typ, children, many = f
    return SourceField(name, typ, children=tuple(_standard(c) for c in children), many=many)


class MaintainXConnector(ManifestConnector):
    """Reads MaintainX's REST API (v1). Credentials: ``{"api_key": ...}``; options:
    ``organization_id`` (for multi-organization keys)."""

    manifest = MANIFEST
    system = SYSTEM
    entities = entity_specs(MANIFEST, m.MAPPINGS, m.CHANGED_WHEN)
    status_categories = m.STATUS_CATEGORIES
    no_concept = m.NO_CONCEPT
    webhooks = WebhookSpec(
        scheme="maintainx",
        # deliveries carry no event type: the top-level id field names the record
        rules=(
            EventRule("workOrderId", ("work-orders",)),
            EventRule("partId", ("materials", "stocks")),
            EventRule("purchaseOrderId", ("purchase-orders",)),
            EventRule("assetId", ("assets",)),
            EventRule("locationId", ("locations",)),
            EventRule("vendorId", ("vendors",)),
        ),
        subscribe=True,
        event_types=(
            "NEW_WORK_ORDER", "WORK_ORDER_CHANGE", "WORK_ORDER_STATUS_CHANGE", "WORK_ORDER_DELETE",
            "NEW_PART", "PART_CHANGE", "PART_DELETE", "NEW_PURCHASE_ORDER",
            "PURCHASE_ORDER_CHANGE", "PURCHASE_ORDER_STATUS_CHANGE", "NEW_ASSET",
            "NEW_LOCATION", "NEW_VENDOR",
        ),
    )  # fmt: skip

    def extra_headers(self) -> dict[str, str]:
        org = self.settings.options.get("organization_id")
        if org in (None, ""):
            return {}
        if not str(org).strip().isdigit():
            raise ValueError(f"maintainx: option organization_id must be an integer, got {org!r}")
        return {"x-organization-id": str(org).strip()}

    # --- custom fields -------------------------------------------------------------------------
    def describe(self, entity: str) -> list[SourceField]:
        """The entity's standard fields (MaintainX's OpenAPI) and ``extraFields`` holding the
        organization's custom fields (``GET /customfields/{entity}``: label, type)."""
        if entity == "purchase-orders.line-items":
            items = next(f for f in STANDARD["purchase-orders"] if f[0] == "items")
            out = [_standard(f) for f in items[2]]
        else:
            out = [_standard(f) for f in STANDARD.get(entity, ())]
        kind = CUSTOM_FIELD_ENTITY.get(entity)
        if kind:
            defs = self.http.get_json(f"/customfields/{kind}", headers=self.extra_headers())
            extra = tuple(
                SourceField(str(d["label"]), str(d.get("type") or ""), str(d["label"]), custom=True)
                for d in defs if isinstance(d, dict) and d.get("label")
            )  # fmt: skip
            out = [f for f in out if f.name != "extraFields"]
            out.append(SourceField("extraFields", "object", "Custom fields", children=extra))
        if entity == "purchase-orders":  # the items, as the line-items entity reads them
            lines = self.describe("purchase-orders.line-items")
            out = [SourceField("items", "array", "Items", tuple(lines), many=True)
                   if f.name == "items" else f for f in out]  # fmt: skip
        return out

    def build_request(self, entity: str, window: Window, keys_only: bool = False) -> Request:
        """The manifest's request, plus the ``expand`` values the custom fields need."""
        req = super().build_request(entity, window, keys_only)
        if keys_only:
            return req
        takes = EXPAND_VALUES.get(self.manifest.entity(entity).path, set())
        wanted = [EXPANDS[p.split(".")[0]] for p in self.requested(entity)
                  if EXPANDS.get(p.split(".")[0]) in takes]  # fmt: skip
        if wanted:
            have = req.params.get("expand") or []
            have = [have] if isinstance(have, str) else list(have)
            expand = list(dict.fromkeys([*have, *wanted]))
            req = dataclasses.replace(req, params={**req.params, "expand": expand})
        return req

    # --- transforms named in manifest.yaml -----------------------------------------------------
    def stock_rows(self, entity: str, parts: Records) -> Records:
        return _stock_rows(parts)

    def reading_rows(self, entity: str, meters: Records) -> Records:
        return _reading_rows(meters)

    def inventory_rows(self, entity: str, parts: Records) -> Records:
        return _inventory_rows(parts)

    def wo_part_rows(self, entity: str, orders: Records) -> Records:
        return _wo_part_rows(orders)

    def asset_part_rows(self, entity: str, parts: Records) -> Records:
        return _asset_part_rows(self._details("/parts", parts))

    def attachment_rows(self, entity: str, orders: Records) -> Records:
        return _attachment_rows(self._details("/workorders", orders))

    def _details(self, path: str, listed: Records) -> Records:
        """The listed records read again with ``GET <path>/<id>`` (fields only the detail has:
        a part's ``assetIds``, a work order's ``attachments``), `DETAIL_THREADS` at once, in
        order; one gone meanwhile (404) is left out. Key listings come here too, so their keys
        are the read's."""

        def one(rec: dict[str, Any]) -> dict[str, Any] | None:
            try:
                body = self.send(Request(f"{path}/{rec['id']}")).decoded  # type: ignore[attr-defined]
            except SourceError as exc:
                if exc.status == 404:
                    return None
                raise
            full = body.get(SINGULAR[path]) if isinstance(body, dict) else None
            if not isinstance(full, dict):
                raise SourceError(
                    SYSTEM, f"GET {path}/{{id}}", 200, f"no {SINGULAR[path]!r} object"
                )
            return full

        if len(listed) <= 1:
            return [r for r in map(one, listed) if r is not None]
        with ThreadPoolExecutor(DETAIL_THREADS, thread_name_prefix="maintainx-detail") as pool:
            return [r for r in pool.map(one, listed) if r is not None]

    def downtime_rows(self, entity: str, statuses: Records) -> Records:
        """Downtime is an asset's OFFLINE periods; ONLINE (and IGNORE) periods are not."""
        return [s for s in statuses if s.get("status") == "OFFLINE"]

    def model_rows(self, entity: str, models: Records) -> Records:
        """Each model with its manufacturer's name (``GET /manufacturers``, read in full once
        per page of models: models carry only ``manufacturerId``)."""
        if not any(m.get("manufacturerId") is not None for m in models):
            return models
        names: dict[Any, Any] = {}
        for page in self.pages("companies", Request("/manufacturers"), self.max_page_size):
            names.update((r.get("id"), r.get("name")) for r in page)
        for model in models:
            model["manufacturerName"] = names.get(model.get("manufacturerId"))
        return models

    def po_items(self, entity: str, orders: Records) -> Records:
        for po in orders:
            for item in po.get("items") or ():
                item["purchaseOrderId"] = po["id"]
                item["vendorId"] = po.get("vendorId")
        return orders

    # --- webhooks ------------------------------------------------------------------------------
    def register_webhooks(self, url: str) -> WebhookRegistration:
        """One subscription per event type (``POST /subscriptions`` {type, url}); each returns
        its own secret. A failure removes the subscriptions made so far and raises."""
        made: list[tuple[str, str]] = []
        try:
            for kind in self.webhooks.event_types:
                body = self.send(
                    Request("/subscriptions", method="POST", json={"type": kind, "url": url})
                ).decoded  # type: ignore[attr-defined]
                if not isinstance(body, dict) or "id" not in body or not body.get("secret"):
                    raise SourceError(SYSTEM, "POST /subscriptions", 200, "no id or secret")
                made.append((str(body["id"]), str(body["secret"])))
        except Exception:
            self.remove_webhooks(tuple(i for i, _ in made))
            raise
        return WebhookRegistration(tuple(i for i, _ in made), tuple(s for _, s in made))

    def remove_webhooks(self, ids: tuple[str, ...]) -> None:
        for sid in ids:
            try:
                self.http.request("DELETE", f"/subscriptions/{sid}")  # 204: no body to decode
            except SourceError as exc:
                if exc.status != 404:
                    raise

    def read_records(self, entity: str, remote_ids: list[str]) -> Iterator[Records]:
        """The current records with these ids (``GET <path>/<id>``: every expansion), one page
        per ``page_size`` ids, up to `DETAIL_THREADS` requests at once; an id that answers 404
        is gone (deleted) and left out. The entity's sub-resources and transform apply as in
        `read`."""
        e = self.manifest.entity(entity)
        for rid in remote_ids:
            if not str(rid).isdigit():
                raise ValueError(f"maintainx: {entity} ids are integers, got {rid!r}")
        key = SINGULAR[e.path]
        transform = getattr(self, e.transform) if e.transform else None

        def one(rid: str) -> dict[str, Any] | None:
            path = f"{e.path}/{rid}"
            try:
                body = self.send(Request(path)).decoded  # type: ignore[attr-defined]
            except SourceError as exc:
                if exc.status == 404:
                    return None
                raise
            rec = body.get(key) if isinstance(body, dict) else None
            if not isinstance(rec, dict):
                raise SourceError(SYSTEM, f"GET {e.path}/{{id}}", 200, f"no {key!r} object")
            for name, sub in e.sub_resources.items():
                rec[name] = self._sub(entity, sub, rec)
            return rec

        size = self.page_size()
        with ThreadPoolExecutor(DETAIL_THREADS, thread_name_prefix="maintainx-detail") as pool:
            for start in range(0, len(remote_ids), size):
                chunk = remote_ids[start : start + size]
                rows = [r for r in pool.map(one, chunk) if r is not None]
                if transform is not None:
                    rows = transform(entity, rows)
                if rows:
                    yield rows
