"""SAP S/4HANA OData v2 -> unified model, as data (`include.mapping.EntityMapping`).

Edm.DateTimeOffset values (``/Date(ms+0000)/``) are UTC and map with ``{"ts": ...}``. Edm.DateTime values
(``/Date(ms)/``) carry SAP's wall-clock time *as if* it were UTC; they are read in the connection's
``source_timezone`` with `local_ts`. References use exactly the parts of the target's key: assets are keyed
by ``Equipment`` (one asset per equipment, from its current time segment), vendors by ``Supplier``,
materials/products by ``Product``, plants (``siteKey``) by the plant code. Fields starting with ``_`` are
derived by the client (`connectors.sap_s4hana.client`), e.g. ``_lastChange`` for business partners.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connectors.base import ChangedWhen, EntitySpec
from include.mapping import EntityMapping, MappingError
from include.model.keys import make_key
from include.model.timeutil import format_utc


def sap_wallclock(value: Any) -> datetime | None:
    """Naive wall-clock datetime of an Edm.DateTime value (``/Date(ms)/`` or naive ISO text)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.startswith("/Date(") and value.endswith(")/"):
        body = value[6:-2]
        if len(body) > 5 and body[-5] in "+-":
            body = body[:-5]
        return datetime.fromtimestamp(int(body) / 1000, UTC).replace(tzinfo=None)
    return datetime.fromisoformat(str(value)).replace(tzinfo=None)


def local_ts(path: str) -> dict[str, Callable]:
    """Spec: an Edm.DateTime in the connection's time zone -> UTC ISO string."""

    def conv(record: dict, tz: ZoneInfo) -> str | None:
        value = record.get(path)
        try:
            wall = sap_wallclock(value)
        except (TypeError, ValueError):
            raise MappingError(f"{path}: not an Edm.DateTime: {value!r}") from None
        return None if wall is None else format_utc(wall.replace(tzinfo=tz))

    return {"fn": conv}


def _first_word(path: str) -> dict[str, Callable]:
    def conv(record: dict, tz: ZoneInfo) -> str | None:
        text = (record.get(path) or "").split()
        return text[0] if text else None

    return {"fn": conv}


def _flag_deleted(flag: str, when: str) -> Callable[[dict, ZoneInfo], str | None]:
    """deletedAt: the change time when a deletion flag is set (True or a non-empty code)."""

    def conv(record: dict, tz: ZoneInfo) -> str | None:
        if not record.get(flag):
            return None
        value = record.get(when)
        wall = sap_wallclock(value)
        if wall is None:
            return None
        is_offset = isinstance(value, str) and value[-7:-2].startswith(("+", "-"))
        return format_utc(wall.replace(tzinfo=UTC if is_offset else tz))

    return conv


def _not(path: str) -> dict[str, Callable]:
    return {"fn": lambda r, tz: None if r.get(path) is None else not r.get(path)}


def _line_total(record: dict, tz: ZoneInfo) -> float | None:
    try:
        qty, price = float(record["OrderQuantity"]), float(record["NetPriceAmount"])
        per = float(record.get("NetPriceQuantity") or 1) or 1.0
    except (KeyError, TypeError, ValueError):
        return None
    return round(qty * price / per, 2)


WORK_ORDER = EntityMapping(
    key=("MaintenanceOrder",),
    version="LastChangeDateTime",
    created={"ts": "MaintOrderCreationDateTime"},
    fields={
        "code": "MaintenanceOrder",
        "title": "MaintenanceOrderDesc",
        "status": _first_word("SystemStatusText"),
        "statusKey": _first_word("SystemStatusText"),
        "severity": "MaintPriority",
        "categoryName": "MaintenanceOrderType",
        "assetKey": {"ref": ["Equipment"]},
        "locationKey": {"ref": ["FunctionalLocation"]},
        "siteKey": {"ref": ["MaintenancePlant"]},
        "organizationKey": {"ref": ["CompanyCode"]},
        "pmKey": {"ref": ["MaintenancePlan"]},
        "scheduledAt": {"ts": "MaintOrdSchedldBscStrtDateTime"},
        "dueAt": {"ts": "MaintOrdBasicEndDateTime"},
        "completedAt": {"ts": "MainWorkCompletedDateTime"},
    },
)

# A maintenance order's components (the spare parts its operations need): Makini's MaterialItem
# under /work-orders/{key}/materials. The set has no change time of its own.
WO_COMPONENT = EntityMapping(
    key=("MaintenanceOrder", "MaintenanceOrderOperation", "MaintOrderComponentInternalID"),
    fields={
        "workOrderKey": {"ref": ["MaintenanceOrder"]},
        "materialKey": {"ref": ["Product"]},
        "partNumber": "Product",
        "positionNumber": "MaintenanceOrderComponent",
        "name": "MaintOrdOperationComponentText",
        "uomKey": {"ref": ["BaseUnit"]},
        "requiredQuantity": {"float": "MaintOrdOpCompRequiredQuantity"},
        "quantity": {"float": "QuantityWithdrawnInBaseUnit"},
    },
)

