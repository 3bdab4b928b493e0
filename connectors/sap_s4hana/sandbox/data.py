"""Sandbox records: generated lazily from (seed, index) in SAP's JSON wire form, plus changes.

Sizes derive from ``size`` (the number of maintenance orders). Every 50 consecutive orders share one
LastChangeDateTime (a minute apart), so window boundaries always cut through a group. Every fourth
equipment has three time segments (only one, ValidityEndDate 9999-12-31, is current). Edm.DateTime
values are wall-clock times in the sandbox's time zone, as SAP stores them; DateTimeOffset is UTC.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from connectors.sap_s4hana.sandbox.odata import (
    EntitySetInfo,
    wire_datetime,
    wire_offset,
    wire_time,
)
from connectors.sap_s4hana.sandbox.odata4 import (
    BUSINESS_USER,
    TASK_LISTS,
    check_record,
    task_list_group,
)
from connectors.sap_s4hana.sandbox.odata4 import generate as generate_v4

BASE = datetime(2024, 1, 1, tzinfo=UTC)
BASE_MS = int(BASE.timestamp() * 1000)
FAR_END = wire_datetime(datetime(9999, 12, 31))
PLANTS = ("1010", "1020", "1710")
MAKES = ("KSB", "Grundfos", "Siemens", "ABB", "Atlas Copco", "SKF")
VERBS = ("Inspect", "Repair", "Replace seal on", "Lubricate", "Calibrate", "Overhaul")
OBJECTS = ("pump", "compressor", "conveyor", "motor", "valve", "boiler")
STATUSES = ("CRTD MANC", "REL  MANC NMAT", "REL  PRC  SETC", "TECO PRC  SETC", "CLSD PRC")
# company code -> (name, city, country, currency); plant -> (name, company code)
COMPANY_CODES = {"1010": ("Company Code 1010", "Walldorf", "DE", "EUR"),
                 "1710": ("Company Code 1710", "Palo Alto", "US", "USD")}  # fmt: skip
PLANT_INFO = {"1010": ("Plant 1 DE", "1010"), "1020": ("Plant 2 DE", "1010"),
              "1710": ("Plant 1 US", "1710")}  # fmt: skip
STORAGE_LOCATIONS = {"101A": "Spare Parts", "102A": "Central Store", "103A": "Workshop"}
# (plant, storage location, stock type): 01 unrestricted use, 02 quality inspection, 07 blocked
STOCK_PLACES = (("1010", "101A", "01"), ("1010", "102A", "02"), ("1710", "101A", "01"))
WORK_CENTERS = {"MECH": "Mechanical maintenance", "ELEC": "Electrical maintenance",
                "INST": "Instrumentation"}  # fmt: skip
# chart YCOA: G/L account -> (type, English name, German name)
GL_ACCOUNTS = {
    "11001000": ("C", "Bank 1", "Bank 1"),
    "13100000": ("A", "Raw Materials", "Rohstoffe"),
    "13300000": ("A", "Spare Parts Inventory", "Ersatzteilbestand"),
    "21100000": ("L", "Payables Domestic", "Verbindl. Inland"),
    "41000000": ("P", "Revenue Domestic", "Umsatzerloese Inland"),
    "51100000": ("X", "Consumption Spare Parts", "Verbrauch Ersatzteile"),
    "51600000": ("X", "Maintenance Material", "Instandhaltungsmaterial"),
    "61000000": ("X", "External Maintenance", "Fremdinstandhaltung"),
    "61005000": ("X", "Maintenance Services", "Instandhaltungsleist."),
    "94308000": ("S", "Internal Maint. Activity", "Interne IH-Leistung"),
}
# NotifProcessingPhase -> its short description (domain QM_PHASE)
NOTIF_PHASES = {"1": "Outstanding", "2": "Postponed", "3": "In Process", "4": "Completed"}
# Sets saved as part of a document: SAP has no change time on them (A_PurchaseOrderItem has none
# in API_PURCHASEORDER_PROCESS_SRV); adding, changing or deleting one saves the document, whose
# header change time (EKKO's LastChangeDateTime) moves. item set -> (header set, header key props)
DOCUMENT_OF: dict[str, tuple[str, tuple[str, ...]]] = {
    "A_PurchaseOrderItem": ("A_PurchaseOrder", ("PurchaseOrder",)),
}


def mix(seed: int, i: int, salt: int = 0) -> int:
    """A cheap deterministic 32-bit hash of (seed, index, salt)."""
    x = (i * 0x9E3779B1 + seed * 0x85EBCA77 + salt * 0xC2B2AE3D + 0x165667B1) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    x ^= x >> 12
    x = (x * 0x297A2D39) & 0xFFFFFFFF
    return x ^ (x >> 15)


class Table:
    """One entity set: ``count`` generated rows, an overlay of changed/deleted rows, and extras.

    Rows that enter (`from_records`, `put`) are coerced to wire form by the set's codec, so a value
    that does not fit its EDM type is refused there with a `WireError` naming the property; rows absent
    from a generator's output start at SAP's initial values (``""``, ``false``, ``"0"``, ``"0.000"``,
    null dates).
    """

    def __init__(self, es: EntitySetInfo, count: int, gen: Callable[[int], dict]) -> None:
        self.es = es
        self.template = dict(es.codec.template)
        self.count = count
        self._gen = gen
        self.overlay: dict[int, dict | None] = {}
        self.extra: list[dict | None] = []
        self.version = 0
        self._index: dict[tuple, int] | None = None

    @classmethod
    def from_records(cls, es: EntitySetInfo, records: list[dict]) -> Table:
        table = cls(es, 0, lambda i: {})
        table.extra = [es.codec.record(r) for r in records]
        return table

    @property
    def size(self) -> int:
        return self.count + len(self.extra)

    def row(self, rid: int) -> dict | None:
        if rid in self.overlay:
            return self.overlay[rid]
        if rid >= self.count:
            return self.extra[rid - self.count]
        rec = self.template.copy()
        rec.update(self._gen(rid))
        return rec

    def rows(self) -> Iterator[tuple[int, dict]]:
        for rid in range(self.size):
            rec = self.row(rid)
            if rec is not None:
                yield rid, rec

    def key_of(self, rec: dict) -> tuple:
        return tuple(rec.get(k) for k in self.es.keys)

    def find(self, key: tuple) -> int | None:
        if self._index is None:
            self._index = {self.key_of(r): rid for rid, r in self.rows()}
        return self._index.get(tuple(key))

    def put(self, rid: int | None, rec: dict | None) -> int:
        """Replace row ``rid`` (None: append) with ``rec`` (None: delete)."""
        if rec is not None:
            rec = self.es.codec.record(rec)
        if rid is None:
            self.extra.append(rec)
            rid = self.size - 1
        else:
            old = self.row(rid)
            if old is not None and self._index is not None:
                self._index.pop(self.key_of(old), None)
            self.overlay[rid] = rec
        if rec is not None and self._index is not None:
            self._index[self.key_of(rec)] = rid
        self.version += 1
        return rid


def _local(ms: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).replace(tzinfo=None)


def _day(d: datetime | date) -> str:
    return wire_datetime(datetime(d.year, d.month, d.day))


class Dataset:
    """All tables of one sandbox instance, keyed by (service, entity set)."""

    def __init__(self, sets: dict[tuple[str, str], EntitySetInfo], seed: int = 1, size: int = 1000,
                 tz: ZoneInfo | None = None) -> None:  # fmt: skip
        self.seed, self.size, self.tz = seed, size, tz or ZoneInfo("UTC")
        self.lock = threading.RLock()
        n = size
        self.n_equipment = max(8, n // 10)
        self.n_floc = max(4, n // 50)
        self.n_plan = max(4, n // 20)
        self.n_product = max(8, n // 10)
        self.n_po = max(6, n // 10)
        self.n_bp = max(8, n // 20)
        # equipment rows: (equipment index, segment, segments); every 4th equipment has 3 segments
        self.eq_rows = [
            (j, s, 3 if j % 4 == 0 else 1)
            for j in range(self.n_equipment)
            for s in range(3 if j % 4 == 0 else 1)
        ]
        self.po_items = [(p, k) for p in range(self.n_po) for k in range(p % 3 + 1)]
        self.operations = [(i, k) for i in range(n) for k in range(i % 3 + 1)]
        self.suppliers = [b for b in range(self.n_bp) if b % 4 != 3]
        # components (spare parts) of every third order's operation 0010: one to three each
        self.components = [(i, k) for i in range(0, n, 3) for k in range(i % 3 + 1)]
        self.n_notif = max(12, n // 5)
        # persons (category 1) after the organizations: maintenance employees (role BUP003),
        # every fourth a contact person (BUP001) only
        self.n_person = max(4, n // 50)
        self.bp_roles = [(b, "FLVN00") for b in self.suppliers] + [
            (self.n_bp + k, "BUP001" if k % 4 == 3 else "BUP003") for k in range(self.n_person)
        ]
        # stock rows: (product, plant, storage location, stock type) of the first products
        self.stock_rows = [
            (m, p, sl, st)
            for m in range(min(self.n_product, 200))
            for p, sl, st in STOCK_PLACES[: m % 3 + 1]
        ]
        # BOM items: every fifth product is an assembly of 2-4 spare parts (plant 1010)
        self.bom_items = [
            (a, k) for a in range(0, min(self.n_product, 200), 5) for k in range(2 + a % 3)
        ]
        # material valuation per plant (valuation area): every product in 1010, even ones in 1710
        self.valuations = [(m, p) for m in range(self.n_product)
                           for p in ("1010", "1710")[: 2 - m % 2]]  # fmt: skip
        # attachments of every third equipment: one or two (an ArchiveLink file, a DMS drawing)
        self.attachments = [(j, k) for j in range(0, self.n_equipment, 3) for k in range(1 + j % 2)]
        self.storage_locations = [(p, sl) for p in PLANTS for sl in STORAGE_LOCATIONS]
        self.work_centers = [(p, wc) for p in PLANTS for wc in WORK_CENTERS]
        gens: dict[str, tuple[int, Callable[[int], dict]]] = {
            "MaintenanceOrder": (n, self.order),
            "MaintOrderOpComponent": (len(self.components), self.component),
            "MaintenanceOrderOperation": (len(self.operations), self.operation),
            "Equipment": (len(self.eq_rows), self.equipment),
            "FunctionalLocation": (self.n_floc, self.floc),
            "MaintenancePlan": (self.n_plan, self.plan),
            "A_Product": (self.n_product, self.product),
            "A_PurchaseOrder": (self.n_po, self.po),
            "A_PurchaseOrderItem": (len(self.po_items), self.po_item),
            "A_BusinessPartner": (self.n_bp + self.n_person, self.bp),
            "A_BusinessPartnerRole": (len(self.bp_roles), self.bp_role),
            "A_Supplier": (len(self.suppliers), self.supplier),
            "MaintenanceNotification": (self.n_notif, self.notification),
            "A_MatlStkInAcctMod": (len(self.stock_rows), self.stock),
            "A_CompanyCode": (len(COMPANY_CODES), self.company_code),
            "A_Plant": (len(PLANTS), self.plant),
            "A_StorageLocation": (len(self.storage_locations), self.storage_location),
            "A_WorkCenters": (len(self.work_centers), self.work_center),
            "A_GLAccountInChartOfAccounts": (len(GL_ACCOUNTS), self.gl_account),
            "A_GLAccountText": (2 * len(GL_ACCOUNTS), self.gl_account_text),
            "MaterialBOMItem": (len(self.bom_items), self.bom_item),
            "MaintenanceItem": (self.n_plan, self.plan_item),
            "A_ProductValuation": (len(self.valuations), self.valuation),
            "AttachmentContentSet": (len(self.attachments), self.attachment),
        }
        self.tables = {key: Table(es, *gens[es.name]) for key, es in sets.items()}
        # the OData V4 services' records (measuring points, measurement documents), in V4 JSON
        self.v4: dict[str, list[dict]] = generate_v4(self.n_equipment, self.equipment_id,
                                                     self.tz, BASE)  # fmt: skip
        # business users: one per employee (the persons in role BUP003), as S/4HANA Cloud
        # creates them for employees
        self.v4[BUSINESS_USER.service] = [
            self.business_user(k) for k in range(self.n_person) if k % 4 != 3
        ]

    def h(self, i: int, salt: int) -> int:
        return mix(self.seed, i, salt)

    # --- identifiers shared by references, so they join ---
    @staticmethod
    def equipment_id(j: int) -> str:
        return str(10000000 + j)

    def floc_id(self, f: int) -> str:
        return f"{PLANTS[f % len(PLANTS)]}-A{f // 10:03d}-{f % 10:02d}"

    @staticmethod
    def plan_id(p: int) -> str:
        return str(10000 + p)

    @staticmethod
    def product_id(m: int) -> str:
        return f"SP-{m:06d}"

    @staticmethod
    def bp_id(b: int) -> str:
        return str(17100000 + b)

    # --- generators ---
    def order(self, i: int) -> dict:
        h = self.h(i, 1)
        changed = BASE_MS + (i // 50) * 60_000
        created = changed - (h % 30) * 86_400_000 - 3_600_000
        start = created + (h % 5) * 86_400_000
        status = STATUSES[h % len(STATUSES)]
        eq = i % self.n_equipment
        plant = PLANTS[eq % len(PLANTS)]
        rec = {
            "MaintenanceOrder": str(4000000 + i),
            "MaintenanceOrderType": ("PM01", "PM02", "PM03")[h % 3],
            "MaintenanceOrderDesc": f"{VERBS[h % 6]} {OBJECTS[(h >> 3) % 6]} {i}",
            "MaintOrdBasicStartDateTime": wire_offset(start),
            "MaintOrdBasicEndDateTime": wire_offset(start + 2 * 86_400_000),
            "MaintOrdSchedldBscStrtDateTime": wire_offset(start),
            "MaintOrdSchedldBscEndDateTime": wire_offset(start + 2 * 86_400_000),
            "MainWorkCompletedDateTime": wire_offset(start + 86_400_000)
            if status.startswith(("TECO", "CLSD"))
            else None,
            "MaintenancePlanningPlant": plant,
            "MaintenancePlant": plant,
            "MainWorkCenter": ("MECH", "ELEC", "INST")[(h >> 5) % 3],
            "MainWorkCenterPlant": plant,
            "CompanyCode": "1010",
            "ControllingArea": "A000",
            "Currency": "EUR",
            "Equipment": self.equipment_id(eq),
            "EquipmentName": f"{MAKES[eq % 6]} {OBJECTS[eq % 6]} {eq}",
            "FunctionalLocation": self.floc_id(eq % self.n_floc),
            "MaintenancePlannerGroup": "010",
            "MaintenanceActivityType": ("001", "002", "003")[(h >> 7) % 3],
            "MaintPriority": str(1 + (h >> 9) % 4),
            "MaintPriorityType": "PM",
            "MaintenancePlan": self.plan_id(i % self.n_plan) if i % 5 == 0 else "",
            "LastChangeByUser": "CB9980000001",
            "LastChangeDateTime": wire_offset(changed),
            "CreatedByUser": "CB9980000002",
            "MaintOrderCreationDateTime": wire_offset(created),
            "SystemStatusText": status,
            "TechnicalObject": self.equipment_id(eq),
            "TechObjIsEquipOrFuncnlLoc": "EAMS_EQUI",
            "YY1_MaintCrew_ORD": ("", "CREW-N", "CREW-S")[(h >> 11) % 3],  # a tenant's field
        }
        return rec

    def component(self, r: int) -> dict:
        i, k = self.components[r]
        h = self.h(r, 7)
        m = (i + k) % self.n_product
        required = 1 + h % 10
        issued = (
            required if STATUSES[self.h(i, 1) % len(STATUSES)].startswith(("TECO", "CLSD")) else 0
        )
        return {
            "MaintenanceOrder": str(4000000 + i),
            "MaintenanceOrderOperation": "0010",
            "MaintenanceOrderSubOperation": "",
            "MaintOrderComponentInternalID": f"{k + 1:04d}",
            "MaintenanceOrderComponent": f"{(k + 1) * 10:04d}",
            "Reservation": str(100000 + r),
            "ReservationItem": f"{k + 1:04d}",
            "Product": self.product_id(m),
            "MaintOrdOperationComponentText": f"Spare part {self.product_id(m)}",
            "MaintOrdOpCompRequiredQuantity": f"{required}.000",
            "BaseUnit": ("EA", "PC", "M")[m % 3],
            "QuantityInUnitOfEntry": f"{required}.000",
            "UnitOfEntry": ("EA", "PC", "M")[m % 3],
            "Plant": PLANTS[(i % self.n_equipment) % len(PLANTS)],
            "StorageLocation": "101A",
            "MaintComponentItemCategory": "L",
            "GoodsMovementType": "261",
            "QuantityWithdrawnInBaseUnit": f"{issued}.000",
            "IsDeleted": False,
        }

    def operation(self, r: int) -> dict:
        """Operation ``k`` of order ``i`` (orders have 1-3), reached by $expand."""
        i, k = self.operations[r]
        h = self.h(r, 9)
        return {
            "MaintenanceOrder": str(4000000 + i),
            "MaintenanceOrderOperation": f"{(k + 1) * 10:04d}",
            "OperationControlKey": "PM01",
            "WorkCenter": ("MECH", "ELEC", "INST")[(h >> 3) % 3],
            "Plant": PLANTS[(i % self.n_equipment) % len(PLANTS)],
            "OperationDescription": f"{VERBS[h % 6]} step {k + 1}",
            "MaintOrderOperationDuration": f"{1 + h % 8}.0",
            "MaintOrdOperationDurationUnit": "H",
        }

    def equipment(self, r: int) -> dict:
        j, s, segs = self.eq_rows[r]
        h = self.h(j, 2)
        current = s == segs - 1
        starts = (
            [date(2020, 1, 1), date(2023, 1, 1), date(2023, 7, 1)]
            if segs == 3
            else [date(2021, 1, 1)]
        )
        end = FAR_END if current else _day(starts[s + 1] - timedelta(days=1))
        changed = (
            BASE_MS + (j // 10) * 3_600_000
            if current
            else int(
                datetime(starts[s + 1].year, starts[s + 1].month, 1, tzinfo=UTC).timestamp() * 1000
            )
        )
        plant = PLANTS[j % len(PLANTS)]
        name = f"{MAKES[j % 6]} {OBJECTS[j % 6]} {j}"
        return {
            "Equipment": self.equipment_id(j),
            "ValidityEndDate": end,
            "ValidityEndTime": wire_time(86399),
            "ValidityStartDate": _day(starts[s]),
            "EquipmentName": name if current else f"{name} (segment {s + 1})",
            "EquipmentCategory": "M",
            "TechnicalObjectType": OBJECTS[j % 6].upper()[:10],
            "GrossWeight": f"{100 + h % 900}.500",
            "GrossWeightUnit": "KG",
            "InventoryNumber": f"INV-{j:06d}",
            "OperationStartDate": _day(starts[0]),
            "AcquisitionValue": f"{1000 + h % 50000}.00",
            "Currency": "EUR",
            "AssetManufacturerName": MAKES[j % 6],
            "ManufacturerPartTypeName": f"MX-{h % 100:02d}",
            "ManufacturerSerialNumber": f"SN{h:010d}",
            "MaintenancePlant": plant,
            "MaintenancePlanningPlant": plant,
            "ABCIndicator": "ABC"[h % 3],
            "CompanyCode": "1010",
            "FunctionalLocation": self.floc_id(
                (j + s) % self.n_floc if not current else j % self.n_floc
            ),
            "SuperordinateEquipment": self.equipment_id(j - 1) if j % 7 == 6 else "",
            "CreationDate": _day(starts[0]),
            "CreatedByUser": "CB9980000002",
            "LastChangedByUser": "CB9980000001",
            "LastChangeDateTime": wire_offset(changed),
            "EquipmentIsInstalled": True,
            # construction type: the material whose BOM is the equipment's structure
            "ConstructionMaterial": self.product_id(
                5 * ((j // 6) % max(1, min(self.n_product, 200) // 5))
            )
            if j % 6 == 0
            else "",
            "EquipmentIsMarkedForDeletion": j % 97 == 96,
        }

    def floc(self, f: int) -> dict:
        plant = PLANTS[f % len(PLANTS)]
        return {
            "FunctionalLocation": self.floc_id(f),
            "FunctionalLocationLabelName": self.floc_id(f),
            "FunctionalLocationName": f"{('Line', 'Area', 'Hall')[f % 3]} {f}",
            "FunctionalLocationCategory": "M",
            "SuperiorFunctionalLocation": self.floc_id(f - f % 10) if f % 10 else "",
            "MaintenancePlant": plant,
            "MaintenancePlanningPlant": plant,
            "CityName": ("Walldorf", "Hamburg", "Chicago")[f % 3],
            "Country": ("DE", "DE", "US")[f % 3],
            "CompanyCode": "1010",
            "LastChangeDateTime": wire_offset(BASE_MS + f * 3_600_000),
            "FunctionalLocationIsActive": True,
            "FunctionalLocationIsCreated": True,
            "CreationDate": _day(date(2020, 1, 1)),
            "CreatedByUser": "CB9980000002",
        }

    def plan(self, p: int) -> dict:
        changed = BASE_MS + p * 7_200_000
        return {
            "MaintenancePlan": self.plan_id(p),
            "MaintenancePlanDesc": f"{VERBS[p % 6]} {OBJECTS[p % 6]}s every {(p % 12) + 1} months",
            "CreationDate": _day(date(2023, 1, 1)),
            "CreatedByUser": "CB9980000002",
            "LastChangeDate": _day(_local(changed, self.tz)),
            "LastChangedByUser": "CB9980000001",
            "MaintenanceStrategy": "A" if p % 2 else "",
            "SchedulingDuration": "365",
            "SchedulingDurationUnit": "DAY",
            "NumberOfMaintenanceItems": "1",
            "CycleModificationRatio": "1.00",
            "MaintenanceCall": p % 7,
            "MaintenancePlanCategory": "PM",
            "BasicStartDate": _day(date(2023, 1, 1)),
            "SchedulingStartDate": _day(date(2023, 1, 1)),
            "SchedulingStartTime": wire_time(0),
            "LastChangeDateTime": wire_offset(changed),
            "MaintenancePlanSystemStatus": "INAC" if p % 9 == 8 else "ACTV",
        }

    def product(self, m: int) -> dict:
        h = self.h(m, 3)
        changed = BASE_MS + m * 1_800_000
        return {
            "Product": self.product_id(m),
            "ProductType": ("ERSA", "HAWA", "FERT")[m % 3],
            "CreationDate": _day(date(2022, 6, 1)),
            "CreatedByUser": "CB9980000002",
            "LastChangeDate": _day(_local(changed, self.tz)),
            "LastChangedByUser": "CB9980000001",
            "LastChangeDateTime": wire_offset(changed),
            "IsMarkedForDeletion": m % 50 == 49,
            "GrossWeight": f"{h % 50}.250",
            "WeightUnit": "KG",
            "NetWeight": f"{h % 50}.000",
            "ProductGroup": ("L001", "L002")[m % 2],
            "BaseUnit": ("EA", "PC", "M")[m % 3],
            "Division": "00",
            "ProductManufacturerNumber": f"MPN-{h % 100000:05d}",
            "ManufacturerNumber": self.bp_id(self.suppliers[m % len(self.suppliers)]),
            "IndustrySector": "M",
        }

    def po(self, p: int) -> dict:
        h = self.h(p, 4)
        changed = BASE_MS + p * 900_000
        created = _local(changed - (h % 10) * 86_400_000, self.tz)
        return {
            "PurchaseOrder": str(4500000000 + p),
            "CompanyCode": "1010",
            "PurchaseOrderType": "NB",
            "PurchasingDocumentDeletionCode": "L" if p % 40 == 39 else "",
            "PurchasingProcessingStatus": ("01", "02", "05")[h % 3],
            "CreatedByUser": "CB9980000002",
            "CreationDate": _day(created),
            "LastChangeDateTime": wire_offset(changed),
            "Supplier": self.bp_id(self.suppliers[p % len(self.suppliers)]),
            "Language": "EN",
            "PaymentTerms": "0001",
            "PurchasingOrganization": "1010",
            "PurchasingGroup": "001",
            "PurchaseOrderDate": _day(created),
            "DocumentCurrency": "EUR",
            "ExchangeRate": "1.00000",
        }

    def po_item(self, r: int) -> dict:
        p, k = self.po_items[r]
        h = self.h(r, 5)
        m = (p + k) % self.n_product
        return {
            "PurchaseOrder": str(4500000000 + p),
            "PurchaseOrderItem": str((k + 1) * 10),
            "PurchaseOrderItemText": f"Spare part {self.product_id(m)}",
            "Plant": PLANTS[p % len(PLANTS)],
            "StorageLocation": "101A",
            "MaterialGroup": "L001",
            "OrderQuantity": f"{1 + h % 20}.000",
            "PurchaseOrderQuantityUnit": ("EA", "PC", "M")[m % 3],
            "OrderPriceUnit": ("EA", "PC", "M")[m % 3],
            "DocumentCurrency": "EUR",
            "NetPriceAmount": f"{5 + h % 500}.{h % 100:02d}",
            "NetPriceQuantity": "1",
            "IsCompletelyDelivered": h % 3 == 0,
            "PurchaseOrderItemCategory": "0",
            "Material": self.product_id(m),
            "ProductType": "1",
            "IsReturnsItem": p % 10 == 7 or (p % 10 == 3 and k == 0),  # returns to the supplier
        }

    def bp_change(self, b: int) -> tuple[datetime | None, datetime]:
        """(last change, creation) of a business partner as local wall-clock times."""
        created = _local(BASE_MS - 86_400_000 * 30 + b * 600_000, self.tz)
        if b % 10 == 9:  # never changed: SAP leaves LastChangeDate empty
            return None, created
        return _local(BASE_MS + (b // 5) * 600_000, self.tz), created

    def bp_stamps(self, b: int) -> dict:
        """What every business partner carries: its UUID, languages, who created and changed it
        and when (SAP's separate date and time fields; no change date if never changed)."""
        changed, created = self.bp_change(b)
        return {
            "BusinessPartnerUUID": f"{self.h(b, 6):08x}-{b % 65536:04x}-1eda-9a8b-{b:012x}",
            "CorrespondenceLanguage": "EN",
            "CreatedByUser": "CB9980000002",
            "CreationDate": _day(created),
            "CreationTime": wire_time(created.hour * 3600 + created.minute * 60 + created.second),
            "Language": "EN",
            "LastChangeDate": _day(changed) if changed else None,
            "LastChangeTime": wire_time(
                changed.hour * 3600 + changed.minute * 60 + changed.second if changed else 0
            ),
            "LastChangedByUser": "CB9980000001" if changed else "",
        }

    def bp(self, b: int) -> dict:
        if b >= self.n_bp:
            return self.person(b)
        supplier = self.bp_id(b) if b % 4 != 3 else ""
        name = f"{('Acme', 'Nordwind', 'Contoso', 'Globex', 'Initech')[b % 5]} Supplies {b}"
        return {
            "BusinessPartner": self.bp_id(b),
            "Customer": self.bp_id(b) if b % 4 == 3 else "",
            "Supplier": supplier,
            "BusinessPartnerCategory": "2",
            "BusinessPartnerFullName": name,
            "BusinessPartnerGrouping": "BP02",
            "BusinessPartnerName": name,
            **self.bp_stamps(b),
            "OrganizationBPName1": name,
            "SearchTerm1": name.split()[0].upper(),
            "IsMarkedForArchiving": False,
        }

    def supplier(self, r: int) -> dict:
        b = self.suppliers[r]
        _, created = self.bp_change(b)
        name = self.bp(b)["BusinessPartnerFullName"]
        return {
            "Supplier": self.bp_id(b),
            "CreatedByUser": "CB9980000002",
            "CreationDate": _day(created),
            "SupplierAccountGroup": "SUPL",
            "SupplierFullName": name,
            "SupplierName": name[:35],
            "DeletionIndicator": False,
        }

    # --- released APIs without a reference EDMX (metadata/released.py) ---
    def notification(self, i: int) -> dict:
        """A maintenance notification: every third a malfunction report with a breakdown."""
        h = self.h(i, 11)
        changed = BASE_MS + (i // 20) * 60_000
        created = _local(changed - (h % 20) * 86_400_000 - 7_200_000, self.tz)
        phase = str(1 + h % 4)
        breakdown = i % 3 == 0
        eq = i % self.n_equipment
        on_floc = i % 5 == 4
        plant = PLANTS[eq % len(PLANTS)]
        start = created - timedelta(hours=2)
        end = start + timedelta(hours=1 + h % 30)
        due = created + timedelta(days=1 + h % 14)
        wc = tuple(WORK_CENTERS)[(h >> 4) % 3]
        rec = {
            "MaintenanceNotification": str(10000000 + i),
            "MaintNotifInternalID": f"QM{10000000 + i:012d}",
            "NotificationText": f"{('Leak at', 'Noise from', 'Check', 'Vibration on')[h % 4]} "
            f"{OBJECTS[eq % 6]} {eq}",
            "MaintPriority": str(1 + (h >> 2) % 4),
            "MaintPriorityDesc": ("Very high", "High", "Medium", "Low")[(h >> 2) % 4],
            "NotificationType": "M2" if breakdown else "M1",
            "NotifProcessingPhase": phase,
            "NotifProcessingPhaseDesc": NOTIF_PHASES[phase],
            "CreationDate": _day(created),
            "CreationTime": wire_time(created.hour * 3600 + created.minute * 60),
            "LastChangeDateTime": wire_offset(changed),
            "LastChangeDate": _day(_local(changed, self.tz)),
            "LastChangeTime": wire_time(
                _local(changed, self.tz).hour * 3600 + _local(changed, self.tz).minute * 60
            ),  # fmt: skip
            "ReportedByUser": "CB9980000003",
            "ReporterFullName": "Pat Operator",
            "MalfunctionEffect": ("1", "2", "3")[h % 3] if breakdown else "",
            "MalfunctionEffectText": ("Plant shutdown", "Production restricted", "No effect")[h % 3]
            if breakdown
            else "",  # fmt: skip
            "MalfunctionStartDate": _day(start) if breakdown else None,
            "MalfunctionStartTime": wire_time(start.hour * 3600 + start.minute * 60),
            "MalfunctionEndDate": _day(end) if breakdown and phase == "4" else None,
            "MalfunctionEndTime": wire_time(
                end.hour * 3600 + end.minute * 60 if breakdown and phase == "4" else 0
            ),  # fmt: skip
            "MaintenanceObjectIsDown": breakdown,
            "NotificationCreationDate": _day(created),
            "NotificationCreationTime": wire_time(created.hour * 3600 + created.minute * 60),
            "RequiredStartDate": _day(created),
            "RequiredStartTime": wire_time(0),
            "RequiredEndDate": _day(due),
            "RequiredEndTime": wire_time(16 * 3600),
            "TechnicalObject": self.floc_id(eq % self.n_floc) if on_floc else self.equipment_id(eq),
            "TechObjIsEquipOrFuncnlLoc": "EAMS_FL" if on_floc else "EAMS_EQUI",
            "FunctionalLocation": self.floc_id(eq % self.n_floc),
            "MaintenancePlanningPlant": plant,
            "MaintenancePlant": plant,
            "CompanyCode": PLANT_INFO[plant][1],
            "MainWorkCenter": wc,
            "MainWorkCenterPlant": plant,
            "MaintenanceOrder": str(4000000 + i % self.size) if phase in "34" else "",
        }
        if breakdown and phase == "4":
            hours = (end - start).total_seconds() / 3600
            rec["MaintObjectDowntimeDuration"] = f"{hours:.1f}"
            rec["MaintObjDowntimeDurationUnit"] = "H"
        return rec

    def stock(self, r: int) -> dict:
        m, plant, sloc, stock_type = self.stock_rows[r]
        h = self.h(r, 12)
        return {
            "Material": self.product_id(m),
            "Plant": plant,
            "StorageLocation": sloc,
            "InventoryStockType": stock_type,
            "MaterialBaseUnit": ("EA", "PC", "M")[m % 3],
            "MatlWrhsStkQtyInMatlBaseUnit": f"{h % 500}.{(h >> 9) % 1000:03d}",
        }

    @staticmethod
    def company_code(c: int) -> dict:
        code = tuple(COMPANY_CODES)[c]
        name, city, country, currency = COMPANY_CODES[code]
        return {
            "CompanyCode": code, "CompanyCodeName": name, "CityName": city, "Country": country,
            "Currency": currency, "Language": "EN" if country == "US" else "DE",
            "ChartOfAccounts": "YCOA", "FiscalYearVariant": "K4", "Company": code,
            "CreditControlArea": "A000", "ControllingArea": "A000", "FieldStatusVariant": "0010",
        }  # fmt: skip

    @staticmethod
    def plant(p: int) -> dict:
        code = PLANTS[p]
        name, company = PLANT_INFO[code]
        return {
            "Plant": code, "PlantName": name, "ValuationArea": code, "FactoryCalendar": "01",
            "DefaultPurchasingOrganization": company, "SalesOrganization": company,
            "AddressID": str(22000 + p), "Language": "EN" if company == "1710" else "DE",
        }  # fmt: skip

    def storage_location(self, r: int) -> dict:
        plant, sloc = self.storage_locations[r]
        return {
            "Plant": plant, "StorageLocation": sloc, "StorageLocationName": STORAGE_LOCATIONS[sloc],
            "SalesOrganization": PLANT_INFO[plant][1], "IsStorLocAuthznCheckActive": sloc == "103A",
        }  # fmt: skip

    def work_center(self, r: int) -> dict:
        plant, wc = self.work_centers[r]
        return {
            "WorkCenterInternalID": str(10000000 + r),
            "WorkCenterTypeCode": "A",
            "WorkCenter": wc,
            "WorkCenterDesc": f"{WORK_CENTERS[wc]} {plant}",
            "Plant": plant,
            "WorkCenterCategoryCode": "0005",
            "WorkCenterResponsible": "001",
            "WorkCenterUsage": "004",
            "CapacityInternalID": str(20000000 + r),
            "CapacityCategoryCode": "002",
            "ValidityStartDate": _day(date(2020, 1, 1)),
            "ValidityEndDate": FAR_END,
        }

    def gl_account(self, a: int) -> dict:
        account = tuple(GL_ACCOUNTS)[a]
        kind = GL_ACCOUNTS[account][0]
        return {
            "ChartOfAccounts": "YCOA",
            "GLAccount": account,
            "IsBalanceSheetAccount": kind in "ACL",
            "IsProfitLossAccount": kind in "PX",
            "GLAccountGroup": "BS" if kind in "ACL" else "PL",
            "GLAccountType": kind,
            "GLAccountExternal": account,
            "ProfitLossAccountType": "X" if kind in "PX" else "",
            "AccountIsMarkedForDeletion": a == len(GL_ACCOUNTS) - 1,
            "CreationDate": _day(date(2020, 1, 1)),
            "CreatedByUser": "CB9980000002",
            "LastChangeDateTime": wire_offset(BASE_MS + a * 3_600_000),
        }

    def gl_account_text(self, r: int) -> dict:
        a, lang = divmod(r, 2)
        account = tuple(GL_ACCOUNTS)[a]
        name = GL_ACCOUNTS[account][1 + lang]
        return {
            "ChartOfAccounts": "YCOA", "GLAccount": account, "Language": ("EN", "DE")[lang],
            "GLAccountName": name[:20], "GLAccountLongName": f"{name} ({account})",
            "LastChangeDateTime": wire_offset(BASE_MS + a * 3_600_000),
        }  # fmt: skip

    def bom_item(self, r: int) -> dict:
        a, k = self.bom_items[r]
        h = self.h(r, 13)
        m = (a + 1 + k) % self.n_product
        return {
            "BillOfMaterial": f"{10000000 + a // 5:08d}",
            "BillOfMaterialCategory": "M",
            "BillOfMaterialVariant": "1",
            "BillOfMaterialItemNodeNumber": f"{k + 1:08d}",
            "Material": self.product_id(a),
            "Plant": "1010",
            "ValidityStartDate": _day(date(2022, 6, 1)),
            "ValidityEndDate": FAR_END,
            "BOMItemRecordCreationDate": _day(date(2022, 6, 1)),
            "BOMItemCreatedByUser": "CB9980000002",
            "BOMItemLastChangeDate": _day(date(2023, 1 + k, 1)),
            "BillOfMaterialComponent": self.product_id(m),
            "BillOfMaterialItemCategory": "L",
            "BillOfMaterialItemNumber": f"{(k + 1) * 10:04d}",
            "BillOfMaterialItemUnit": ("EA", "PC", "M")[m % 3],
            "BillOfMaterialItemQuantity": f"{1 + h % 6}.{(h >> 4) % 1000:03d}",
            "ComponentDescription": f"Spare part {self.product_id(m)}",
            "BOMItemDescription": f"Spare part {self.product_id(m)}",
            "BOMItemIsSparePart": "X" if k % 2 == 0 else "",
            "BOMItemIsPlantMaintRelevant": "X",
        }

    def plan_item(self, p: int) -> dict:
        """The maintenance item of plan ``p``: its task list (every eighth plan has none)."""
        changed = BASE_MS + p * 7_200_000
        eq = (3 * p) % self.n_equipment
        has_list = p % 8 != 7
        return {
            "MaintenanceItem": f"{p + 1:016d}",
            "MaintenanceItemDescription": f"{VERBS[p % 6]} {OBJECTS[p % 6]}s",
            "MaintenancePlan": self.plan_id(p),
            "MaintenancePlanCategory": "PM",
            "MaintenancePlanItemPosition": "0001",
            "Equipment": self.equipment_id(eq),
            "TaskListType": "A" if has_list else "",
            "TaskListGroup": task_list_group(p % TASK_LISTS) if has_list else "",
            "TaskListGroupCounter": "01" if has_list else "",
            "MaintenancePlanningPlant": PLANTS[eq % len(PLANTS)],
            "MaintenanceOrderType": "PM03",
            "MainWorkCenter": "MECH",
            "MainWorkCenterPlant": PLANTS[eq % len(PLANTS)],
            "CreationDate": _day(date(2023, 1, 1)),
            "CreatedByUser": "CB9980000002",
            "LastChangeDateTime": wire_offset(changed),
        }

    def valuation(self, r: int) -> dict:
        m, plant = self.valuations[r]
        h = self.h(r, 14)
        moving = m % 3 == 0  # moving average price (V) or standard price (S)
        price = f"{10 + h % 900}.{(h >> 10) % 100:02d}"
        return {
            "Product": self.product_id(m),
            "ValuationArea": plant,
            "ValuationClass": "3040",
            "StandardPrice": "0.00" if moving else price,
            "MovingAveragePrice": price if moving else "0.00",
            "PriceUnitQty": "10" if m % 4 == 1 else "1",
            "InventoryValuationProcedure": "V" if moving else "S",
            "Currency": "USD" if plant == "1710" else "EUR",
            "BaseUnit": ("EA", "PC", "M")[m % 3],
            "PriceLastChangeDate": _day(date(2023, 6, 1)),
        }

    def person(self, b: int) -> dict:
        """A natural person (BusinessPartnerCategory 1): employees and contact persons."""
        k = b - self.n_bp
        first = ("Anna", "Ben", "Chiara", "Deniz", "Emil", "Fatima")[k % 6]
        last = ("Becker", "Ortiz", "Novak", "Kim", "Sato", "Meyer", "Lund")[k % 7]
        full = f"{first} {last}"
        return {
            "BusinessPartner": self.bp_id(b),
            "BusinessPartnerCategory": "1",
            "BusinessPartnerFullName": full,
            "BusinessPartnerName": full,
            "PersonFullName": full,
            "FirstName": first,
            "LastName": last,
            "IsNaturalPerson": "X",
            "BusinessPartnerGrouping": "BP01",
            **self.bp_stamps(b),
            "SearchTerm1": last.upper(),
            "BusinessPartnerIsBlocked": k % 9 == 8,
        }

    @staticmethod
    def user_id(k: int) -> str:
        return f"CB{9980000010 + k}"

    def business_user(self, k: int) -> dict:
        """The business user of employee ``k`` (V4 JSON of BusinessUsers): user IDs as SAP's
        cloud systems number them (CB + 10 digits); one in seven locked, one in five expired
        (ValidToDate passed, Validity false), one in six never logged on. LastChangedDateTime is
        set from creation on (SAP's administrative data) and spreads over the first days of
        2024, two users (k, k + 1 for even k) sharing each second."""
        first = ("Anna", "Ben", "Chiara", "Deniz", "Emil", "Fatima")[k % 6]
        last = ("Becker", "Ortiz", "Novak", "Kim", "Sato", "Meyer", "Lund")[k % 7]
        created = BASE - timedelta(days=200 - k, hours=self.h(k, 31) % 9)
        changed = BASE + timedelta(hours=3 * (k // 2), minutes=7 * (k // 2) % 60)
        expired = k % 5 == 4
        never = k % 6 == 5
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        admin = {"UserID": "CB9980000001", "Name": "ADMIN", "Desc": "Administrator"}
        return check_record(BUSINESS_USER, {
            "UserID": self.user_id(k), "UserName": f"{first[0]}{last}".upper()[:12],
            "Description": f"{first} {last}", "FirstName": first, "LastName": last,
            "EMailAddress": f"{first}.{last}@example.com".lower() if k % 10 != 6 else "",
            "GlobalUserID": f"{self.h(k, 33):08x}-{k % 65536:04x}-4a1e-9b2c-{k:012x}",
            "PriceCategoryCode": "PROFESSIONAL", "PriceCategory": "Professional Use",
            "LockStatus": k % 7 == 6, "Validity": not expired, "IsLoggedOn": False,
            "NeverLoggedOn": never, "ValidFromDate": created.date().isoformat(),
            "ValidToDate": "2024-01-31" if expired else "9999-12-31",
            "LastLogonDateTime": None if never else (BASE + timedelta(days=k % 20)).date().isoformat(),
            "CreationDateTime": created.strftime(stamp), "CreationByUserID": admin["UserID"],
            "CreationByUserName": admin["Name"], "CreationByUserDescription": admin["Desc"],
            "LastChangedDateTime": changed.strftime(stamp),
            "LastChangedByUserID": admin["UserID"], "LastChangedByUserName": admin["Name"],
            "LastChangedByUserDescription": admin["Desc"],
        })  # fmt: skip

    def bp_role(self, r: int) -> dict:
        b, role = self.bp_roles[r]
        return {
            "BusinessPartner": self.bp_id(b),
            "BusinessPartnerRole": role,
            "ValidFrom": wire_offset(BASE_MS - 365 * 86_400_000),
            "ValidTo": wire_offset(253402214400000),
        }

    def attachment(self, r: int) -> dict:
        """An equipment's attachment as GetAllOriginals lists it: an ArchiveLink original
        (ArchiveDocumentID) or a document info record's original (DMS, DocumentInfoRecord*)."""
        j, k = self.attachments[r]
        h = self.h(r, 15)
        created = BASE_MS + r * 3_600_000
        dms = k == 1
        name = f"drawing-{j:05d}.pdf" if dms else f"manual-{MAKES[j % 6].lower()}-{j}.pdf"
        return {
            "DocumentInfoRecordDocType": "DRW" if dms else "",
            "DocumentInfoRecordDocNumber": f"{10000000 + j:025d}" if dms else "",
            "DocumentInfoRecordDocVersion": "00" if dms else "",
            "DocumentInfoRecordDocPart": "000" if dms else "",
            "LogicalDocument": f"{h:08X}{r:024X}" if dms else "",
            "ArchiveDocumentID": "" if dms else f"{h:08X}{r:024X}",
            "LinkedSAPObjectKey": self.equipment_id(j).zfill(18),
            "BusinessObjectTypeName": "EQUI",
            "BusinessObjectType": "EQUI",
            "SemanticObject": "TechnicalObject",
            "FileName": name,
            "FileSize": str(20_000 + h % 2_000_000),
            "MimeType": "application/pdf",
            "DocumentURL": "",
            "CreatedByUser": "CB9980000002",
            "CreatedByUserFullName": "Maria Planner",
            "CreationDateTime": wire_offset(created),
            "LastChangedByUser": "CB9980000002",
            "ChangedDateTime": wire_offset(created),
            "StorageCategory": "SOD" if not dms else "",
            "ArchiveLinkRepository": "" if dms else "Z1",
        }
