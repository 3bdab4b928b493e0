"""Fiix CMMS on the kit: the Python its protocol needs (manifest.yaml says what to read).

Fiix is not REST: every call is a signed POST of one typed request object to one endpoint
(`connectors.fiix.protocol`). The kit's hooks carry it:

- ``build_request``: the manifest's ``className``, ``ql``, ``fields`` and ``orderBy`` plus the
  window become a FindRequest body (``dtm... >= ? AND dtm... < ?`` with the bounds as parameters,
  naive in the connection's zone, as Fiix users send them);
- ``prepare``: each attempt gets a fresh query string (``action``, keys, ``timestamp``) and its
  HMAC-SHA256 ``Authorization`` signature;
- `KeysetPages`: ``maxObjects`` per page and a keyset filter after the last record
  (``id > ?``, or ``(t > ? OR (t = ? AND id > ?))`` when ordered by change time): offset paging
  (``startIndex``) over a table that changes while it is read skips rows;
- ``classify`` (the kit's response classifier): Fiix answers errors inside the body, mostly with
  HTTP 200. Throttling (code 1100, HTTP 429 or 200) is retried after the server's wait advisory
  (``P_CLIENT_AUTO_RETRY_WAIT_ADVISORY_MS``); any other error fails at once, naming the cause
  (a refused signature, an unknown key, ...) with status 401 for authentication failures;
- transforms ``attach_lines`` / ``attach_assets``: a page's purchase-order lines (or PM assets) in
  ONE BatchRequest of FindRequests (one per 200 parents), keyset-paged per parent chunk;
- ``statuses``: WorkOrderStatus / PurchaseOrderStatus; ``check``: an RpcRequest ``Ping``.

Credentials (connection.yaml): ``app_key`` (a field), ``access_key`` (the login) and
``secret_key`` (the password). The secret is never logged: it only keys the HMAC.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import orjson
import requests

from connectors.base import SourceError, SourceField, SourceSettings, Window
from connectors.fiix import protocol as p
from connectors.fiix.schema import CLASSES, DISPLAY
from connectors.http import Verdict
from connectors.kit import ManifestConnector, Paginator, Request
from connectors.kit.engine import format_time, round_up

CHUNK = 200  # parents per FindRequest of a BatchRequest
# the transform that attaches a child list -> (its name in the raw record, the child's class)
CHILDREN = {"attach_lines": ("lines", "PurchaseOrderLineItem"),
            "attach_assets": ("assets", "ScheduledMaintenanceAsset")}  # fmt: skip
LINE_FIELDS = ("id, intPurchaseOrderID, intAssetID, intSupplierID, strDescription, qtyOnOrder, "
               "qtyRecieved, dblUnitPrice, dtmRequiredByDate")  # fmt: skip
# records a transform attaches as one object: (entity, name) -> (class, the fields it asks for)
UNIT_FIELDS = "id, strName, strSymbol"
READING_FIELDS = "id, intAssetID, intMeterReadingUnitsID, dblMeterReading, dtmDateSubmitted"
PART_FIELDS = "id, strCode, strName, dblLastPrice"
ATTACHED = {"meters": {"unit": ("MeterReadingUnit", UNIT_FIELDS),
                       "lastReading": ("MeterReading", READING_FIELDS)},
            "inventories": {"part": ("Asset", PART_FIELDS)}}  # fmt: skip
METER_FIELDS = ("id", "intAssetID", "intMeterReadingUnitsID", "intSiteID", "strName")
# transforms that select or derive rows from fields beyond the key (key listings ask for them)
READS_FIELDS = {"derive_meters", "equipment_boms", "assembly_boms"}
PREFIX_TYPES = (("str", "string"), ("dtm", "datetime"), ("int", "integer"), ("dbl", "number"),
                ("qty", "number"), ("bol", "boolean"))  # fmt: skip


def field_type(name: str) -> str:
    """Fiix's type of a field, from its naming prefix (``dtmDateCreated``: datetime)."""
    if name == "id":
        return "integer"
    return next((t for prefix, t in PREFIX_TYPES if name.startswith(prefix)), "string")