ASSET = EntityMapping(
    key=("Equipment",),
    version="LastChangeDateTime",
    created=local_ts("CreationDate"),
    deleted={"fn": _flag_deleted("EquipmentIsMarkedForDeletion", "LastChangeDateTime")},
    fields={
        "name": "EquipmentName",
        "description": "TechnicalObjectType",
        "categoryName": "EquipmentCategory",
        "criticality": "ABCIndicator",
        "isActive": _not("EquipmentIsInactive"),
        "makeName": "AssetManufacturerName",
        "modelName": "ManufacturerPartTypeName",
        "serialNumber": {"first": ["ManufacturerSerialNumber", "SerialNumber"]},
        "parentKey": {"ref": ["SuperordinateEquipment"]},
        "locationKey": {"ref": ["FunctionalLocation"]},
        "siteKey": {"ref": ["MaintenancePlant"]},
        "organizationKey": {"ref": ["CompanyCode"]},
        "activatedAt": local_ts("OperationStartDate"),
        "deactivatedAt": local_ts("EquipmentEndOfUseDate"),
    },
)

LOCATION = EntityMapping(
    key=("FunctionalLocation",),
    version="LastChangeDateTime",
    created=local_ts("CreationDate"),
    deleted={"fn": _flag_deleted("FuncnlLocIsMarkedForDeletion", "LastChangeDateTime")},
    fields={
        "code": "FunctionalLocationLabelName",
        "name": "FunctionalLocationName",
        "type": "FunctionalLocationCategory",
        "isActive": {"bool": "FunctionalLocationIsActive"},
        "parentKey": {"ref": ["SuperiorFunctionalLocation"]},
        "siteKey": {"ref": ["MaintenancePlant"]},
        "organizationKey": {"ref": ["CompanyCode"]},
    },
)

PM = EntityMapping(
    key=("MaintenancePlan",),
    version="LastChangeDateTime",
    created=local_ts("CreationDate"),
    fields={
        "title": "MaintenancePlanDesc",
        "status": "MaintenancePlanSystemStatus",
        "statusKey": "MaintenancePlanSystemStatus",
        "categoryName": "MaintenancePlanCategory",
        "description": "MaintenanceStrategy",
    },
)

MATERIAL = EntityMapping(
    key=("Product",),
    version="LastChangeDateTime",
    created=local_ts("CreationDate"),
    deleted={"fn": _flag_deleted("IsMarkedForDeletion", "LastChangeDateTime")},
    fields={
        "code": "Product",
        "partNumber": "ProductManufacturerNumber",
        "isActive": _not("IsMarkedForDeletion"),
        "uomKey": {"ref": ["BaseUnit"]},
    },
)

PRODUCT = EntityMapping(
    key=("Product",),
    version="LastChangeDateTime",
    created=local_ts("CreationDate"),
    deleted={"fn": _flag_deleted("IsMarkedForDeletion", "LastChangeDateTime")},
    fields={
        "code": "Product",
        "type": "ProductType",
        "status": "CrossPlantStatus",
        "uomKey": {"ref": ["BaseUnit"]},
        "partNumber": "ProductManufacturerNumber",
    },
)

PO_LINE = EntityMapping(
    key=("PurchaseOrder", "PurchaseOrderItem"),
    fields={
        "purchaseOrderKey": {"ref": ["PurchaseOrder"]},
        "materialKey": {"ref": ["Material"]},
        "lineNo": "PurchaseOrderItem",
        "code": "Material",
        "type": "PurchaseOrderItemCategory",
        "name": "PurchaseOrderItemText",
        "quantity": {"float": "OrderQuantity"},
        "uomKey": {"ref": ["PurchaseOrderQuantityUnit"]},
        "currencyKey": {"ref": ["DocumentCurrency"]},
        "price": {"float": "NetPriceAmount"},
        "lineTotalValue": {"fn": _line_total},
    },
)

# PurchasingProcessingStatus -> the raw status served (its text)
PO_STATUS_TEXT = {"01": "In Process", "02": "Active", "03": "In Approval", "05": "Released",
                  "08": "Rejected"}  # fmt: skip

PURCHASE_ORDER = EntityMapping(
    key=("PurchaseOrder",),
    version="LastChangeDateTime",
    created=local_ts("CreationDate"),
    deleted={"fn": _flag_deleted("PurchasingDocumentDeletionCode", "LastChangeDateTime")},
    fields={
        "orderNo": "PurchaseOrder",
        "orderDate": local_ts("PurchaseOrderDate"),
        "vendorKey": {"ref": ["Supplier"]},
        "organizationKey": {"ref": ["CompanyCode"]},
        "status": {"map": "PurchasingProcessingStatus", "values": PO_STATUS_TEXT},
        "statusKey": "PurchasingProcessingStatus",
        "terms": "PaymentTerms",
        "currencyKey": {"ref": ["DocumentCurrency"]},
    },
    children={"purchase-orders.line-items": ("to_PurchaseOrderItem.results", PO_LINE)},
)


