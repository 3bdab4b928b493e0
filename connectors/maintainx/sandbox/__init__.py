"""A protocol-faithful MaintainX REST sandbox (``python -m connectors.maintainx.sandbox --port PORT``).

`start_sandbox(...)` runs one in-process instance and returns ``(base_url, handle)``; the handle stops
it and changes records over time (`change`, `create`, `delete`), which also sends signed webhook
deliveries to subscribers. Instances share nothing.
"""

from __future__ import annotations

import random
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

from connectors.maintainx.sandbox.data import ORG_ID, iso_ms
from connectors.maintainx.sandbox.server import Faults, RateLimiter, Sandbox, make_handler
from connectors.maintainx.sandbox.webhooks import Webhooks
from connectors.maintainx.sandbox.world import ENDPOINTS, World

DEFAULT_API_KEY = "maintainx-demo-key"
# webhook events per collection: (created, changed, deleted, id field, payload object field)
EVENTS = {
    "/workorders": (
        "NEW_WORK_ORDER",
        "WORK_ORDER_CHANGE",
        "WORK_ORDER_DELETE",
        "workOrderId",
        "newWorkOrder",
    ),  # fmt: skip
    "/parts": ("NEW_PART", "PART_CHANGE", "PART_DELETE", "partId", "newPart"),
    "/assets": ("NEW_ASSET", None, None, "assetId", "newAsset"),
    "/locations": ("NEW_LOCATION", None, None, "locationId", "newLocation"),
    "/vendors": ("NEW_VENDOR", None, None, "vendorId", "newVendor"),
    "/purchaseorders": (
        "NEW_PURCHASE_ORDER",
        "PURCHASE_ORDER_CHANGE",
        None,
        "purchaseOrderId",
        "newPurchaseOrder",
    ),  # fmt: skip
}
_WO_WEBHOOK_FIELDS = ("categories", "description", "dueDate", "extraFields", "locationId", "parts",
                      "priority", "startDate", "title", "vendorIds")  # fmt: skip


