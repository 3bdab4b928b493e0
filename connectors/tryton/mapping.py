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

import mimetypes
from typing import Any

from connectors.base import ChangedWhen
from include.mapping import EntityMapping
from include.model.timeutil import to_utc_iso

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


# General-ledger accounts (module `account`): start/end dates bound the period they may be used.
def _account_description(record: dict, _tz: Any) -> str | None:
    """The account's note, else the name of its type ("Expense", "Current Assets")."""
    return record.get("note") or (record.get("type_rel") or {}).get("name")


ACCOUNTS = EntityMapping(
    key=("id",),
    fields={
        "code": "code",
        "name": "name",
        "description": {"fn": _account_description},
        "activatedAt": {"ts": "start_date"},
        "expiresAt": {"ts": "end_date"},
    },
    **_stamped(),
)


def _addresses(record: dict, _tz: Any) -> list[dict[str, Any]]:
    out = []
    for rel in record.get("addresses_rel") or []:
        address = _address({"address_rel": rel}, _tz)
        if address:
            out.append(address)
    return out


def _billing_address(record: dict, _tz: Any) -> dict[str, Any] | None:
    """The party's first invoice address (``invoice`` flag of module account_invoice), else its
    first address."""
    rows = record.get("addresses_rel") or []
    chosen = next((a for a in rows if a.get("invoice")), rows[0] if rows else None)
    return _address({"address_rel": chosen}, _tz) if chosen else None


# Customers: the parties of sales (module `sale`). Tryton has no customer flag: a party is a
# customer once it is the party of a sale; ``first_sale_at`` (the connector's: the creation time
# of its earliest sale) is when it became one.
CUSTOMERS = EntityMapping(
    key=("id",),
    fields={
        "name": "name",
        "code": "code",
        "companyKey": {"ref": ["id"]},  # companies are every party, keyed by the same id
        "addresses": {"fn": _addresses},
        "billingAddress": {"fn": _billing_address},
    },
    **_stamped(),
)


def _content_type(record: dict, _tz: Any) -> str | None:
    """Tryton stores no MIME type: guessed from the file name (data attachments only)."""
    if record.get("type") != "data" or not record.get("name"):
        return None
    return mimetypes.guess_type(str(record["name"]))[0]


def _resource_key(record: dict, _tz: Any) -> list[str]:
    """``"production.work.center,3"`` -> ``["3"]``: the id is the key of the record it is on."""
    resource = record.get("resource")
    if not resource or "," not in str(resource):
        return []
    return [str(resource).rsplit(",", 1)[1]]


def _resource_model(record: dict, _tz: Any) -> str | None:
    resource = record.get("resource")
    return str(resource).rsplit(",", 1)[0] if resource and "," in str(resource) else None


# Documents: attachments (`ir.attachment`, core trytond) on any record; ``resource`` is a
# reference "model,id". The record's model goes to ``notes`` (the id alone is ambiguous).
DOCUMENTS = EntityMapping(
    key=("id",),
    fields={
        "entityKeys": {"fn": _resource_key},
        "name": "name",
        "url": "link",
        "type": "type",
        "contentType": {"fn": _content_type},
        "description": "description",
        "notes": {"fn": _resource_model},
    },
    **_stamped(),
)

# Inventories: the lines of physical inventories (`stock.inventory.line`, module `stock`): one
# product counted at the inventory's location; cancelled inventories are left out.
INVENTORIES = EntityMapping(
    key=("id",),
    fields={
        "code": "product_rel.code",
        "name": "product_rel.name",
        "quantity": {"first": [{"float": "quantity"}, {"float": "expected_quantity"}]},
        "unitCost": {"float": "product_rel.cost_price"},
        "locationKey": {"ref": ["inventory_rel.location"]},
    },
    **_stamped(),
)


def _return_lines(record: dict, tz: Any) -> list[dict[str, Any]]:
    """A return shipment's stock moves as line items (Makini's nested POLineItem)."""
    out = []
    for n, m in enumerate(record.get("moves") or [], 1):
        qty, price = m.get("quantity"), m.get("unit_price")
        total = float(qty) * float(price) if qty is not None and price is not None else None
        out.append({
            "key": str(m["id"]),
            "purchaseOrderKey": str(m["purchase"]) if m.get("purchase") else None,
            "materialKey": str(m["product"]) if m.get("product") else None,
            "vendorKey": str(record["supplier"]) if record.get("supplier") else None,
            "locationKey": str(m["from_location"]) if m.get("from_location") else None,
            "statusKey": m.get("state"),
            "lineNo": str(n),
            "code": (m.get("product_rel") or {}).get("code"),
            "name": (m.get("product_rel") or {}).get("name"),
            "quantity": float(qty) if qty is not None else None,
            "uomKey": (m.get("unit_rel") or {}).get("symbol"),
            "currencyKey": (m.get("currency_rel") or {}).get("code"),
            "price": float(price) if price is not None else None,
            "lineTotalValue": total,
            "dueAt": to_utc_iso(m.get("planned_date"), tz),
            "createdAt": to_utc_iso(m.get("create_date"), tz),
            "updatedAt": to_utc_iso(m.get("last_modified_at"), tz),
        })  # fmt: skip
    return out