def _return_lines(record: dict, tz: ZoneInfo) -> list[dict]:
    """A return order's lines (Makini's POLineItem, nested): its returns items."""
    po = record.get("PurchaseOrder")
    out = []
    for item in (record.get("to_PurchaseOrderItem") or {}).get("results", []):
        line = {
            "key": make_key([po, item.get("PurchaseOrderItem")]),
            "lineNo": item.get("PurchaseOrderItem"),
            "code": item.get("Material") or None,
            "materialKey": make_key([item.get("Material")]),
            "name": item.get("PurchaseOrderItemText") or None,
            "type": "return",
            "quantity": float(item["OrderQuantity"]) if item.get("OrderQuantity") else None,
            "uomKey": make_key([item.get("PurchaseOrderQuantityUnit")]),
            "price": float(item["NetPriceAmount"]) if item.get("NetPriceAmount") else None,
            "currencyKey": make_key([item.get("DocumentCurrency")]),
            "storeroomKey": make_key([item.get("Plant"), item.get("StorageLocation")]),
            "lineTotalValue": _line_total(item, tz),
        }
        out.append({k: v for k, v in line.items() if v is not None})
    return out


def _return_total(record: dict, tz: ZoneInfo) -> float | None:
    totals = [x["lineTotalValue"] for x in _return_lines(record, tz) if "lineTotalValue" in x]
    return round(sum(totals), 2) if totals else None


# A purchase order with returns items (IsReturnsItem: goods sent back to the supplier) is a return
# order; its lines are those items (the client drops the others and the POs without any).
RETURN_ORDER = EntityMapping(
    key=("PurchaseOrder",),
    version="LastChangeDateTime",
    created=local_ts("CreationDate"),
    deleted={"fn": _flag_deleted("PurchasingDocumentDeletionCode", "LastChangeDateTime")},
    fields={
        "code": "PurchaseOrder",
        "orderNo": "PurchaseOrder",
        "orderDate": local_ts("PurchaseOrderDate"),
        "type": "PurchaseOrderType",
        "vendorKey": {"ref": ["Supplier"]},
        "organizationKey": {"ref": ["CompanyCode"]},
        "status": {"map": "PurchasingProcessingStatus", "values": PO_STATUS_TEXT},
        "statusKey": "PurchasingProcessingStatus",
        "terms": "PaymentTerms",
        "currencyKey": {"ref": ["DocumentCurrency"]},
        "lineItems": {"fn": _return_lines},
        "totalNetValue": {"fn": _return_total},
    },
)

BOM_ITEM_KEY = ("Material", "Plant", "_bomItem")


def bom_item(record: dict) -> str:
    """A BOM item's key below its header material and plant, never blank: BOM, alternative,
    version (``-`` without version management) and item node, e.g. ``00001234.1.-.00000002``."""
    parts = ("BillOfMaterial", "BillOfMaterialVariant", "BillOfMaterialVersion",
             "BillOfMaterialItemNodeNumber")  # fmt: skip
    return ".".join(str(record.get(p) or "-") for p in parts)


# A material BOM's items (API_BILL_OF_MATERIAL_SRV;v=0002): Makini's MaterialItem under
# /materials/{key}/children, the assembly being the BOM's header material.
# The structure of an equipment: the material BOM of its construction type (ConstructionMaterial),
# Makini's MaterialItem under /assets/{key}/materials (one per equipment and BOM item).
BOM_ITEM_FIELDS: dict[str, object] = {
    "assemblyKey": {"ref": ["Material"]},
    "materialKey": {"ref": ["BillOfMaterialComponent"]},
    "partNumber": "BillOfMaterialComponent",
    "positionNumber": "BillOfMaterialItemNumber",
    "name": {"first": ["ComponentDescription", "BOMItemDescription"]},
    "uomKey": {"ref": ["BillOfMaterialItemUnit"]},
    "quantity": {"float": "BillOfMaterialItemQuantity"},
    "requiredQuantity": {"float": "BillOfMaterialItemQuantity"},
}
ASSET_MATERIAL = EntityMapping(
    key=("Equipment", *BOM_ITEM_KEY),
    fields={"assetKey": {"ref": ["Equipment"]}, **BOM_ITEM_FIELDS},
)

BOM_CHILD = EntityMapping(key=BOM_ITEM_KEY, fields=dict(BOM_ITEM_FIELDS))


def v4_local(date_path: str, time_path: str | None = None) -> dict[str, Callable]:
    """Spec: an OData V4 Edm.Date (``2024-01-31``) and optional Edm.TimeOfDay (``16:04:23``),
    wall clock in the connection's time zone -> UTC ISO."""

    def conv(record: dict, tz: ZoneInfo) -> str | None:
        day, time = record.get(date_path), record.get(time_path) if time_path else None
        if not day:
            return None
        try:
            wall = datetime.fromisoformat(f"{day}T{time or '00:00:00'}")
        except ValueError:
            raise MappingError(
                f"{date_path}: not an Edm.Date/TimeOfDay: {day!r} {time!r}"
            ) from None
        return format_utc(wall.replace(tzinfo=tz))

    return {"fn": conv}


# Measuring points (OData V4 API_MEASURINGPOINT): Makini's meters (counters and gauges) on the
# equipment they measure.
METER = EntityMapping(
    key=("MeasuringPoint",),
    created=v4_local("CreationDate"),
    fields={
        "name": "MeasuringPointDescription",
        "assetKeys": {"fn": lambda r, tz: [r["Equipment"]] if r.get("Equipment") else []},
        "uomKey": {"ref": ["MeasurementRangeUnit"]},
        "uomName": "MeasurementRangeUnit",
    },
)

