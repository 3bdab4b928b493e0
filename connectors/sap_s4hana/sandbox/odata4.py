"""The OData V4 services of the sandbox: SAP publishes measuring points and measurement documents
only as OData V4 APIs (``/sap/opu/odata4/sap/api_measuringpoint/srvd_a2x/sap/measuringpoint/0001/``
and ``.../api_measurementdocument/srvd_a2x/sap/measurementdocument/0001/``), and business users
as the V4 service ``BusinessUser`` (``.../aps_iam_api_buser_read/srvd_a2x/sap/businessuser/0001/``).

OData V4 JSON differs from V2's (`wire`): a collection is ``{"@odata.context", "value": [...],
"@odata.nextLink"}``, ``$count=true`` adds ``"@odata.count"`` (a number); Edm.Date is ``"2024-01-31"``,
Edm.TimeOfDay ``"16:04:23"``, Edm.DateTimeOffset ``"2024-01-31T15:04:23Z"`` (UTC, unquoted in
``$filter``), Edm.Double, Edm.Int16 and Edm.Int32 are JSON numbers; literals in
``$filter`` are unquoted for dates and numbers. Supported here: ``$filter`` (comparisons eq ne gt ge lt
le joined by ``and``), ``$orderby``, ``$select``, ``$top``, ``$skiptoken`` (server-driven paging at the
sandbox's page size), ``$count``; anything else is a 400 in SAP's V4 error form
``{"error": {"code", "message"}}``. Property names and types are SAP's (README, "Released APIs
without a reference EDMX"), trimmed to what the sandbox serves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

PREFIX4 = "/sap/opu/odata4/sap/"


class ODataV4Error(Exception):
    def __init__(self, status: int, message: str, code: str = "/IWBEP/CM_V4_RUNTIME/000"):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass(frozen=True)
class V4Set:
    service: str  # path below PREFIX4, e.g. api_measuringpoint/srvd_a2x/sap/measuringpoint/0001
    name: str
    namespace: str
    keys: tuple[str, ...]
    props: tuple[tuple[str, str, int | None], ...]  # (name, Edm type, MaxLength)

    @property
    def types(self) -> dict[str, str]:
        return {n: t for n, t, _ in self.props}


MEASURING_POINT = V4Set(
    "api_measuringpoint/srvd_a2x/sap/measuringpoint/0001", "MeasuringPoint",
    "com.sap.gateway.srvd_a2x.api_measuringpoint.v0001", ("MeasuringPoint",),
    (("MeasuringPoint", "Edm.String", 12), ("MeasuringPointDescription", "Edm.String", 40),
     ("MeasuringPointObjectIdentifier", "Edm.String", 22),
     ("TechnicalObjectType", "Edm.String", 10), ("MeasuringPointPositionNumber", "Edm.String", 16),
     ("MeasuringPointCategory", "Edm.String", 1), ("CreationDate", "Edm.Date", None),
     ("LastChangeDate", "Edm.Date", None), ("MeasuringPointIsCounter", "Edm.Boolean", None),
     ("MsrgPtInternalCharacteristic", "Edm.String", 10), ("CharcValueUnit", "Edm.String", 3),
     ("MeasuringPointDecimalPlaces", "Edm.Int16", None),
     ("MeasuringPointExponent", "Edm.Int16", None), ("MeasuringPointCodeGroup", "Edm.String", 8),
     ("MeasuringPointIsInactive", "Edm.Boolean", None), ("MeasurementRangeUnit", "Edm.String", 3),
     ("MeasuringPointTargetValue", "Edm.Double", None),
     ("MeasuringPointMaximumThreshold", "Edm.Double", None),
     ("MeasuringPointMinimumThreshold", "Edm.Double", None),
     ("MeasuringPointAnnualEstimate", "Edm.Double", None),
     ("CounterOverflowRdngThreshold", "Edm.Double", None),
     ("MsrgPtIsCountingBackwards", "Edm.Boolean", None),
     ("FunctionalLocation", "Edm.String", 30), ("Equipment", "Edm.String", 18)),
)  # fmt: skip

MEASUREMENT_DOCUMENT = V4Set(
    "api_measurementdocument/srvd_a2x/sap/measurementdocument/0001", "MeasurementDocument",
    "com.sap.gateway.srvd_a2x.api_measurementdocument.v0001", ("MeasurementDocument",),
    (("MeasurementDocument", "Edm.String", 20), ("MeasuringPoint", "Edm.String", 12),
     ("MeasuringPointPositionNumber", "Edm.String", 16), ("MsmtRdngDate", "Edm.Date", None),
     ("MsmtRdngTime", "Edm.TimeOfDay", None), ("Characteristic", "Edm.String", 30),
     ("MsmtDocumentReferredOrder", "Edm.String", 12),
     ("MsmtIsDoneAfterTaskCompltn", "Edm.Boolean", None), ("CharcValueUnit", "Edm.String", 3),
     ("MeasurementReading", "Edm.Double", None),
     ("MeasurementReadingInEntryUoM", "Edm.Double", None),
     ("MeasurementReadingEntryUoM", "Edm.String", 3),
     ("MeasurementCounterReading", "Edm.Double", None),
     ("MsmtCounterReadingDifference", "Edm.Double", None),
     ("MsmtValuationCode", "Edm.String", 4), ("MeasurementDocumentText", "Edm.String", 40),
     ("MsmtRdngByUser", "Edm.String", 12), ("MsmtRdngStatus", "Edm.String", 1),
     ("MsmtRdngIsReversed", "Edm.Boolean", None)),
)  # fmt: skip

TASK_LIST_MATERIAL = V4Set(
    "api_maintenancetasklist/srvd_a2x/sap/maintenancetasklist/0001", "MaintenanceTaskListOpMat",
    "com.sap.gateway.srvd_a2x.api_maintenancetasklist.v0001",
    ("TaskListType", "TaskListGroup", "TaskListGroupCounter", "TaskListSequence",
     "TaskListOperationInternalId", "TaskListOpBOMItmInternalID",
     "TaskListOpBOMItmIntVersCounter"),
    (("TaskListType", "Edm.String", 1), ("TaskListGroup", "Edm.String", 8),
     ("TaskListGroupCounter", "Edm.String", 2), ("TaskListSequence", "Edm.String", 6),
     ("TaskListOperationInternalId", "Edm.String", 8),
     ("TaskListOpBOMItmInternalID", "Edm.String", 8),
     ("TaskListOpBOMItmIntVersCounter", "Edm.String", 8),
     ("MaintenanceTaskListOperation", "Edm.String", 4), ("Material", "Edm.String", 40),
     ("MaterialName", "Edm.String", 40), ("BillOfMaterialItemQuantity", "Edm.Double", None),
     ("BillOfMaterialItemCategory", "Edm.String", 1), ("BillOfMaterialItemUnit", "Edm.String", 3),
     ("MatlCompIsMarkedForBackflush", "Edm.Boolean", None)),
)  # fmt: skip

# Business users (service group aps_iam_api_buser_read, entity BusinessUsers): properties, types
# and lengths as SAP documents them (README, "Released APIs without a reference EDMX"); the
# navigations (business roles, catalogs, application jobs) are not served.
BUSINESS_USER = V4Set(
    "aps_iam_api_buser_read/srvd_a2x/sap/businessuser/0001", "BusinessUsers",
    "com.sap.gateway.srvd_a2x.aps_iam_api_buser_read.v0001", ("UserID",),
    (("UserID", "Edm.String", 12), ("UserName", "Edm.String", 40),
     ("Description", "Edm.String", 81), ("FirstName", "Edm.String", 40),
     ("LastName", "Edm.String", 40), ("EMailAddress", "Edm.String", 241),
     ("GlobalUserID", "Edm.String", 36), ("BusinessUserGroup", "Edm.String", 12),
     ("PriceCategoryCode", "Edm.String", 30), ("PriceCategory", "Edm.String", 80),
     ("LockStatus", "Edm.Boolean", None), ("Validity", "Edm.Boolean", None),
     ("IsLoggedOn", "Edm.Boolean", None), ("NeverLoggedOn", "Edm.Boolean", None),
     ("ValidFromDate", "Edm.Date", None), ("ValidToDate", "Edm.Date", None),
     ("LastLogonDateTime", "Edm.Date", None), ("CreationDateTime", "Edm.DateTimeOffset", None),
     ("CreationByUserID", "Edm.String", 12), ("CreationByUserName", "Edm.String", 40),
     ("CreationByUserDescription", "Edm.String", 80),
     ("CreationByEMailAddress", "Edm.String", 241),
     ("CreationByGlobalUserID", "Edm.String", 36),
     ("LastChangedDateTime", "Edm.DateTimeOffset", None),
     ("LastChangedByUserID", "Edm.String", 12), ("LastChangedByUserName", "Edm.String", 40),
     ("LastChangedByUserDescription", "Edm.String", 80),
     ("LastChangedByEMailAddress", "Edm.String", 241),
     ("LastChangedByGlobalUserID", "Edm.String", 36)),
)  # fmt: skip

V4_SETS: dict[str, V4Set] = {
    s.service: s for s in (MEASURING_POINT, MEASUREMENT_DOCUMENT, TASK_LIST_MATERIAL, BUSINESS_USER)
}

INITIAL = {"Edm.String": "", "Edm.Boolean": False, "Edm.Double": 0, "Edm.Int16": 0,
           "Edm.Date": None, "Edm.TimeOfDay": "00:00:00", "Edm.DateTimeOffset": None}  # fmt: skip
NULLABLE = ("Edm.Date", "Edm.DateTimeOffset")
_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z")


def offset_value(text: str) -> datetime:
    """An Edm.DateTimeOffset in V4 JSON/URL form (UTC, ``Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def metadata_xml(es: V4Set) -> bytes:
    """The service's CSDL 4.0 document (one entity type and its set)."""
    props = []
    for name, typ, length in es.props:
        extra = f' MaxLength="{length}"' if length else ""
        if typ == "Edm.DateTimeOffset":
            extra = ' Precision="0"'
        null = ' Nullable="false"' if name in es.keys or typ not in NULLABLE else ""
        props.append(f'<Property Name="{name}" Type="{typ}"{null}{extra}/>')
    keys = "".join(f'<PropertyRef Name="{k}"/>' for k in es.keys)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
        '<edmx:DataServices><Schema Namespace="' + es.namespace + '" '
        'xmlns="http://docs.oasis-open.org/odata/ns/edm">'
        f'<EntityType Name="{es.name}Type"><Key>{keys}</Key>{"".join(props)}</EntityType>'
        '<EntityContainer Name="Container">'
        f'<EntitySet Name="{es.name}" EntityType="{es.namespace}.{es.name}Type"/>'
        "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    ).encode()


def check_record(es: V4Set, rec: dict[str, Any]) -> dict[str, Any]:
    """The record in V4 JSON form: every property, SAP's initial values where unset; a value of
    the wrong JSON type is refused with a ValueError naming the property."""
    types = es.types
    unknown = [k for k in rec if k not in types]
    if unknown:
        raise ValueError(f"{es.name} has no properties {', '.join(unknown)}")
    out = {}
    for name, typ in types.items():
        value = rec.get(name, INITIAL[typ])
        ok = {
            "Edm.String": lambda v: isinstance(v, str),
            "Edm.Boolean": lambda v: isinstance(v, bool),
            "Edm.Double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "Edm.Int16": lambda v: type(v) is int and -(2**15) <= v < 2**15,
            "Edm.Date": lambda v: v is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(v)),
            "Edm.TimeOfDay": lambda v: re.fullmatch(r"\d{2}:\d{2}:\d{2}", str(v)),
            "Edm.DateTimeOffset": lambda v: v is None or _OFFSET.fullmatch(str(v)),
        }[typ](value)
        if not ok:
            raise ValueError(f"{es.name}.{name}: {value!r} is not the OData V4 JSON form of {typ}")
        out[name] = value
    return out