def _return_po(record: dict, _tz: Any) -> str | None:
    """The purchase the returned goods came from (its moves' origin: a purchase line)."""
    for m in record.get("moves") or []:
        if m.get("purchase"):
            return str(m["purchase"])
    return None


def _return_currency(record: dict, _tz: Any) -> str | None:
    return next(
        (m["currency_rel"]["code"] for m in record.get("moves") or [] if m.get("currency_rel")),
        None,
    )


def _return_net(record: dict, _tz: Any) -> float | None:
    """Quantity x unit price over the moves (Tryton prices a return's moves, not the shipment)."""
    moves = [m for m in record.get("moves") or [] if m.get("state") != "cancelled"]
    if not moves or any(m.get("unit_price") is None for m in moves):
        return None
    return round(sum(float(m["quantity"]) * float(m["unit_price"]) for m in moves), 2)


# Return orders: supplier returns (`stock.shipment.in.return`, module `stock`); the moves are
# read with the shipment (``moves``) and become its line items.
RETURN_ORDERS = EntityMapping(
    key=("id",),
    fields={
        "organizationKey": {"ref": ["company"]},
        "siteKey": {"ref": ["warehouse"]},
        "vendorKey": {"ref": ["supplier"]},
        "statusKey": "state",
        "status": "state",
        "code": "number",
        "orderNo": "number",
        "poKey": {"fn": _return_po},
        "orderDate": {"ts": "create_date"},
        "type": {"const": "supplier_return"},
        "description": "reference",
        "dueAt": {"ts": "planned_date"},
        "completedAt": {"ts": "effective_date"},
        "currencyKey": {"fn": _return_currency},
        "totalNetValue": {"fn": _return_net},
        "lineItems": {"fn": _return_lines},
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
    "accounts": (
        ACCOUNTS,
        {
            "model": "account.account",
            "fields": [
                *_f("code name note type type.name company start_date end_date closed"),
                *STAMPS,
            ],
        },
    ),
    "customers": (
        CUSTOMERS,
        {
            # the parties of sales: the connector restricts the read to them (see connector.py)
            "model": "party.party",
            "customers": True,
            "fields": [
                *_f(
                    "name code active addresses addresses.street addresses.city "
                    "addresses.postal_code addresses.country.code addresses.invoice"
                ),
                *STAMPS,
            ],
        },
    ),
    "documents": (
        DOCUMENTS,
        {
            "model": "ir.attachment",
            "fields": [*_f("name type link description resource"), *STAMPS],
        },
    ),
    "inventories": (
        INVENTORIES,
        {
            "model": "stock.inventory.line",
            "domain": [("inventory.state", "!=", "cancelled")],
            "fields": [
                *_f(
                    "inventory inventory.location inventory.state "
                    "product product.code product.name product.cost_price quantity "
                    "expected_quantity"
                ),
                *STAMPS,
            ],
        },
    ),
    "return-orders": (
        RETURN_ORDERS,
        {
            "model": "stock.shipment.in.return",
            "fields": [
                *_f(
                    "number reference state company supplier warehouse from_location "
                    "to_location planned_date effective_date moves"
                ),
                *STAMPS,
            ],
            "moves": {
                "model": "stock.move",
                "fields": [
                    *_f(
                        "product product.code product.name quantity unit unit.symbol unit_price "
                        "currency currency.code from_location to_location state planned_date "
                        "purchase"
                    ),
                    *STAMPS,
                ],
            },
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
    "return-orders": ChangedWhen(
        related=("moves.last_modified_at",),
        note="the return shipment or one of its stock moves changed",
    ),
    "inventories": ChangedWhen(
        untracked=("unitCost",),
        note="the line changed (Tryton rewrites an inventory's lines when its location "
        "changes); the unit cost is the product's cost price, which moves without dating the "
        "line, so inventories are re-read in full every full_read_every",
    ),
    "customers": ChangedWhen(
        related=("first_sale_at",),
        note="the party changed, or it became a customer: its first sale was created (a second "
        "query on sale.sale)",
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
    "return-orders": [
        ("draft", "Draft"), ("waiting", "Waiting"), ("assigned", "Assigned"), ("done", "Done"),
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
    # a supplier return: waiting = confirmed, waiting for the stock to be reserved
    "return-orders": {
        "draft": "draft", "waiting": "approved", "assigned": "approved", "done": "completed",
        "cancelled": "cancelled",
    },
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
    "work-orders.materials": "Tryton's work orders (production works) use no materials of "
    "their own: a production's inputs belong to the production, not to one of its operations",
}
