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
    """Fields every unified record carries. Every field of a model is in every served record
    (`record_defaults`), so the OpenAPI document marks them all required (nullable where they
    may be null)."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, json_schema_serialization_defaults_required=True
    )

    key: Key
    customFields: dict[str, Any] = Field(default_factory=dict)
    createdAt: UtcTimestamp | None = None
    updatedAt: UtcTimestamp | None = None
    deletedAt: UtcTimestamp | None = None


class Organization(UnifiedRecord):
    """Makini's `Organization` (`/api/eam/organizations`)."""

    currencyKey: str | None = None
    name: str | None = None
    code: str | None = None
    description: str | None = None
    addresses: list[dict[str, Any]] = Field(default_factory=list)
    billingAddress: dict[str, Any] | None = None
    contacts: list[dict[str, Any]] = Field(default_factory=list)


class Site(UnifiedRecord):
    """Makini's `Site` (`/api/eam/sites`)."""

    organizationKey: str | None = None
    name: str | None = None
    code: str | None = None
    description: str | None = None
    contact: dict[str, Any] | None = None
    customerKey: str | None = None
    lat: str | None = None
    lng: str | None = None
    address: dict[str, Any] | None = None
    billingAddress: dict[str, Any] | None = None
    properties: str | None = None
    notes: str | None = None


class Location(UnifiedRecord):
    """Makini's `Location` (`/api/eam/locations`)."""

    siteKey: str | None = None
    parentKey: str | None = None
    teamKey: str | None = None
    organizationKey: str | None = None
    name: str | None = None
    userManagerKey: str | None = None
    description: str | None = None
    code: str | None = None
    type: str | None = None
    address: dict[str, Any] | None = None
    isActive: bool | None = None
    contact: dict[str, Any] | None = None
    isDefault: bool | None = None


class Storeroom(UnifiedRecord):
    """Makini's `Storeroom` (`/api/eam/storerooms`)."""

    parentKey: str | None = None
    siteKey: str | None = None
    locationKey: str | None = None
    userManagerKey: str | None = None
    code: str | None = None
    name: str | None = None
    type: str | None = None
    description: str | None = None
    priority: str | None = None


class Account(UnifiedRecord):
    """Makini's `Account` (`/api/eam/accounts`)."""

    code: str | None = None
    name: str | None = None
    description: str | None = None
    activatedAt: UtcTimestamp | None = None
    expiresAt: UtcTimestamp | None = None


class Team(UnifiedRecord):
    """Makini's `Team` (`/api/eam/teams`)."""

    accountKey: str | None = None
    code: str | None = None
    name: str | None = None
    description: str | None = None
    organizationKey: str | None = None
    # beyond Makini's schema (docs/API.md, "Extras")
    userKeys: list[str] = Field(default_factory=list)


class Labor(UnifiedRecord):
    """Makini's `Labor` (`/api/eam/labors`)."""

    organizationKeys: list[str] = Field(default_factory=list)
    siteKeys: list[str] = Field(default_factory=list)
    locationKeys: list[str] = Field(default_factory=list)
    accountKey: str | None = None
    vendorKey: str | None = None
    userKey: str | None = None
    code: str | None = None
    teamKey: str | None = None
    name: str | None = None
    firstName: str | None = None
    middleName: str | None = None
    lastName: str | None = None
    roleName: str | None = None
    description: str | None = None
    notes: str | None = None
    isActive: bool | None = None
    costUomKey: str | None = None
    currencyKey: str | None = None


class User(UnifiedRecord):
    """Makini's `User` (`/api/eam/users`)."""

    organizationKey: str | None = None
    siteKeys: list[str] = Field(default_factory=list)
    locationKeys: list[str] = Field(default_factory=list)
    name: str | None = None
    roleName: str | None = None
    description: str | None = None
    notes: str | None = None
    isActive: bool | None = None
    # beyond Makini's schema (docs/API.md, "Extras")
    email: str | None = None


class UnitOfMeasure(UnifiedRecord):
    """Makini's `UnitOfMeasure` (`/api/eam/uom`)."""

    name: str | None = None
    code: str | None = None
    rateBaseKey: str | None = None
    rate: float | None = None
    isActive: bool | None = None