_CMP = re.compile(r"\s*([A-Za-z_]\w*)\s+(eq|ne|gt|ge|lt|le)\s+('(?:[^']|'')*'|\S+)\s*$")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
}  # fmt: skip


def _literal(es: V4Set, prop: str, text: str) -> Any:
    typ = es.types[prop]
    if text == "null":
        return None
    if typ == "Edm.String":
        if not (text.startswith("'") and text.endswith("'")):
            raise ODataV4Error(400, f"Invalid literal {text} for {prop} (Edm.String)")
        return text[1:-1].replace("''", "'")
    if typ == "Edm.Boolean":
        if text not in ("true", "false"):
            raise ODataV4Error(400, f"Invalid literal {text} for {prop} (Edm.Boolean)")
        return text == "true"
    if typ == "Edm.Date":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ODataV4Error(400, f"Invalid literal {text} for {prop} (Edm.Date)")
        return text
    if typ == "Edm.TimeOfDay":
        return text
    if typ == "Edm.DateTimeOffset":
        if not _OFFSET.fullmatch(text):
            raise ODataV4Error(400, f"Invalid literal {text} for {prop} (Edm.DateTimeOffset)")
        return offset_value(text)
    try:
        return float(text)
    except ValueError:
        raise ODataV4Error(400, f"Invalid literal {text} for {prop} ({typ})") from None


