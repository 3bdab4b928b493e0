"""Tryton -> unified model: what to read per entity (model, domain, fields) and how to map it.

Keys are Tryton record ids (stable; codes and numbers are optional or assigned late, e.g. a draft
purchase has no number) and every reference is ``{"ref": [<many2one field>]}``: the many2one value
is the target's id, so it joins the target's key. Materials and ERP products are both
``product.product`` (the variant, not the template: their ids differ). Stocks are keyed by
``(product, location)``. ``last_modified_at`` (Tryton's ``COALESCE(write_date, create_date)``,
UTC) orders upserts; ``write_date`` is NULL until a record's first edit.
Related fields are read as ``"party.code"`` and found under ``party_rel`` (see client.py).
"""

from __future__ import annotations

from typing import Any

from connectors.base import ChangedWhen
from include.mapping import EntityMapping

STAMPS = ("create_date", "write_date", "last_modified_at")


def _stamped(**kw: Any) -> dict[str, Any]:
    return {
        "version": "last_modified_at",
        "remote_id": "id",
        "created": {"ts": "create_date"},
        **kw,
    }


def _active(record: dict, _tz: Any) -> bool | None:
    """A variant is active only if it and its template are (Tryton's rule)."""
    own, template = record.get("active"), (record.get("template_rel") or {}).get("active")
    if own is None:
        return None
    return bool(own) and (template is None or bool(template))  # SQLite answers 0/1


def _status(record: dict, tz: Any) -> str | None:
    active = _active(record, tz)
    return None if active is None else "active" if active else "inactive"


def _non_empty(path: str):
    def fn(record: dict, _tz: Any) -> bool | None:
        value = record.get(path)
        return None if value is None else bool(value)

    return fn


def _parent_location(record: dict, _tz: Any) -> str | None:
    """A location's parent, unless the parent is a warehouse (that is the site: siteKey)."""
    parent, rel = record.get("parent"), record.get("parent_rel") or {}
    if parent is None or rel.get("type") == "warehouse":
        return None
    return str(parent)


def _address(record: dict, _tz: Any) -> dict[str, Any] | None:
    rel = record.get("address_rel")
    if not rel:
        return None
    country = (rel.get("country_rel") or {}).get("code")
    out = {
        "street": rel.get("street"),
        "city": rel.get("city"),
        "postalCode": rel.get("postal_code"),
        "country": country,
    }
    return {k: v for k, v in out.items() if v}


# A variant's name, type and unit are Function fields delegating to its template, computed in
# Python per record (~300 records/s); read as related template fields they come ~4x faster.
_PRODUCT_FIELDS = [
    "code", "description", "active", "template", "template.name", "template.type",
    "template.consumable", "template.purchasable", "template.default_uom",
    "template.default_uom.symbol", "template.active", "template.last_modified_at", "boms",
    *STAMPS,
]  # fmt: skip
_UOM = {"ref": ["template_rel.default_uom_rel.symbol"]}

MATERIALS = EntityMapping(
    key=("id",),
    fields={
        "code": "code",
        "partNumber": "code",
        "name": "template_rel.name",
        "description": "description",
        "isActive": {"fn": _active},
        "isAssembly": {"fn": _non_empty("boms")},
        "uomKey": _UOM,
    },
    **_stamped(),
)

PRODUCTS = EntityMapping(
    key=("id",),
    fields={
        "code": "code",
        "sku": "code",
        "partNumber": "code",
        "name": "template_rel.name",
        "description": "description",
        "type": "template_rel.type",
        "status": {"fn": _status},
        "price": {"float": "list_price_used"},  # the variant's price, else the template's
        "quantity": {"float": "quantity"},
        "uomKey": _UOM,
    },
    **_stamped(),
)

SITES = EntityMapping(
    key=("id",),
    fields={"name": "name", "code": "code", "address": {"fn": _address}},
    **_stamped(),
)

LOCATIONS = EntityMapping(
    key=("id",),
    fields={
        "siteKey": {"ref": ["warehouse"]},
        "parentKey": {"fn": _parent_location},
        "name": "name",
        "code": "code",
        "type": "type",
        "isActive": {"bool": "active"},
        "address": {"fn": _address},
    },
    **_stamped(),
)

VENDORS = EntityMapping(
    key=("id",),
    fields={"name": "name", "code": "code"},
    **_stamped(),
)

USERS = EntityMapping(
    key=("id",),
    fields={
        "organizationKey": {"ref": ["company"]},
        "name": "party_rel.name",
        "email": "party_rel.email",
        "description": "party_rel.code",
        "isActive": {"bool": "active"},
    },
    **_stamped(),
)