class Company(UnifiedRecord):
    """Makini's `Company` (`/api/eam/companies`)."""

    parentKey: str | None = None
    organizationKey: str | None = None
    name: str | None = None
    code: str | None = None
    addresses: list[dict[str, Any]] = Field(default_factory=list)
    billingAddress: dict[str, Any] | None = None
    currencyKey: str | None = None
    notes: str | None = None


class Vendor(UnifiedRecord):
    """Makini's `Vendor` (`/api/eam/vendors`)."""

    name: str | None = None
    code: str | None = None
    companyKey: str | None = None
    organizationKey: str | None = None


class Customer(UnifiedRecord):
    """Makini's `Customer` (`/api/eam/customers`)."""

    name: str | None = None
    code: str | None = None
    organizationKey: str | None = None
    addresses: list[dict[str, Any]] = Field(default_factory=list)
    billingAddress: dict[str, Any] | None = None
    companyKey: str | None = None


class Stock(UnifiedRecord):
    """Makini's `Stock` (`/api/eam/stocks`)."""

    productKey: str | None = None
    materialKey: str | None = None
    locationKey: str | None = None
    storeroomKey: str | None = None
    assetKey: str | None = None
    position: str | None = None
    uomKey: str | None = None
    quantity: float | None = None
    reorderPoint: float | None = None
    expiresAt: UtcTimestamp | None = None
    reorderQuantity: float | None = None
    minLevel: float | None = None
    maxLevel: float | None = None
    reorderLevel: float | None = None
    # beyond Makini's schema (docs/API.md, "Extras")
    siteKey: str | None = None


class POLineItem(UnifiedRecord):
    """A purchase order line (`purchase-orders.line-items`; Makini's `LineItem`, plus
    `accountKey` from its `POLineItem`, the line nested in a purchase order)."""

    accountKey: str | None = None
    locationKey: str | None = None
    assetKey: str | None = None
    statusKey: str | None = None
    materialKey: str | None = None
    storeroomKey: str | None = None
    vendorKey: str | None = None
    productKey: str | None = None
    price: float | None = None
    discount: float | None = None
    deliveryAt: UtcTimestamp | None = None
    lineNo: str | None = None
    code: str | None = None
    name: str | None = None
    description: str | None = None
    lineRef: str | None = None
    quantity: float | None = None
    receivedQuantity: float | None = None
    type: str | None = None
    uomKey: str | None = None
    cost: float | None = None
    currencyKey: str | None = None
    lineTotalValue: float | None = None
    lineTaxValue: float | None = None
    notes: str | None = None
    dueAt: UtcTimestamp | None = None
    # beyond Makini's schema (docs/API.md, "Extras")
    purchaseOrderKey: str | None = None


class PurchaseOrder(UnifiedRecord):
    """Makini's `PurchaseOrder` (`/api/eam/purchase-orders`)."""

    siteKey: str | None = None
    organizationKey: str | None = None
    orderDate: UtcTimestamp | None = None
    vendorKey: str | None = None
    userRequestedKey: str | None = None
    userApprovedKey: str | None = None
    orderNo: str | None = None
    statusKey: str | None = None
    title: str | None = None
    description: str | None = None
    dueAt: UtcTimestamp | None = None
    approvedAt: UtcTimestamp | None = None
    completedAt: UtcTimestamp | None = None
    shippingMethod: str | None = None
    shipmentDate: UtcTimestamp | None = None
    shipmentAddress: dict[str, Any] | None = None
    billingAddress: dict[str, Any] | None = None
    terms: str | None = None
    notes: str | None = None
    deliveryAddress: dict[str, Any] | None = None
    currencyKey: str | None = None
    locationKey: str | None = None
    totalNetValue: float | None = None
    totalGrossValue: float | None = None
    lineItems: list[POLineItem] = Field(default_factory=list)
    # beyond Makini's schema (docs/API.md, "Extras")
    status: str | None = None
    statusCategory: str | None = None


