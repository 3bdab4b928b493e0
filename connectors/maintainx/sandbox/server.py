"""The sandbox HTTP server: MaintainX's REST API (``/v1``) over the lazy `World`.

Behaves like the service where a client can tell: bearer auth (401), ``x-organization-id``, cursor paging
with ``limit`` 1..200 (400 otherwise), ``updatedAt[gte]``/``[lte]`` and ``sort`` where the spec has them
(400 for parameters an endpoint does not take), ``expand``, ``X-Rate-Limit-*`` headers on every
response and 429 once the window's budget is spent. Faults can be injected at given rates.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

from connectors.kit.sandbox.control import PREFIX, Control
from connectors.kit.sandbox.faults import Faults
from connectors.maintainx.sandbox.data import ORG_ID, parse_ms
from connectors.maintainx.sandbox.webhooks import Webhooks
from connectors.maintainx.sandbox.world import CUSTOM_FIELDS, ENDPOINTS, World

# the collections with a ``GET <path>/<id>`` (not /assetstatuses) -> its object key
SINGULAR = {
    "/workorders": "workOrder", "/assets": "asset", "/locations": "location", "/parts": "part",
    "/purchaseorders": "purchaseOrder", "/vendors": "vendor", "/users": "user", "/teams": "team",
    "/maintenanceplans": "maintenancePlan", "/meters": "meter", "/workrequests": "workRequest",
    "/models": "model", "/manufacturers": "manufacturer",
}  # fmt: skip
_DETAIL = re.compile(r"^(/[a-z]+)/(\d+)$")
_MEMBERS = re.compile(r"^/teams/(\d+)/members$")
_SUB = re.compile(r"^/subscriptions/(\d+)(/secret)?$")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class RateLimiter:
    """A fixed window per API key: ``limit`` requests per ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._start = time.monotonic()
        self._used = 0
        self._lock = threading.Lock()

    def peek(self) -> tuple[int, int]:
        """(remaining, seconds to reset) without using a request."""
        with self._lock:
            now = time.monotonic()
            if now - self._start >= self.window:
                return self.limit, int(self.window)
            return self.limit - self._used, max(1, int(self._start + self.window - now + 0.999))

    def take(self) -> tuple[bool, int, int]:
        """(allowed, remaining after this request, seconds to reset)."""
        with self._lock:
            now = time.monotonic()
            if now - self._start >= self.window:
                self._start, self._used = now, 0
            reset = max(1, int(self._start + self.window - now + 0.999))
            if self._used >= self.limit:
                return False, 0, reset
            self._used += 1
            return True, self.limit - self._used, reset


def encode_cursor(sort: str, key: tuple[int, int]) -> str:
    raw = orjson.dumps([sort, key[0], key[1]])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        s, a, b = orjson.loads(raw)
        if s != sort:
            raise ValueError
        return (int(a), int(b))
    except Exception:
        raise BadRequest(
            f"Invalid cursor {cursor!r} (cursors only work with the same sort)."
        ) from None