class SandboxHandle:
    """Controls one running sandbox."""

    def __init__(self, server: ThreadingHTTPServer, sandbox: Sandbox) -> None:
        self.server, self.sandbox = server, sandbox
        self.world = sandbox.world
        self.webhooks = sandbox.webhooks
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- records
    def record(self, path: str, record_id: int) -> dict[str, Any]:
        """The stored record (all fields, as `GET /v1<path>/<id>` with every expand)."""
        coll = self.world.collections[path]
        i = coll.index_of(record_id)
        if i is None:
            raise KeyError(f"{path}: no record with id {record_id}")
        full = {e for e, _ in ENDPOINTS[path].expand}
        return self.world.render(path, coll.get(i), full)

    def change(self, path: str, record_id: int, at_ms: int | None = None, **fields: Any) -> dict:
        """Change a record now (or at ``at_ms``): its updatedAt moves, webhooks fire."""
        coll = self.world.collections[path]
        i = coll.index_of(record_id)
        if i is None:
            raise KeyError(f"{path}: no record with id {record_id}")
        old = coll.get(i)
        rec = coll.change(i, at_ms or _now_ms(), **fields)
        self._emit(path, 1, rec)
        if path == "/workorders" and old["status"] != rec["status"]:
            payload = self._payload(path, rec)
            payload.update(oldStatus=old["status"], newStatus=rec["status"])
            self.webhooks.emit("WORK_ORDER_STATUS_CHANGE", payload)
        return rec

    def create(self, path: str, **fields: Any) -> dict[str, Any]:
        rec = self.world.collections[path].create(_now_ms(), **fields)
        self._emit(path, 0, rec)
        return rec

    def delete(self, path: str, record_id: int) -> None:
        coll = self.world.collections[path]
        i = coll.index_of(record_id)
        if i is None:
            raise KeyError(f"{path}: no record with id {record_id}")
        rec = coll.get(i)
        coll.delete(i)
        self._emit(path, 2, rec)

    def _payload(self, path: str, rec: dict[str, Any]) -> dict[str, Any]:
        ev = EVENTS[path]
        body: dict[str, Any] = {ev[3]: rec["id"], "orgId": ORG_ID, "occurredAt": iso_ms(_now_ms())}
        if path == "/workorders":
            obj = {k: rec.get(k) for k in _WO_WEBHOOK_FIELDS}
            obj["assetId"] = rec.get("_assetId")
            obj["assigneeIds"] = [a["id"] for a in rec.get("assignees", []) if a["type"] == "USER"]
            obj["teamIds"] = [a["id"] for a in rec.get("assignees", []) if a["type"] == "TEAM"]
            body[ev[4]] = obj
        else:
            body[ev[4]] = {k: v for k, v in rec.items() if not k.startswith("_")}
        return body

    def _emit(self, path: str, kind: int, rec: dict[str, Any]) -> None:
        ev = EVENTS.get(path)
        if ev and ev[kind]:
            payload = self._payload(path, rec)
            if kind == 2 and path == "/workorders":
                payload["WorkOrder"] = payload.pop("newWorkOrder")
            self.webhooks.emit(ev[kind], payload)

    # -- background change feed
    def start_changes(self, per_second: float, seed: int = 0) -> None:
        """Change ``per_second`` random work orders (and now and then a part) every second."""
        rng = random.Random(seed)

        def run() -> None:
            wo = self.world.collections["/workorders"]
            parts = self.world.collections["/parts"]
            while not self._stop.wait(1.0 / max(per_second, 0.001)):
                coll, path = (parts, "/parts") if rng.random() < 0.1 else (wo, "/workorders")
                rid = coll.id_of(rng.randrange(coll.size))
                if coll.index_of(rid) is None:
                    continue
                fields = {"priority": rng.choice(("LOW", "MEDIUM", "HIGH"))} if coll is wo else {}
                self.change(path, rid, **fields)

        t = threading.Thread(target=run, name="maintainx-changes", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.webhooks.close()
        for t in self._threads:
            t.join(timeout=5)


def _now_ms() -> int:
    return int(time.time() * 1000)


def load_data(world: World, file: str | Path) -> None:
    """Replace collections with records from a JSON file ``{"workOrders": [...], ...}``."""
    data = orjson.loads(Path(file).read_bytes())
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected a JSON object keyed by collection (e.g. workOrders)")
    by_key = {e.key: path for path, e in ENDPOINTS.items()}
    for key, records in data.items():
        if key not in by_key:
            raise ValueError(f"{file}: unknown collection {key!r}; known: {', '.join(by_key)}")
        coll = world.collections[by_key[key]]
        coll.size = coll.count = 0
        for n, rec in enumerate(records):
            if not isinstance(rec, dict) or "id" not in rec:
                raise ValueError(f"{file}: {key}[{n}] must be an object with an id")
            coll.create(_now_ms(), **rec)


def start_sandbox(
    port: int = 0,
    host: str = "127.0.0.1",
    seed: int = 1,
    size: int = 1000,
    data: str | Path | None = None,
    api_key: str = DEFAULT_API_KEY,
    rate_limit: int = 100_000,
    rate_window: float = 60.0,
    fail_429: float = 0.0,
    fail_500: float = 0.0,
    slow: float = 0.0,
    truncate: float = 0.0,
    slow_seconds: float = 0.5,
    change_rate: float = 0.0,
    webhook_retries: int = 3,
    webhook_backoff: float = 0.2,
) -> tuple[str, SandboxHandle]:
    """Start a sandbox in a background thread; returns (base URL without /v1, handle)."""
    if rate_limit < 1:
        raise ValueError(f"rate_limit must be at least 1, got {rate_limit}")
    for name, rate in (("fail_429", fail_429), ("fail_500", fail_500), ("slow", slow),
                       ("truncate", truncate)):  # fmt: skip
        if not 0 <= rate <= 1:
            raise ValueError(f"{name} must be a rate between 0 and 1, got {rate}")
    world = World(seed=seed, size=size)
    if data:
        load_data(world, data)
    sandbox = Sandbox(
        world, api_key, RateLimiter(rate_limit, rate_window),
        Faults(seed, fail_429, fail_500, slow, truncate, slow_seconds),
        Webhooks(retries=webhook_retries, backoff=webhook_backoff),
    )  # fmt: skip
    server = ThreadingHTTPServer((host, port), make_handler(sandbox))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="maintainx-sandbox", daemon=True).start()
    handle = SandboxHandle(server, sandbox)
    if change_rate > 0:
        handle.start_changes(change_rate, seed)
    return f"http://{host}:{server.server_address[1]}", handle
