"""The sandbox's Fiix API: one POST endpoint, signed requests, typed request objects.

`FiixService.handle(...)` takes what arrived over HTTP (path, raw query string, headers, body)
and returns ``(HTTP status, response object)``; the HTTP server around it is
`connectors.fiix.sandbox.server`. What a client can tell apart from Fiix:

- the query must carry ``service=cmms``, ``appKey``, ``accessKey``, ``signatureMethod=HmacSHA256``
  and ``signatureVersion=1``; ``Authorization`` must be the HMAC-SHA256 (hex, keyed with the
  tenant's secret) of ``host/path?query`` exactly as received. Otherwise the error object names
  the cause (codes 2101 missing, 2102 unknown key, 2103 bad signature; leg
  ``SERVER_REQUEST_RECEIVE``), with HTTP 200 as Fiix answers its errors;
- the body is one request object, ``_maCn`` one of FindRequest, FindByIdRequest, AddRequest,
  ChangeRequest, RemoveRequest, RpcRequest, BatchRequest (and ``action`` in the query, when given,
  must name the same class); the response's ``_maCn`` is the matching ``...Response``;
- FindRequest: ``fields`` (unknown ones refused; ``dv_<reference>`` gives the referenced record's
  name), ``filters`` (`connectors.fiix.sandbox.ql`, all AND-ed), ``orderBy`` (``a, b DESC``),
  ``startIndex`` / ``maxObjects`` (at most `MAX_OBJECTS` per response) and ``totalObjects``;
- throttling: past ``rate_limit`` requests per ``rate_window`` seconds the answer is HTTP 429
  with error code 1100 and the wait advisory in ``error.object.P_CLIENT_AUTO_RETRY_WAIT_ADVISORY_MS``.
"""

from __future__ import annotations

import bisect
import hmac
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import orjson

from connectors.fiix import protocol as p
from connectors.fiix.sandbox.data import CHANGE_TIME, DISPLAY_FIELD
from connectors.fiix.sandbox.ql import QlError, compile_ql
from connectors.fiix.schema import CLASSES as SCHEMA
from connectors.fiix.schema import DISPLAY

MAX_OBJECTS = 1000
SERVER_VERSION = {"major": 2, "minor": 3, "patch": 1, "preRelease": "alpha"}


class Failure(Exception):
    def __init__(self, code: int, message: str, leg: str = "SERVER_REQUEST_PROCESS") -> None:
        super().__init__(message)
        self.error = p.FiixError(code=code, message=message, leg=leg)


