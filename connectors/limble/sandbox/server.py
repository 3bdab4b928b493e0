"""A Limble API v2 stand-in serving `connectors.limble.sandbox.data` records.

What a client can tell apart from Limble (../reference/limble/openapi.yaml):

- Basic auth on every call: no header -> 401, wrong id/secret -> 403, both in the auth
  middleware's legacy shape ``{"error": <status>, "success": false, "msg": ...}``;
- ``GET /v2/<collection>`` answers a bare JSON array; ``limit`` (default 100, at most 1000, else
  400 ``{"error": {"status": 400, "message": "\\"limit\\" must be ..."}}``), ``page`` (from 1;
  ``Next-Page`` / ``Previous-Page`` / ``Last-Page`` headers), ``cursor`` (records whose id is
  greater; with ``page`` -> 400), id lists (``tasks=1,2``, ``pos=``...), ``locations=``;
- windows on ``lastEdited``: ``start`` / ``end`` (tasks, assets, parts, vendors) and
  ``lastEditedStart`` / ``lastEditedEnd`` (po, po/items), Unix seconds, read as the docs word them:
  edited AFTER start and BEFORE end (both exclusive);
- ``orderBy`` (``lastEdited``, ``-lastEdited``, ``createdDate``...) where the docs list it;
- rate limits per minute: ``X-RateLimit-Minute-Limit`` / ``-Remaining`` on every answer, and past
  the limit HTTP 429 with ``X-RateLimit-Minute-TTL`` (seconds until calls come back).

`SandboxHandle` changes, adds and hard-deletes records while it runs (``lastEdited`` = now), in
process or through the kit's control endpoint (``/_sandbox/records/<entity>``, ``X-Sandbox-Key``
= the client secret); faults are the kit's (``429`` answers with ``X-RateLimit-Minute-TTL``).

Webhooks (`connectors.limble.sandbox.webhooks`): ``/v2/webhooks`` (list, create, update, delete;
``X-HTTP-Method-Override`` on a POST), and every change, add and delete of a task, asset, part,
PO, PO item or location is delivered, signed with Limble's scheme, to the enabled webhooks of its
category.
"""

from __future__ import annotations

import base64
import hmac
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from connectors.kit.sandbox.control import PREFIX, Control
from connectors.kit.sandbox.faults import Faults
from connectors.limble.sandbox.data import CHANGE_TIME, ID_FIELD, generate, load
from connectors.limble.sandbox.webhooks import CHANGED, FAST_RETRIES, Invalid, Webhooks

ENTITIES = {  # unified entity (control endpoint, --data ENTITY=FILE) -> collection
    "sites": "/locations", "assets": "/assets", "work-orders": "/tasks", "pm": "/tasks",
    "materials": "/parts", "stocks": "/parts", "purchase-orders": "/po",
    "purchase-orders.line-items": "/po/items", "vendors": "/vendors", "users": "/users",
    "teams": "/teams", "statuses": "/statuses", "regions": "/regions", "priorities": "/priorities",
    "organizations": "/regions", "storerooms": "/locations", "accounts": "/gl", "labors": "/users",
    "uom": "/uom", "inventories": "/parts", "assets-downtime": "/tasks", "meters": "/assets/fields",
    "documents": "/assets/fields", "meter-readings": "/assets/fields/history",
    "service-requests": "/work-requests/work-request-submissions",
    "work-orders.materials": "/tasks/parts", "pm.materials": "/tasks/parts",
    "assets.materials": "/assets/parts",
}  # fmt: skip

BASE = "/v2"
MAX_LIMIT = 1000
ID_PARAM = {
    "/locations": "locations",
    "/assets": "assets",
    "/tasks": "tasks",
    "/parts": "parts",
    "/po": "pos",
    "/po/items": "items",
    "/vendors": "vendors",
    "/users": "users",
    "/teams": "teams",
    "/statuses": "statuses",
    "/regions": "regions",
    "/priorities": "priorities",
    "/assets/fields/suggested": "fields",
    "/assets/fields": "values",
    "/parts/fields/suggested": "fields",
    "/parts/fields": "values",
    "/vendors/fields/suggested": "fields",
    "/vendors/fields": "values",
    "/assets/parts": "relations",
    "/uom": "unitCodes",
    "/gl": "gls",
    "/work-requests/work-request-submissions": "workRequestIDs",
}  # fmt: skip  (/tasks/parts and /assets/fields/history list no ids of their own)
HISTORY = "/assets/fields/history"  # rows name no asset: the sandbox keeps it as ``_assetID``
WINDOW = {c: ("start", "end") for c in ("/tasks", "/assets", "/parts", "/vendors", "/assets/parts")}
WINDOW.update({c: ("lastEditedStart", "lastEditedEnd") for c in ("/po", "/po/items")})
PAGED = {
    "/tasks",
    "/assets",
    "/parts",
    "/vendors",
    "/locations",
    "/po",
    "/assets/parts",
    "/uom",
    "/assets/fields",
    "/work-requests/work-request-submissions",
}  # take ``page``
NO_CURSOR = {"/uom"}  # unit codes are text: page numbers only
LIMITS = {"/uom": (20, 100)}  # (default, at most); else (100, MAX_LIMIT)
FILTERS = {"locations": "locationID", "assets": "assetID", "pos": "poID", "vendors": "vendorID",
           "parts": "partID", "tasks": "taskID", "fields": "fieldID", "locationIDs": "locationId"}  # fmt: skip