def compile_filter(es: V4Set, text: str | None) -> Callable[[dict], bool]:
    if not text:
        return lambda r: True
    tests = []
    for part in re.split(r"\s+and\s+", text.strip()):
        m = _CMP.match(part)
        if not m:
            raise ODataV4Error(400, f"The sandbox's $filter supports comparisons joined by 'and'; "
                               f"cannot parse {part!r}")  # fmt: skip
        prop, op, lit = m.groups()
        if prop not in es.types:
            raise ODataV4Error(400, f"Property '{prop}' not found in type '{es.name}Type'")
        value = _literal(es, prop, lit)
        offset = es.types[prop] == "Edm.DateTimeOffset"

        def test(r: dict, prop: str = prop, op: str = op, value: Any = value,
                 offset: bool = offset) -> bool:  # fmt: skip
            have = r.get(prop)
            if offset and have is not None:
                have = offset_value(have)
            if have is None or value is None:
                return _OPS[op](have, value) if op in ("eq", "ne") else False
            return _OPS[op](have, value)

        tests.append(test)
    return lambda r: all(t(r) for t in tests)


def collection(es: V4Set, records: list[dict], params: dict[str, str], root: str,
               page_size: int) -> dict[str, Any]:  # fmt: skip
    """One page of the set as SAP's V4 runtime answers a GET on it."""
    allowed = {"$filter", "$orderby", "$select", "$top", "$skiptoken", "$count", "$format"}
    bad = [p for p in params if p.startswith("$") and p not in allowed]
    if bad:
        raise ODataV4Error(400, f"System query option {bad[0]} is not supported by the sandbox")
    rows = [r for r in records if compile_filter(es, params.get("$filter"))(r)]
    order = [p.split() for p in (params.get("$orderby") or "").split(",") if p.strip()]
    for parts in reversed(order or [[k] for k in es.keys]):
        if parts[0] not in es.types:
            raise ODataV4Error(400, f"Property '{parts[0]}' not found in type '{es.name}Type'")
        desc = len(parts) > 1 and parts[1] == "desc"
        rows.sort(key=lambda r, p=parts[0]: (r.get(p) is not None, r.get(p)), reverse=desc)
    total = len(rows)
    top = int(params["$top"]) if params.get("$top") else None
    skip = int(params.get("$skiptoken") or 0)
    limit = min(page_size, top - skip) if top is not None else page_size
    page = rows[skip : skip + max(limit, 0)]
    select = [s.strip() for s in params["$select"].split(",")] if params.get("$select") else None
    for s in select or ():
        if s not in es.types:
            raise ODataV4Error(400, f"Property '{s}' not found in type '{es.name}Type'")
    body: dict[str, Any] = {"@odata.context": f"$metadata#{es.name}"}
    if params.get("$count") == "true":
        body["@odata.count"] = total
    body["value"] = [{k: r[k] for k in select} if select else dict(r) for r in page]
    end = skip + len(page)
    if end < (total if top is None else min(total, top)):
        rest = {k: v for k, v in params.items() if k != "$skiptoken"}
        body["@odata.nextLink"] = f"{es.name}?{urlencode({**rest, '$skiptoken': str(end)})}"
    return body


