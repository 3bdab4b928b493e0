"""The domain model: the unified entities (`entities`), record keys (`keys`) and times
(`timeutil`). Imports nothing else of the project: every other layer may import it.

``from include.model import WorkOrder`` and the like keep working: the entities are re-exported
here."""

from include.model.entities import (
    CHILD_ENTITIES,
    EAM_ENTITIES,
    ENTITIES,
    ERP_ENTITIES,
    MATERIAL_ITEM_ENTITIES,
    STATUS_CATEGORIES,
    UTC_PATTERN,
    Asset,
    Key,
    Location,
    Material,
    Meter,
    MeterReading,
    POLineItem,
    PreventiveMaintenance,
    Product,
    ProductionOrder,
    PurchaseOrder,
    Site,
    Status,
    Stock,
    Team,
    UnifiedRecord,
    User,
    UtcTimestamp,
    Vendor,
    WorkOrder,
    checked_fields,
    list_adapter,
    model_for,
    page_checker,
    record_defaults,
)

__all__ = [
    "CHILD_ENTITIES", "EAM_ENTITIES", "ENTITIES", "ERP_ENTITIES", "MATERIAL_ITEM_ENTITIES",
    "STATUS_CATEGORIES", "UTC_PATTERN", "Asset", "Key",
    "Location", "Material", "Meter", "MeterReading", "POLineItem", "PreventiveMaintenance",
    "Product", "ProductionOrder", "PurchaseOrder", "Site", "Status", "Stock", "Team",
    "UnifiedRecord", "User", "UtcTimestamp", "Vendor", "WorkOrder", "checked_fields",
    "list_adapter", "model_for", "page_checker", "record_defaults",
]  # fmt: skip