class Sandbox:
    """State of one sandbox instance (shared by its request threads)."""

    def __init__(self, world: World, api_key: str, limiter: RateLimiter, faults: Faults,
                 webhooks: Webhooks) -> None:  # fmt: skip
        self.world, self.api_key, self.limiter = world, api_key, limiter
        self.faults, self.webhooks = faults, webhooks
        self.control: Control | None = None  # the control endpoint (set by start_sandbox)
        self.requests = 0

    # -- listing
    def list(self, path: str, q: dict[str, list[str]]) -> dict[str, Any]:
        ep = ENDPOINTS[path]
        allowed = {"cursor", "limit", "expand", *ep.filters}
        if ep.sorts:
            allowed.add("sort")
        if ep.windows:
            allowed |= {"updatedAt[gte]", "updatedAt[lte]", "createdAt[gte]", "createdAt[lte]"}
        unknown = sorted(set(q) - allowed)
        if unknown:
            raise BadRequest(f"Unsupported query parameter(s) for {path}: {', '.join(unknown)}.")
        limit = _one(q, "limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 200:
            raise BadRequest(f"limit must be an integer between 1 and 200, got {limit!r}.")
        n = int(limit)
        sort = _one(q, "sort", "id")
        if sort != "id" and sort not in ep.sorts:
            raise BadRequest(f"sort must be one of {', '.join(ep.sorts)}, got {sort!r}.")
        desc, field = sort.startswith("-"), sort.lstrip("-")
        if field not in ("id", "createdAt", "updatedAt"):
            raise BadRequest(f"sort {sort!r} is not supported by the sandbox.")
        gte, lte = _time(q, "updatedAt[gte]"), _time(q, "updatedAt[lte]")
        cgte, clte = _time(q, "createdAt[gte]"), _time(q, "createdAt[lte]")
        expand = set(q.get("expand", []))
        bad = expand - {e for e, _ in ep.expand}
        if bad:
            raise BadRequest(f"Unsupported expand value(s) for {path}: {', '.join(sorted(bad))}.")
        assignable = _one(q, "onlyAssignable", "false")
        if assignable not in ("true", "false"):
            raise BadRequest(f"onlyAssignable must be true or false, got {assignable!r}.")
        cursor = _one(q, "cursor", "")
        after = decode_cursor(cursor, sort) if cursor else None
        coll = self.world.collections[path]
        out: list[dict[str, Any]] = []
        last = None
        more = False
        for i in coll.iterate(field, desc, gte, lte, after):
            rec = coll.get(i)
            if cgte is not None or clte is not None:
                c = parse_ms(rec["createdAt"])
                if (cgte is not None and c < cgte) or (clte is not None and c > clte):
                    continue
            if assignable == "true" and rec.get("role") == "REQUESTER":
                continue  # requesters only submit work requests: no work can be assigned to them
            if len(out) == n:
                more = True
                break
            last = i
            if ep.summary:
                rec = {k: rec.get(k) for k in ep.summary}
            out.append(self.world.render(path, rec, expand))
        next_cursor = encode_cursor(sort, coll.signed_key(last, field, desc)) if more else None
        next_url = None
        if next_cursor:
            params = [(k, v) for k, vs in q.items() if k != "cursor" for v in vs]
            next_url = f"/v1{path}?" + urlencode([*params, ("cursor", next_cursor)])
        return {ep.key: out, "nextCursor": next_cursor, "nextPageUrl": next_url}

    def detail(self, path: str, rid: int) -> dict[str, Any] | None:
        coll = self.world.collections[path]
        i = coll.index_of(rid)
        if i is None:
            return None
        expand = {e for e, _ in ENDPOINTS[path].expand}
        return {SINGULAR[path]: self.world.render(path, coll.get(i), expand, detail=True)}

    def members(self, team_id: int, q: dict[str, list[str]]) -> dict[str, Any] | None:
        if self.world.collections["/teams"].index_of(team_id) is None:
            return None
        limit = _one(q, "limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 200:
            raise BadRequest(f"limit must be an integer between 1 and 200, got {limit!r}.")
        start = int(_one(q, "cursor", "0") or 0) if _one(q, "cursor", "0").isdigit() else None
        if start is None:
            raise BadRequest("Invalid cursor.")
        rows = self.world.team_members(team_id)
        page = rows[start : start + int(limit)]
        nxt = str(start + len(page)) if start + len(page) < len(rows) else None
        url = f"/v1/teams/{team_id}/members?limit={limit}&cursor={nxt}" if nxt else None
        return {"members": page, "nextCursor": nxt, "nextPageUrl": url}


def _one(q: dict[str, list[str]], name: str, default: str) -> str:
    values = q.get(name)
    return values[-1] if values else default


def _time(q: dict[str, list[str]], name: str) -> int | None:
    if name not in q:
        return None
    try:
        return parse_ms(_one(q, name, ""))
    except ValueError:
        raise BadRequest(
            f"{name} must be an ISO 8601 date-time, got {_one(q, name, '')!r}."
        ) from None


def make_handler(sb: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "MaintainXSandbox/1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet; never logs headers
            pass

        def _send(self, status: int, body: Any, rl: tuple[int, int] | None) -> None:
            data = b"" if body is None else orjson.dumps(body)
            truncate = status == 200 and sb.faults.roll("truncate")
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if rl is not None:
                self.send_header("X-Rate-Limit-Limit", str(sb.limiter.limit))
                self.send_header("X-Rate-Limit-Remaining", str(rl[0]))
                self.send_header("X-Rate-Limit-Reset", str(rl[1]))
            if truncate:
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if sb.control is not None and url.path.startswith(PREFIX):
                status, data = sb.control.handle(method, self.path, self.headers, raw)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            sb.requests += 1
            auth = self.headers.get("Authorization", "")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or token.strip() != sb.api_key:
                return self._send(401, {"error": "Invalid token"}, sb.limiter.peek())
            allowed, remaining, reset = sb.limiter.take()
            if not allowed:
                return self._send(429, {"error": "Too many requests"}, (0, reset))
            rl = (remaining, reset)
            if sb.faults.roll("429"):
                return self._send(429, {"error": "Too many requests"}, rl)
            if sb.faults.roll("500"):
                return self._send(500, {"error": "Internal Server Error"}, rl)
            if sb.faults.roll("slow"):
                time.sleep(sb.faults.slow_seconds)
            if sb.faults.roll("timeout"):
                sb.faults.hang(self)
                return
            org = self.headers.get("x-organization-id")
            try:
                if org is not None and (not org.strip().isdigit() or int(org) != ORG_ID):
                    raise BadRequest(f"Invalid x-organization-id header {org!r}.", 403)
                status, body = self._route(method, url.path, parse_qs(url.query), raw, org)
            except BadRequest as exc:
                status, body = exc.status, {"errors": [{"error": str(exc)}]}
            self._send(status, body, rl)

        def _route(self, method: str, path: str, q: dict, raw: bytes, org: str | None):
            if not path.startswith("/v1/"):
                return 404, {"error": "Not Found."}
            path = path[3:]
            if method == "GET" and path in ENDPOINTS:
                return 200, sb.list(path, q)
            m = _DETAIL.match(path)
            if method == "GET" and m and m.group(1) in SINGULAR:
                found = sb.detail(m.group(1), int(m.group(2)))
                return (200, found) if found else (404, {"error": "Not Found."})
            if method == "GET" and path.startswith("/customfields/"):
                entity = path.removeprefix("/customfields/")
                if entity not in CUSTOM_FIELDS:
                    raise BadRequest(f"entity must be one of {', '.join(CUSTOM_FIELDS)}, got {entity!r}.")  # fmt: skip
                return 200, CUSTOM_FIELDS[entity]
            m = _MEMBERS.match(path)
            if method == "GET" and m:
                found = sb.members(int(m.group(1)), q)
                return (200, found) if found else (404, {"error": "Not Found."})
            if path == "/subscriptions" and method == "POST":
                if org is None:
                    raise BadRequest("Missing x-organization-id header.")
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    raise BadRequest("Body is not valid JSON.") from None
                problem = sb.webhooks.validate(body)
                if problem:
                    raise BadRequest(problem)
                sub = sb.webhooks.create(body)
                return 201, {"id": sub.id, "status": "VALID", "secret": sub.secret}
            m = _SUB.match(path)
            if m:
                sub = sb.webhooks.subs.get(int(m.group(1)))
                if sub is None:
                    return 404, {"error": "subscription Not Found"}
                if m.group(2) and method == "GET":
                    return 200, {"secret": sub.secret}
                if method == "GET":
                    return 200, {"subscription": sub.public()}
                if method == "DELETE":
                    sb.webhooks.subs.pop(sub.id, None)
                    return 204, None
                if method == "PATCH":
                    body = json.loads(raw or b"{}")
                    merged = {"type": sub.type, "url": sub.url, **body}
                    problem = sb.webhooks.validate(merged)
                    if problem:
                        raise BadRequest(problem)
                    sub.type, sub.url = merged["type"], merged["url"]
                    return 200, {"subscription": sub.public()}
            return 404, {"error": "Not Found."}

        def do_GET(self) -> None:  # noqa: N802
            self._handle("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._handle("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._handle("PUT")

        def do_PATCH(self) -> None:  # noqa: N802
            self._handle("PATCH")

        def do_DELETE(self) -> None:  # noqa: N802
            self._handle("DELETE")

    return Handler
