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

from connectors.kit.manifest import load_manifest
from connectors.kit.sandbox.cli import expand_data
from connectors.kit.sandbox.control import Control
from connectors.maintainx.sandbox.data import ORG_ID, iso_ms
from connectors.maintainx.sandbox.server import Faults, RateLimiter, Sandbox, make_handler
from connectors.maintainx.sandbox.webhooks import Webhooks
from connectors.maintainx.sandbox.world import ENDPOINTS, World

DEFAULT_API_KEY = "maintainx-demo-key"
HERE = Path(__file__).resolve().parents[1]
SANDBOX_DATA = HERE / "sandbox_data"  # --data default: a small data set
_MANIFEST = load_manifest(HERE / "manifest.yaml")
# unified entity -> collection path: the first entity reading each path (stocks and meter
# readings are rows derived from parts and meters, not collections of their own)
COLLECTIONS: dict[str, str] = {}
for _name, _e in _MANIFEST.entities.items():
    if _e.path not in COLLECTIONS.values():
        COLLECTIONS[_name] = _e.path
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
        return self.world.render(path, coll.get(i), full, detail=True)

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


class MaintainXRecords:
    """The control endpoint's view of a running sandbox (unified entity names, key = [id])."""

    def __init__(self, handle: SandboxHandle) -> None:
        self.handle = handle

    def _path(self, entity: str) -> str:
        path = COLLECTIONS.get(entity) or (entity if entity in ENDPOINTS else None)
        if path is None:
            known = ", ".join(COLLECTIONS)
            raise KeyError(f"maintainx sandbox: no collection for {entity!r}; known: {known}")
        return path

    @staticmethod
    def _id(key: list[Any]) -> int:
        if len(key) != 1:
            raise ValueError(f"maintainx keys are one id, got {key}")
        return int(key[0])

    def add(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        return self.handle.create(self._path(entity), **record)

    def change(self, entity: str, key: list[Any], values: dict[str, Any]) -> dict[str, Any]:
        return self.handle.change(self._path(entity), self._id(key), **values)

    def delete(self, entity: str, key: list[Any]) -> bool:
        self.handle.delete(self._path(entity), self._id(key))
        return True


def _now_ms() -> int:
    return int(time.time() * 1000)


def _read_json(file: str | Path) -> Any:
    try:
        return orjson.loads(Path(file).read_bytes())
    except OSError as exc:
        raise ValueError(f"--data {file}: cannot read it ({exc.strerror})") from None
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"--data {file}: not JSON ({exc})") from None


def load_data(world: World, file: str | Path | list[str]) -> None:
    """Replace collections with records from a JSON file ``{"workOrders": [...], ...}``, or from
    ``--data`` values: ``ENTITY=FILE`` / ``/path=FILE`` (a JSON list), a directory of
    ``<entity>.json`` lists, ``default`` (``sandbox_data/``), or such a FILE."""
    if isinstance(file, list | tuple):
        merged: dict[str, list] = {}
        by_path = {path: e.key for path, e in ENDPOINTS.items()}
        for arg in expand_data(list(file), COLLECTIONS, SANDBOX_DATA):
            name, sep, path = arg.partition("=")
            if sep and name in by_path:
                records = _read_json(path)
                if not isinstance(records, list):
                    raise ValueError(f"--data {path}: expected a JSON list of {name} records")
                merged.setdefault(by_path[name], []).extend(records)
            else:
                data = _read_json(arg)
                if not isinstance(data, dict):
                    raise ValueError(
                        f"{arg}: expected a JSON object keyed by collection (e.g. workOrders)"
                    )
                for k, v in data.items():
                    merged.setdefault(k, []).extend(v if isinstance(v, list) else [v])
        _load(world, merged, "--data")
        return
    data = _read_json(file)
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected a JSON object keyed by collection (e.g. workOrders)")
    _load(world, data, str(file))


def _load(world: World, data: dict[str, Any], file: str) -> None:
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
    data: str | Path | list[str] | None = None,
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
    timeout: float = 0.0,
    timeout_seconds: float = 60.0,
    faults: Faults | None = None,
) -> tuple[str, SandboxHandle]:
    """Start a sandbox in a background thread; returns (base URL without /v1, handle)."""
    if rate_limit < 1:
        raise ValueError(f"rate_limit must be at least 1, got {rate_limit}")
    for name, rate in (("fail_429", fail_429), ("fail_500", fail_500), ("slow", slow),
                       ("truncate", truncate)):  # fmt: skip
        if not 0 <= rate <= 1:
            raise ValueError(f"{name} must be a rate between 0 and 1, got {rate}")
    if faults is not None and faults.rates["rpc"]:
        raise ValueError("maintainx sandbox: --rpc-error is for RPC protocols; MaintainX has none")
    world = World(seed=seed, size=size)
    if data:
        load_data(world, data)
    sandbox = Sandbox(
        world, api_key, RateLimiter(rate_limit, rate_window),
        faults or Faults(seed, fail_429, fail_500, slow, truncate, slow_seconds,
                         timeout=timeout, timeout_seconds=timeout_seconds),
        Webhooks(retries=webhook_retries, backoff=webhook_backoff),
    )  # fmt: skip
    server = ThreadingHTTPServer((host, port), make_handler(sandbox))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="maintainx-sandbox", daemon=True).start()
    handle = SandboxHandle(server, sandbox)
    sandbox.control = Control(MaintainXRecords(handle), sandbox.faults, api_key)
    if change_rate > 0:
        handle.start_changes(change_rate, seed)
    return f"http://{host}:{server.server_address[1]}", handle