# Measurement documents (OData V4 API_MEASUREMENTDOCUMENT): one reading of a measuring point;
# the reading in the unit it was entered in, which is the point's unit (README: assumed).
METER_READING = EntityMapping(
    key=("MeasurementDocument",),
    created=v4_local("MsmtRdngDate", "MsmtRdngTime"),
    fields={
        "meterKey": {"ref": ["MeasuringPoint"]},
        "assetKey": {"ref": ["_equipment"]},
        "reading": {"float": "MeasurementReadingInEntryUoM"},
        "readAt": v4_local("MsmtRdngDate", "MsmtRdngTime"),
    },
)

TASK_LIST_MATERIAL_KEY = ("TaskListType", "TaskListGroup", "TaskListGroupCounter",
                          "TaskListSequence", "TaskListOperationInternalId",
                          "TaskListOpBOMItmInternalID", "TaskListOpBOMItmIntVersCounter")  # fmt: skip

# A maintenance plan's spare parts: the components (OData V4 MaintenanceTaskListOpMat) of the task
# list its maintenance item names, per plan (Makini's MaterialItem under /pm/{key}/materials).
PM_MATERIAL = EntityMapping(
    key=("MaintenancePlan", *TASK_LIST_MATERIAL_KEY),
    fields={
        "pmKey": {"ref": ["MaintenancePlan"]},
        "materialKey": {"ref": ["Material"]},
        "partNumber": "Material",
        "name": "MaterialName",
        "uomKey": {"ref": ["BillOfMaterialItemUnit"]},
        "requiredQuantity": {"float": "BillOfMaterialItemQuantity"},
        "quantity": {"float": "BillOfMaterialItemQuantity"},
    },
)


def valuation_segment(record: dict) -> str:
    """The valuation's key below the product, never blank: the valuation area (the plant), then
    ``.<valuation type>`` under split valuation."""
    vtype = record.get("ValuationType")
    return f"{record.get('ValuationArea') or '-'}" + (f".{vtype}" if vtype else "")


def _unit_cost(record: dict, tz: ZoneInfo) -> float | None:
    """The price of one base unit: the moving average (procedure V) or standard price (S), per
    the price unit."""
    price = record.get("MovingAveragePrice" if record.get("InventoryValuationProcedure") == "V"
                       else "StandardPrice")  # fmt: skip
    try:
        return round(float(price) / (float(record.get("PriceUnitQty") or 1) or 1.0), 4)
    except (TypeError, ValueError):
        return None


# A material's valuated inventory in a plant (A_ProductValuation, valuation area = plant): its
# unit cost, and the quantity the client adds from the plant's stock (A_MatlStkInAcctMod).
INVENTORY = EntityMapping(
    key=("Product", "_valuationSegment"),
    fields={
        "code": "Product",
        "unitCost": {"fn": _unit_cost},
        "quantity": {"float": "_plantStock"},
    },
)


def attachment_id(record: dict) -> str:
    """An attachment's key below its business object, never blank: the ArchiveLink document id,
    or the document info record ``type.number.version.part`` (DMS)."""
    if record.get("ArchiveDocumentID"):
        return str(record["ArchiveDocumentID"])
    parts = ("DocumentInfoRecordDocType", "DocumentInfoRecordDocNumber",
             "DocumentInfoRecordDocVersion", "DocumentInfoRecordDocPart")  # fmt: skip
    return ".".join(str(record.get(p) or "-") for p in parts)


# Attachments (API_CV_ATTACHMENT_SRV) of equipment: Makini's documents, entityKeys the asset.
DOCUMENT = EntityMapping(
    key=("BusinessObjectTypeName", "LinkedSAPObjectKey", "_attachmentId"),
    version="ChangedDateTime",
    created={"ts": "CreationDateTime"},
    fields={
        "name": "FileName",
        "contentType": "MimeType",
        "url": {"first": ["DocumentURL"]},
        "type": {"first": ["DocumentInfoRecordDocType"]},
        "entityKeys": {"fn": lambda r, tz: [k] if (k := make_key([r.get("_entity")])) else []},
    },
)

VENDOR = EntityMapping(
    key=("Supplier",),
    version="_lastChange",
    created={"fn": lambda r, tz: _combine(r, "CreationDate", "CreationTime", tz)},
    fields={
        "code": "Supplier",
        "name": {
            "first": ["BusinessPartnerFullName", "OrganizationBPName1", "BusinessPartnerName"]
        },
        "companyKey": {"ref": ["BusinessPartner"]},
    },
)

_BP_NAME = {"first": ["BusinessPartnerFullName", "OrganizationBPName1", "BusinessPartnerName"]}

# Every business partner is a company (Makini's Company); the supplier and customer roles are
# the vendors and customers, which reference it (companyKey).
COMPANY = EntityMapping(
    key=("BusinessPartner",),
    version="_lastChange",
    created={"fn": lambda r, tz: _combine(r, "CreationDate", "CreationTime", tz)},
    fields={"code": "BusinessPartner", "name": _BP_NAME},
)

# Maintenance workers: natural persons (category 1) in the business partner role BUP003 (Employee),
# which S/4HANA gives the persons who confirm work on maintenance orders.
LABOR = EntityMapping(
    key=("BusinessPartner",),
    version="_lastChange",
    created={"fn": lambda r, tz: _combine(r, "CreationDate", "CreationTime", tz)},
    fields={
        "code": "BusinessPartner",
        "name": {"first": ["PersonFullName", "BusinessPartnerFullName"]},
        "firstName": "FirstName",
        "middleName": {"first": ["MiddleName"]},
        "lastName": "LastName",
        "roleName": {"const": "Employee"},
        "isActive": _not("BusinessPartnerIsBlocked"),
    },
)

