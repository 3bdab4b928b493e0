"""SAP S/4HANA connector: OData v2 through SAP's own client, pyodata, with Millwright's retries.

pyodata parses each service's ``$metadata``, checks property names, builds the entity-set requests and
rejects a ``__next`` that points at another host; it talks HTTP through `RetryingSession`, a
``requests.Session`` that sends every call through `connectors.http.HttpClient` (429 Retry-After, 5xx,
timeouts, truncated bodies, bounded backoff with jitter; then `SourceError` naming system, endpoint and
status). Pages are the server's own (``__next`` with ``$skiptoken``); records are yielded as SAP sent them,
minus ``__metadata`` and deferred navigation links.

Windows are half-open ``[start, end)`` on the set's change time, typed from the metadata:
Edm.DateTimeOffset in UTC, Edm.DateTime in the connection's time zone. Business partners have only
LastChangeDate + LastChangeTime (and none at all until first changed): the server filter selects the
local days, the exact cut is made here, and ``_lastChange`` (local wall clock) is added for the mapping.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import orjson
import requests
from pyodata import Client
from pyodata.exceptions import PyODataException
from pyodata.v2.model import Config, PolicyIgnore
from pyodata.v2.service import GetEntitySetRequest

from connectors.base import (
    Connector,
    EntitySpec,
    SourceError,
    SourceField,
    SourceSettings,
    Window,
)
from connectors.http import HttpClient, RetryPolicy, endpoint_of
from connectors.sap_s4hana.mapping import (
    ENTITIES,
    NO_CONCEPT,
    NOT_YET,
    NOTIF_PHASE_TEXT,
    PO_STATUS_TEXT,
    STATUS_CATEGORIES,
    combine_date_time,
)

SYSTEM = "sap_s4hana"
ODATA_ROOT = "/sap/opu/odata/sap/"
ODATA4_ROOT = "/sap/opu/odata4/sap/"
# APIs SAP publishes as OData V4 only (API name -> path below /sap/opu/odata4/sap/)
V4_PATHS = {
    "API_MEASURINGPOINT": "api_measuringpoint/srvd_a2x/sap/measuringpoint/0001",
    "API_MEASUREMENTDOCUMENT": "api_measurementdocument/srvd_a2x/sap/measurementdocument/0001",
    "API_MAINTENANCETASKLIST": "api_maintenancetasklist/srvd_a2x/sap/maintenancetasklist/0001",
    "BusinessUser": "aps_iam_api_buser_read/srvd_a2x/sap/businessuser/0001",
}
CSDL = "{http://docs.oasis-open.org/odata/ns/edm}"
SERVICE_PATHS = {"API_MAINTENANCEORDER": "API_MAINTENANCEORDER;v=0002",
                 "API_BILL_OF_MATERIAL_SRV": "API_BILL_OF_MATERIAL_SRV;v=0002"}  # fmt: skip
EXTENSION_PREFIXES = ("YY1_", "ZZ1_")  # key-user and partner extension fields
ITEM_CHUNK = 40  # purchase orders per item query (keeps the $filter URL short)
CURRENT_SEGMENT = "datetime'9999-12-31T00:00:00'"

log = logging.getLogger(__name__)
logging.getLogger("pyodata").setLevel(logging.ERROR)  # "Unsupported Annotation" noise


def sap_error_detail(response: requests.Response) -> str:
    """SAP's ``{"error":{"code","message":{"value"}}}`` (OData V2) or ``{"error":{"code",
    "message"}}`` (V4) as ``code: message``; else the text."""
    try:
        err = orjson.loads(response.content)["error"]
        msg = err["message"]
        return f"{err.get('code')}: {msg if isinstance(msg, str) else msg['value']}"[:300]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return response.text[:200]


class RetryingSession(requests.Session):
    """The session pyodata uses: every request goes through `HttpClient`'s retry policy.

    GETs that accept JSON are decoded once (a cut-off body is retried); the decoded value rides on
    ``response.decoded``.
    """

    def __init__(self, http: HttpClient) -> None:
        super().__init__()
        self.http = http

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        accept = str((kwargs.get("headers") or {}).get("Accept", ""))
        decode = method.upper() == "GET" and "json" in accept
        kwargs.pop("allow_redirects", None)
        return self.http.request(method.upper(), url, decode=decode, **kwargs)

    def close(self) -> None:
        self.http.close()
        super().close()


def _page_handler(response: Any) -> dict:
    data = getattr(response, "decoded", None)
    if data is None:
        data = orjson.loads(response.content)
    d = data.get("d") if isinstance(data, dict) else None
    if isinstance(d, list):
        return {"results": d}
    if not isinstance(d, dict) or not isinstance(d.get("results"), list):
        raise SourceError(SYSTEM, endpoint_of(str(response.url)), response.status_code,
                          'body is not an OData v2 collection {"d":{"results":[...]}}')  # fmt: skip
    return d


def _expanded(value: Any) -> bool:
    """An expanded navigation property (``{"results": [...]}`` or an entry), not a deferred link."""
    return isinstance(value, dict) and "__deferred" not in value


def _drop_metadata(value: dict) -> None:
    for item in value.get("results", [value]) if isinstance(value, dict) else []:
        if isinstance(item, dict):
            item.pop("__metadata", None)


def _floor_s(dt: datetime) -> datetime:
    return dt.replace(microsecond=0)


def _ceil_s(dt: datetime) -> datetime:
    return dt if not dt.microsecond else dt.replace(microsecond=0) + timedelta(seconds=1)


class SapS4HanaConnector(Connector):
    """One connection to one SAP S/4HANA system (Basic auth: credentials user + password)."""

    system = SYSTEM
    entities = ENTITIES
    status_categories = STATUS_CATEGORIES
    no_concept = NO_CONCEPT
    not_yet = NOT_YET

    def __init__(self, settings: SourceSettings) -> None:
        super().__init__(settings)
        missing = [k for k in ("user", "password") if not settings.credentials.get(k)]
        if missing:
            raise ValueError(f"{SYSTEM}: credentials need {' and '.join(missing)} (Basic auth)")
        opts = settings.options
        policy = RetryPolicy(
            max_retries=settings.max_retries,
            base_delay=float(opts.get("retry_base_delay", 0.5)),
            max_sleep=float(opts.get("retry_max_sleep", 30.0)),
        )
        self.http = HttpClient(SYSTEM, settings.host, timeout=settings.timeout, policy=policy,
                               error_detail=sap_error_detail)  # fmt: skip
        self.http.session.auth = (settings.credentials["user"], settings.credentials["password"])
        if opts.get("sap_client"):
            self.http.session.params = {"sap-client": str(opts["sap_client"])}
        self.session = RetryingSession(self.http)
        self._services: dict[str, Any] = {}
        self._point_equipment: dict[str, str | None] | None = None

    def check(self) -> None:
        """One cheap authenticated call: the maintenance order API's ``$metadata``."""
        self.service("API_MAINTENANCEORDER")

    # --- services and requests ---
    def service(self, name: str) -> Any:
        """The pyodata service for an SAP API (metadata fetched once per connector)."""
        svc = self._services.get(name)
        if svc is None:
            path = dict(SERVICE_PATHS, **self.settings.options.get("service_paths", {})).get(
                name, name
            )
            url = f"{self.settings.host.rstrip('/')}{ODATA_ROOT}{path}/"
            try:
                svc = Client(url, self.session, config=Config(default_error_policy=PolicyIgnore(),
                                                             retain_null=True))  # fmt: skip
            except PyODataException as exc:
                raise SourceError(
                    SYSTEM, f"GET {endpoint_of(url)}$metadata", "invalid", str(exc)
                ) from None
            self._services[name] = svc
        return svc

    def _pages(self, service: str, entity_set: str, filt: str | None, orderby: str | None,
               select: str | None = None, expand: str | None = None,
               ) -> Iterator[list[dict]]:  # fmt: skip
        """Follow the server's ``__next`` links to the end; one list of records per page."""
        svc = self.service(service)
        entity_type = svc.schema.entity_set(entity_set).entity_type
        nav = [n.name for n in entity_type.nav_proprties]
        next_url: str | None = None
        seen: set[str] = set()
        while True:
            req = GetEntitySetRequest(
                svc.url, svc.connection, _page_handler, entity_set, entity_type
            )
            if next_url:
                req.next_url(next_url)
            else:
                if filt:
                    req.filter(filt)
                if orderby:
                    req.order_by(orderby)
                if select:
                    req.select(select)
                if expand:
                    req.expand(expand)
            try:
                d = req.execute()
            except PyODataException as exc:
                raise SourceError(SYSTEM, f"GET {endpoint_of(svc.url)}{entity_set}", "invalid",
                                  str(exc)) from None  # fmt: skip
            page = d["results"]
            for rec in page:
                rec.pop("__metadata", None)
                for n in nav:
                    if not _expanded(rec.get(n)):
                        rec.pop(n, None)  # a deferred link
                    else:
                        _drop_metadata(rec[n])
            yield page
            next_url = d.get("__next")
            if not next_url:
                return
            if next_url in seen:
                raise SourceError(SYSTEM, f"GET {endpoint_of(next_url)}", "loop",
                                  "server repeated a __next link")  # fmt: skip
            seen.add(next_url)

    # --- OData V4 (measuring points, measurement documents) ---
    def v4_url(self, name: str, entity_set: str) -> str:
        path = dict(V4_PATHS, **self.settings.options.get("service_paths", {})).get(name, name)
        return f"{self.settings.host.rstrip('/')}{ODATA4_ROOT}{path}/{entity_set}"

    def _pages_v4(self, service: str, entity_set: str, filt: str | None, orderby: str | None,
                  select: str | None = None) -> Iterator[list[dict]]:  # fmt: skip
        """An OData V4 set page by page, following ``@odata.nextLink`` (same host only)."""
        base = self.v4_url(service, entity_set)
        params: dict[str, str] | None = {
            k: v for k, v in (("$filter", filt), ("$orderby", orderby), ("$select", select)) if v
        }
        url, seen = base, set()
        while True:
            resp = self.http.request("GET", url, decode=True, params=params,
                                     headers={"Accept": "application/json"})  # fmt: skip
            data = resp.decoded  # type: ignore[attr-defined]
            if not isinstance(data, dict) or not isinstance(data.get("value"), list):
                raise SourceError(SYSTEM, f"GET {endpoint_of(url)}", resp.status_code,
                                  'body is not an OData V4 collection {"value":[...]}')  # fmt: skip
            yield [{k: v for k, v in r.items() if not k.startswith("@")} for r in data["value"]]
            nxt = data.get("@odata.nextLink")
            if not nxt:
                return
            url, params = urljoin(base, nxt), None
            if urlsplit(url).netloc != urlsplit(base).netloc:
                raise SourceError(SYSTEM, f"GET {endpoint_of(base)}", "invalid",
                                  f"@odata.nextLink points at another host: {nxt}")  # fmt: skip
            if url in seen:
                raise SourceError(SYSTEM, f"GET {endpoint_of(url)}", "loop",
                                  "server repeated an @odata.nextLink")  # fmt: skip
            seen.add(url)

    def _describe_v4(self, service: str, entity_set: str) -> list[SourceField]:
        """The set's properties from the service's CSDL 4.0 ``$metadata``."""
        url = self.v4_url(service, "$metadata")
        resp = self.http.request("GET", url, headers={"Accept": "application/xml"})
        try:
            schema = ElementTree.fromstring(resp.content).find(f".//{CSDL}Schema")
            es = next(e for e in schema.iter(f"{CSDL}EntitySet") if e.get("Name") == entity_set)
            type_name = es.get("EntityType").rsplit(".", 1)[1]
            et = next(t for t in schema.iter(f"{CSDL}EntityType") if t.get("Name") == type_name)
        except (ElementTree.ParseError, AttributeError, StopIteration):
            raise SourceError(
                SYSTEM,
                f"GET {endpoint_of(url)}",
                "invalid",
                f"no CSDL entity set {entity_set} in the $metadata",
            ) from None
        return [SourceField(p.get("Name"), p.get("Type"), None,
                            custom=p.get("Name").startswith(EXTENSION_PREFIXES))
                for p in et.findall(f"{CSDL}Property")]  # fmt: skip

    def _attach_point_assets(self, page: list[dict]) -> None:
        """Each measurement document's equipment (``_equipment``) from its measuring point."""
        if self._point_equipment is None:
            self._point_equipment = {
                r["MeasuringPoint"]: r.get("Equipment") or None
                for p in self._pages_v4("API_MEASURINGPOINT", "MeasuringPoint", None,
                                        "MeasuringPoint", "MeasuringPoint,Equipment")
                for r in p
            }  # fmt: skip
        for rec in page:
            rec["_equipment"] = self._point_equipment.get(rec.get("MeasuringPoint"))

    def _read_plan_materials(self, o: dict) -> Iterator[list[dict]]:
        """Each maintenance plan's spare parts: the components of the task lists its items
        name (API_MAINTENANCEPLAN ``MaintenanceItem`` -> OData V4 API_MAINTENANCETASKLIST
        ``MaintenanceTaskListOpMat``), one record per plan and component (``MaintenancePlan``
        added). Both sets are read whole: task lists are shared by plans."""
        tl = ("TaskListType", "TaskListGroup", "TaskListGroupCounter")
        plans: dict[tuple, list[str]] = {}
        for page in self._pages("API_MAINTENANCEPLAN", "MaintenanceItem", "TaskListGroup ne ''",
                                "MaintenancePlan,MaintenanceItem",
                                ",".join(("MaintenancePlan", "MaintenanceItem", *tl))):  # fmt: skip
            for item in page:
                owners = plans.setdefault(tuple(item[k] for k in tl), [])
                if item["MaintenancePlan"] not in owners:
                    owners.append(item["MaintenancePlan"])
        for page in self._pages_v4(o["service"], o["set"], o.get("where"), ",".join(o["orderby"])):
            out = [{**rec, "MaintenancePlan": plan}
                   for rec in page for plan in plans.get(tuple(rec.get(k) for k in tl), ())]  # fmt: skip
            if out:
                yield out

    def _read_attachments(self, o: dict) -> Iterator[list[dict]]:
        """The attachments of every equipment (current time segment): API_CV_ATTACHMENT_SRV
        lists them per business object only, one ``GetAllOriginals`` call per equipment
        (``BusinessObjectTypeName`` EQUI, ``LinkedSAPObjectKey`` the equipment number with its
        leading zeros); ``_entity`` is the equipment as API_EQUIPMENT names it."""
        object_type = o["attachments_of"]
        path = dict(SERVICE_PATHS, **self.settings.options.get("service_paths", {})).get(
            o["service"], o["service"]
        )
        url = f"{self.settings.host.rstrip('/')}{ODATA_ROOT}{path}/GetAllOriginals"
        name, derive = o["derive"]
        filt = f"ValidityEndDate eq {CURRENT_SEGMENT}"
        for page in self._pages("API_EQUIPMENT", "Equipment", filt, "Equipment", "Equipment"):
            out = []
            for eq in page:
                key = eq["Equipment"].replace("'", "''")
                resp = self.http.request(
                    "GET", url, decode=True, headers={"Accept": "application/json"},
                    params={"BusinessObjectTypeName": f"'{object_type}'",
                            "LinkedSAPObjectKey": f"'{key.zfill(18)}'", "$format": "json"},
                )  # fmt: skip
                d = getattr(resp, "decoded", {}).get("d") if isinstance(
                    getattr(resp, "decoded", None), dict) else None  # fmt: skip
                results = d.get("results") if isinstance(d, dict) else d
                if not isinstance(results, list):
                    raise SourceError(SYSTEM, f"GET {endpoint_of(url)}", resp.status_code,
                                      'body is not an OData v2 collection {"d":{"results":[...]}}')  # fmt: skip
                for rec in results:
                    rec.pop("__metadata", None)
                    rec["_entity"], rec[name] = eq["Equipment"], derive(rec)
                    out.append(rec)
            if out:
                yield out

    def _read_construction_boms(self, o: dict) -> Iterator[list[dict]]:
        """Each equipment's spare parts: the material BOM of its construction type
        (``ConstructionMaterial``, current time segment) in its maintenance plant, one record per
        equipment and BOM item (``Equipment`` added). Both sets are read whole."""
        by_material: dict[tuple[str, str], list[str]] = {}
        filt = f"ValidityEndDate eq {CURRENT_SEGMENT} and ConstructionMaterial ne ''"
        for page in self._pages("API_EQUIPMENT", "Equipment", filt, "Equipment",
                                "Equipment,ConstructionMaterial,MaintenancePlant"):  # fmt: skip
            for eq in page:
                key = (eq["ConstructionMaterial"], eq["MaintenancePlant"])
                by_material.setdefault(key, []).append(eq["Equipment"])
        name, derive = o["derive"]
        for page in self._pages(o["service"], o["set"], o.get("where"), ",".join(o["orderby"])):
            out = [{**rec, "Equipment": eq, name: derive(rec)}
                   for rec in page
                   for eq in by_material.get((rec["Material"], rec["Plant"]), ())]  # fmt: skip
            if out:
                yield out

    # --- windows ---
    def _literal(self, service: str, entity_set: str, prop: str, dt: datetime) -> str:
        """A filter literal for ``dt`` typed by the property's EDM type in the metadata."""
        entity_type = self.service(service).schema.entity_set(entity_set).entity_type
        typ = entity_type.proprty(prop).typ.name
        if typ == "Edm.DateTimeOffset":
            return f"datetimeoffset'{dt.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z'"
        if typ == "Edm.DateTime":
            return f"datetime'{dt.astimezone(self.settings.timezone):%Y-%m-%dT%H:%M:%S}'"
        raise SourceError(SYSTEM, f"{service}/{entity_set}", "invalid",
                          f"{prop} is {typ}; a change time must be Edm.DateTime(Offset)")  # fmt: skip

    def _window_filter(self, spec: EntitySpec, window: Window) -> str | None:
        o = spec.options
        parts = [o["where"]] if o.get("where") else []
        if o.get("current_segment"):
            parts.append(f"ValidityEndDate eq {CURRENT_SEGMENT}")
        if "change" in o:
            if window.start is not None:
                lit = self._literal(o["service"], o["set"], o["change"], _floor_s(window.start))
                parts.append(f"{o['change']} ge {lit}")
            if window.end is not None:
                lit = self._literal(o["service"], o["set"], o["change"], _ceil_s(window.end))
                parts.append(f"{o['change']} lt {lit}")
        elif "change_date" in o and window.start is not None:
            parts.append(self._day_filter(o, window))
        return " and ".join(f"({p})" if " or " in p else p for p in parts) or None

    @staticmethod
    def _window_filter_v4(o: dict, window: Window) -> str | None:
        """``$filter`` of a V4 set: its ``where`` and the window on its Edm.DateTimeOffset
        change time (V4 literals are unquoted: ``2024-01-31T15:04:23Z``)."""
        parts = [o["where"]] if o.get("where") else []
        if "change" in o:
            for op, at in (("ge", window.start and _floor_s(window.start)),
                           ("lt", window.end and _ceil_s(window.end))):  # fmt: skip
                if at is not None:
                    parts.append(f"{o['change']} {op} {at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")
        return " and ".join(parts) or None

    def _day_filter(self, o: dict, window: Window) -> str:
        """Local days touched by the window, on the change date (or creation if never changed)."""
        tz: ZoneInfo = self.settings.timezone
        end = window.end or datetime.now(UTC) + timedelta(days=2)
        first = window.start.astimezone(tz).strftime("%Y-%m-%dT00:00:00")
        last = end.astimezone(tz).strftime("%Y-%m-%dT00:00:00")
        (cd, _), (kd, _) = o["change_date"], o["created_date"]
        days = lambda p: f"{p} ge datetime'{first}' and {p} le datetime'{last}'"  # noqa: E731
        return f"({days(cd)}) or ({cd} eq null and {days(kd)})"

    def _exact_cut(self, o: dict, page: list[dict], window: Window) -> list[dict]:
        """Add ``_lastChange`` and keep the records whose local change time falls in the window."""
        tz: ZoneInfo = self.settings.timezone
        (cd, ct), (kd, kt) = o["change_date"], o["created_date"]
        out = []
        for rec in page:
            wall = combine_date_time(rec.get(cd), rec.get(ct)) if rec.get(cd) else None
            wall = wall or combine_date_time(rec.get(kd), rec.get(kt))
            rec["_lastChange"] = wall.isoformat() if wall else None
            if window.start is not None:
                when = wall.replace(tzinfo=tz) if wall else None
                if when is None or when < window.start or (window.end and when >= window.end):
                    continue
            out.append(rec)
        return out

    # --- metadata: what each entity set offers (custom fields) ---
    def _type_fields(self, entity_type: Any, nav: bool = True) -> list[SourceField]:
        out = [
            SourceField(p.name, p.typ.name, p.label or None,
                        custom=p.name.startswith(EXTENSION_PREFIXES))
            for p in entity_type.proprties()
        ]  # fmt: skip
        if nav:
            for n in entity_type.nav_proprties:
                target = n.to_role.entity_type
                out.append(SourceField(
                    n.name, "navigation", getattr(target, "label", None) or target.name,
                    children=tuple(self._type_fields(target, nav=False)),
                    many=n.to_role.multiplicity == "*",
                ))  # fmt: skip
        return out

    def describe(self, entity: str) -> list[SourceField]:
        """The entity set's properties and navigation properties (with their target's
        properties) from the service's ``$metadata``; a purchase order's items under the
        navigation property the client fills (``to_PurchaseOrderItem``)."""
        o = self._spec(entity).options
        if o.get("odata4"):
            return self._describe_v4(o["service"], o["set"])
        svc = self.service(o["service"])
        out = self._type_fields(svc.schema.entity_set(o["set"]).entity_type)
        if o.get("items"):
            item_set, nav = o["items"]
            if not any(f.name == nav for f in out):
                item_type = svc.schema.entity_set(item_set).entity_type
                out.append(SourceField(nav, "navigation", item_set,
                                       children=tuple(self._type_fields(item_type, nav=False)),
                                       many=True))  # fmt: skip
        return out

    def _expand(self, spec: EntitySpec) -> str | None:
        """``$expand`` for the navigation properties the custom fields read."""
        o = spec.options
        entity_type = self.service(o["service"]).schema.entity_set(o["set"]).entity_type
        navs = {n.name for n in entity_type.nav_proprties}
        wanted = [p.split(".")[0] for p in self.requested(spec.name)]
        return ",".join(dict.fromkeys(n for n in wanted if n in navs)) or None

    def _spec(self, entity: str) -> EntitySpec:
        spec = self.entities.get(entity)
        if spec is None:
            raise KeyError(
                f"{SYSTEM} does not support {entity!r}; it supports {', '.join(self.entities)}"
            )
        return spec

    # --- contract ---
    def read(self, entity: str, window: Window) -> Iterator[list[dict[str, Any]]]:
        yield from self._read(entity, window, keys_only=False)

    def read_keys(self, entity: str) -> Iterator[list[dict[str, Any]]]:
        yield from self._read(entity, Window(), keys_only=True)

    def _read(self, entity: str, window: Window, keys_only: bool) -> Iterator[list[dict]]:
        spec = self._spec(entity)
        o = spec.options
        orderby = ",".join(o["orderby"])
        select = ",".join(o.get("key_select") or spec.mapping.key) if keys_only else None
        if o.get("plan_task_lists"):
            yield from self._read_plan_materials(o)
            return
        if o.get("attachments_of"):
            yield from self._read_attachments(o)
            return
        if o.get("construction_bom"):
            yield from self._read_construction_boms(o)
            return
        if o.get("odata4"):  # the server's order and paging; a window when there is a change time
            self._point_equipment = None
            filt = o.get("where") if keys_only else self._window_filter_v4(o, window)
            for page in self._pages_v4(o["service"], o["set"], filt, orderby, select):
                if o.get("point_assets") and not keys_only:
                    self._attach_point_assets(page)
                if page:
                    yield page
            return
        expand = None if keys_only else self._expand(spec)
        filt = self._window_filter(spec, window)
        for page in self._pages(o["service"], o["set"], filt, orderby, select, expand):
            if "change_date" in o and not keys_only:
                page = self._exact_cut(o, page, window)
            if o.get("current_segment"):
                page = [
                    r for r in page if r.get("ValidityEndDate") in (None, "/Date(253402214400000)/")
                ]
            if o.get("derive"):  # a field the client computes (its name starts with _)
                name, fn = o["derive"]
                for rec in page:
                    rec[name] = fn(rec)
            # a key listing of return orders needs the items too: they make a PO one
            if o.get("items") and page and (not keys_only or o.get("returns_only")):
                self._attach_items(o, page)
                if o.get("returns_only"):
                    page = self._returns(o, page)
            if o.get("texts") and not keys_only and page:
                self._attach_texts(o, page)
            if o.get("plant_stock") and not keys_only and page:
                self._attach_plant_stock(page)
            if o.get("role") and page:  # the key listing too: the role makes the record
                page = self._with_role(o, page)
            if page:
                yield page

    def _attach_items(self, o: dict, page: list[dict]) -> None:
        item_set, nav = o["items"]
        by_po: dict[str, list[dict]] = {}
        for rec in page:
            rec[nav] = {"results": by_po.setdefault(rec["PurchaseOrder"], [])}
        numbers = list(by_po)
        for i in range(0, len(numbers), ITEM_CHUNK):
            chunk = numbers[i : i + ITEM_CHUNK]
            filt = " or ".join("PurchaseOrder eq '" + n.replace("'", "''") + "'" for n in chunk)
            for items in self._pages(
                o["service"], item_set, filt, "PurchaseOrder,PurchaseOrderItem"
            ):
                for item in items:
                    by_po[item["PurchaseOrder"]].append(item)

    @staticmethod
    def _returns(o: dict, page: list[dict]) -> list[dict]:
        """Purchase orders with returns items (``IsReturnsItem``), each with those items only."""
        nav = o["items"][1]
        out = []
        for rec in page:
            items = [i for i in rec[nav]["results"] if i.get("IsReturnsItem")]
            if items:
                rec[nav] = {"results": items}
                out.append(rec)
        return out

    def _with_role(self, o: dict, page: list[dict]) -> list[dict]:
        """The business partners of ``page`` that have the role ``o["role"]`` (a query per
        `ITEM_CHUNK` partners on A_BusinessPartnerRole)."""
        role_set, role = o["role"]
        partners = [rec["BusinessPartner"] for rec in page]
        have: set[str] = set()
        for i in range(0, len(partners), ITEM_CHUNK):
            ors = " or ".join("BusinessPartner eq '" + p.replace("'", "''") + "'"
                              for p in partners[i : i + ITEM_CHUNK])  # fmt: skip
            filt = f"BusinessPartnerRole eq '{role}' and ({ors})"
            for rows in self._pages(o["service"], role_set, filt, "BusinessPartner",
                                    "BusinessPartner,BusinessPartnerRole"):  # fmt: skip
                have.update(r["BusinessPartner"] for r in rows)
        return [rec for rec in page if rec["BusinessPartner"] in have]

    def _attach_plant_stock(self, page: list[dict]) -> None:
        """Each valuation's ``_plantStock``: the product's stock in the valuation area's plant,
        every storage location and stock type (API_MATERIAL_STOCK_SRV, a query per
        `ITEM_CHUNK` products)."""
        totals: dict[tuple[str, str], float] = {}
        products = list(dict.fromkeys(rec["Product"] for rec in page))
        for i in range(0, len(products), ITEM_CHUNK):
            filt = " or ".join("Material eq '" + p.replace("'", "''") + "'"
                               for p in products[i : i + ITEM_CHUNK])  # fmt: skip
            for rows in self._pages("API_MATERIAL_STOCK_SRV", "A_MatlStkInAcctMod", filt,
                                    "Material,Plant",
                                    "Material,Plant,MatlWrhsStkQtyInMatlBaseUnit"):  # fmt: skip
                for row in rows:
                    key = (row["Material"], row["Plant"])
                    totals[key] = totals.get(key, 0.0) + float(row["MatlWrhsStkQtyInMatlBaseUnit"])
        for rec in page:
            rec["_plantStock"] = round(totals.get((rec["Product"], rec["ValuationArea"]), 0.0), 3)

    def _attach_texts(self, o: dict, page: list[dict]) -> None:
        """Each record's text in the connection's language (option ``language``, default EN) as
        ``_text``: a second query per `ITEM_CHUNK` records on the text set's key."""
        text_set, keys = o["texts"]
        lang = str(self.settings.options.get("language", "EN")).replace("'", "''")
        by_key = {tuple(rec.get(k) for k in keys): rec for rec in page}
        for rec in page:
            rec["_text"] = None
        wanted = list(by_key)
        for i in range(0, len(wanted), ITEM_CHUNK):
            ors = " or ".join(
                "(" + " and ".join(f"{k} eq '" + str(v).replace("'", "''") + "'"
                                   for k, v in zip(keys, key, strict=True)) + ")"
                for key in wanted[i : i + ITEM_CHUNK]
            )  # fmt: skip
            filt = f"Language eq '{lang}' and ({ors})"
            for texts in self._pages(o["service"], text_set, filt, ",".join(keys)):
                for text in texts:
                    rec = by_key.get(tuple(text.get(k) for k in keys))
                    if rec is not None:
                        rec["_text"] = text

    def statuses(self, entity: str) -> list[dict[str, Any]] | None:
        if entity in ("purchase-orders", "return-orders"):  # processing status, as its text
            return [
                {"key": text, "code": text, "subCode": code, "name": text, "scope": "processing"}
                for code, text in PO_STATUS_TEXT.items()
            ]
        if entity == "service-requests":  # the notification's processing phase, served as its text
            return [
                {"key": text, "code": text, "subCode": code, "name": text, "scope": "phase"}
                for code, text in NOTIF_PHASE_TEXT.items()
            ]
        if entity != "work-orders":
            return None
        names = {"CRTD": "Created", "REL": "Released", "PCNF": "Partially confirmed",
                 "CNF": "Confirmed", "TECO": "Technically completed", "CLSD": "Closed",
                 "DLFL": "Deletion flag"}  # fmt: skip
        return [{"key": k, "code": k, "name": v, "scope": "system"} for k, v in names.items()]

    def close(self) -> None:
        self.session.close()


__all__ = ["RetryingSession", "SapS4HanaConnector", "sap_error_detail"]