class Throttle:
    """``limit`` requests per ``window`` seconds (fixed window)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._start, self._used = time.monotonic(), 0
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """None when allowed, else the milliseconds until the window resets."""
        with self._lock:
            now = time.monotonic()
            if now - self._start >= self.window:
                self._start, self._used = now, 0
            if self._used >= self.limit:
                return max(1, int((self._start + self.window - now) * 1000))
            self._used += 1
            return None


class Tenant:
    """The records, by class and id (ids ascend in insertion order), behind one lock."""

    def __init__(self, world: dict[str, dict[int, dict[str, Any]]]) -> None:
        self.world = world
        self.lock = threading.RLock()
        self._ids: dict[str, list[int]] = {}
        self.next_id = {c: max(recs, default=100) + 1 for c, recs in world.items()}

    def ids(self, cls: str) -> list[int]:
        ids = self._ids.get(cls)
        if ids is None:
            ids = self._ids[cls] = list(self.world[cls])
        return ids

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def add(self, cls: str, values: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            unknown = set(values) - set(SCHEMA[cls]) - {"className"}
            if unknown:
                raise Failure(p.UNKNOWN_FIELD, f"{cls}: unknown fields {sorted(unknown)}")
            rec = {f: None for f in SCHEMA[cls]}
            rec.update({k: v for k, v in values.items() if k != "className"})
            rec["id"] = self.next_id[cls]
            self.next_id[cls] += 1
            if cls in CHANGE_TIME and rec.get(CHANGE_TIME[cls]) is None:
                rec[CHANGE_TIME[cls]] = self.now_ms()
            self.world[cls][rec["id"]] = rec
            self._ids.pop(cls, None)
            return rec

    def change(self, cls: str, rid: int, values: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            rec = self.world[cls].get(rid)
            if rec is None:
                raise Failure(p.NOT_FOUND, f"{cls} {rid} not found")
            unknown = set(values) - set(SCHEMA[cls])
            if unknown:
                raise Failure(p.UNKNOWN_FIELD, f"{cls}: unknown fields {sorted(unknown)}")
            rec.update(values)
            if cls in CHANGE_TIME and CHANGE_TIME[cls] not in values:
                rec[CHANGE_TIME[cls]] = self.now_ms()
            rec["intUpdated"] = (rec.get("intUpdated") or 0) + 1
            return rec

    def remove(self, cls: str, rid: int) -> int:
        with self.lock:
            if self.world[cls].pop(rid, None) is None:
                return 0
            self._ids.pop(cls, None)
            return 1


def _order_key(order_by: str | None, fields: set[str]):
    if not order_by:
        return None
    parts = []
    for item in order_by.split(","):
        words = item.split()
        if not words:
            continue
        name = words[0]
        if name not in fields:
            raise Failure(p.UNKNOWN_FIELD, f"orderBy: unknown field {name!r}")
        desc = len(words) > 1 and words[1].upper() == "DESC"
        parts.append((name, desc))
    return parts


def _sort(records: list[dict], order: list[tuple[str, bool]]) -> list[dict]:
    for name, desc in reversed(order):  # stable sorts, last key first; NULLs first ascending
        records.sort(key=lambda r, n=name: (r.get(n) is not None, r.get(n) or 0), reverse=desc)
    return records


class FiixService:
    def __init__(
        self,
        tenant: Tenant,
        app_key: str,
        access_key: str,
        secret_key: str,
        tz: ZoneInfo,
        rate_limit: int = 100_000,
        rate_window: float = 60.0,
    ) -> None:
        self.tenant = tenant
        self.app_key, self.access_key, self.secret_key = app_key, access_key, secret_key
        self.tz = tz
        self.throttle = Throttle(rate_limit, rate_window)
        self.calls: dict[str, int] = {}  # request class -> count (for tests)

    # --- HTTP ----------------------------------------------------------------------------------
    def handle(
        self, host: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        try:
            req = orjson.loads(body)
        except orjson.JSONDecodeError:
            req = None
        cls = req.get(p.MAGIC) if isinstance(req, dict) else None
        resp_cls = cls if cls in p.REQUESTS else "Request"
        try:
            self.authenticate(host, path, query, headers)
            wait = self.throttle.take()
            if wait is not None:
                err = p.FiixError(
                    code=p.THROTTLED_CLIENT_SHOULD_AUTO_RETRY, leg="SERVER_REQUEST_RECEIVE",
                    message="Too many requests; retry after the advised wait",
                    object={p.WAIT_ADVISORY: wait},
                )  # fmt: skip
                return 429, p.error_response(resp_cls, err)
            if not isinstance(req, dict) or cls not in p.REQUESTS:
                raise Failure(p.BAD_REQUEST, f"not a request object (_maCn {cls!r})",
                              "SERVER_REQUEST_UNPACK")  # fmt: skip
            action = parse_qs(query).get("action", [None])[0]
            if action is not None and action != cls:
                raise Failure(p.BAD_REQUEST, f"action {action!r} does not match _maCn {cls!r}",
                              "SERVER_REQUEST_UNPACK")  # fmt: skip
            out = self.dispatch(req, top=True)
        except Failure as f:
            return 200, p.error_response(resp_cls, f.error)
        except (TypeError, ValueError, AttributeError) as exc:  # a malformed value in the request
            err = p.FiixError(code=p.BAD_REQUEST, leg="SERVER_REQUEST_UNPACK",
                              message=f"malformed request: {exc}")  # fmt: skip
            return 200, p.error_response(resp_cls, err)
        return 200, out

    def authenticate(self, host: str, path: str, query: str, headers: Mapping[str, str]) -> None:
        q = parse_qs(query)
        leg = "SERVER_REQUEST_RECEIVE"
        sig = headers.get("authorization") or headers.get("Authorization")
        missing = [k for k in ("appKey", "accessKey") if not q.get(k)]
        if not sig or missing:
            what = "the Authorization header" if not sig else " and ".join(missing)
            raise Failure(p.AUTH_MISSING, f"Authentication required: {what} missing", leg)
        if (
            q.get("service") != ["cmms"]
            or q.get("signatureMethod") != ["HmacSHA256"]
            or q.get("signatureVersion") != ["1"]
        ):
            raise Failure(p.AUTH_MISSING, "service=cmms, signatureMethod=HmacSHA256 and "
                          "signatureVersion=1 are required", leg)  # fmt: skip
        key_ok = hmac.compare_digest(q["appKey"][0].encode(), self.app_key.encode()) & (
            hmac.compare_digest(q["accessKey"][0].encode(), self.access_key.encode())
        )  # bytes: a non-ASCII value is a mismatch, not an error
        if not key_ok:
            raise Failure(p.AUTH_UNKNOWN_KEY, "Unknown application or access key", leg)
        expected = p.signature(f"{host}{path}?{query}", self.secret_key)
        if not hmac.compare_digest(sig.strip().lower().encode(), expected.encode()):
            raise Failure(p.AUTH_BAD_SIGNATURE,
                          "Request signature does not match (HMAC-SHA256 of host/path?query)", leg)  # fmt: skip

    # --- requests ------------------------------------------------------------------------------
    def dispatch(self, req: dict[str, Any], top: bool = False) -> dict[str, Any]:
        cls = req.get(p.MAGIC)
        self.calls[cls] = self.calls.get(cls, 0) + 1
        handler = {
            "FindRequest": self.find, "FindByIdRequest": self.find_by_id, "AddRequest": self.add,
            "ChangeRequest": self.change, "RemoveRequest": self.remove, "RpcRequest": self.rpc,
            "BatchRequest": self.batch,
        }.get(cls)  # fmt: skip
        if handler is None:
            raise Failure(p.BAD_REQUEST, f"unknown request class {cls!r}", "SERVER_REQUEST_UNPACK")
        out = {p.MAGIC: p.response_class(cls), **handler(req)}
        if top:
            out["serverVersion"] = dict(SERVER_VERSION)
        return out

    def _class(self, req: dict[str, Any]) -> str:
        name = req.get("className")
        if name not in SCHEMA:
            raise Failure(p.UNKNOWN_CLASS, f"unknown className {name!r}")
        return name

    def _projection(self, cls: str, fields: Any) -> list[str] | None:
        if not fields:
            return None
        names = [f.strip() for f in str(fields).split(",") if f.strip()]
        known = set(SCHEMA[cls])
        for n in names:
            base = n[3:] if n.startswith("dv_") else n
            if base not in known or (n != base and base not in DISPLAY):
                raise Failure(p.UNKNOWN_FIELD, f"{cls}: unknown field {n!r}")
        return names

    def _project(self, cls: str, rec: dict[str, Any], names: list[str] | None) -> dict[str, Any]:
        if names is None:
            return {"className": cls, **rec}
        out: dict[str, Any] = {"className": cls, "id": rec["id"]}
        for n in names:
            if n.startswith("dv_"):
                target = DISPLAY[n[3:]]
                ref = self.tenant.world[target].get(rec.get(n[3:]))  # type: ignore[arg-type]
                out[n] = ref.get(DISPLAY_FIELD.get(target, "strName")) if ref else None
            else:
                out[n] = rec.get(n)
        return out

    def find(self, req: dict[str, Any]) -> dict[str, Any]:
        cls = self._class(req)
        names = self._projection(cls, req.get("fields"))
        fields = set(SCHEMA[cls])
        preds = []
        for f in req.get("filters") or []:
            if not isinstance(f, dict) or not isinstance(f.get("ql"), str):
                raise Failure(p.BAD_FILTER, "a filter needs a 'ql' string")
            try:
                preds.append(compile_ql(f["ql"], f.get("parameters") or [], fields, self.tz))
            except QlError as exc:
                raise Failure(p.BAD_FILTER, f"filter {f['ql']!r}: {exc}") from None
        order = _order_key(req.get("orderBy"), fields)
        start = int(req.get("startIndex") or 0)
        limit = min(int(req.get("maxObjects") or MAX_OBJECTS), MAX_OBJECTS)
        if start < 0 or limit < 1:
            raise Failure(p.BAD_REQUEST, "startIndex must be >= 0 and maxObjects >= 1")
        with self.tenant.lock:
            records = self.tenant.world[cls]
            ids = self.tenant.ids(cls)
            filters = req.get("filters") or []
            lo = _id_floor(filters)
            first = bisect.bisect_right(ids, lo) if lo is not None else 0
            by_id = not order or order == [("id", False)]
            if by_id and len(preds) == (lo is not None):  # keyset on the id alone: no scan
                total, chosen = len(ids) - first, ids[first + start : first + start + limit]
                page = [self._project(cls, records[i], names) for i in chosen]
                return {"objects": page, "totalObjects": total}
            matches = [records[i] for i in ids[first:] if all(pred(records[i]) for pred in preds)]
            if not by_id:
                matches = _sort(matches, order)  # type: ignore[arg-type]
            page = [self._project(cls, r, names) for r in matches[start : start + limit]]
        return {"objects": page, "totalObjects": len(matches)}

    def find_by_id(self, req: dict[str, Any]) -> dict[str, Any]:
        cls = self._class(req)
        rec = self.tenant.world[cls].get(req.get("id"))  # type: ignore[arg-type]
        if rec is None:
            raise Failure(p.NOT_FOUND, f"{cls} {req.get('id')} not found")
        return {"object": self._project(cls, rec, self._projection(cls, req.get("fields")))}

    def add(self, req: dict[str, Any]) -> dict[str, Any]:
        cls = self._class(req)
        rec = self.tenant.add(cls, req.get("object") or {})
        return {"object": self._project(cls, rec, self._projection(cls, req.get("fields"))),
                "count": 1}  # fmt: skip

    def change(self, req: dict[str, Any]) -> dict[str, Any]:
        cls = self._class(req)
        obj = req.get("object") or {}
        names = [f.strip() for f in str(req.get("changeFields") or "").split(",") if f.strip()]
        if not names:
            raise Failure(p.BAD_REQUEST, "ChangeRequest needs changeFields")
        rec = self.tenant.change(cls, obj.get("id"), {n: obj.get(n) for n in names})
        return {"object": self._project(cls, rec, self._projection(cls, req.get("fields"))),
                "count": 1}  # fmt: skip

    def remove(self, req: dict[str, Any]) -> dict[str, Any]:
        cls = self._class(req)
        return {"count": self.tenant.remove(cls, req.get("id"))}  # type: ignore[arg-type]

    def rpc(self, req: dict[str, Any]) -> dict[str, Any]:
        if req.get("name") == "Ping":
            return {"object": {"pong": True}}
        raise Failure(p.BAD_REQUEST, f"unknown RPC {req.get('name')!r}")

    def batch(self, req: dict[str, Any]) -> dict[str, Any]:
        out = []
        for sub in req.get("requests") or []:
            try:
                out.append(self.dispatch(sub if isinstance(sub, dict) else {}))
            except Failure as f:
                out.append(p.error_response(str(sub.get(p.MAGIC, "Request")), f.error))
        return {"responses": out}


def _id_floor(filters: list[Any]) -> int | None:
    """A lower bound on ids when a filter is exactly ``id > ?`` (keyset paging): a fast path."""
    for f in filters:
        if isinstance(f, dict) and str(f.get("ql", "")).replace(" ", "") == "id>?":
            params = f.get("parameters") or []
            if len(params) == 1 and isinstance(params[0], int):
                return params[0]
    return None
