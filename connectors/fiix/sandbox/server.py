"""The sandbox's HTTP side: ``POST /api/`` (the tenant endpoint) over `FiixService`, with the
kit's injected faults (``429`` and ``rpc`` are Fiix's throttling answer, code 1100 with the wait
advisory, as HTTP 429 and HTTP 200), the kit's control endpoint (``/_sandbox/records/<entity>``,
``X-Sandbox-Key`` = the secret key) and `SandboxHandle` to change records in process."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import orjson

from connectors.fiix import protocol as p
from connectors.fiix.sandbox.data import generate
from connectors.fiix.sandbox.service import Failure, FiixService, Tenant
from connectors.kit.sandbox.control import PREFIX, Control
from connectors.kit.sandbox.faults import Faults

ENDPOINT = "/api/"
DEFAULT_KEYS = ("sandbox-app-key", "sandbox-access-key", "sandbox-secret-key")
ENTITIES = {  # unified entity (control endpoint) -> record class
    "sites": "Asset", "locations": "Asset", "assets": "Asset", "materials": "Asset",
    "stocks": "Stock", "work-orders": "WorkOrder", "pm": "ScheduledMaintenance",
    "purchase-orders": "PurchaseOrder", "purchase-orders.line-items": "PurchaseOrderLineItem",
    "vendors": "Business", "users": "User", "teams": "User", "meter-readings": "MeterReading",
    "storerooms": "Asset", "accounts": "Account", "labors": "User", "uom": "MeterReadingUnit",
    "companies": "Business", "customers": "Business", "assets-downtime": "AssetOfflineTracker",
    "service-requests": "WorkOrder", "documents": "File", "inventories": "Stock",
    "work-orders.materials": "WorkOrderPart", "pm.materials": "ScheduledMaintenancePart",
    "assets.materials": "AssetConsumingReference", "materials.children": "AssetConsumingReference",
}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, cut: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)
        if cut:
            self.close_connection = True

    def _control(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, data = self.server.control.handle(method, self.path, self.headers, raw)
        self._send(status, data)

    def do_POST(self) -> None:  # noqa: N802
        if self.path.startswith(PREFIX):
            self._control("POST")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        parts = urlsplit(self.path)
        if parts.path != ENDPOINT:
            self._send(404, orjson.dumps({"message": f"no such endpoint {parts.path}"}))
            return
        faults, service = self.server.faults, self.server.service
        fault = faults.roll()
        if fault == "slow":
            time.sleep(faults.slow_seconds)
        if fault == "timeout":
            faults.hang(self)
            return
        if fault == "500":
            self._send(500, b"<html><body>Internal Server Error</body></html>")
            return
        if fault in ("429", "rpc"):
            try:
                cls = str(orjson.loads(body).get(p.MAGIC) or "Request")
            except (orjson.JSONDecodeError, AttributeError):
                cls = "Request"
            err = p.FiixError(
                code=p.THROTTLED_CLIENT_SHOULD_AUTO_RETRY, leg="SERVER_REQUEST_RECEIVE",
                message="Too many requests",
                object={p.WAIT_ADVISORY: int(faults.retry_after * 1000)},
            )  # fmt: skip
            self._send(429 if fault == "429" else 200, orjson.dumps(p.error_response(cls, err)))
            return
        host = self.headers.get("Host") or ""
        status, out = service.handle(host, parts.path, parts.query, self.headers, body)
        self._send(status, orjson.dumps(out), cut=fault == "truncate")

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith(PREFIX):
            self._control("GET")
            return
        self._send(405, orjson.dumps({"message": "Fiix's API takes POST requests only"}))

    def do_PATCH(self) -> None:  # noqa: N802
        self._control("PATCH") if self.path.startswith(PREFIX) else self.do_GET()

    def do_DELETE(self) -> None:  # noqa: N802
        self._control("DELETE") if self.path.startswith(PREFIX) else self.do_GET()

    def do_PUT(self) -> None:  # noqa: N802
        self._control("PUT") if self.path.startswith(PREFIX) else self.do_GET()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    service: FiixService
    faults: Faults
    control: Control


class SandboxHandle:
    """The running sandbox: records, changes (as the tenant's users make them) and stop."""

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self.server, self.thread = server, thread
        self.service = server.service
        self.tenant = server.service.tenant

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def records(self, cls: str) -> list[dict[str, Any]]:
        with self.tenant.lock:
            return [dict(r) for r in self.tenant.world[cls].values()]

    def record(self, cls: str, rid: int) -> dict[str, Any]:
        return dict(self.tenant.world[cls][rid])

    def update(self, cls: str, rid: int, **values: Any) -> dict[str, Any]:
        return dict(self.tenant.change(cls, rid, values))

    def add(self, cls: str, record: dict[str, Any] | None = None, **values: Any) -> dict[str, Any]:
        """A new record of a class (or unified entity), dated now."""
        return dict(self.tenant.add(ENTITIES.get(cls, cls), {**(record or {}), **values}))

    def delete(self, cls: str, rid: Any) -> bool:
        """Hard-delete by class and id (or, from the control endpoint, entity and key)."""
        key = int(rid[0]) if isinstance(rid, list) else int(rid)
        return bool(self.tenant.remove(ENTITIES.get(cls, cls), key))

    def change(self, entity: str, key: list[Any], values: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self.tenant.change(ENTITIES.get(entity, entity), int(key[0]), values))
        except Failure as f:
            raise KeyError(f"{entity}: {f}") from None

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def start_sandbox(
    port: int = 0,
    host: str = "127.0.0.1",
    seed: int = 1,
    size: int = 1000,
    keys: tuple[str, str, str] = DEFAULT_KEYS,
    timezone: str = "UTC",
    rate_limit: int = 100_000,
    rate_window: float = 60.0,
    faults: Faults | None = None,
) -> tuple[str, SandboxHandle]:
    """Start the sandbox in a thread; (base URL, handle). ``keys``: app, access, secret."""
    tenant = Tenant(generate(seed, size))
    server = _Server((host, port), _Handler)
    server.service = FiixService(
        tenant, *keys, tz=ZoneInfo(timezone), rate_limit=rate_limit, rate_window=rate_window
    )
    server.faults = faults or Faults(seed)
    thread = threading.Thread(target=server.serve_forever, name="fiix-sandbox", daemon=True)
    handle = SandboxHandle(server, thread)
    server.control = Control(handle, server.faults, keys[2])
    thread.start()
    return handle.url, handle