def class_fields(cls: str) -> list[SourceField]:
    """A class's fields, with the ``dv_`` display value of each reference it has."""
    out = []
    for name in CLASSES[cls]:
        out.append(SourceField(name, field_type(name)))
        if name in DISPLAY:
            out.append(SourceField(f"dv_{name}", "string", f"{name} (display value)"))
    return out


CAUSES = {
    p.AUTH_BAD_SIGNATURE: "Fiix refused the request signature (check the secret key)",
    p.AUTH_UNKNOWN_KEY: "Fiix does not know the application or access key",
    p.AUTH_MISSING: "Fiix found no credentials in the request",
}


def _what(request: requests.PreparedRequest | None) -> str:
    """``FindRequest WorkOrder``: what a request asked (Fiix has one endpoint for everything)."""
    try:
        body = orjson.loads((request.body or b"{}") if request is not None else b"{}")
    except (orjson.JSONDecodeError, TypeError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    return f"{body.get(p.MAGIC, 'request')} {body.get('className', '')}".strip()


def raise_for_error(system: str, where: str, decoded: Any) -> None:
    """`SourceError` for a Fiix error object (401 for authentication failures)."""
    err = decoded.get("error") if isinstance(decoded, dict) else None
    if not err:
        return
    e = p.FiixError.from_json(err)
    cause = CAUSES.get(e.code, "Fiix answered an error")
    raise SourceError(system, where, 401 if e.code in p.AUTH_CODES else f"error {e.code}",
                      f"{cause}: {e.describe()}")  # fmt: skip


class KeysetPages(Paginator):
    """``maxObjects`` = the page size; the next page continues after the last record."""

    def first(self, request: Request) -> Request:
        self._base = list(request.json.get("filters") or [])
        return Request(request.url, {}, "POST", {**request.json, "maxObjects": self.size,
                                                 "startIndex": 0})  # fmt: skip

    def next(self, request: Request, body: Any, records: list) -> Request | None:
        if len(records) < self.size:
            return None
        last = records[-1]
        order = [f.strip() for f in str(request.json.get("orderBy") or "id").split(",")]
        if order == ["id"]:
            after = p.FindFilter("id > ?", (last["id"],))
        else:
            t = order[0]
            after = p.FindFilter(
                f"({t} > ? OR ({t} = ? AND id > ?))", (last[t], last[t], last["id"])
            )
        return Request(request.url, {}, "POST", {**request.json,
                                                 "filters": [*self._base, after.to_json()]})  # fmt: skip


class FiixBase(ManifestConnector):
    def __init__(self, settings: SourceSettings, sleep: Callable[[float], None] = time.sleep):
        c = settings.credentials
        self.app_key, self.access_key = c.get("app_key"), c.get("access_key")
        self._secret = c.get("secret_key")
        missing = [n for n, v in (("app_key", self.app_key), ("access_key", self.access_key),
                                  ("secret_key", self._secret)) if not v]  # fmt: skip
        if missing:
            raise ValueError(f"fiix: credentials need {', '.join(missing)}")
        self._ids = itertools.count()
        super().__init__(settings, sleep)

    # --- requests ------------------------------------------------------------------------------
    def body(self, req: p.FindRequest | p.RpcRequest | p.BatchRequest) -> dict[str, Any]:
        return p.request_body(req, next(self._ids), int(time.time() * 1000))

    def build_request(self, entity: str, window: Window, keys_only: bool = False) -> Request:
        e = self.manifest.entity(entity)
        if e.transform in READS_FIELDS:  # a key listing runs the transform: it needs its fields
            keys_only = False
        if entity == "customers":
            self._customer_ids = None  # collected afresh by each read (`only_customers`)
        params = super().build_request(entity, Window(), keys_only).params
        filters = [p.FindFilter(params["ql"])] if params.get("ql") else []
        t = e.change_time
        windowed = bool(t and e.is_incremental and not keys_only and not window.is_full)
        if windowed:
            bounds = [self._time(window.start)]  # type: ignore[arg-type]
            ql = f"{t} >= ?"
            if window.end is not None:
                bounds.append(self._time(round_up(window.end)))
                ql += f" AND {t} < ?"
            filters.append(p.FindFilter(ql, tuple(bounds)))
        fields = params.get("fields") or "id"
        if windowed and t not in fields.split(", "):
            fields += f", {t}"
        find = p.FindRequest(
            params["className"], fields, tuple(filters), f"{t}, id" if windowed else "id"
        )
        return Request(self.path(entity), {}, "POST", self.body(find))

    def _time(self, dt: Any) -> str:
        """A window bound as Fiix users write it: ``YYYY-MM-DD HH:MM:SS`` in the tenant's zone."""
        return format_time(dt.replace(microsecond=0), "iso_naive", self.settings.timezone).replace(
            "T", " "
        )

    def prepare(self, prepared: requests.PreparedRequest) -> None:
        """A fresh signed query string for every attempt (the timestamp moves)."""
        body = orjson.loads(prepared.body or b"{}")
        endpoint = str(prepared.url).split("?", 1)[0]
        uri, headers = p.signed_uri(endpoint, body.get(p.MAGIC, "FindRequest"), self.app_key,
                                    self.access_key, self._secret, int(time.time() * 1000))  # type: ignore[arg-type]  # fmt: skip
        prepared.url = uri
        prepared.headers.update(headers)

    def classify(self, response: requests.Response, body: Any) -> Verdict | None:
        """Fiix's error object (HTTP 200, or 429 when throttled): throttling (code 1100) is
        retried after its wait advisory; a refused key or signature is ``auth``; any other error
        is final, naming its cause and what was asked."""
        err = body.get("error") if isinstance(body, dict) else None
        if not err:
            return None
        e = p.FiixError.from_json(err)
        if e.throttled:
            return Verdict("retry", f"throttled: {e.describe()}", e.wait_ms / 1000, "throttled")
        cause = CAUSES.get(e.code, "Fiix answered an error")
        detail = f"{_what(response.request)}: {cause}: {e.describe()}"
        if e.code in p.AUTH_CODES:
            return Verdict("auth", detail)
        return Verdict("permanent", detail, status=f"error {e.code}")

    def call(self, req: p.FindRequest | p.RpcRequest | p.BatchRequest) -> dict[str, Any]:
        return self.send(Request(self.path("sites"), {}, "POST", self.body(req))).decoded  # type: ignore[attr-defined]

    # --- transforms ----------------------------------------------------------------------------
    def _children(self, rows: list[dict], cls: str, fk: str, fields: str, name: str) -> list[dict]:
        by_parent: dict[Any, list[dict]] = {r["id"]: [] for r in rows}
        chunks = [list(by_parent)[i : i + CHUNK] for i in range(0, len(by_parent), CHUNK)]
        after = {i: 0 for i in range(len(chunks))}
        while after:
            order = list(after)
            finds = tuple(p.FindRequest(
                cls, fields, (p.FindFilter(f"{fk} IN ({', '.join('?' * len(chunks[i]))})",
                                           tuple(chunks[i])), p.FindFilter("id > ?", (after[i],))),
                "id", 0, self.max_page_size) for i in order)  # fmt: skip
            out = self.call(p.BatchRequest(finds))
            for i, sub in zip(order, out.get("responses") or [], strict=True):
                raise_for_error(self.system, f"POST BatchRequest FindRequest {cls}", sub)
                objs = sub.get("objects") or []
                for o in objs:
                    by_parent.setdefault(o.get(fk), []).append(o)
                if len(objs) < self.max_page_size:
                    del after[i]
                else:
                    after[i] = objs[-1]["id"]
        for r in rows:
            r[name] = by_parent[r["id"]]
        return rows

    def _child_fields(self, entity: str, base: str, name: str) -> str:
        """``base`` plus the custom fields' paths through the child list ``name``."""
        names = dict.fromkeys(f.strip() for f in base.split(","))
        for path in self.requested(entity):
            head, _, rest = path.partition(".")
            if head == name and rest:
                names.setdefault(rest.split(".", 1)[0], None)
        return ", ".join(names)

    def attach_lines(self, entity: str, rows: list[dict]) -> list[dict]:
        fields = self._child_fields(entity, LINE_FIELDS, "lines")
        return self._children(rows, "PurchaseOrderLineItem", "intPurchaseOrderID", fields, "lines")

    def attach_assets(self, entity: str, rows: list[dict]) -> list[dict]:
        fields = self._child_fields(entity, "id, intScheduledMaintenanceID, intAssetID", "assets")
        return self._children(rows, "ScheduledMaintenanceAsset", "intScheduledMaintenanceID",
                              fields, "assets")  # fmt: skip

    def _related(self, rows: list[dict], fk: str, cls: str, field: str, fields: str
                 ) -> dict[Any, list[dict]]:  # fmt: skip
        """``{value of rows' fk: [cls rows whose field is it]}``, in BatchRequests of FindRequests
        (`_children`, keyset-paged per chunk)."""
        keys = [{"id": v} for v in dict.fromkeys(r.get(fk) for r in rows) if v is not None]
        if not keys:
            return {}
        self._children(keys, cls, field, fields, "_rows")
        return {k["id"]: k["_rows"] for k in keys}

    def only_stocked(self, entity: str, rows: list[dict]) -> list[dict]:
        """Storerooms: the page's facilities that some Stock row keeps parts in."""
        stock = self._related(rows, "id", "Stock", "intFacilityID", "id, intFacilityID")
        return [r for r in rows if stock.get(r["id"])]

    def only_customers(self, entity: str, rows: list[dict]) -> list[dict]:
        """Customers: the page's businesses that an asset names in ``strCustomerIds`` (Fiix's
        business tracking); the ids are collected once per read, keyset-paged over the assets
        that name any (only that column is asked for)."""
        if getattr(self, "_customer_ids", None) is None:
            ids: set[str] = set()
            after = 0
            while True:
                out = self.call(p.FindRequest(
                    "Asset", "id, strCustomerIds",
                    (p.FindFilter("strCustomerIds IS NOT NULL"), p.FindFilter("id > ?", (after,))),
                    "id", 0, self.max_page_size))  # fmt: skip
                raise_for_error(self.system, "POST FindRequest Asset", out)
                objs = out.get("objects") or []
                for o in objs:
                    ids.update(x.strip() for x in str(o.get("strCustomerIds") or "").split(","))
                if len(objs) < self.max_page_size:
                    break
                after = objs[-1]["id"]
            self._customer_ids = ids - {""}
        return [r for r in rows if str(r["id"]) in self._customer_ids]

    def derive_meters(self, entity: str, rows: list[dict]) -> list[dict]:
        """Meters: one per asset of the page and unit it has readings in (Fiix keeps readings
        per asset and ``MeterReadingUnit``, with no meter record), with its latest reading."""
        readings = self._related(rows, "id", "MeterReading", "intAssetID", READING_FIELDS)
        units = self._units()
        out = []
        for r in rows:
            latest: dict[Any, dict] = {}
            for m in readings.get(r["id"], []):
                u = m.get("intMeterReadingUnitsID")
                seen = latest.get(u)
                if seen is None or (m.get("dtmDateSubmitted") or 0, m["id"]) > (
                        seen.get("dtmDateSubmitted") or 0, seen["id"]):  # fmt: skip
                    latest[u] = m
            for u in sorted(latest, key=lambda x: (x is None, x)):
                m, unit = latest[u], units.get(u) or {}
                out.append({"id": r["id"], "intAssetID": r["id"], "intMeterReadingUnitsID": u,
                            "intSiteID": r.get("intSiteID"), "strName": r.get("strName"),
                            "unit": unit, "lastReading": m})  # fmt: skip
        return out

    def _units(self) -> dict[Any, dict]:
        out = self.call(p.FindRequest("MeterReadingUnit", UNIT_FIELDS, (), "id", 0, 1000))
        raise_for_error(self.system, "POST FindRequest MeterReadingUnit", out)
        return {u["id"]: u for u in out.get("objects") or []}

    def attach_parts(self, entity: str, rows: list[dict]) -> list[dict]:
        """Inventories: each stock row with its part (code, name, last price) as ``part``."""
        parts = self._related(rows, "intAssetID", "Asset", "id", PART_FIELDS)
        for r in rows:
            r["part"] = next(iter(parts.get(r.get("intAssetID")) or []), None)
        return rows

    def _boms(self, rows: list[dict], kinds: tuple[int, ...]) -> list[dict]:
        """The page's AssetConsumingReference rows whose consuming asset is of ``kinds``
        (``intSuperCategorySysCode``)."""
        parents = self._related(rows, "intAssetID", "Asset", "id", "id, intSuperCategorySysCode")
        keep = {k for k, v in parents.items() if v and v[0].get("intSuperCategorySysCode") in kinds}
        return [r for r in rows if r.get("intAssetID") in keep]

    def equipment_boms(self, entity: str, rows: list[dict]) -> list[dict]:
        return self._boms(rows, (2, 3))

    def assembly_boms(self, entity: str, rows: list[dict]) -> list[dict]:
        return self._boms(rows, (4,))

    # --- custom fields -------------------------------------------------------------------------
    def extra_fields(self, entity: str) -> tuple[str, ...]:
        """The custom fields' paths go into the FindRequest's ``fields`` (Fiix returns only what
        is asked for); a path through a child list (``lines.strDescription``) goes to the
        child's FindRequests instead (`attach_lines`, `attach_assets`)."""
        if entity == "meters":  # derived rows: their fields are what `derive_meters` reads
            return ()
        child = CHILDREN.get(self.manifest.entity(entity).transform or "")
        lists = ({child[0]} if child else set()) | set(ATTACHED.get(entity, {}))
        return tuple(f for f in super().extra_fields(entity) if f.split(".", 1)[0] not in lists)

    def describe(self, entity: str) -> list[SourceField]:
        """The entity's class fields (`connectors.fiix.schema`: Fiix has no metadata request),
        ``dv_`` display values of its references, its child list (``lines``, ``assets``) and the
        records a transform attaches (a meter's ``unit`` and ``lastReading``, a stock's ``part``)."""
        if entity == "purchase-orders.line-items":
            return class_fields("PurchaseOrderLineItem")
        e = self.manifest.entity(entity)
        if entity == "meters":  # derived: an asset and unit, with the unit and latest reading
            out = [SourceField(f, field_type(f)) for f in METER_FIELDS]
        else:
            out = class_fields(str(e.params["className"]))
        for name, (cls, fields) in ATTACHED.get(entity, {}).items():
            listed = tuple(SourceField(f, field_type(f)) for f in fields.split(", "))
            out.append(SourceField(name, "object", cls, listed))
        child = CHILDREN.get(e.transform or "")
        if child:
            name, cls = child
            out.append(SourceField(name, "array", cls, tuple(class_fields(cls)), many=True))
        return out

    # --- the rest of the contract --------------------------------------------------------------
    def statuses(self, entity: str) -> list[dict[str, Any]] | None:
        cls = {"work-orders": "WorkOrderStatus", "service-requests": "WorkOrderStatus",
               "purchase-orders": "PurchaseOrderStatus"}.get(entity)  # fmt: skip
        if cls is None:
            return None
        out = self.call(p.FindRequest(cls, "id, strName, intSysCode", (), "id", 0, 1000))
        # ``code`` is the name: what a record's ``status`` carries (its ``dv_`` display value)
        # and what the status categories are keyed by; the system code is the ``subCode``
        return [{"key": str(s["id"]), "name": s.get("strName"), "code": s.get("strName"),
                 "subCode": None if s.get("intSysCode") is None else str(s["intSysCode"]),
                 "scope": cls, "isActive": True} for s in out.get("objects") or []] or None  # fmt: skip

    def check(self) -> None:
        """Connection test: an RpcRequest ``Ping`` (a wrong key or secret fails, status 401)."""
        self.call(p.RpcRequest("Ping", "ping"))
