"""Trimmed SAP EDMX documents served by the sandbox (one ``<SERVICE>.xml`` per OData service).

They are cut from SAP's public metadata down to the entity sets this project implements (no
annotations; navigation properties and associations only where `build.NAVIGATION` keeps them, a
tenant's extension fields where `build.EXTENSIONS` adds them); `build` regenerates them. Released
APIs with no EDMX in the reference material are written from `released`'s entity types.
"""

from __future__ import annotations

from pathlib import Path

METADATA_DIR = Path(__file__).parent

# service -> entity sets the sandbox implements
SERVICES: dict[str, tuple[str, ...]] = {
    "API_MAINTENANCEORDER": (
        "MaintenanceOrder",
        "MaintenanceOrderOperation",
        "MaintOrderOpComponent",
    ),
    "API_EQUIPMENT": ("Equipment",),
    "API_FUNCTIONALLOCATION": ("FunctionalLocation",),
    "API_MAINTENANCEPLAN": ("MaintenancePlan", "MaintenanceItem"),
    "API_PRODUCT_SRV": ("A_Product", "A_ProductValuation"),
    "API_PURCHASEORDER_PROCESS_SRV": ("A_PurchaseOrder", "A_PurchaseOrderItem"),
    "API_BUSINESS_PARTNER": ("A_BusinessPartner", "A_Supplier", "A_BusinessPartnerRole"),
    # released APIs with no EDMX in the reference material (`released`)
    "API_MAINTNOTIFICATION": ("MaintenanceNotification",),
    "API_MATERIAL_STOCK_SRV": ("A_MatlStkInAcctMod",),
    "API_COMPANYCODE_SRV": ("A_CompanyCode",),
    "API_PLANT_SRV": ("A_Plant",),
    "API_STORAGELOCATION_SRV": ("A_StorageLocation",),
    "API_WORK_CENTERS": ("A_WorkCenters",),
    "API_GLACCOUNTINCHARTOFACCOUNTS_SRV": ("A_GLAccountInChartOfAccounts", "A_GLAccountText"),
    "API_BILL_OF_MATERIAL_SRV": ("MaterialBOMItem",),
    "API_CV_ATTACHMENT_SRV": ("AttachmentContentSet",),
}


def metadata_path(service: str) -> Path:
    return METADATA_DIR / f"{service}.xml"
