"""The sandbox's HTTP side: SAP Gateway routes, Basic auth, CSRF, OData v2 JSON, injected faults."""

from __future__ import annotations

import base64
import random
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import orjson

from connectors.kit.sandbox.control import PREFIX as CONTROL_PREFIX
from connectors.kit.sandbox.control import Control
from connectors.kit.sandbox.faults import check_rate
from connectors.sap_s4hana.metadata import SERVICES, metadata_path
from connectors.sap_s4hana.sandbox.data import Dataset, Table
from connectors.sap_s4hana.sandbox.odata import (
    ODataError,
    check_select,
    compile_filter,
    key_predicate,
    parse_key_predicate,
    sort_key,
    wire_offset,
)
from connectors.sap_s4hana.sandbox.odata4 import (
    PREFIX4,
    V4_SETS,
    ODataV4Error,
    collection,
    metadata_xml,
)
from connectors.sap_s4hana.sandbox.wire import WireError

PREFIX = "/sap/opu/odata/sap/"
SESSION_COOKIE = "SAP_SESSIONID_SBX_100"
WRITABLE = {("API_MAINTENANCEORDER", "MaintenanceOrder")}
# GET function imports: service -> name -> (entity set returned, parameters matched on it)
FUNCTION_IMPORTS = {
    "API_CV_ATTACHMENT_SRV": {
        "GetAllOriginals": (
            "AttachmentContentSet",
            ("BusinessObjectTypeName", "LinkedSAPObjectKey"),
        )
    },
}
# services SAP publishes under a version (";v=0002") as well as the first one
VERSIONED = {"API_MAINTENANCEORDER", "API_BILL_OF_MATERIAL_SRV"}


@dataclass
class Faults:
    """Random fault rates (0..1) plus a queue of forced faults for the next requests."""

    fail_429: float = 0.0
    retry_after: float = 1.0
    fail_500: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 2.0
    truncate: float = 0.0
    forced: deque = field(default_factory=deque)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    counts: dict = field(
        default_factory=lambda: dict.fromkeys(("429", "500", "truncate", "slow"), 0)
    )

    def next(self) -> str | None:
        if self.forced:
            kind = self.forced.popleft()
            self.counts[kind] = self.counts.get(kind, 0) + 1
            return kind
        r = self.rng.random
        for kind, rate in (("429", self.fail_429), ("500", self.fail_500),
                           ("truncate", self.truncate), ("slow", self.slow)):  # fmt: skip
            if rate and r() < rate:
                self.counts[kind] += 1
                return kind
        return None

    # the kit's control endpoint (``PUT/GET /_sandbox/faults``)
    RATES: ClassVar[dict[str, str]] = {"fail_429": "fail_429", "429": "fail_429", "fail_500": "fail_500", "500": "fail_500",
             "slow": "slow", "truncate": "truncate"}  # fmt: skip

    def update(self, **values: float) -> None:
        """New rates (``fail_429``, ``fail_500``, ``slow``, ``truncate``) or seconds
        (``retry_after``, ``slow_seconds``); what the SAP sandbox cannot inject is refused."""
        for name, value in values.items():
            if name in self.RATES:
                check_rate(name, value)
            elif name in ("retry_after", "slow_seconds"):
                if float(value) < 0:
                    raise ValueError(f"{name} must be at least 0, got {value}")
            else:
                raise ValueError(f"unknown fault setting {name!r} (the SAP sandbox injects 429, "
                                 "500, slow answers and truncated bodies)")  # fmt: skip
        for name, value in values.items():
            setattr(self, self.RATES.get(name, name), float(value))

    def state(self) -> dict[str, Any]:
        return {"rates": {"429": self.fail_429, "500": self.fail_500, "slow": self.slow,
                          "truncate": self.truncate}, "counts": dict(self.counts),
                "retry_after": self.retry_after, "slow_seconds": self.slow_seconds}  # fmt: skip