class Material(UnifiedRecord):
    """A material / part (`materials`; Makini's `Part`)."""

    siteKeys: list[str] = Field(default_factory=list)
    parentKeys: list[str] = Field(default_factory=list)
    assetKeys: list[str] = Field(default_factory=list)
    vendorKeys: list[str] = Field(default_factory=list)
    organizationKey: str | None = None
    documents: list[dict[str, Any]] = Field(default_factory=list)
    accountKey: str | None = None
    categoryName: str | None = None
    code: str | None = None
    isAssembly: bool | None = None
    partNumber: str | None = None
    name: str | None = None
    description: str | None = None
    notes: str | None = None
    criticality: str | None = None
    isActive: bool | None = None
    manufacturerName: str | None = None
    minimumQuantity: float | None = None
    uomKey: str | None = None
    cost: float | None = None
    currency: str | None = None
    supplyOptions: list[dict[str, Any]] = Field(default_factory=list)
    priceLevels: list[dict[str, Any]] = Field(default_factory=list)
    inventory: dict[str, Any] | None = None
    drawings: list[dict[str, Any]] = Field(default_factory=list)
    dimensions: dict[str, Any] | None = None


class Asset(UnifiedRecord):
    """Makini's `Asset` (`/api/eam/assets`)."""

    siteKey: str | None = None
    parentKey: str | None = None
    vendorKey: str | None = None
    teamKey: str | None = None
    documents: list[dict[str, Any]] = Field(default_factory=list)
    locationKey: str | None = None
    customerKey: str | None = None
    accountKeys: list[str] = Field(default_factory=list)
    name: str | None = None
    description: str | None = None
    makeCompanyKey: str | None = None
    assetTemplateKey: str | None = None
    isPhysical: bool | None = None
    notes: str | None = None
    categoryName: str | None = None
    criticality: str | None = None
    isActive: bool | None = None
    makeName: str | None = None
    modelName: str | None = None
    serialNumber: str | None = None
    activatedAt: UtcTimestamp | None = None
    deactivatedAt: UtcTimestamp | None = None
    # beyond Makini's schema (docs/API.md, "Extras")
    organizationKey: str | None = None
    status: str | None = None
    statusCategory: str | None = None


class AssetDowntime(UnifiedRecord):
    """Makini's `AssetDowntime` (`/api/eam/assets-downtime`)."""

    assetKey: str | None = None
    description: str | None = None
    startedAt: UtcTimestamp | None = None
    endedAt: UtcTimestamp | None = None
    categoryName: str | None = None
    severity: str | None = None
    notes: str | None = None


class AssetTemplate(UnifiedRecord):
    """An asset template (`asset-templates`; Makini's `Model`)."""

    siteKey: str | None = None
    documents: list[dict[str, Any]] = Field(default_factory=list)
    name: str | None = None
    manufacturerName: str | None = None


class Meter(UnifiedRecord):
    """A meter (`meters`; Makini's `Counter`)."""

    siteKey: str | None = None
    assetKeys: list[str] = Field(default_factory=list)
    uomName: str | None = None
    uomKey: str | None = None
    lastReading: float | None = None
    lastReadingAt: UtcTimestamp | None = None
    # beyond Makini's schema (docs/API.md, "Extras")
    name: str | None = None


class MeterReading(UnifiedRecord):
    """A meter reading (`meter-readings`; Makini's `CounterReading`)."""

    assetKey: str | None = None
    meterKey: str | None = None
    reading: float | None = None
    # beyond Makini's schema (docs/API.md, "Extras")
    readAt: UtcTimestamp | None = None


class PreventiveMaintenance(UnifiedRecord):
    """Makini's `PreventiveMaintenance` (`/api/eam/pm`)."""

    assetKeys: list[str] = Field(default_factory=list)
    teamKey: str | None = None
    siteKey: str | None = None
    accountKey: str | None = None
    title: str | None = None
    description: str | None = None
    status: str | None = None
    severity: str | None = None
    laborAssignedKey: str | None = None
    estimatedTime: str | None = None
    roleName: str | None = None
    categoryName: str | None = None
    documents: list[dict[str, Any]] = Field(default_factory=list)
    assetTemplateKeys: list[str] = Field(default_factory=list)
    statusKey: str | None = None
    notes: str | None = None
    dueAt: UtcTimestamp | None = None
    categoryCode: str | None = None
    requiresMaterials: bool | None = None
    triggers: list[dict[str, Any]] = Field(default_factory=list)
    tasks: list[dict[str, Any]] = Field(default_factory=list)
    resources: list[dict[str, Any]] = Field(default_factory=list)