# Business users (OData V4 service BusinessUser, set BusinessUsers; README, "Released APIs without a
# reference EDMX"): the people who log on. Active while valid (SAP's Validity: today within
# ValidFromDate..ValidToDate) and not locked.
USER = EntityMapping(
    key=("UserID",),
    version="LastChangedDateTime",
    created={"ts": "CreationDateTime"},
    fields={
        "name": {"first": ["Description", "UserName", "UserID"]},
        "email": {"first": ["EMailAddress"]},
        "isActive": {"fn": lambda r, tz: bool(r.get("Validity")) and not r.get("LockStatus")},
    },
)

CUSTOMER = EntityMapping(
    key=("Customer",),
    version="_lastChange",
    created={"fn": lambda r, tz: _combine(r, "CreationDate", "CreationTime", tz)},
    fields={"code": "Customer", "name": _BP_NAME, "companyKey": {"ref": ["BusinessPartner"]}},
)


def local_dt(date_path: str, time_path: str) -> dict[str, Callable]:
    """Spec: an Edm.DateTime date plus an Edm.Time, in the connection's time zone -> UTC ISO."""
    return {"fn": lambda r, tz: _combine(r, date_path, time_path, tz)}


def _notif_object(kind: str) -> dict[str, Callable]:
    """The notification's technical object when it is of ``kind`` (EAMS_EQUI: an equipment)."""
    return {"fn": lambda r, tz: (r.get("TechnicalObject") or None)
            if r.get("TechObjIsEquipOrFuncnlLoc") == kind else None}  # fmt: skip


# NotifProcessingPhase -> the raw status served (its short text, SAP's domain QM_PHASE)
NOTIF_PHASE_TEXT = {"1": "Outstanding", "2": "Postponed", "3": "In Process", "4": "Completed"}

# A maintenance notification (API_MAINTNOTIFICATION) is Makini's service request: a reported
# problem or request that maintenance plans and turns into an order (workOrderKey).
SERVICE_REQUEST = EntityMapping(
    key=("MaintenanceNotification",),
    version="LastChangeDateTime",
    created=local_dt("CreationDate", "CreationTime"),
    fields={
        "title": "NotificationText",
        "status": {"map": "NotifProcessingPhase", "values": NOTIF_PHASE_TEXT},
        "statusKey": "NotifProcessingPhase",
        "severity": "MaintPriority",
        "categoryName": "NotificationType",
        "description": "MalfunctionEffectText",
        "assetKey": _notif_object("EAMS_EQUI"),
        "locationKey": {"ref": ["FunctionalLocation"]},
        "siteKey": {"ref": ["MaintenancePlant"]},
        "teamKey": {"ref": ["MainWorkCenterPlant", "MainWorkCenter"]},
        "workOrderKey": {"ref": ["MaintenanceOrder"]},
        "dueAt": local_dt("RequiredEndDate", "RequiredEndTime"),
    },
)

# A breakdown (MaintenanceObjectIsDown) reported by a notification: the malfunction's start and end
# on its equipment are Makini's asset downtime, keyed by the notification.
ASSET_DOWNTIME = EntityMapping(
    key=("MaintenanceNotification",),
    version="LastChangeDateTime",
    created=local_dt("CreationDate", "CreationTime"),
    fields={
        "assetKey": _notif_object("EAMS_EQUI"),
        "description": "NotificationText",
        "startedAt": local_dt("MalfunctionStartDate", "MalfunctionStartTime"),
        "endedAt": local_dt("MalfunctionEndDate", "MalfunctionEndTime"),
        "categoryName": "MalfunctionEffectText",
        "severity": "MaintPriority",
    },
)

# API_MATERIAL_STOCK_SRV: one row per material, plant and stock segment (storage location, stock
# type, special stock, batch, ...): all eleven key properties identify a row, most of them empty.
STOCK_KEY = ("Material", "Plant", "StorageLocation", "Batch", "Supplier", "Customer",
             "WBSElementInternalID", "SDDocument", "SDDocumentItem", "InventorySpecialStockType",
             "InventoryStockType")  # fmt: skip
_SEGMENT_PARTS = (("Batch", "B"), ("Supplier", "V"), ("Customer", "C"),
                  ("WBSElementInternalID", "W"), ("SDDocument", "S"), ("SDDocumentItem", "I"),
                  ("InventorySpecialStockType", "K"))  # fmt: skip


def stock_segment(record: dict) -> str:
    """The stock row's key below material and plant, never blank (a record key drops blank parts):
    storage location and stock type (``-`` when empty), then each non-empty special-stock part
    as ``.<letter>=<value>``, e.g. ``101A.01`` or ``101A.01.B=0000012.K=K.V=17100001``."""
    out = f"{record.get('StorageLocation') or '-'}.{record.get('InventoryStockType') or '-'}"
    for prop, letter in _SEGMENT_PARTS:
        if record.get(prop):
            out += f".{letter}={record[prop]}"
    return out