# --- generated data ---------------------------------------------------------------------------

# characteristic -> (unit, is counter, description)
CHARACTERISTICS = {
    "OPERATING_HOURS": ("H", True, "Operating hours"),
    "TEMPERATURE": ("CEL", False, "Bearing temperature"),
    "VIBRATION": ("MMS", False, "Vibration velocity"),
}


def generate(n_equipment: int, equipment_id: Callable[[int], str], tz: Any,
             base: datetime) -> dict[str, list[dict]]:  # fmt: skip
    """Measuring points (one per second equipment, a counter every third) and four measurement
    documents per point, the second of every fifth point reversed."""
    points, docs = [], []
    chars = list(CHARACTERISTICS)
    for i in range(max(6, n_equipment // 2)):
        char = chars[i % 3]
        unit, counter, desc = CHARACTERISTICS[char]
        eq = equipment_id((2 * i) % n_equipment)
        point = f"{i + 1:012d}"
        points.append(check_record(MEASURING_POINT, {
            "MeasuringPoint": point, "MeasuringPointDescription": f"{desc} {eq}",
            "MeasuringPointObjectIdentifier": f"IE{eq:0>18}", "TechnicalObjectType": "EAMS_EQUI",
            "MeasuringPointPositionNumber": f"{i % 10 + 1:03d}", "MeasuringPointCategory": "M",
            "CreationDate": "2023-01-15", "LastChangeDate": None if i % 4 else "2024-02-01",
            "MeasuringPointIsCounter": counter, "MsrgPtInternalCharacteristic": str(100 + i % 3),
            "CharcValueUnit": unit, "MeasuringPointDecimalPlaces": 1,
            "MeasurementRangeUnit": unit, "MeasuringPointIsInactive": i % 11 == 10,
            "MeasuringPointAnnualEstimate": 6000.0 if counter else 0,
            "MeasuringPointMaximumThreshold": 0 if counter else (90.0 if unit == "CEL" else 7.1),
            "Equipment": eq,
        }))  # fmt: skip
        total = 1000.0 * (i + 1)
        for k in range(4):
            at = (base + timedelta(days=7 * k, hours=8 + i % 8)).astimezone(tz)
            value = (total + 40.0 * (k + 1)) if counter else round(30.0 + (i * 7 + k * 3) % 50, 1)
            docs.append(check_record(MEASUREMENT_DOCUMENT, {
                "MeasurementDocument": str(1000 + 4 * i + k), "MeasuringPoint": point,
                "MsmtRdngDate": at.date().isoformat(), "MsmtRdngTime": at.strftime("%H:%M:%S"),
                "Characteristic": char, "CharcValueUnit": unit, "MeasurementReading": value,
                "MeasurementReadingInEntryUoM": value, "MeasurementReadingEntryUoM": unit,
                "MeasurementCounterReading": value if counter else 0,
                "MsmtCounterReadingDifference": 40.0 if counter else 0,
                "MeasurementDocumentText": "Round" if k % 2 else "",
                "MsmtRdngByUser": "CB9980000004", "MsmtRdngIsReversed": k == 1 and i % 5 == 0,
            }))  # fmt: skip
    materials = []
    for g in range(TASK_LISTS):  # task list group g: 1-3 spare parts on operation 0010
        for k in range(1 + g % 3):
            materials.append(check_record(TASK_LIST_MATERIAL, {
                "TaskListType": "A", "TaskListGroup": task_list_group(g),
                "TaskListGroupCounter": "01", "TaskListSequence": "0",
                "TaskListOperationInternalId": "00000001",
                "TaskListOpBOMItmInternalID": f"{k + 1:08d}",
                "TaskListOpBOMItmIntVersCounter": "00000001",
                "MaintenanceTaskListOperation": "0010",
                "Material": f"SP-{(3 * g + k) % 8:06d}", "MaterialName": f"Spare part {3 * g + k}",
                "BillOfMaterialItemQuantity": float(1 + (g + k) % 4),
                "BillOfMaterialItemCategory": "L", "BillOfMaterialItemUnit": "EA",
            }))  # fmt: skip
    return {MEASURING_POINT.service: points, MEASUREMENT_DOCUMENT.service: docs,
            TASK_LIST_MATERIAL.service: materials}  # fmt: skip


TASK_LISTS = 8  # general task lists (type A) the maintenance plans' items use


def task_list_group(g: int) -> str:
    return f"{50000000 + g:08d}"