class WorkOrder(UnifiedRecord):
    """Makini's `WorkOrder` (`/api/eam/work-orders`)."""

    parentKey: str | None = None
    locationKey: str | None = None
    siteKey: str | None = None
    assetKey: str | None = None
    accountKey: str | None = None
    title: str | None = None
    serviceRequestKey: str | None = None
    code: str | None = None
    pmKey: str | None = None
    teamKey: str | None = None
    laborAssignedKey: str | None = None
    userApprovedKey: str | None = None
    assetDowntimeKey: str | None = None
    organizationKey: str | None = None
    instructions: str | None = None
    status: str | None = None
    statusKey: str | None = None
    severity: str | None = None
    estimatedTime: str | None = None
    roleName: str | None = None
    categoryName: str | None = None
    storeroomKey: str | None = None
    notes: str | None = None
    approvedAt: UtcTimestamp | None = None
    dueAt: UtcTimestamp | None = None
    scheduledAt: UtcTimestamp | None = None
    actualTime: str | None = None
    completedAt: UtcTimestamp | None = None
    completionRemarks: str | None = None
    tasks: list[dict[str, Any]] = Field(default_factory=list)
    documents: list[dict[str, Any]] = Field(default_factory=list)
    resources: list[dict[str, Any]] = Field(default_factory=list)
    materialCount: int | None = None
    # beyond Makini's schema (docs/API.md, "Extras")
    statusCategory: str | None = None


class ServiceRequest(UnifiedRecord):
    """Makini's `ServiceRequest` (`/api/eam/service-requests`)."""

    siteKey: str | None = None
    locationKey: str | None = None
    storeroomKey: str | None = None
    assetKey: str | None = None
    workOrderKey: str | None = None
    teamKey: str | None = None
    userRequestedKey: str | None = None
    userApprovedKey: str | None = None
    laborAssignedKey: str | None = None
    documents: list[dict[str, Any]] = Field(default_factory=list)
    title: str | None = None
    description: str | None = None
    statusKey: str | None = None
    severity: str | None = None
    estimatedTime: str | None = None
    roleName: str | None = None
    categoryName: str | None = None
    notes: str | None = None
    approvedAt: UtcTimestamp | None = None
    dueAt: UtcTimestamp | None = None
    # beyond Makini's schema (docs/API.md, "Extras")
    status: str | None = None
    statusCategory: str | None = None


class Document(UnifiedRecord):
    """Makini's `Document` (`/api/eam/documents`)."""

    entityKeys: list[str] = Field(default_factory=list)
    name: str | None = None
    url: str | None = None
    type: str | None = None
    contentType: str | None = None
    description: str | None = None
    notes: str | None = None


class Inventory(UnifiedRecord):
    """Makini's `Inventory` (`/api/eam/inventories`)."""

    code: str | None = None
    name: str | None = None
    quantity: float | None = None
    unitCost: float | None = None
    locationKey: str | None = None


class ReturnOrder(UnifiedRecord):
    """Makini's `ReturnOrder` (`/api/eam/return-orders`)."""

    organizationKey: str | None = None
    siteKey: str | None = None
    vendorKey: str | None = None
    statusKey: str | None = None
    code: str | None = None
    poKey: str | None = None
    orderNo: str | None = None
    orderDate: UtcTimestamp | None = None
    type: str | None = None
    title: str | None = None
    description: str | None = None
    dueAt: UtcTimestamp | None = None
    approvedAt: UtcTimestamp | None = None
    completedAt: UtcTimestamp | None = None
    shippingMethod: str | None = None
    terms: str | None = None
    notes: str | None = None
    currencyKey: str | None = None
    totalNetValue: float | None = None
    totalTaxValue: float | None = None
    totalGrossValue: float | None = None
    lineItems: list[POLineItem] = Field(default_factory=list)
    # beyond Makini's schema (docs/API.md, "Extras")
    status: str | None = None
    statusCategory: str | None = None