STOCK = EntityMapping(
    key=("Material", "Plant", "_stockSegment"),
    fields={
        "materialKey": {"ref": ["Material"]},
        "productKey": {"ref": ["Material"]},
        "siteKey": {"ref": ["Plant"]},
        "storeroomKey": {"ref": ["Plant", "StorageLocation"]},
        "uomKey": {"ref": ["MaterialBaseUnit"]},
        "quantity": {"float": "MatlWrhsStkQtyInMatlBaseUnit"},
    },
)

ORGANIZATION = EntityMapping(
    key=("CompanyCode",),
    fields={
        "code": "CompanyCode",
        "name": "CompanyCodeName",
        "currencyKey": {"ref": ["Currency"]},
        "description": {"fn": lambda r, tz: ", ".join(
            v for v in (r.get("CityName"), r.get("Country")) if v) or None},
    },
)  # fmt: skip

SITE = EntityMapping(
    key=("Plant",),
    fields={"code": "Plant", "name": "PlantName"},
)

STOREROOM = EntityMapping(
    key=("Plant", "StorageLocation"),
    fields={
        "code": "StorageLocation",
        "name": "StorageLocationName",
        "siteKey": {"ref": ["Plant"]},
    },
)

# Maintenance work centers (type A) are the crews maintenance plans work for: Makini's teams, keyed
# by plant and work center as orders and notifications name them (MainWorkCenterPlant,
# MainWorkCenter).
TEAM = EntityMapping(
    key=("Plant", "WorkCenter"),
    fields={
        "code": "WorkCenter",
        "name": "WorkCenterDesc",
    },
)

# G/L accounts of the chart of accounts; the name is the account's text in the connection's
# language (A_GLAccountText, attached by the client as ``_text``).
ACCOUNT = EntityMapping(
    key=("ChartOfAccounts", "GLAccount"),
    version="LastChangeDateTime",
    created=local_ts("CreationDate"),
    deleted={"fn": _flag_deleted("AccountIsMarkedForDeletion", "LastChangeDateTime")},
    fields={
        "code": "GLAccount",
        "name": "_text.GLAccountName",
        "description": "_text.GLAccountLongName",
    },
)


def _combine(record: dict, date_path: str, time_path: str, tz: ZoneInfo) -> str | None:
    wall = combine_date_time(record.get(date_path), record.get(time_path))
    return None if wall is None else format_utc(wall.replace(tzinfo=tz))


def combine_date_time(date_value: Any, time_value: Any) -> datetime | None:
    """Wall-clock datetime from an Edm.DateTime date and an Edm.Time (``PT10H20M30S``)."""
    day = sap_wallclock(date_value)
    if day is None:
        return None
    seconds = 0
    if time_value:
        text = str(time_value)
        if not text.startswith("PT"):
            raise ValueError(f"not an Edm.Time: {time_value!r}")
        num, total = "", 0
        for ch in text[2:]:
            if ch.isdigit() or ch == ".":
                num += ch
            else:
                total += int(float(num or 0) * {"H": 3600, "M": 60, "S": 1}[ch])
                num = ""
        seconds = total
    return day.replace(hour=0, minute=0, second=0) + timedelta(seconds=seconds)


# "Changed when" per entity (`connectors.base.ChangedWhen`, connectors/sap_s4hana/README.md).
# Every served field comes from the entity's own set, or from a set SAP saves with it: its own
# LastChangeDateTime says when it changed, and no related change time is needed.
CHANGED_WHEN: dict[str, ChangedWhen] = {
    "labors": ChangedWhen(
        note="the employee role (A_BusinessPartnerRole BUP003) has no change time: a role given "
        "to an unchanged person shows at the next read of that person or at a full read"
    ),
    "return-orders": ChangedWhen(
        note="as purchase orders: the returns items are saved with their PO and move its "
        "LastChangeDateTime"
    ),
    "purchase-orders": ChangedWhen(
        note="A_PurchaseOrderItem has no change time: SAP saves a PO with its items, so adding, "
        "changing or deleting an item moves the header's LastChangeDateTime; the items are read "
        "with their PO and carry its change time (updatedAt, version)"
    ),
    "work-orders": ChangedWhen(
        note="served fields are the order header's only (no operation or component values)"
    ),
    "users": ChangedWhen(
        note="isActive follows SAP's Validity flag, which turns false when ValidToDate passes "
        "without LastChangedDateTime moving: an expired user shows inactive at the next full read"
    ),
    "accounts": ChangedWhen(
        note="the name comes from A_GLAccountText, which has its own LastChangeDateTime: a "
        "renamed account shows when its account record changes or at the next full read"
    ),
}


def _partner(name: str, mapping: EntityMapping, **kw: Any) -> EntitySpec:
    """A role of API_BUSINESS_PARTNER's A_BusinessPartner (vendors, customers, companies, labors):
    no DateTimeOffset change time, the date and time fields together."""
    return _spec(
        name, mapping, "API_BUSINESS_PARTNER", "A_BusinessPartner",
        change_date=("LastChangeDate", "LastChangeTime"), created_date=("CreationDate", "CreationTime"),
        orderby=("LastChangeDate", "LastChangeTime", "BusinessPartner"), **kw,
    )  # fmt: skip