ASSETS = EntityMapping(
    key=("id",),
    fields={
        "siteKey": {"ref": ["warehouse"]},
        "parentKey": {"ref": ["parent"]},
        "organizationKey": {"ref": ["company"]},
        "name": "name",
        "categoryName": "category_rel.name",
        "isActive": {"bool": "active"},
        "status": {"map": "active", "values": {True: "active", False: "inactive"}},
    },
    **_stamped(),
)

PO_LINES = EntityMapping(
    key=("id",),
    fields={
        "purchaseOrderKey": {"ref": ["purchase"]},
        "materialKey": {"ref": ["product"]},
        "vendorKey": {"ref": ["supplier"]},
        "locationKey": {"ref": ["to_location"]},
        "statusKey": "purchase_state",
        "lineNo": {"str": "sequence"},
        "code": "product_rel.code",
        "type": "type",
        "name": "product_rel.name",
        "description": "description",
        "quantity": {"float": "quantity"},
        "receivedQuantity": {"float": "actual_quantity"},
        "uomKey": {"ref": ["unit_rel.symbol"]},
        "currencyKey": {"ref": ["currency_rel.code"]},
        "price": {"float": "unit_price"},
        "lineTotalValue": {"float": "amount"},
        "notes": "note",
        "dueAt": {"ts": "delivery_date"},
    },
    **_stamped(),
)

PURCHASE_ORDERS = EntityMapping(
    key=("id",),
    fields={
        "siteKey": {"ref": ["warehouse"]},
        "organizationKey": {"ref": ["company"]},
        "vendorKey": {"ref": ["party"]},
        "userRequestedKey": {"ref": ["quoted_by"]},
        "userApprovedKey": {"ref": ["confirmed_by"]},
        "orderNo": "number",
        "orderDate": {"ts": "purchase_date"},
        "status": "state",
        "statusKey": "state",
        "title": "description",
        "description": "reference",
        "dueAt": {"ts": "delivery_date"},
        "notes": "comment",
        "currencyKey": {"ref": ["currency_rel.code"]},
        "totalNetValue": {"float": "untaxed_amount"},
        "totalGrossValue": {"float": "total_amount"},
    },
    children={"purchase-orders.line-items": ("lines", PO_LINES)},
    **_stamped(),
)

PRODUCTION_ORDERS = EntityMapping(
    key=("id",),
    fields={
        "siteKey": {"ref": ["warehouse"]},
        "locationKey": {"ref": ["location"]},
        "assetKey": {"ref": ["work_center"]},
        "productKey": {"ref": ["product"]},
        "orderNo": "number",
        "orderDate": {"ts": "create_date"},
        "status": "state",
        "statusKey": "state",
        "quantity": {"float": "quantity"},
        "plannedStartAt": {"ts": "planned_start_date"},
        "plannedEndAt": {"ts": "planned_date"},
        "note": "reference",
    },
    **_stamped(),
)

STOCKS = EntityMapping(
    key=("product", "location"),
    fields={
        "materialKey": {"ref": ["product"]},
        "locationKey": {"ref": ["location"]},
        "siteKey": {"ref": ["warehouse"]},
        "uomKey": {"ref": ["default_uom_rel.symbol"]},
        "quantity": {"float": "quantity"},
    },
)


# Tryton has no maintenance module: its work orders are the production works (operations of a
# production at a work center; the work centers are the assets).
WORK_ORDERS = EntityMapping(
    key=("id",),
    fields={
        "title": "operation_rel.name",
        "code": {"str": "id"},
        "assetKey": {"ref": ["work_center"]},
        "siteKey": {"ref": ["production_rel.warehouse"]},
        "locationKey": {"ref": ["production_rel.location"]},
        "organizationKey": {"ref": ["company"]},
        "categoryName": {"const": "production"},
        "instructions": "production_rel.reference",
        "status": "state",
        "statusKey": "state",
        "scheduledAt": {"ts": "production_rel.planned_start_date"},
        "dueAt": {"ts": "production_rel.planned_date"},
    },
    **_stamped(),
)

ORGANIZATIONS = EntityMapping(
    key=("id",),
    fields={
        "name": "party_rel.name",
        "code": "party_rel.code",
        "currencyKey": {"ref": ["currency_rel.code"]},
    },
    **_stamped(),
)

# Units are referenced by symbol (materials' uomKey), so their key is the symbol.
UOM = EntityMapping(
    key=("symbol",),
    remote_id="id",
    version="last_modified_at",
    created={"ts": "create_date"},
    fields={
        "name": "name",
        "code": "symbol",
        "rate": {"float": "rate"},
        "isActive": {"bool": "active"},
    },
)