class MaterialItem(UnifiedRecord):
    """A material used by a work order, PM, asset, asset template or assembly
    (Makini's `MaterialItem`, served under `.../{key}/materials` and `/materials/{key}/children`)."""

    materialKey: str | None = None
    assemblyKey: str | None = None
    assetKey: str | None = None
    assetTemplateKey: str | None = None
    workOrderKey: str | None = None
    pmKey: str | None = None
    productionOrderKey: str | None = None
    partNumber: str | None = None
    drawingNumber: str | None = None
    positionNumber: str | None = None
    documentKey: str | None = None
    name: str | None = None
    uomKey: str | None = None
    quantity: float | None = None
    requiredQuantity: float | None = None


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
    """A status lookup row (`/api/eam/statuses/<resource>`): Makini's `Status`, plus
    `statusCategory` (the unified category of that raw status, beyond Makini). Every field is
    in every row served."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    key: str
    organizationKey: str | None = None
    parentKey: str | None = None
    name: str | None = None
    code: str | None = None
    subCode: str | None = None
    scope: str | None = None
    isActive: bool | None = True
    createdAt: UtcTimestamp | None = None
    updatedAt: UtcTimestamp | None = None
    deletedAt: UtcTimestamp | None = None
    statusCategory: str | None = None


# Material items (Makini's `MaterialItem`), one entity per owner: each is served under its
# owner's `/{key}/materials` (`/materials/{key}/children` for an assembly's parts) and
# `work-orders.materials` also as `/work-orders/materials`.
MATERIAL_ITEM_ENTITIES: dict[str, tuple[str, str]] = {
    # entity: (owner resource, MaterialItem field naming the owner)
    "work-orders.materials": ("work-orders", "workOrderKey"),
    "pm.materials": ("pm", "pmKey"),
    "assets.materials": ("assets", "assetKey"),
    "asset-templates.materials": ("asset-templates", "assetTemplateKey"),
    "materials.children": ("materials", "assemblyKey"),
}

ENTITIES: dict[str, type[UnifiedRecord]] = {
    "organizations": Organization,
    "sites": Site,
    "locations": Location,
    "storerooms": Storeroom,
    "accounts": Account,
    "teams": Team,
    "labors": Labor,
    "users": User,
    "uom": UnitOfMeasure,
    "companies": Company,
    "vendors": Vendor,
    "customers": Customer,
    "stocks": Stock,
    "purchase-orders": PurchaseOrder,
    "purchase-orders.line-items": POLineItem,
    "materials": Material,
    "assets": Asset,
    "assets-downtime": AssetDowntime,
    "asset-templates": AssetTemplate,
    "meters": Meter,
    "meter-readings": MeterReading,
    "pm": PreventiveMaintenance,
    "work-orders": WorkOrder,
    "service-requests": ServiceRequest,
    "documents": Document,
    "inventories": Inventory,
    "return-orders": ReturnOrder,
    **dict.fromkeys(MATERIAL_ITEM_ENTITIES, MaterialItem),
    "products": Product,
    "production-orders": ProductionOrder,
}

# Makini namespaces: which entities each one serves as `/<entity>` and `/<entity>/{key}` (ERP
# shares several with EAM; material items are served under their owners, see above).
EAM_ENTITIES = tuple(
    e
    for e in ENTITIES
    if e not in ("products", "production-orders") and e not in MATERIAL_ITEM_ENTITIES
)
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

# Unified status (beyond Makini): the entities whose records carry the source's raw `status` and
# a `statusCategory` from a small set, mapped per system (each connector's STATUS_CATEGORIES)
# with a per-connection override (`status_categories` in the connection config).
STATUS_CATEGORIES: dict[str, tuple[str, ...]] = {
    "work-orders": ("open", "in_progress", "on_hold", "completed", "cancelled", "closed"),
    "purchase-orders": (
        "draft",
        "pending_approval",
        "approved",
        "on_hold",
        "received",
        "cancelled",
        "closed",
    ),
    "service-requests": ("open", "in_progress", "converted", "rejected", "cancelled", "closed"),
    "return-orders": ("draft", "pending_approval", "approved", "completed", "cancelled", "closed"),
    "assets": ("active", "inactive", "in_repair", "decommissioned"),
}

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
            if name in getattr(mapping, "defaulted", ()):
                continue  # always the model's own default
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


_DEFAULTS: dict[str, dict[str, Any]] = {}


def record_defaults(entity: str) -> dict[str, Any]:
    """Every field of ``entity``'s model but ``key`` with its empty value: ``[]`` for a list
    (``assetKeys``, ``documents``...), ``{}`` for ``customFields``, ``None`` for the rest. The
    mapping starts each record from these, so no record omits a field Makini declares
    (`include.mapping.CompiledMapping`). The dict is shared: copy it (and its lists) to use it."""
    out = _DEFAULTS.get(entity)
    if out is None:
        out = {}
        for name, f in model_for(entity).model_fields.items():
            if name == "key":
                continue
            default = f.get_default(call_default_factory=True)
            out[name] = default if isinstance(default, list | dict) else None
        _DEFAULTS[entity] = out
    return out