def _spec(
    name: str, mapping: EntityMapping, service: str, entity_set: str, **opts: Any
) -> EntitySpec:
    return EntitySpec(
        name=name, mapping=mapping, options={"service": service, "set": entity_set, **opts},
        changed_when=CHANGED_WHEN.get(name, ChangedWhen()),
    )  # fmt: skip


ENTITIES: dict[str, EntitySpec] = {
    "work-orders": _spec(
        "work-orders", WORK_ORDER, "API_MAINTENANCEORDER", "MaintenanceOrder",
        change="LastChangeDateTime", orderby=("LastChangeDateTime", "MaintenanceOrder"),
    ),
    "assets": _spec(
        "assets", ASSET, "API_EQUIPMENT", "Equipment",
        change="LastChangeDateTime", orderby=("LastChangeDateTime", "Equipment"),
        current_segment=True,
    ),
    "locations": _spec(
        "locations", LOCATION, "API_FUNCTIONALLOCATION", "FunctionalLocation",
        change="LastChangeDateTime", orderby=("LastChangeDateTime", "FunctionalLocation"),
    ),
    "pm": _spec(
        "pm", PM, "API_MAINTENANCEPLAN", "MaintenancePlan",
        change="LastChangeDateTime", orderby=("LastChangeDateTime", "MaintenancePlan"),
    ),
    "materials": _spec(
        "materials", MATERIAL, "API_PRODUCT_SRV", "A_Product",
        change="LastChangeDateTime", orderby=("LastChangeDateTime", "Product"),
    ),
    "products": _spec(
        "products", PRODUCT, "API_PRODUCT_SRV", "A_Product",
        change="LastChangeDateTime", orderby=("LastChangeDateTime", "Product"),
    ),
    "purchase-orders": _spec(
        "purchase-orders", PURCHASE_ORDER, "API_PURCHASEORDER_PROCESS_SRV", "A_PurchaseOrder",
        change="LastChangeDateTime", orderby=("LastChangeDateTime", "PurchaseOrder"),
        items=("A_PurchaseOrderItem", "to_PurchaseOrderItem"),
    ),
    "vendors": _partner(
        "vendors", VENDOR, where="Supplier ne ''",
    ),
    "work-orders.materials": EntitySpec(
        name="work-orders.materials", mapping=WO_COMPONENT, incremental=False,
        options={
            "service": "API_MAINTENANCEORDER", "set": "MaintOrderOpComponent",
            "orderby": ("MaintenanceOrder", "MaintenanceOrderOperation",
                        "MaintOrderComponentInternalID"),
            "where": "IsDeleted eq false",
        },
    ),
    "customers": _partner(
        "customers", CUSTOMER, where="Customer ne ''",
    ),
    "companies": _partner(
        "companies", COMPANY,
        where="BusinessPartnerCategory ne '1'",  # organizations and groups; persons are no company
    ),
    "labors": _partner(
        "labors", LABOR,
        where="BusinessPartnerCategory eq '1'", role=("A_BusinessPartnerRole", "BUP003"),
    ),
    "service-requests": _spec(
        "service-requests", SERVICE_REQUEST, "API_MAINTNOTIFICATION", "MaintenanceNotification",
        change="LastChangeDateTime", orderby=("LastChangeDateTime", "MaintenanceNotification"),
    ),
    "assets-downtime": _spec(
        "assets-downtime", ASSET_DOWNTIME, "API_MAINTNOTIFICATION", "MaintenanceNotification",
        change="LastChangeDateTime", orderby=("LastChangeDateTime", "MaintenanceNotification"),
        where="MaintenanceObjectIsDown eq true and MalfunctionStartDate ne null",
    ),
    "accounts": _spec(
        "accounts", ACCOUNT, "API_GLACCOUNTINCHARTOFACCOUNTS_SRV", "A_GLAccountInChartOfAccounts",
        change="LastChangeDateTime", orderby=("LastChangeDateTime", "ChartOfAccounts", "GLAccount"),
        texts=("A_GLAccountText", ("ChartOfAccounts", "GLAccount")),
    ),
    # no change time in these sets: every run reads them whole (they are small master data)
    "stocks": EntitySpec(
        name="stocks", mapping=STOCK, incremental=False,
        options={"service": "API_MATERIAL_STOCK_SRV", "set": "A_MatlStkInAcctMod",
                 "orderby": STOCK_KEY, "key_select": STOCK_KEY,
                 "derive": ("_stockSegment", stock_segment)},
    ),
    "organizations": EntitySpec(
        name="organizations", mapping=ORGANIZATION, incremental=False,
        options={"service": "API_COMPANYCODE_SRV", "set": "A_CompanyCode",
                 "orderby": ("CompanyCode",)},
    ),
    "sites": EntitySpec(
        name="sites", mapping=SITE, incremental=False,
        options={"service": "API_PLANT_SRV", "set": "A_Plant", "orderby": ("Plant",)},
    ),
    "storerooms": EntitySpec(
        name="storerooms", mapping=STOREROOM, incremental=False,
        options={"service": "API_STORAGELOCATION_SRV", "set": "A_StorageLocation",
                 "orderby": ("Plant", "StorageLocation")},
    ),
    "return-orders": _spec(
        "return-orders", RETURN_ORDER, "API_PURCHASEORDER_PROCESS_SRV", "A_PurchaseOrder",
        change="LastChangeDateTime", orderby=("LastChangeDateTime", "PurchaseOrder"),
        items=("A_PurchaseOrderItem", "to_PurchaseOrderItem"), returns_only=True,
    ),
    "materials.children": EntitySpec(
        name="materials.children", mapping=BOM_CHILD, incremental=False,
        options={"service": "API_BILL_OF_MATERIAL_SRV", "set": "MaterialBOMItem",
                 "orderby": ("Material", "Plant", "BillOfMaterial", "BillOfMaterialVariant",
                             "BillOfMaterialItemNodeNumber"),
                 "where": "BillOfMaterialCategory eq 'M'",
                 "key_select": ("BillOfMaterial", "BillOfMaterialCategory",
                                "BillOfMaterialVariant", "BillOfMaterialVersion",
                                "BillOfMaterialItemNodeNumber", "Material", "Plant"),
                 "derive": ("_bomItem", bom_item)},
    ),
    # OData V4 only; no change time (a measuring point has a change date only, a measurement
    # document none): full reads
    "meters": EntitySpec(
        name="meters", mapping=METER, incremental=False,
        options={"service": "API_MEASURINGPOINT", "set": "MeasuringPoint", "odata4": True,
                 "orderby": ("MeasuringPoint",)},
    ),
    "meter-readings": EntitySpec(
        name="meter-readings", mapping=METER_READING, incremental=False,
        options={"service": "API_MEASUREMENTDOCUMENT", "set": "MeasurementDocument",
                 "odata4": True, "orderby": ("MeasurementDocument",), "point_assets": True,
                 "where": "MsmtRdngIsReversed eq false"},
    ),
    "assets.materials": EntitySpec(
        name="assets.materials", mapping=ASSET_MATERIAL, incremental=False,
        options={"service": "API_BILL_OF_MATERIAL_SRV", "set": "MaterialBOMItem",
                 "construction_bom": True, "where": "BillOfMaterialCategory eq 'M'",
                 "orderby": ("Material", "Plant", "BillOfMaterial", "BillOfMaterialVariant",
                             "BillOfMaterialItemNodeNumber"),
                 "derive": ("_bomItem", bom_item)},
    ),
    "inventories": EntitySpec(
        name="inventories", mapping=INVENTORY, incremental=False,
        options={"service": "API_PRODUCT_SRV", "set": "A_ProductValuation",
                 "orderby": ("Product", "ValuationArea", "ValuationType"),
                 "key_select": ("Product", "ValuationArea", "ValuationType"),
                 "derive": ("_valuationSegment", valuation_segment), "plant_stock": True},
    ),
    "documents": EntitySpec(
        name="documents", mapping=DOCUMENT, incremental=False,
        options={"service": "API_CV_ATTACHMENT_SRV", "set": "AttachmentContentSet",
                 "attachments_of": "EQUI", "orderby": (),
                 "derive": ("_attachmentId", attachment_id)},
    ),
    "pm.materials": EntitySpec(
        name="pm.materials", mapping=PM_MATERIAL, incremental=False,
        options={"service": "API_MAINTENANCETASKLIST", "set": "MaintenanceTaskListOpMat",
                 "odata4": True, "plan_task_lists": True, "orderby": TASK_LIST_MATERIAL_KEY},
    ),
    "users": _spec(
        "users", USER, "BusinessUser", "BusinessUsers", odata4=True,
        change="LastChangedDateTime", orderby=("LastChangedDateTime", "UserID"),
    ),
    "teams": EntitySpec(
        name="teams", mapping=TEAM, incremental=False,
        options={"service": "API_WORK_CENTERS", "set": "A_WorkCenters",
                 "orderby": ("Plant", "WorkCenter"), "where": "WorkCenterTypeCode eq 'A'"},
    ),
}  # fmt: skip

