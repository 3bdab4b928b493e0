"""The sandbox's HTTP side: ``POST /api/`` (the tenant endpoint) over `FiixService`, with
injected faults, and `SandboxHandle` to change records while it runs (tests, the demo)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import orjson

from connectors.fiix import protocol as p
from connectors.fiix.sandbox.data import generate
from connectors.fiix.sandbox.service import FiixService, Tenant

ENDPOINT = "/api/"
DEFAULT_KEYS = ("sandbox-app-key", "sandbox-access-key", "sandbox-secret-key")


@dataclass
class Faults:
    """Injected failures at given rates (0..1): HTTP 500, a cut-off body, a slow answer, and
    Fiix's own throttling answer (HTTP 429, code 1100, ``throttle_wait_ms`` advised)."""

    fail_500: float = 0.0
    truncate: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 0.5
    throttle: float = 0.0
    throttle_wait_ms: int = 50
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate


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

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        parts = urlsplit(self.path)
        if parts.path != ENDPOINT:
            self._send(404, orjson.dumps({"message": f"no such endpoint {parts.path}"}))
            return
        faults, service = self.server.faults, self.server.service
        if faults.roll(faults.slow):
            time.sleep(faults.slow_seconds)
        if faults.roll(faults.fail_500):
            self._send(500, b"<html><body>Internal Server Error</body></html>")
            return
        if faults.roll(faults.throttle):
            err = p.FiixError(
                code=p.THROTTLED_CLIENT_SHOULD_AUTO_RETRY, leg="SERVER_REQUEST_RECEIVE",
                message="Too many requests", object={p.WAIT_ADVISORY: faults.throttle_wait_ms},
            )  # fmt: skip
            try:
                cls = str(orjson.loads(body).get(p.MAGIC) or "Request")
            except (orjson.JSONDecodeError, AttributeError):
                cls = "Request"
            self._send(429, orjson.dumps(p.error_response(cls, err)))
            return
        host = self.headers.get("Host") or ""
        status, out = service.handle(host, parts.path, parts.query, self.headers, body)
        self._send(status, orjson.dumps(out), cut=faults.roll(faults.truncate))

    def do_GET(self) -> None:  # noqa: N802
        self._send(405, orjson.dumps({"message": "Fiix's API takes POST requests only"}))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    service: FiixService
    faults: Faults


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

    def add(self, cls: str, **values: Any) -> dict[str, Any]:
        return dict(self.tenant.add(cls, values))

    def delete(self, cls: str, rid: int) -> None:
        if not self.tenant.remove(cls, rid):
            raise KeyError(f"{cls} {rid} not found")

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
    server.faults = faults or Faults(seed=seed)
    thread = threading.Thread(target=server.serve_forever, name="fiix-sandbox", daemon=True)
    thread.start()
    handle = SandboxHandle(server, thread)
    return handle.url, handle
