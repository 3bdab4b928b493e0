"""Entity types of released SAP APIs with no EDMX in the reference material, written down by hand.

`build` turns each into an EDMX document like SAP's (namespace = the service name, entity type
``<Set>Type``, ``sap:label`` per property, no annotations or navigation properties). Property names,
EDM types, lengths and key fields are SAP's, trimmed to what the sandbox serves; the sources relied on
and what is assumed are listed in connectors/sap_s4hana/README.md ("Released APIs without a reference
EDMX"). A spec is ``(name, type, label)``; the type is a short code:

``S<n>`` Edm.String MaxLength n, ``D`` Edm.DateTime (Precision 0, sap:display-format Date), ``DTO``
Edm.DateTimeOffset (Precision 0), ``T`` Edm.Time, ``B`` Edm.Boolean, ``N<p>.<s>`` Edm.Decimal, ``F``
Edm.Double, ``I`` Edm.Int32. Key properties are ``Nullable="false"``, as is a name listed in
``not_null``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EntityTypeSpec:
    keys: tuple[str, ...]
    props: tuple[tuple[str, str, str], ...]
    not_null: frozenset[str] = field(default_factory=frozenset)
    label: str = ""


NOTIFICATION = EntityTypeSpec(
    keys=("MaintenanceNotification",),
    label="Maintenance Notification",
    not_null=frozenset({"NotificationText"}),
    props=(
        ("MaintenanceNotification", "S12", "Notification"),
        ("MaintNotifInternalID", "S22", "Object number"),
        ("NotificationText", "S40", "Description"),
        ("MaintPriority", "S1", "Priority"),
        ("NotificationType", "S2", "Notification Type"),
        ("NotifProcessingPhase", "S1", "Notification Phase"),
        ("NotifProcessingPhaseDesc", "S60", "Short Description"),
        ("MaintPriorityDesc", "S20", "Priority Text"),
        ("CreationDate", "D", "Created On"),
        ("LastChangeTime", "T", "Time of Change"),
        ("LastChangeDate", "D", "Changed On"),
        ("LastChangeDateTime", "DTO", "Short Time Stamp"),
        ("CreationTime", "T", "Created At"),
        ("ReportedByUser", "S12", "Reported By"),
        ("ReporterFullName", "S80", "Full Name"),
        ("PersonResponsible", "S12", "Person Resp. ID"),
        ("MalfunctionEffect", "S1", "Effect"),
        ("MalfunctionEffectText", "S40", "Effect"),
        ("MalfunctionStartDate", "D", "Malfunction Start"),
        ("MalfunctionStartTime", "T", "Mal. Start (T.)"),
        ("MalfunctionEndDate", "D", "Malfunction End"),
        ("MalfunctionEndTime", "T", "Malfunction End"),
        ("NotificationCreationDate", "D", "Notification Date"),
        ("NotificationCreationTime", "T", "Notification Time"),
        ("RequiredStartDate", "D", "Required Start Date"),
        ("RequiredStartTime", "T", "Req. start time"),
        ("RequiredEndDate", "D", "Required End Date"),
        ("RequiredEndTime", "T", "Req. end time"),
        ("MaintenanceObjectIsDown", "B", "Breakdown"),
        ("TechnicalObject", "S40", "Technical Object"),
        ("TechObjIsEquipOrFuncnlLoc", "S20", "Tech. Obj. Type"),
        ("MaintenancePlanningPlant", "S4", "Planning Plant"),
        ("FunctionalLocation", "S30", "Object ID"),
        ("CompanyCode", "S4", "Company Code"),
        ("MainWorkCenterPlant", "S4", "Plant"),
        ("MainWorkCenter", "S8", "Work Center"),
        ("MaintenancePlant", "S4", "Maintenance Plant"),
        ("MaintenanceOrder", "S12", "Order"),
        ("MaintObjDowntimeDurationUnit", "S3", "Breakdown durtn unit"),
        ("MaintObjectDowntimeDuration", "F", "Breakdown Duration"),
        ("NotificationCompletionDate", "D", "Completion by Date"),
        ("CompletionTime", "T", "Completion Time"),
    ),
)

MATERIAL_STOCK = EntityTypeSpec(
    keys=(
        "Material",
        "Plant",
        "StorageLocation",
        "Batch",
        "Supplier",
        "Customer",
        "WBSElementInternalID",
        "SDDocument",
        "SDDocumentItem",
        "InventorySpecialStockType",
        "InventoryStockType",
    ),  # fmt: skip
    label="Material Stock",
    props=(
        ("Material", "S40", "Material"),
        ("Plant", "S4", "Plant"),
        ("StorageLocation", "S4", "Storage Location"),
        ("Batch", "S10", "Batch"),
        ("Supplier", "S10", "Supplier"),
        ("Customer", "S10", "Customer"),
        ("WBSElementInternalID", "S24", "WBS Element"),
        ("SDDocument", "S10", "Sales Order"),
        ("SDDocumentItem", "S6", "Sales order item"),
        ("InventorySpecialStockType", "S1", "Special Stock"),
        ("InventoryStockType", "S2", "Stock Type"),
        ("MaterialBaseUnit", "S3", "Base Unit of Measure"),
        ("MatlWrhsStkQtyInMatlBaseUnit", "N31.14", "Stock Quantity"),
    ),
)

COMPANY_CODE = EntityTypeSpec(
    keys=("CompanyCode",),
    label="Company Code",
    props=(
        ("CompanyCode", "S4", "Company Code"),
        ("CompanyCodeName", "S25", "Company Name"),
        ("CityName", "S25", "City"),
        ("Country", "S3", "Country/Region Key"),
        ("Currency", "S5", "Currency"),
        ("Language", "S2", "Language Key"),
        ("ChartOfAccounts", "S4", "Chart of Accounts"),
        ("FiscalYearVariant", "S2", "Fiscal Year Variant"),
        ("Company", "S6", "Company"),
        ("CreditControlArea", "S4", "Credit control area"),
        ("CountryChartOfAccounts", "S4", "Country Chart/Accts"),
        ("FinancialManagementArea", "S4", "FM Area"),
        ("AddressID", "S10", "Address"),
        ("TaxableEntity", "S4", "Taxable Entity"),
        ("VATRegistration", "S20", "VAT Registration No."),
        ("ExtendedWhtIsActive", "B", "Extended W/Tax Active"),
        ("ControllingArea", "S4", "Controlling Area"),
        ("FieldStatusVariant", "S4", "Field status variant"),
    ),
)

PLANT = EntityTypeSpec(
    keys=("Plant",),
    label="Plant",
    props=(
        ("Plant", "S4", "Plant"),
        ("PlantName", "S30", "Plant Name"),
        ("ValuationArea", "S4", "Valuation Area"),
        ("PlantCustomer", "S10", "Customer No. Plant"),
        ("PlantSupplier", "S10", "Supplier No. Plant"),
        ("FactoryCalendar", "S2", "Factory Calendar"),
        ("DefaultPurchasingOrganization", "S4", "Purch. Organization"),
        ("SalesOrganization", "S4", "Sales Organization"),
        ("AddressID", "S10", "Address"),
        ("PlantCategory", "S1", "Plant category"),
        ("DistributionChannel", "S2", "Distribution Channel"),
        ("Division", "S2", "Division"),
        ("Language", "S2", "Language Key"),
        ("IsMarkedForArchiving", "B", "Archiving Flag"),
    ),
)

STORAGE_LOCATION = EntityTypeSpec(
    keys=("Plant", "StorageLocation"),
    label="Storage Location",
    props=(
        ("Plant", "S4", "Plant"),
        ("StorageLocation", "S4", "Storage Location"),
        ("StorageLocationName", "S16", "Descr. of Storage Loc."),
        ("SalesOrganization", "S4", "Sales Organization"),
        ("DistributionChannel", "S2", "Distribution Channel"),
        ("Division", "S2", "Division"),
        ("IsStorLocAuthznCheckActive", "B", "Authorization check"),
        ("HandlingUnitIsRequired", "B", "HU Requirement"),
        ("ConfigDeprecationCode", "S1", "Deprecation Status"),
    ),
)

WORK_CENTER = EntityTypeSpec(
    keys=("WorkCenterInternalID", "WorkCenterTypeCode"),
    label="Work Center Header",
    props=(
        ("WorkCenterInternalID", "S8", "Object ID"),
        ("WorkCenterTypeCode", "S2", "Object Type"),
        ("WorkCenter", "S8", "Work Center"),
        ("WorkCenterDesc", "S40", "Work Center Text"),
        ("Plant", "S4", "Plant"),
        ("WorkCenterCategoryCode", "S4", "Work Center Category"),
        ("WorkCenterResponsible", "S3", "Person Responsible"),
        ("SupplyArea", "S10", "Supply Area"),
        ("WorkCenterUsage", "S3", "Usage"),
        ("MatlCompIsMarkedForBackflush", "B", "Backflush"),
        ("WorkCenterLocation", "S10", "Location"),
        ("CapacityInternalID", "S8", "Capacity ID"),
        ("CapacityCategoryCode", "S3", "Capacity category"),
        ("ValidityStartDate", "D", "Start Date"),
        ("ValidityEndDate", "D", "End Date"),
        ("WorkCenterIsToBeDeleted", "B", "Deletion Flag"),
    ),
)

GL_ACCOUNT = EntityTypeSpec(
    keys=("ChartOfAccounts", "GLAccount"),
    label="G/L Account in Chart of Accounts",
    props=(
        ("ChartOfAccounts", "S4", "Chart of Accounts"),
        ("GLAccount", "S10", "G/L Account"),
        ("IsBalanceSheetAccount", "B", "Balance Sheet Account"),
        ("GLAccountGroup", "S4", "Account Group"),
        ("CorporateGroupAccount", "S10", "Group Account Number"),
        ("ProfitLossAccountType", "S2", "P&L statmt acct type"),
        ("SampleGLAccount", "S10", "Sample account"),
        ("AccountIsMarkedForDeletion", "B", "Mark for Deletion"),
        ("AccountIsBlockedForCreation", "B", "Blocked for Creation"),
        ("AccountIsBlockedForPosting", "B", "Blocked for Posting"),
        ("AccountIsBlockedForPlanning", "B", "Blocked for Planning"),
        ("PartnerCompany", "S6", "Trading Partner No."),
        ("FunctionalArea", "S16", "Functional Area"),
        ("CreationDate", "D", "Created On"),
        ("CreatedByUser", "S12", "Created By"),
        ("LastChangeDateTime", "DTO", "Last Changed At"),
        ("GLAccountType", "S1", "G/L Account Type"),
        ("GLAccountExternal", "S10", "G/L Account"),
        ("IsProfitLossAccount", "B", "P&L Statement Acct"),
    ),
)

GL_ACCOUNT_TEXT = EntityTypeSpec(
    keys=("ChartOfAccounts", "GLAccount", "Language"),
    label="G/L Account Text",
    props=(
        ("ChartOfAccounts", "S4", "Chart of Accounts"),
        ("GLAccount", "S10", "G/L Account"),
        ("Language", "S2", "Language Key"),
        ("GLAccountName", "S20", "Short Text"),
        ("GLAccountLongName", "S50", "G/L Acct Long Text"),
        ("LastChangeDateTime", "DTO", "Last Changed At"),
    ),
)

BOM_ITEM = EntityTypeSpec(
    keys=(
        "BillOfMaterial",
        "BillOfMaterialCategory",
        "BillOfMaterialVariant",
        "BillOfMaterialVersion",
        "BillOfMaterialItemNodeNumber",
        "Material",
        "Plant",
    ),  # fmt: skip
    label="BOM Item",
    props=(
        ("BillOfMaterial", "S8", "Bill of Material"),
        ("BillOfMaterialCategory", "S1", "BOM Category"),
        ("BillOfMaterialVariant", "S2", "Alternative BOM"),
        ("BillOfMaterialVersion", "S4", "BOM Version"),
        ("BillOfMaterialItemNodeNumber", "S8", "Node Number"),
        ("Material", "S40", "Material"),
        ("Plant", "S4", "Plant"),
        ("ValidityStartDate", "D", "Valid From"),
        ("ValidityEndDate", "D", "Valid To"),
        ("BOMItemRecordCreationDate", "D", "Created On"),
        ("BOMItemCreatedByUser", "S12", "Created By"),
        ("BOMItemLastChangeDate", "D", "Changed On"),
        ("BOMItemLastChangedByUser", "S12", "Changed By"),
        ("BillOfMaterialComponent", "S40", "Component"),
        ("BillOfMaterialItemCategory", "S1", "Item Category"),
        ("BillOfMaterialItemNumber", "S4", "Item Number"),
        ("BillOfMaterialItemUnit", "S3", "Component Unit"),
        ("BillOfMaterialItemQuantity", "N13.3", "Component Quantity"),
        ("ComponentDescription", "S40", "Component Description"),
        ("BOMItemDescription", "S40", "Item Text"),
        ("BOMItemIsSparePart", "S1", "Spare Part Indicator"),
        ("BOMItemIsPlantMaintRelevant", "S1", "Relevant to Plant Maintenance"),
        ("ProdOrderIssueLocation", "S4", "Production Storage Location"),
    ),
)

ATTACHMENT = EntityTypeSpec(
    keys=(
        "DocumentInfoRecordDocType",
        "DocumentInfoRecordDocNumber",
        "DocumentInfoRecordDocVersion",
        "DocumentInfoRecordDocPart",
        "LogicalDocument",
        "ArchiveDocumentID",
        "LinkedSAPObjectKey",
        "BusinessObjectTypeName",
    ),  # fmt: skip
    label="Attachment",
    props=(
        ("DocumentInfoRecordDocType", "S3", "Document Type"),
        ("DocumentInfoRecordDocNumber", "S25", "Document"),
        ("DocumentInfoRecordDocVersion", "S2", "Document Version"),
        ("DocumentInfoRecordDocPart", "S3", "Document Part"),
        ("LogicalDocument", "S32", "Logical Document"),
        ("ArchiveDocumentID", "S40", "Archive Document ID"),
        ("LinkedSAPObjectKey", "S90", "SAP Object Key"),
        ("BusinessObjectTypeName", "S10", "Business Object Type"),
        ("SemanticObject", "S30", "Semantic Object"),
        ("WorkstationApplication", "S3", "Workstation Application"),
        ("FileSize", "S12", "File Size"),
        ("FileName", "S255", "File Name"),
        ("DocumentURL", "S5000", "Document URL"),
        ("MimeType", "S128", "MIME Type"),
        ("CreatedByUser", "S12", "Created By"),
        ("CreatedByUserFullName", "S80", "Created By"),
        ("CreationDateTime", "DTO", "Created On"),
        ("BusinessObjectType", "S10", "Business Object Type"),
        ("LastChangedByUser", "S12", "Last Changed By"),
        ("LastChangedByUserFullName", "S80", "Last Changed By"),
        ("ChangedDateTime", "DTO", "Last Changed On"),
        ("StorageCategory", "S10", "Storage Category"),
        ("ArchiveLinkRepository", "S2", "Content Repository"),
    ),
)

# function imports a service offers (written into its EDMX as SAP's Gateway does)
FUNCTIONS: dict[str, str] = {
    "API_CV_ATTACHMENT_SRV": (
        '    <FunctionImport Name="GetAllOriginals" '
        'ReturnType="Collection(API_CV_ATTACHMENT_SRV.AttachmentContentSetType)" '
        'EntitySet="AttachmentContentSet" m:HttpMethod="GET">\n'
        '     <Parameter Name="SemanticObject" Type="Edm.String" Mode="In" MaxLength="30" '
        'Nullable="true"/>\n'
        '     <Parameter Name="BusinessObjectTypeName" Type="Edm.String" Mode="In" '
        'MaxLength="10"/>\n'
        '     <Parameter Name="LinkedSAPObjectKey" Type="Edm.String" Mode="In" MaxLength="90"/>\n'
        "    </FunctionImport>"
    ),
}

# service -> entity set -> its type
RELEASED: dict[str, dict[str, EntityTypeSpec]] = {
    "API_MAINTNOTIFICATION": {"MaintenanceNotification": NOTIFICATION},
    "API_MATERIAL_STOCK_SRV": {"A_MatlStkInAcctMod": MATERIAL_STOCK},
    "API_COMPANYCODE_SRV": {"A_CompanyCode": COMPANY_CODE},
    "API_PLANT_SRV": {"A_Plant": PLANT},
    "API_STORAGELOCATION_SRV": {"A_StorageLocation": STORAGE_LOCATION},
    "API_WORK_CENTERS": {"A_WorkCenters": WORK_CENTER},
    "API_GLACCOUNTINCHARTOFACCOUNTS_SRV": {
        "A_GLAccountInChartOfAccounts": GL_ACCOUNT,
        "A_GLAccountText": GL_ACCOUNT_TEXT,
    },
    "API_BILL_OF_MATERIAL_SRV": {"MaterialBOMItem": BOM_ITEM},
    "API_CV_ATTACHMENT_SRV": {"AttachmentContentSet": ATTACHMENT},
}


def _type_attrs(code: str) -> str:
    if code.startswith("S"):
        return f'Type="Edm.String" MaxLength="{code[1:]}"'
    if code == "D":
        return 'Type="Edm.DateTime" Precision="0" sap:display-format="Date"'
    if code == "DTO":
        return 'Type="Edm.DateTimeOffset" Precision="0"'
    if code == "T":
        return 'Type="Edm.Time" Precision="0"'
    if code == "B":
        return 'Type="Edm.Boolean"'
    if code == "F":
        return 'Type="Edm.Double"'
    if code == "I":
        return 'Type="Edm.Int32"'
    if code.startswith("N"):
        precision, scale = code[1:].split(".")
        return f'Type="Edm.Decimal" Precision="{precision}" Scale="{scale}"'
    raise ValueError(f"unknown type code {code!r}")


def released_edmx(service: str) -> bytes:
    """The EDMX document of one service in `RELEASED`."""
    from xml.sax.saxutils import quoteattr

    types, sets = [], []
    for set_name, spec in RELEASED[service].items():
        type_name = f"{set_name}Type"
        keys = "".join(f'<PropertyRef Name="{k}"/>' for k in spec.keys)
        props = []
        for name, code, label in spec.props:
            null = ' Nullable="false"' if name in spec.keys or name in spec.not_null else ""
            props.append(f'    <Property Name="{name}" {_type_attrs(code)}{null} '
                         f"sap:label={quoteattr(label)}/>")  # fmt: skip
        body = "\n".join(props)
        types.append(
            f'   <EntityType Name="{type_name}" sap:label={quoteattr(spec.label)} '
            f'sap:content-version="1">\n    <Key>{keys}</Key>\n{body}\n   </EntityType>'
        )
        sets.append(f'    <EntitySet Name="{set_name}" EntityType="{service}.{type_name}" '
                    'sap:creatable="false" sap:updatable="false" sap:deletable="false" '
                    'sap:content-version="1"/>')  # fmt: skip
    nl = "\n"
    text = f"""<?xml version='1.0' encoding='utf-8'?>
<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" \
xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" \
xmlns:sap="http://www.sap.com/Protocols/SAPData">
 <edmx:DataServices m:DataServiceVersion="2.0">
  <Schema Namespace="{service}" xml:lang="en" sap:schema-version="1" \
xmlns="http://schemas.microsoft.com/ado/2008/09/edm">
{nl.join(types)}
   <EntityContainer Name="{service}_Entities" m:IsDefaultEntityContainer="true" \
sap:supported-formats="atom json xlsx">
{nl.join(sets + ([FUNCTIONS[service]] if service in FUNCTIONS else []))}
   </EntityContainer>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>
"""
    return text.encode()