STOREROOMS = EntityMapping(
    key=("id",),
    fields={
        "siteKey": {"ref": ["warehouse"]},
        "parentKey": {"fn": _parent_location},
        "locationKey": {"ref": ["id"]},
        "name": "name",
        "code": "code",
        "type": "type",
    },
    **_stamped(),
)

LABORS = EntityMapping(
    key=("id",),
    fields={
        "organizationKeys": {"fn": lambda r, tz: [str(r["company"])] if r.get("company") else []},
        "userKey": {"ref": ["id"]},
        "name": "party_rel.name",
        "code": "party_rel.code",
        "isActive": {"bool": "active"},
    },
    **_stamped(),
)

COMPANIES = EntityMapping(
    key=("id",),
    fields={"name": "name", "code": "code"},
    **_stamped(),
)


def _assembly(record: dict, _tz: Any) -> str | None:
    """The product the input's BOM makes (its first output)."""
    outputs = (record.get("bom_rel") or {}).get("output_products") or []
    return str(outputs[0]) if outputs else None


# A bill of materials' inputs are the children of the product it makes (its first output).
BOM_INPUTS = EntityMapping(
    key=("id",),
    fields={
        "materialKey": {"ref": ["product"]},
        "assemblyKey": {"fn": _assembly},
        "partNumber": "product_rel.code",
        "name": "product_rel.name",
        "uomKey": {"ref": ["unit_rel.symbol"]},
        "quantity": {"float": "quantity"},
        "requiredQuantity": {"float": "quantity"},
    },
    **_stamped(),
)


def _f(names: str) -> list[str]:
    return names.split()


_ADDRESS = ["address.street", "address.city", "address.postal_code", "address.country.code"]

# entity: (mapping, read options). Options: model, domain, fields, context, incremental.
# A location's ``warehouse`` is not a stored field: the connector derives it from the nested set
# (``left``/``right``) of the warehouses.
READS: dict[str, tuple[EntityMapping, dict[str, Any]]] = {
    "sites": (
        SITES,
        {
            "model": "stock.location",
            "domain": [("type", "=", "warehouse")],
            "fields": ["name", "code", "active", "address", *_ADDRESS, *STAMPS],
        },
    ),
    "locations": (
        LOCATIONS,
        {
            "model": "stock.location",
            "domain": [("type", "!=", "warehouse")],
            "fields": [
                *_f("name code type active parent parent.type left right address"),
                *_ADDRESS,
                *STAMPS,
            ],
        },
    ),
    "materials": (MATERIALS, {"model": "product.product", "fields": _PRODUCT_FIELDS}),
    "products": (
        PRODUCTS,
        {
            "model": "product.product",
            "fields": [*_PRODUCT_FIELDS, "list_price_used", "quantity"],
            "quantity_in_warehouses": True,
            "moves": True,
        },
    ),
    "stocks": (STOCKS, {"model": "product.product", "incremental": False}),
    "vendors": (
        VENDORS,
        {"model": "party.party", "fields": ["name", "code", "active", *STAMPS]},
    ),
    "users": (
        USERS,
        {
            "model": "company.employee",
            "fields": [
                *_f("company party party.name party.code party.email active start_date end_date"),
                *STAMPS,
            ],
        },
    ),
    "assets": (
        ASSETS,
        {
            "model": "production.work.center",
            "fields": [
                *_f(
                    "name warehouse parent company category category.name active cost_price "
                    "cost_method"
                ),
                *STAMPS,
            ],
        },
    ),
    "purchase-orders": (
        PURCHASE_ORDERS,
        {
            "model": "purchase.purchase",
            "fields": [
                *_f(
                    "number reference description state party company currency currency.code "
                    "warehouse purchase_date delivery_date untaxed_amount tax_amount total_amount "
                    "comment quoted_by confirmed_by invoice_method shipment_state"
                ),
                *STAMPS,
            ],
            "lines": {
                "model": "purchase.line",
                "fields": [
                    *_f(
                        "purchase purchase_state sequence type product product.code product.name "
                        "description quantity actual_quantity unit unit.symbol unit_price amount currency "
                        "currency.code supplier to_location delivery_date note"
                    ),
                    *STAMPS,
                ],
            },
        },
    ),
    "work-orders": (
        WORK_ORDERS,
        {
            "model": "production.work",
            "fields": [
                *_f(
                    "operation operation.name production production.number "
                    "production.reference production.warehouse production.location "
                    "production.planned_start_date production.planned_date work_center company "
                    "state sequence"
                ),
                *STAMPS,
            ],
        },
    ),
    "organizations": (
        ORGANIZATIONS,
        {
            "model": "company.company",
            "fields": [*_f("party party.name party.code currency currency.code"), *STAMPS],
        },
    ),
    "uom": (
        UOM,
        {"model": "product.uom", "fields": [*_f("name symbol rate active"), *STAMPS]},
    ),
    "storerooms": (
        STOREROOMS,
        {
            "model": "stock.location",
            "domain": [("type", "=", "storage")],
            "fields": [*_f("name code type active parent parent.type left right"), *STAMPS],
        },
    ),
    "labors": (
        LABORS,
        {
            "model": "company.employee",
            "fields": [*_f("company party party.name party.code active"), *STAMPS],
        },
    ),
    "companies": (
        COMPANIES,
        {"model": "party.party", "fields": ["name", "code", "active", *STAMPS]},
    ),
    "materials.children": (
        BOM_INPUTS,
        {
            "model": "production.bom.input",
            "fields": [
                *_f("bom bom.output_products product product.code product.name quantity unit"),
                "unit.symbol",
                *STAMPS,
            ],
        },
    ),
    "production-orders": (
        PRODUCTION_ORDERS,
        {
            "model": "production",
            "fields": [
                *_f(
                    "number reference state type product quantity unit unit.symbol warehouse location "
                    "work_center planned_date planned_start_date effective_date effective_start_date "
                    "company"
                ),
                *STAMPS,
            ],
        },
    ),
}