# Unified status (docs/API.md, "Unified status"): the maintenance order's first system status
# and the purchase order's processing status (as mapped above) -> statusCategory; a connection's
# `status_categories` overrides them.
STATUS_CATEGORIES: dict[str, dict[str, str]] = {
    "work-orders": {
        "CRTD": "open", "REL": "open", "PCNF": "in_progress", "CNF": "completed",
        "TECO": "completed", "CLSD": "closed", "DLFL": "cancelled",
    },
    "service-requests": {
        "Outstanding": "open", "Postponed": "open", "In Process": "in_progress",
        "Completed": "closed",
    },
    "return-orders": {
        "In Process": "draft", "Active": "approved", "In Approval": "pending_approval",
        "Released": "approved", "Rejected": "cancelled",
    },
    "purchase-orders": {
        "In Process": "draft", "Active": "approved", "In Approval": "pending_approval",
        "Released": "approved", "Rejected": "cancelled",
    },
}  # fmt: skip


# Makini resources S/4HANA has no concept for (the coverage matrix, docs/API.md)
NO_CONCEPT: dict[str, str] = {
    "asset-templates": "S/4HANA equipment has no templates (reference locations exist for "
    "functional locations only)",
    "asset-templates.materials": "S/4HANA equipment has no templates",
}

# Makini resources S/4HANA has but Millwright does not map yet, and why (the coverage matrix)
NOT_YET: dict[str, str] = {
    "uom": "S/4HANA has units of measure (T006, CDS view I_UnitOfMeasure), but no released "
    "OData API lists them (I_UnitOfMeasure is released for local ABAP use only); not built",
}