ORDER_BY = {"/tasks": {"due", "createdDate", "dateCompleted", "scheduledStart", "lastEdited"},
            "/assets": {"lastEdited"}}  # fmt: skip


class Reject(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.status, self.body = status, body


class Minute:
    """``limit`` calls per minute (a fixed window, as Limble's per-minute budget)."""

    def __init__(self, limit: int) -> None:
        self.limit, self._start, self._used = limit, time.monotonic(), 0
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, int, int]:
        with self._lock:
            now = time.monotonic()
            if now - self._start >= 60:
                self._start, self._used = now, 0
            ttl = max(1, int(self._start + 60 - now + 0.999))
            if self._used >= self.limit:
                return False, 0, ttl
            self._used += 1
            return True, self.limit - self._used, ttl


class Store:
    def __init__(self, data: dict[str, list[dict[str, Any]]]) -> None:
        self.lock = threading.RLock()
        self.rows = {c: {r[ID_FIELD[c]]: r for r in data.get(c, [])} for c in ID_FIELD}

    def query(self, coll: str, q: dict[str, list[str]]) -> list[dict[str, Any]]:
        def one(name: str) -> str | None:
            return q[name][0] if q.get(name) else None

        def ints(name: str) -> set[int]:
            try:
                return {int(v) for v in (one(name) or "").split(",") if v.strip()}
            except ValueError:
                raise Reject(
                    400, {"message": f"{name} must be a comma-separated list of ids"}
                ) from None

        def num(name: str) -> int | None:
            v = one(name)
            try:
                return None if v is None else int(v)
            except ValueError:
                raise Reject(400, {"message": f"{name} must be an integer"}) from None

        id_field = ID_FIELD[coll]
        with self.lock:
            rows = list(self.rows[coll].values())
        rows.sort(key=lambda r: r[id_field])
        if coll == "/uom":  # text ids
            codes = {v.strip() for v in (one("unitCodes") or "").split(",") if v.strip()}
            rows = [r for r in rows if r[id_field] in codes] if codes else rows
        elif coll in ID_PARAM:
            wanted = ints(ID_PARAM[coll])
            if wanted:
                rows = [r for r in rows if r[id_field] in wanted]
        for param, fld in FILTERS.items():
            if param != ID_PARAM.get(coll) and one(param) is not None:
                ids = ints(param)
                fld = "_assetID" if coll == HISTORY and fld == "assetID" else fld
                rows = [r for r in rows if r.get(fld) in ids]
        types = {v[0] for k, v in q.items() if re.fullmatch(r"fieldType\[\d+\]", k) and v}
        if types and coll.endswith("/fields"):
            rows = [r for r in rows if r.get("fieldType") in types]
        if coll in WINDOW:
            lo, hi = (num(p) for p in WINDOW[coll])
            if lo is not None:
                rows = [r for r in rows if r["lastEdited"] > lo]  # "edited after"
            if hi is not None:
                rows = [r for r in rows if r["lastEdited"] < hi]  # "edited before"
        cursor = num("cursor")
        if cursor is not None:
            rows = [r for r in rows if r[id_field] > cursor]
        order = one("orderBy")
        if order:
            name = order.lstrip("-")
            if name not in ORDER_BY.get(coll, set()):
                raise Reject(400, {"message": f"orderBy {order!r} is not supported here"})
            rows.sort(key=lambda r: (r.get(name) or 0, r[id_field]), reverse=order.startswith("-"))
        return rows


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None,
              cut: bool = False) -> None:  # fmt: skip
        raw = orjson.dumps(body)
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw[: len(raw) // 2] if cut else raw)
        if cut:
            self.close_connection = True

    def _control(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, data = self.server.control.handle(method, self.path, self.headers, raw)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        if self.path.startswith(PREFIX):
            self._control("POST")
            return
        override = (self.headers.get("X-HTTP-Method-Override") or "").upper()
        self._write(override if override in ("PATCH", "PUT") else "POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._control("PATCH") if self.path.startswith(PREFIX) else self._write("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._control("DELETE") if self.path.startswith(PREFIX) else self._write("DELETE")

    def _write(self, method: str) -> None:
        """``/v2/webhooks`` (POST) and ``/v2/webhooks/<id>`` (PATCH, DELETE); else 404."""
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path.rstrip("/")
        hooks = self.server.webhooks
        try:
            self._auth()
            m = re.fullmatch(BASE + r"/webhooks(?:/(\d+))?", path)
            if m is None:
                raise Reject(404, {"message": f"Cannot {method} {path}"})
            try:
                body = orjson.loads(raw) if raw.strip() else {}
            except orjson.JSONDecodeError:
                raise Reject(400, {"message": "Unexpected token in JSON"}) from None
            if m[1] is None and method == "POST":
                self._send(201, hooks.create(body))
            elif m[1] is not None and method in ("PATCH", "PUT"):
                self._send(200, hooks.update(int(m[1]), body))
            elif m[1] is not None and method == "DELETE":
                hooks.delete(int(m[1]))
                self._send_empty(200)
            else:
                raise Reject(404, {"message": f"Cannot {method} {path}"})
        except Invalid as exc:
            self._send(exc.status, {"message": exc.message})
        except Reject as r:
            self._send(r.status, r.body)

    def _send_empty(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self) -> None:  # noqa: N802
        self._control("PUT") if self.path.startswith(PREFIX) else self._send(501, {})

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith(PREFIX):
            self._control("GET")
            return
        srv, faults = self.server, self.server.faults
        parts = urlsplit(self.path)
        coll = parts.path.removeprefix(BASE).rstrip("/") or "/"
        try:
            self._auth()
            allowed, remaining, ttl = srv.minute.take()
            rl = {"X-RateLimit-Limit": "4000", "X-RateLimit-Minute-Limit": str(srv.minute.limit),
                  "X-RateLimit-Minute-Remaining": str(remaining)}  # fmt: skip
            fault = faults.roll()
            if not allowed or fault == "429":
                wait = ttl if not allowed else max(1, int(faults.retry_after))
                self._send(429, {"message": "Too Many Requests"},
                           {**rl, "X-RateLimit-Minute-Remaining": "0",
                            "X-RateLimit-Minute-TTL": str(wait)})  # fmt: skip
                return
            if fault == "slow":
                time.sleep(faults.slow_seconds)
            if fault == "timeout":
                faults.hang(self)
                return
            if fault == "500":
                self._send(500, {"message": "System unavailable, please try again later."})
                return
            if coll == "/webhooks" and parts.path.startswith(BASE):
                body, headers = srv.webhooks.list(parse_qs(parts.query)), {}
            elif coll not in ID_FIELD or not parts.path.startswith(BASE):
                raise Reject(404, {"message": f"Cannot GET {parts.path}"})
            else:
                body, headers = self._list(coll, parts.path, parse_qs(parts.query))
        except Invalid as exc:
            self._send(exc.status, {"message": exc.message})
            return
        except Reject as r:
            self._send(r.status, r.body)
            return
        self._send(200, body, {**rl, **headers}, cut=fault == "truncate")

    def _auth(self) -> None:
        header = self.headers.get("Authorization") or ""
        if not header:
            raise Reject(401, {"error": 401, "success": False, "msg": "No authorization header"})
        try:
            kind, _, token = header.partition(" ")
            user, _, secret = base64.b64decode(token).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            user = secret = kind = ""
        ok = hmac.compare_digest(  # bytes: a non-ASCII value is a mismatch, not an error
            f"{user}:{secret}".encode(), f"{self.server.client_id}:{self.server.secret}".encode()
        )
        if kind != "Basic" or not ok:
            raise Reject(
                403, {"error": 403, "success": False, "msg": "Invalid client id or secret"}
            )

    def _list(self, coll: str, path: str, q: dict[str, list[str]]) -> tuple[Any, dict]:
        default, most = LIMITS.get(coll, (100, MAX_LIMIT))
        try:
            limit = int(q.get("limit", [str(default)])[0])
            page = int(q["page"][0]) if "page" in q else None
        except ValueError:
            raise Reject(400, {"message": "limit and page must be integers"}) from None
        if limit > most or limit < 1:
            raise Reject(400, {"error": {"status": 400,
                                         "message": f'"limit" must be less than or equal to {most}'}})  # fmt: skip
        if coll in NO_CURSOR and "cursor" in q:
            raise Reject(400, {"message": f"cursor is not supported on {path}"})
        if page is not None and "cursor" in q:
            raise Reject(400, {"message": "cursor and page cannot be used simultaneously"})
        if page is not None and (coll not in PAGED or page < 1):
            raise Reject(400, {"message": f"page is not supported on {path}" if coll not in PAGED
                               else "page must be 1 or more"})  # fmt: skip
        rows = self.server.store.query(coll, q)
        if coll == HISTORY:
            rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
        if page is None:
            return rows[:limit], {}
        last = max(1, -(-len(rows) // limit))
        rest = "&".join(f"{k}={v[0]}" for k, v in q.items() if k != "page")
        link = lambda n: f"{path}/?{rest}&page={n}"  # noqa: E731
        headers = {"Last-Page": link(last)}
        if page < last:
            headers["Next-Page"] = link(page + 1)
        if page > 1:
            headers["Previous-Page"] = link(page - 1)
        return rows[(page - 1) * limit : page * limit], headers


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    store: Store
    faults: Faults
    control: Control
    minute: Minute
    client_id: str
    secret: str
    webhooks: Webhooks


class SandboxHandle:
    """The running sandbox. ``records/update/add/delete`` take collections (``/tasks``);
    ``change``/``delete_key`` (the control endpoint's) take unified entities and keys."""

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self.server, self.thread, self.store = server, thread, server.store
        self.webhooks = server.webhooks

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def records(self, coll: str) -> list[dict[str, Any]]:
        with self.store.lock:
            return [dict(r) for r in self.store.rows[coll].values()]

    def update(self, coll: str, rid: int, **values: Any) -> dict[str, Any]:
        with self.store.lock:
            rec = self.store.rows[coll][rid]
            rec.update(values)
            if coll in CHANGE_TIME and "lastEdited" not in values:
                rec["lastEdited"] = int(time.time())
            out = dict(rec)
        self.webhooks.emit(coll, rid, CHANGED.get(coll, "UPDATED"))
        return out

    def add(self, coll: str, record: dict[str, Any]) -> dict[str, Any]:
        coll = ENTITIES.get(coll, coll)
        with self.store.lock:
            rows = self.store.rows[coll]
            rid = record.get(ID_FIELD[coll]) or max(rows, default=0) + 1
            rec = {**record, ID_FIELD[coll]: rid}
            if coll in CHANGE_TIME:
                rec.setdefault("lastEdited", int(time.time()))
            rows[rid] = rec
        self.webhooks.emit(coll, rid, "CREATED")
        return dict(rec)

    def delete(self, coll: str, rid: Any) -> bool:
        if isinstance(rid, list):  # the control endpoint: (entity, key)
            coll, rid = ENTITIES[coll], int(rid[0])
        with self.store.lock:
            gone = self.store.rows[coll].pop(rid, None) is not None
        if gone:
            self.webhooks.emit(coll, rid, "DELETED")
        return gone

    def change(self, entity: str, key: list[Any], values: dict[str, Any]) -> dict[str, Any]:
        coll = ENTITIES[entity]
        if int(key[0]) not in self.store.rows[coll]:
            raise KeyError(f"{entity}: no record with key {key}")
        return self.update(coll, int(key[0]), **values)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        self.webhooks.close()


def start_sandbox(port: int = 0, host: str = "127.0.0.1", seed: int = 1, size: int = 1000,
                  client_id: str = "sandbox-client", secret: str = "sandbox-secret",
                  data: list[str] | str | None = None, rate_limit: int = 100_000,
                  faults: Faults | None = None,
                  webhook_retry_delays: tuple[float, ...] = FAST_RETRIES,
                  ) -> tuple[str, SandboxHandle]:  # fmt: skip
    """Start the sandbox in a thread: (base URL without ``/v2``, handle)."""
    server = _Server((host, port), _Handler)
    server.store = Store(load(data, generate(seed, size)) if data else generate(seed, size))
    server.faults = faults or Faults(seed)
    server.minute = Minute(rate_limit)
    server.client_id, server.secret = client_id, secret
    server.webhooks = Webhooks(secret, webhook_retry_delays)  # signed with the API key
    thread = threading.Thread(target=server.serve_forever, name="limble-sandbox", daemon=True)
    handle = SandboxHandle(server, thread)
    server.control = Control(handle, server.faults, secret)
    thread.start()
    return handle.url, handle
