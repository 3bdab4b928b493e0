"""The unified model: pydantic v2 models with Makini's field names (oas3_eam.json).

Every stored record is one of these models serialised to JSON, plus the envelope fields that
every entity shares (`key`, `customFields`, `createdAt`, `updatedAt`, `deletedAt`). Timestamps are
ISO-8601 strings in UTC ending in `Z` (the mapping layer produces them; see include/model/timeutil.py),
so records are validated once and served verbatim without datetime round trips.

`ENTITIES` maps each Makini resource name (the path segment under /api/eam) to its model.
"""

from __future__ import annotations

from typing import Annotated, Any, NotRequired

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter
from typing_extensions import TypedDict

UTC_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"
UtcTimestamp = Annotated[str, StringConstraints(pattern=UTC_PATTERN)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class UnifiedRecord(BaseModel):
    """Fields every unified record carries."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    key: Key
    customFields: dict[str, Any] = Field(default_factory=dict)
    createdAt: UtcTimestamp | None = None
    updatedAt: UtcTimestamp | None = None
    deletedAt: UtcTimestamp | None = None


class Site(UnifiedRecord):
    organizationKey: str | None = None
    name: str | None = None
    code: str | None = None
    description: str | None = None
    contact: dict[str, Any] | None = None
    customerKey: str | None = None
    lat: str | None = None
    lng: str | None = None
    address: dict[str, Any] | None = None
    notes: str | None = None


class Location(UnifiedRecord):
    siteKey: str | None = None
    parentKey: str | None = None
    teamKey: str | None = None
    organizationKey: str | None = None
    name: str | None = None
    description: str | None = None
    code: str | None = None
    type: str | None = None
    address: dict[str, Any] | None = None
    isActive: bool | None = None
    isDefault: bool | None = None


class Asset(UnifiedRecord):
    siteKey: str | None = None
    parentKey: str | None = None
    vendorKey: str | None = None
    teamKey: str | None = None
    locationKey: str | None = None
    organizationKey: str | None = None
    name: str | None = None
    description: str | None = None
    notes: str | None = None
    categoryName: str | None = None
    criticality: str | None = None
    isActive: bool | None = None
    status: str | None = None
    makeName: str | None = None
    modelName: str | None = None
    serialNumber: str | None = None
    activatedAt: UtcTimestamp | None = None
    deactivatedAt: UtcTimestamp | None = None


class WorkOrder(UnifiedRecord):
    parentKey: str | None = None
    locationKey: str | None = None
    siteKey: str | None = None
    assetKey: str | None = None
    organizationKey: str | None = None
    title: str | None = None
    code: str | None = None
    pmKey: str | None = None
    teamKey: str | None = None
    laborAssignedKey: str | None = None
    instructions: str | None = None
    status: str | None = None
    statusKey: str | None = None
    severity: str | None = None
    estimatedTime: str | None = None
    categoryName: str | None = None
    notes: str | None = None
    approvedAt: UtcTimestamp | None = None
    dueAt: UtcTimestamp | None = None
    scheduledAt: UtcTimestamp | None = None
    completedAt: UtcTimestamp | None = None
    actualTime: str | None = None


class PreventiveMaintenance(UnifiedRecord):
    assetKeys: list[str] = Field(default_factory=list)
    teamKey: str | None = None
    siteKey: str | None = None
    title: str | None = None
    description: str | None = None
    status: str | None = None
    statusKey: str | None = None
    severity: str | None = None
    estimatedTime: str | None = None
    categoryName: str | None = None
    notes: str | None = None
    dueAt: UtcTimestamp | None = None
    triggers: list[dict[str, Any]] = Field(default_factory=list)


class Material(UnifiedRecord):
    organizationKey: str | None = None
    code: str | None = None
    partNumber: str | None = None
    name: str | None = None
    description: str | None = None
    notes: str | None = None
    criticality: str | None = None
    isActive: bool | None = None
    isAssembly: bool | None = None
    manufacturerName: str | None = None
    uomKey: str | None = None


class Stock(UnifiedRecord):
    materialKey: str | None = None
    locationKey: str | None = None
    storeroomKey: str | None = None
    siteKey: str | None = None
    position: str | None = None
    uomKey: str | None = None
    quantity: float | None = None
    minLevel: float | None = None
    maxLevel: float | None = None
    reorderQuantity: float | None = None


class POLineItem(UnifiedRecord):
    purchaseOrderKey: str | None = None
    locationKey: str | None = None
    vendorKey: str | None = None
    assetKey: str | None = None
    materialKey: str | None = None
    statusKey: str | None = None
    lineNo: str | None = None
    code: str | None = None
    type: str | None = None
    name: str | None = None
    description: str | None = None
    quantity: float | None = None
    receivedQuantity: float | None = None
    uomKey: str | None = None
    currencyKey: str | None = None
    price: float | None = None
    lineTotalValue: float | None = None
    notes: str | None = None
    deliveryAt: UtcTimestamp | None = None
    dueAt: UtcTimestamp | None = None


class PurchaseOrder(UnifiedRecord):
    siteKey: str | None = None
    organizationKey: str | None = None
    orderDate: UtcTimestamp | None = None
    vendorKey: str | None = None
    userRequestedKey: str | None = None
    userApprovedKey: str | None = None
    orderNo: str | None = None
    status: str | None = None
    statusKey: str | None = None
    title: str | None = None
    description: str | None = None
    dueAt: UtcTimestamp | None = None
    approvedAt: UtcTimestamp | None = None
    completedAt: UtcTimestamp | None = None
    terms: str | None = None
    notes: str | None = None
    currencyKey: str | None = None
    locationKey: str | None = None
    totalNetValue: float | None = None
    totalGrossValue: float | None = None
    lineItems: list[POLineItem] = Field(default_factory=list)


class Vendor(UnifiedRecord):
    name: str | None = None
    code: str | None = None
    companyKey: str | None = None
    organizationKey: str | None = None


class User(UnifiedRecord):
    organizationKey: str | None = None
    siteKeys: list[str] = Field(default_factory=list)
    locationKeys: list[str] = Field(default_factory=list)
    name: str | None = None
    email: str | None = None
    roleName: str | None = None
    description: str | None = None
    isActive: bool | None = None


class Team(UnifiedRecord):
    code: str | None = None
    name: str | None = None
    description: str | None = None
    organizationKey: str | None = None
    userKeys: list[str] = Field(default_factory=list)


class Meter(UnifiedRecord):
    siteKey: str | None = None
    assetKeys: list[str] = Field(default_factory=list)
    name: str | None = None
    uomName: str | None = None
    uomKey: str | None = None
    lastReading: float | None = None
    lastReadingAt: UtcTimestamp | None = None


class MeterReading(UnifiedRecord):
    assetKey: str | None = None
    meterKey: str | None = None
    reading: float | None = None
    readAt: UtcTimestamp | None = None


class Product(UnifiedRecord):
    """ERP product (`/api/erp/products`)."""

    organizationKey: str | None = None
    uomKey: str | None = None
    code: str | None = None
    name: str | None = None
    description: str | None = None
    type: str | None = None
    status: str | None = None
    price: float | None = None
    currencyKey: str | None = None
    quantity: float | None = None
    sku: str | None = None
    partNumber: str | None = None


class ProductionOrder(UnifiedRecord):
    """ERP production order (`/api/erp/production-orders`)."""

    siteKey: str | None = None
    status: str | None = None
    statusKey: str | None = None
    locationKey: str | None = None
    assetKey: str | None = None  # the work center it runs on
    productKey: str | None = None
    orderNo: str | None = None
    orderDate: UtcTimestamp | None = None
    quantity: float | None = None
    plannedStartAt: UtcTimestamp | None = None
    plannedEndAt: UtcTimestamp | None = None
    note: str | None = None


class Status(BaseModel):
    """A status lookup row (`/api/eam/statuses/<resource>`)."""

    key: str
    parentKey: str | None = None
    name: str | None = None
    code: str | None = None
    subCode: str | None = None
    scope: str | None = None
    isActive: bool | None = True


ENTITIES: dict[str, type[UnifiedRecord]] = {
    "sites": Site,
    "locations": Location,
    "assets": Asset,
    "work-orders": WorkOrder,
    "pm": PreventiveMaintenance,
    "materials": Material,
    "stocks": Stock,
    "purchase-orders": PurchaseOrder,
    "purchase-orders.line-items": POLineItem,
    "vendors": Vendor,
    "users": User,
    "teams": Team,
    "meters": Meter,
    "meter-readings": MeterReading,
    "products": Product,
    "production-orders": ProductionOrder,
}

# Makini namespaces: which entities each one serves (ERP shares several with EAM).
EAM_ENTITIES = tuple(e for e in ENTITIES if e not in ("products", "production-orders"))
ERP_ENTITIES = (
    "sites",
    "locations",
    "vendors",
    "materials",
    "stocks",
    "purchase-orders",
    "purchase-orders.line-items",
    "users",
    "products",
    "production-orders",
)

# Child entities are produced by their parent's mapping (a PO's lines), never extracted alone.
CHILD_ENTITIES: dict[str, tuple[str, str, str]] = {
    # child entity: (parent entity, parent field holding the children, child field naming the parent)
    "purchase-orders.line-items": ("purchase-orders", "lineItems", "purchaseOrderKey"),
}

_ADAPTERS: dict[str, TypeAdapter] = {}


def list_adapter(entity: str) -> TypeAdapter:
    """A cached `TypeAdapter(list[Model])` for validating a whole page at once."""
    adapter = _ADAPTERS.get(entity)
    if adapter is None:
        adapter = _ADAPTERS[entity] = TypeAdapter(list[ENTITIES[entity]])
    return adapter


_CHECKERS: dict[tuple[str, frozenset[str] | None], TypeAdapter] = {}

# value kinds a compiled mapping can guarantee (`CompiledMapping.value_types`) -> the model field
# annotation that accepts every value of that kind
_KIND_ANNOTATIONS: dict[str, Any] = {
    "str": str | None,
    "utc": UtcTimestamp | None,
    "float": float | None,
    "int": int | None,
    "bool": bool | None,
    "dict": dict[str, Any],
}


def checked_fields(entity: str, mapping: Any) -> frozenset[str] | None:
    """The fields of ``entity`` that records made by ``mapping`` (a `CompiledMapping`) need
    checked; None when all of them, and unknown fields too, must be.

    Only when every name the records can hold (the mapping's `emitted` names and the entity's
    child lists, see `CHILD_ENTITIES`) is a model field: then no record carries an unknown field,
    fields it never holds need no check unless required, and a field the mapping only ever fills
    with values of one kind (a reference or ``str`` coercion: a str; a time: a UTC timestamp; ...,
    its `value_types`) needs none when the model's field accepts every such value (``str | None``,
    ``UtcTimestamp | None``, ...) and is optional and unconstrained.
    """
    fields = ENTITIES[entity].model_fields
    names = set(mapping.emitted)
    names.update(f for parent, f, _ in CHILD_ENTITIES.values() if parent == entity)
    if not names <= fields.keys():
        return None
    checked = set()
    for name, f in fields.items():
        if f.is_required():
            checked.add(name)
        elif name in names:
            kind = mapping.value_types.get(name)
            if (
                f.metadata
                or kind not in _KIND_ANNOTATIONS
                or f.annotation != _KIND_ANNOTATIONS[kind]
            ):
                checked.add(name)
    return frozenset(checked)


def page_checker(entity: str, mapping: Any = None) -> TypeAdapter:
    """A cached validator for a page of records that checks exactly what the model checks but
    builds no model instances: ``list[TypedDict]`` with the model's field types (nested models
    stay models), every field optional-to-omit (the model's defaults), unknown fields forbidden.

    The pipeline validates each page with it (~3x cheaper than `list_adapter`) and only on a
    failure re-checks records one by one with `list_adapter`, whose errors it reports.

    Given the `CompiledMapping` that made the records, only `checked_fields` are checked and
    unknown fields, which it cannot produce, are not looked for: the checker accepts and rejects
    the same records as without it, at about half the cost.
    """
    checked = checked_fields(entity, mapping) if mapping is not None else None
    checker = _CHECKERS.get((entity, checked))
    if checker is None:
        model = ENTITIES[entity]
        fields = {}
        for name, f in model.model_fields.items():
            if checked is not None and name not in checked:
                continue
            ann: Any = f.annotation
            if f.metadata:  # constraints pydantic lifted out of a top-level Annotated
                ann = Annotated[(ann, *f.metadata)]  # type: ignore[valid-type]
            fields[name] = ann if f.is_required() else NotRequired[ann]  # type: ignore[valid-type]
        shape = TypedDict(f"{model.__name__}Check", fields)  # type: ignore[operator]
        extra = "forbid" if checked is None else "ignore"
        shape.__pydantic_config__ = ConfigDict(extra=extra)  # type: ignore[attr-defined]
        checker = _CHECKERS[(entity, checked)] = TypeAdapter(list[shape])  # type: ignore[valid-type]
    return checker


def model_for(entity: str) -> type[UnifiedRecord]:
    try:
        return ENTITIES[entity]
    except KeyError:
        known = ", ".join(sorted(ENTITIES))
        raise KeyError(f"unknown entity {entity!r}; known entities: {known}") from None