class SapSandbox(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    control: Control  # the kit's control endpoint (set by `build_server`)

    def __init__(self, addr: tuple[str, int], dataset: Dataset, user: str, password: str,
                 faults: Faults, server_page_size: int = 1000) -> None:  # fmt: skip
        super().__init__(addr, Handler)
        self.dataset = dataset
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.faults = faults
        self.server_page_size = server_page_size
        self.sessions: dict[str, str] = {}  # session id -> csrf token
        self.metadata = {s: metadata_path(s).read_bytes() for s in SERVICES}
        self.cache: OrderedDict[tuple, list[int]] = OrderedDict()
        self.indexes: dict[tuple, dict[tuple, list[dict]]] = {}
        self.requests = 0

    def nav_index(self, table: Table, props: tuple[str, ...]) -> dict[tuple, list[dict]]:
        """``table``'s rows by the values of ``props`` (a navigation's dependent properties),
        built once per table version."""
        key = (table.es.service, table.es.name, props, table.version)
        with self.dataset.lock:
            hit = self.indexes.get(key)
            if hit is None:
                hit = {}
                for _, r in table.rows():
                    hit.setdefault(tuple(r.get(p) for p in props), []).append(r)
                self.indexes = {k: v for k, v in self.indexes.items() if k[:3] != key[:3]}
                self.indexes[key] = hit
        return hit

    def select_rows(self, table: Table, filt: str | None, orderby: str | None) -> list[int]:
        """Row ids matching ``$filter`` in ``$orderby`` order, cached until the table changes."""
        key = (table.es.service, table.es.name, filt, orderby, table.version)
        with self.dataset.lock:
            hit = self.cache.get(key)
            if hit is not None:
                self.cache.move_to_end(key)
                return hit
        pred = compile_filter(filt, table.es) if filt else None
        keys = sort_key(orderby, table.es)
        with self.dataset.lock:
            rows = [(rid, r) for rid, r in table.rows() if pred is None or pred(r)]
        if len({desc for _, desc in keys}) == 1:
            fns = [fn for fn, _ in keys]
            rows.sort(key=lambda t: tuple(fn(t[1]) for fn in fns), reverse=keys[0][1])
        else:
            for fn, desc in reversed(keys):
                rows.sort(key=lambda t, fn=fn: fn(t[1]), reverse=desc)
        ids = [rid for rid, _ in rows]
        with self.dataset.lock:
            self.cache[key] = ids
            while len(self.cache) > 16:
                self.cache.popitem(last=False)
        return ids


def _error_body(code: str, message: str) -> bytes:
    return orjson.dumps({"error": {
        "code": code,
        "message": {"lang": "en", "value": message},
        "innererror": {
            "application": {"component_id": "PM-FIO", "service_namespace": "/SAP/",
                            "service_id": "SANDBOX", "service_version": "0001"},
            "transactionid": secrets.token_hex(16).upper(),
            "timestamp": time.strftime("%Y%m%d%H%M%S.0000000", time.gmtime()),
            "Error_Resolution": {"SAP_Transaction": "Run transaction /IWFND/ERROR_LOG on SAP "
                                 "Gateway hub system", "SAP_Note": "See SAP Note 1797736"},
            "errordetails": [{"code": code, "message": message, "propertyref": "",
                              "severity": "error", "target": ""}],
        },
    }})  # fmt: skip


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SapSandbox

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # --- plumbing ---
    def _send(self, status: int, body: bytes = b"", ctype: str = "application/json",
              headers: dict[str, str] | None = None, truncate: bool = False) -> None:  # fmt: skip
        self.send_response(status)
        if body or status != 204:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        if self.path.startswith(PREFIX4):
            self.send_header("OData-Version", "4.0")
        else:
            self.send_header("dataserviceversion", "2.0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body[: len(body) // 2] if truncate else body)

    def _error(self, status: int, message: str, code: str = "SY/530",
               headers: dict[str, str] | None = None) -> None:  # fmt: skip
        self._send(status, _error_body(code, message), "application/json", headers)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == self.server.auth:
            return True
        self._send(401, b"<html><body>Logon failed</body></html>", "text/html",
                   {"WWW-Authenticate": 'Basic realm="SAP NetWeaver Application Server [SBX/100]"'})  # fmt: skip
        return False

    def _session(self) -> str | None:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        morsel = cookie.get(SESSION_COOKIE)
        return morsel.value if morsel else None

    def _route(self) -> tuple[str, str, str, str, dict[str, str]]:
        """(service, service root path, resource path after it, raw query, params)."""
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        if not path.startswith(PREFIX):
            raise ODataError(404, f"No service found for path {path}", "/IWFND/MED/170")
        rest = path[len(PREFIX) :]
        service_seg, _, resource = rest.partition("/")
        service, _, version = service_seg.partition(";")
        if service not in SERVICES or (version and service not in VERSIONED):
            raise ODataError(
                404, f"No service found for namespace '', name '{service_seg}', version '0001'",
                "/IWFND/MED/170",
            )  # fmt: skip
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        return service, f"{PREFIX}{service_seg}/", resource, parts.query, params

    def _table(self, service: str, name: str) -> Table:
        table = self.server.dataset.tables.get((service, name))
        if table is None:
            raise ODataError(
                404, f"Resource not found for segment '{name}'", "/IWBEP/CM_MGW_RT/021"
            )
        return table

    # --- verbs ---
    def _control(self) -> bool:
        """The kit's control endpoint (``/_sandbox/...``, its own key header); True if handled."""
        if not self.path.startswith(CONTROL_PREFIX):
            return False
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, body = self.server.control.handle(self.command, self.path, self.headers, raw)
        self._send(status, body if status != 204 else b"")
        return True

    def do_GET(self) -> None:  # noqa: N802
        if self._control():
            return
        self.server.requests += 1
        if not self._authorized():
            return
        if self.path.startswith(PREFIX4):
            try:
                self._get_v4()
            except ODataV4Error as exc:  # SAP's V4 error: message is a plain string
                body = {"error": {"code": exc.code, "message": exc.message}}
                self._send(exc.status, orjson.dumps(body))
            return
        try:
            self._get()
        except ODataError as exc:
            self._error(exc.status, exc.message, exc.code)

    do_HEAD = do_GET  # noqa: N815

    def _csrf_headers(self) -> dict[str, str]:
        if self.headers.get("x-csrf-token", "").lower() != "fetch":
            return {}
        sid = self._session()
        if sid not in self.server.sessions:
            sid = secrets.token_urlsafe(24)
            self.server.sessions[sid] = secrets.token_urlsafe(18)
        return {
            "x-csrf-token": self.server.sessions[sid],
            "Set-Cookie": f"{SESSION_COOKIE}={sid}; path=/; HttpOnly",
        }

    def _get(self) -> None:
        service, root_path, resource, query, params = self._route()
        extra = self._csrf_headers()
        fault = self.server.faults.next()
        if fault == "429":
            retry = str(self.server.faults.retry_after)
            self._error(
                429, "Rate limit exceeded", "/IWFND/CM_CONSUMER/429", {"Retry-After": retry}
            )
            return
        if fault == "500":
            self._error(500, "Internal server error (injected)", "/IWBEP/CX_MGW_TECH_EXCEPTION")
            return
        if fault == "slow":
            time.sleep(self.server.faults.slow_seconds)
        host = (
            self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_port}"
        )
        root = f"http://{host}{root_path}"
        if resource == "$metadata":
            self._send(200, self.server.metadata[service], "application/xml", extra,
                       truncate=fault == "truncate")  # fmt: skip
            return
        if resource == "":
            sets = [name for (svc, name) in self.server.dataset.tables if svc == service]
            self._send(200, orjson.dumps({"d": {"EntitySets": sets}}), headers=extra)
            return
        if resource.endswith("/$count"):  # plain text, whatever the Accept header says
            table = self._table(service, resource[: -len("/$count")])
            ids = self.server.select_rows(table, params.get("$filter"), None)
            self._send(200, str(len(ids)).encode(), "text/plain", extra)
            return
        fmt = params.get("$format")
        if fmt not in (None, "json") or (
            fmt is None and "json" not in self.headers.get("Accept", "")
        ):
            raise ODataError(415, "The sandbox answers JSON only: send Accept: application/json "
                             "or $format=json")  # fmt: skip
        if resource in FUNCTION_IMPORTS.get(service, {}):
            self._function(service, resource, root, params, extra)
            return
        name, paren, keypart = resource.partition("(")
        table = self._table(service, name)
        if paren:
            rec = self._find(table, "(" + keypart)
            select = check_select(params.get("$select"), table.es)
            entry = self._entry(table, rec, root, select)
            self._expand(table, [(rec, entry)], root, params.get("$expand"), select)
            body = {"d": entry}
            self._send(200, orjson.dumps(body), headers=extra)
            return
        self._collection(table, root, query, params, extra, fault == "truncate")

    def _get_v4(self) -> None:
        """A GET on one of the OData V4 services (`odata4`): $metadata or the entity set."""
        parts = urlsplit(self.path)
        service, _, resource = unquote(parts.path)[len(PREFIX4) :].rpartition("/")
        es = V4_SETS.get(service)
        if es is None:
            raise ODataV4Error(404, f"No service found for path {parts.path}",
                               "/IWBEP/CM_V4_COS/011")  # fmt: skip
        fault = self.server.faults.next()
        if fault == "429":
            body = {"error": {"code": "/IWFND/CM_CONSUMER/429", "message": "Rate limit exceeded"}}
            self._send(429, orjson.dumps(body),
                       headers={"Retry-After": str(self.server.faults.retry_after)})  # fmt: skip
            return
        if fault == "500":
            raise ODataV4Error(500, "Internal server error (injected)", "/IWBEP/CX_GATEWAY")
        if fault == "slow":
            time.sleep(self.server.faults.slow_seconds)
        if resource == "$metadata":
            self._send(200, metadata_xml(es), "application/xml", truncate=fault == "truncate")
            return
        if resource != es.name:
            raise ODataV4Error(404, f"Resource not found for segment '{resource}'",
                               "/IWBEP/CM_V4_RUNTIME/021")  # fmt: skip
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self.server.dataset.lock:
            records = list(self.server.dataset.v4[service])
        body = collection(es, records, params, "", self.server.server_page_size)
        self._send(200, orjson.dumps(body), "application/json;odata.metadata=minimal",
                   truncate=fault == "truncate")  # fmt: skip

    def _function(self, service: str, name: str, root: str, params: dict[str, str],
                  extra: dict[str, str]) -> None:  # fmt: skip
        """A GET function import returning entries of a set, filtered by its parameters
        (`FUNCTION_IMPORTS`: set and the parameters that must match a property)."""
        entity_set, required = FUNCTION_IMPORTS[service][name]
        args = {}
        for param in required:
            raw = params.get(param)
            if raw is None or not (raw.startswith("'") and raw.endswith("'")):
                raise ODataError(400, f"Function import {name}: parameter {param} is missing or "
                                 "not a string literal ('...')")  # fmt: skip
            args[param] = raw[1:-1].replace("''", "'")
        table = self._table(service, entity_set)
        with self.server.dataset.lock:
            rows = [r for _, r in table.rows() if all(r.get(k) == v for k, v in args.items())]
        body = {"d": {"results": [self._entry(table, r, root, None) for r in rows]}}
        self._send(200, orjson.dumps(body), headers=extra)

    def _find(self, table: Table, keypart: str) -> dict:
        key = parse_key_predicate(keypart, table.es)
        with self.server.dataset.lock:
            rid = table.find(tuple(key[k] for k in table.es.keys))
            rec = None if rid is None else table.row(rid)
        if rec is None:
            raise ODataError(404, f"Resource not found for segment '{table.es.name}{keypart}'",
                             "/IWBEP/CM_MGW_RT/021")  # fmt: skip
        return rec

    def _expand(self, table: Table, pairs: list[tuple[dict, dict]], root: str,
                expand: str | None, select: list[str] | None) -> None:  # fmt: skip
        """``$expand``: each named navigation property inline (``{"results": [...]}`` for a
        list, the entry or null for one); the others as ``__deferred`` links."""
        names = [n.strip() for n in (expand or "").split(",") if n.strip()]
        for n in names:
            if n not in table.es.navs:
                raise ODataError(400, f"Property {n} not found in type {table.es.type_name}",
                                 "/IWBEP/CM_MGW_RT/022")  # fmt: skip
        for nav, (target_name, many, keys) in table.es.navs.items():
            if nav not in names:
                if select is None:
                    for _rec, entry in pairs:
                        uri = entry["__metadata"]["uri"]
                        entry[nav] = {"__deferred": {"uri": f"{uri}/{nav}"}}
                continue
            target = self._table(table.es.service, target_name)
            index = self.server.nav_index(target, tuple(d for _, d in keys))
            for rec, entry in pairs:
                found = index.get(tuple(rec.get(p) for p, _ in keys), [])
                items = [self._entry(target, r, root, None) for r in found]
                entry[nav] = {"results": items} if many else (items[0] if items else None)

    @staticmethod
    def _entry(table: Table, rec: dict, root: str, select: list[str] | None) -> dict:
        uri = f"{root}{table.es.name}{key_predicate(table.es, rec)}"
        out: dict[str, Any] = {"__metadata": {"id": uri, "uri": uri, "type": table.es.type_name}}
        codec = table.es.codec
        if select is None:
            out.update(codec.record(rec))
        else:
            for name in select:
                out[name] = codec.value(name, rec.get(name))
        return out

    def _collection(self, table: Table, root: str, query: str, params: dict[str, str],
                    extra: dict[str, str], truncate: bool) -> None:  # fmt: skip
        select = check_select(params.get("$select"), table.es)
        try:
            top = int(params["$top"]) if "$top" in params else None
            skip = int(params.get("$skip", 0))
            token = int(params.get("$skiptoken", 0))
        except ValueError:
            raise ODataError(400, "$top, $skip and $skiptoken must be integers") from None
        if (top is not None and top < 0) or skip < 0 or token < 0:
            raise ODataError(400, "$top, $skip and $skiptoken must not be negative")
        ids = self.server.select_rows(table, params.get("$filter"), params.get("$orderby"))
        chosen = ids[skip:] if top is None else ids[skip : skip + top]
        size = self.server.server_page_size
        page = chosen[token : token + size]
        with self.server.dataset.lock:
            rows = [table.row(rid) for rid in page]
        pairs = [(r, self._entry(table, r, root, select)) for r in rows if r]
        self._expand(table, pairs, root, params.get("$expand"), select)
        d: dict[str, Any] = {"results": [entry for _, entry in pairs]}
        if params.get("$inlinecount") == "allpages":
            d["__count"] = str(len(ids))
        if token + size < len(chosen):
            q = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "$skiptoken"]
            q.append(("$skiptoken", str(token + size)))
            d["__next"] = f"{root}{table.es.name}?{urlencode(q)}"
        self._send(200, orjson.dumps({"d": d}), headers=extra, truncate=truncate)

    def _write(self) -> None:
        if self._control():
            return
        self.server.requests += 1
        if not self._authorized():
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sid, token = self._session(), self.headers.get("x-csrf-token")
        if not sid or not token or self.server.sessions.get(sid) != token:
            self._send(403, b"CSRF token validation failed", "text/plain",
                       {"x-csrf-token": "Required"})  # fmt: skip
            return
        try:
            service, _, resource, _, _ = self._route()
            name, paren, keypart = resource.partition("(")
            table = self._table(service, name)
            if self.command not in ("PATCH", "MERGE") or not paren:
                raise ODataError(405, f"Method {self.command} is not allowed on {resource}",
                                 "/IWBEP/CM_MGW_RT/004")  # fmt: skip
            if (service, name) not in WRITABLE:
                raise ODataError(
                    405, f"{name} is read-only in this sandbox", "/IWBEP/CM_MGW_RT/004"
                )
            self._patch(table, "(" + keypart, body)
        except ODataError as exc:
            self._error(exc.status, exc.message, exc.code)

    do_POST = do_PATCH = do_MERGE = do_PUT = do_DELETE = _write  # noqa: N815

    def _patch(self, table: Table, keypart: str, body: bytes) -> None:
        try:
            changes = orjson.loads(body)
            if not isinstance(changes, dict):
                raise ValueError
        except ValueError:
            raise ODataError(400, "The request body must be a JSON object") from None
        changes = changes.get("d", changes)
        for prop in changes:
            if prop not in table.es.props:
                raise ODataError(400, f"Property {prop} not found in type {table.es.type_name}",
                                 "/IWBEP/CM_MGW_RT/022")  # fmt: skip
            if prop in table.es.keys:
                raise ODataError(400, f"Key property {prop} cannot be changed")
        try:
            changes = table.es.codec.changes(changes)
        except WireError as exc:
            raise ODataError(400, f"Invalid value in the request body: {exc}",
                             "/IWBEP/CM_MGW_RT/003") from None  # fmt: skip
        rec = self._find(table, keypart)
        key = tuple(rec[k] for k in table.es.keys)
        with self.server.dataset.lock:
            new = {**rec, **changes, "LastChangeDateTime": wire_offset(int(time.time() * 1000))}
            table.put(table.find(key), new)
        self._send(204)


def serve_in_thread(server: SapSandbox) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="sap-sandbox", daemon=True)
    thread.start()
    return thread