# "Changed when" per entity (see connectors.base.ChangedWhen): Tryton never touches a record's
# write_date for a change made on a related record, so these are read with the record and its
# updatedAt/version is the latest of them. ``moves_changed_at`` is the connector's: the latest
# change of a done (or cancelled) stock move of the product.
_TEMPLATE = "template_rel.last_modified_at"
CHANGED_WHEN: dict[str, ChangedWhen] = {
    "materials": ChangedWhen(
        related=(_TEMPLATE,), note="the variant or its template (name, unit, active) changed"
    ),
    "products": ChangedWhen(
        related=(_TEMPLATE, "moves_changed_at"),
        untracked=("quantity",),
        note="the variant, its template (name, type, list price, active) or one of its stock "
        "moves changed; quantities also move without a move (a location re-parented under "
        "another warehouse, a move's date passing), so products are re-read in full every "
        "full_read_every",
    ),
    "purchase-orders": ChangedWhen(
        related=("lines.last_modified_at",),
        note="the purchase or one of its lines changed (a deleted line is seen when the PO "
        "changes or on a full read)",
    ),
}

STATUSES: dict[str, list[tuple[str, str]]] = {
    "work-orders": [
        ("request", "Request"), ("draft", "Draft"), ("waiting", "Waiting"),
        ("running", "Running"), ("finished", "Finished"), ("done", "Done"),
    ],
    "purchase-orders": [
        ("draft", "Draft"), ("quotation", "Quotation"), ("confirmed", "Confirmed"),
        ("processing", "Processing"), ("done", "Done"), ("cancelled", "Cancelled"),
    ],
    "production-orders": [
        ("request", "Request"), ("draft", "Draft"), ("waiting", "Waiting"),
        ("assigned", "Assigned"), ("running", "Running"), ("done", "Done"),
        ("cancelled", "Cancelled"),
    ],
}  # fmt: skip

# Unified status (docs/API.md, "Unified status"): Tryton's states -> statusCategory; a
# connection's `status_categories` overrides them.
STATUS_CATEGORIES: dict[str, dict[str, str]] = {
    "work-orders": {
        "request": "open", "draft": "open", "waiting": "on_hold", "running": "in_progress",
        "finished": "completed", "done": "closed", "cancelled": "cancelled",
    },
    "purchase-orders": {
        "draft": "draft", "quotation": "pending_approval", "confirmed": "approved",
        "processing": "approved", "done": "closed", "cancelled": "cancelled",
    },
    "assets": {"active": "active", "inactive": "inactive"},
}  # fmt: skip

# Makini resources Tryton has no concept for (the coverage matrix, docs/API.md)
NO_CONCEPT: dict[str, str] = {
    "teams": "Tryton groups no employees into teams or crews",
    "pm": "Tryton has no preventive maintenance (no maintenance module)",
    "pm.materials": "Tryton has no preventive maintenance",
    "meters": "Tryton keeps no meters or counters on work centers (its assets)",
    "meter-readings": "Tryton keeps no meters or counters on work centers (its assets)",
    "assets-downtime": "Tryton records no downtime of work centers (its assets)",
    "asset-templates": "Tryton work centers have categories, not templates",
    "asset-templates.materials": "Tryton work centers have categories, not templates",
    "assets.materials": "Tryton work centers have no spare-part lists",
    "service-requests": "Tryton has no maintenance or service requests",
}
