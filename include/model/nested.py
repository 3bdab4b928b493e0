"""The nested objects Makini declares inside records (oas3_eam.json / oas3_erp.json components:
``Address``, ``Contact``, ``Task``, ``Work``...), field by field, and the rule that fills them.

A record's top-level fields are all present (`include.model.record_defaults`); the same holds one
level down: an object value of a field below (``billingAddress``, each item of ``tasks``...)
carries every sub-field Makini declares for it, ``null`` when the source has no value (``[]``
for a sub-field Makini declares as an array), in Makini's order, followed by whatever else the
source gave. An absent object stays ``null`` (an absent list ``[]``): nothing is invented.

The mapping fills them as it writes each record (include/mapping/codegen.py), so stored records
are served as they are. ``lineItems`` are not here: they are records of their own entity
(``POLineItem``), complete by `record_defaults`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

# each shape: (sub-field, empty value) in Makini's order
ADDRESS = (
    "country", "addressLines", "addressee", "state", "city", "postCode", "phone", "email",
    "notes", "isActive", "createdAt", "updatedAt",
)  # fmt: skip
CONTACT = ("name", "position", "phones", "emails", "isActive", "isDefault")
DOCUMENT = (
    "key", "entityKeys[]", "name", "url", "type", "contentType", "description", "notes",
    "createdAt", "updatedAt",
)  # fmt: skip
SUPPLY_OPTION = (
    "vendorKey", "partNumber[]", "price[]", "uomKey[]", "currencyKey", "uomQuantity",
    "makePartNumber", "reorderPoint", "createdAt", "updatedAt",
)  # fmt: skip
PRICE_LEVEL = (
    "name", "price", "uomKey", "uomQuantity", "currencyKey", "taxKey", "minQuantity",
    "maxQuantity", "updatedAt", "deletedAt",
)  # fmt: skip
INVENTORY = ("key", "code", "name", "quantity", "unitCost", "locationKey", "updatedAt", "createdAt")
DRAWING = ("drawingNo", "drawingPos", "referenceNo", "referencePos", "documents[]")
WORK_TRIGGER = ("uomKey", "type", "interval", "recurring", "condition")
TASK = ("key", "parentKey", "code", "title", "description", "priority", "checkList[]")
WORK = (
    "laborKey", "vendorKey", "assetKey", "teamKey", "poKey", "poLineItemKey", "accountKey",
    "name", "description", "estimatedTime", "registeredTime", "rate", "cost", "startedAt",
    "finishedAt", "createdAt", "updatedAt", "deletedAt",
)  # fmt: skip


class Shape(NamedTuple):
    """A nested object Makini declares: its sub-fields with their empty values, in order, and
    the sub-fields that are themselves such objects (or lists of them)."""

    name: str
    empty: dict[str, Any]
    nested: dict[str, Shape]


def _shape(name: str, fields: tuple[str, ...], nested: dict[str, Shape] | None = None) -> Shape:
    empty: dict[str, Any] = {}
    for f in fields:  # "name[]": Makini declares an array
        empty[f.removesuffix("[]")] = [] if f.endswith("[]") else None
    return Shape(name, empty, nested or {})


_DOC = _shape("Document", DOCUMENT)
SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        _shape("Address", ADDRESS),
        _shape("Contact", CONTACT),
        _DOC,
        _shape("SupplyOption", SUPPLY_OPTION),
        _shape("PriceLevel", PRICE_LEVEL),
        _shape("Inventory", INVENTORY),
        _shape("Drawing", DRAWING, {"documents": _DOC}),
        _shape("WorkTrigger", WORK_TRIGGER),
        _shape("Task", TASK),
        _shape("Work", WORK),
    )
}

# entity -> field -> the shape of its object (or of each item of its list), as Makini's record
# schema of the entity's route declares it (tests/api/test_nested_fields.py compares)
_FIELDS: dict[str, dict[str, str]] = {
    "organizations": {"addresses": "Address", "billingAddress": "Address", "contacts": "Contact"},
    "sites": {"contact": "Contact", "address": "Address", "billingAddress": "Address"},
    "locations": {"address": "Address"},
    "companies": {"addresses": "Address", "billingAddress": "Address"},
    "purchase-orders": {
        "shipmentAddress": "Address", "billingAddress": "Address", "deliveryAddress": "Address",
    },
    "materials": {
        "documents": "Document", "supplyOptions": "SupplyOption", "priceLevels": "PriceLevel",
        "inventory": "Inventory", "drawings": "Drawing",
    },
    "assets": {"documents": "Document"},
    "asset-templates": {"documents": "Document"},
    "pm": {"triggers": "WorkTrigger", "tasks": "Task", "resources": "Work"},
    "work-orders": {"tasks": "Task", "documents": "Document", "resources": "Work"},
    "service-requests": {"documents": "Document"},
}  # fmt: skip
NESTED_FIELDS: dict[str, dict[str, Shape]] = {
    entity: {field: SHAPES[shape] for field, shape in fields.items()}
    for entity, fields in _FIELDS.items()
}


def nested_fields(entity: str | None) -> dict[str, Shape]:
    """Field -> `Shape` of the nested objects of ``entity``'s records (empty for most)."""
    return NESTED_FIELDS.get(entity or "", {})


def filled(value: Any, shape: Shape) -> Any:
    """``value`` with every sub-field of ``shape``: an object gets the ones it lacks (empty),
    declared ones first in Makini's order, then its own others; a list, each of its objects;
    anything else (``None``, a string...) is returned as it is."""
    if value.__class__ is dict:
        out = {**shape.empty, **value}
        for name, sub in shape.nested.items():
            out[name] = filled(out[name], sub)
        return out
    if value.__class__ is list:
        return [filled(item, shape) for item in value]
    return value


def fill_record(entity: str, data: dict) -> dict | None:
    """``data`` (a stored record of ``entity``) with its nested objects filled, or None when
    they lack nothing (for stores written before the nested rule: ``fill-fields``)."""
    shapes = nested_fields(entity)
    if not any(missing_sub_fields(data.get(name), shape) for name, shape in shapes.items()):
        return None
    out = dict(data)
    for name, shape in shapes.items():
        if name in out:
            out[name] = filled(out[name], shape)
    return out


def missing_sub_fields(value: Any, shape: Shape, path: str = "") -> list[str]:
    """Paths of the declared sub-fields a value lacks (``"tasks[0].checkList"``...): empty when
    ``value`` is complete by `filled`'s rule."""
    out: list[str] = []
    if isinstance(value, dict):
        for name in shape.empty:
            if name not in value:
                out.append(f"{path}.{name}")
        for name, sub in shape.nested.items():
            out += missing_sub_fields(value.get(name), sub, f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += missing_sub_fields(item, shape, f"{path}[{i}]")
    return out
