"""Fiix's record classes and their fields, as Fiix's generated DTOs name them
(fiixlabs/fiix-cmms-client-java ``dto/*.java``): Fiix's API has no metadata request, so this
listing is the connector's description of the source (`FiixBase.describe`), and the sandbox serves
the same classes. A field's type follows Fiix's naming prefix (``str``, ``int``, ``dtm``...).
"""

from __future__ import annotations

CLASSES: dict[str, tuple[str, ...]] = {
    "Asset": (
        "id", "strName", "strCode", "strDescription", "strMake", "strModel", "strSerialNumber",
        "strAddress", "strCity", "strProvince", "strPostalCode", "strNotes", "strBinNumber",
        "strAisle", "strRow", "strBarcode", "qtyMinStockCount", "qtyStockCount", "dblLastPrice",
        "intSiteID", "intAssetLocationID", "intAssetParentID", "intCategoryID",
        "intSuperCategorySysCode", "intKind", "bolIsSite", "bolIsOnline", "bolIsRegion",
        "strCustomerIds", "strVendorIds", "intUpdated",
    ),
    "AssetCategory": ("id", "strName", "intParentID", "intSysCode", "intUpdated"),
    "Stock": (
        "id", "intAssetID", "intFacilityID", "qtyOnHand", "qtyMinQty", "qtyMaxQty", "strAisle",
        "strRow", "strBin", "bolDeactivated", "intUpdated",
    ),
    "Business": (
        "id", "strName", "strCode", "strAddress", "strCity", "strProvince", "strPostalCode",
        "strPhone", "strPrimaryEmail", "strPrimaryContact", "strNotes", "intUpdated",
    ),
    "User": (
        "id", "strFullName", "strUserName", "strUserTitle", "strEmailAddress", "strPersonnelCode",
        "strTelephone", "strNotes", "intUserStatusID", "bolGroup", "dblHourlyRate", "intUpdated",
    ),
    "WorkOrderStatus": ("id", "strName", "intControlID", "intSysCode", "intUpdated"),
    "PurchaseOrderStatus": ("id", "strName", "strDefaultLabel", "intSysCode", "intControlID"),
    "Priority": ("id", "strName", "intOrder", "intSysCode", "intUpdated"),
    "MaintenanceType": ("id", "strName", "intSysCode", "strColor", "intUpdated"),
    "MeterReadingUnit": ("id", "strName", "strSymbol", "intPrecision", "intUpdated"),
    "WorkOrder": (
        "id", "strCode", "strDescription", "strCompletionNotes", "strAdminNotes",
        "intWorkOrderStatusID", "intPriorityID", "intMaintenanceTypeID", "intSiteID",
        "intScheduledMaintenanceID", "intRequestedByUserID", "intCompletedByUserID",
        "strAssetIds", "strAssignedUserIds", "strNameUserGuest", "strEmailUserGuest",
        "strPhoneUserGuest", "dtmDateCreated", "dtmDateCompleted", "dtmDateLastModified",
        "dtmSuggestedCompletionDate", "intUpdated",
    ),
    "ScheduledMaintenance": (
        "id", "strCode", "strDescription", "intSiteID", "intPriorityID", "intMaintenanceTypeID",
        "intScheduledMaintenanceStatusID", "dtmCreateDate", "dtmUpdatedDate", "intUpdated",
    ),
    "ScheduledMaintenanceAsset": ("id", "intScheduledMaintenanceID", "intAssetID", "intUpdated"),
    "PurchaseOrder": (
        "id", "intCode", "intSupplierID", "intPurchaseOrderStatusID", "intSiteID", "dblSubtotal",
        "dblTotal", "dblTax1", "dblTax2", "dblFreight", "strPurchaseOrderReference",
        "dtmDateCreated", "dtmDateSubmitted", "dtmDateExpectedDelivery", "dtmDateRequiredBy",
        "dtmDateLastUpdated", "intUpdated",
    ),
    "PurchaseOrderLineItem": (
        "id", "intPurchaseOrderID", "intStockID", "intAssetID", "intSiteID", "intSupplierID",
        "strDescription", "qtyOnOrder", "qtyRecieved", "dblUnitPrice", "dblTaxRate",
        "dtmDateCreated", "dtmRequiredByDate", "intUpdated",
    ),
    "MeterReading": (
        "id", "intAssetID", "intWorkOrderID", "intSubmittedByUserID", "intMeterReadingUnitsID",
        "dblMeterReading", "dtmDateSubmitted", "intUpdated",
    ),
    "Account": ("id", "strCode", "strDescription"),
    "ReasonToSetAssetOffline": ("id", "strName"),
    "AssetOfflineTracker": (
        "id", "intAssetID", "dtmOfflineFrom", "dtmOffLineTo", "intReasonOfflineID",
        "intReasonOnlineID", "intSetOfflineByUserID", "intSetOnlineByUserID", "intWorkOrderID",
        "dblProductionHoursAffected", "strOfflineAdditionalInfo", "strOnlineAdditionalInfo",
    ),
    "WorkOrderPart": (
        "id", "intWorkOrderID", "intPartID", "intStockID", "intAssetID", "qtySuggestedQuantity",
        "qtyActualQuantityUsed", "intUpdated",
    ),
    "ScheduledMaintenancePart": (
        "id", "intScheduledMaintenanceID", "intPartID", "intStockID", "intAssetID",
        "qtySuggestedQuantity",
    ),
    "AssetConsumingReference": (
        "id", "intAssetID", "intConsumesAssetID", "qtyMaxConsumption", "intBOMControlID",
        "intBOMPartControlID",
    ),
    "File": (
        "id", "strName", "strLink", "strNotes", "intFileTypeID", "intFileContentsID", "intSize",
        "intWorkOrderID",
    ),
}  # fmt: skip

# ``dv_<field>``: the display value of a reference (the referenced record's name)
DISPLAY = {
    "intWorkOrderStatusID": "WorkOrderStatus", "intPriorityID": "Priority",
    "intMaintenanceTypeID": "MaintenanceType", "intSiteID": "Asset",
    "intCategoryID": "AssetCategory", "intPurchaseOrderStatusID": "PurchaseOrderStatus",
    "intSupplierID": "Business", "intAssetID": "Asset", "intFacilityID": "Asset",
    "intMeterReadingUnitsID": "MeterReadingUnit", "intPartID": "Asset",
    "intConsumesAssetID": "Asset", "intReasonOfflineID": "ReasonToSetAssetOffline",
    "intWorkOrderID": "WorkOrder",
}  # fmt: skip
