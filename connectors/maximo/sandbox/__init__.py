"""A protocol-faithful IBM Maximo Manage JSON API sandbox
(``python -m connectors.maximo.sandbox --port PORT``).

`start_sandbox(...)` runs one in-process instance on a free port and returns ``(base_url, handle)``;
the handle stops it and changes records over time (`mutate`, `add`, `delete`): a change sets
``changedate`` (where the object structure has one) and a new ``_rowstamp``; a delete makes the
record vanish. Instances share nothing.

Publish channels (`publish`): ``handle.publish.add("MXAPIWODETAIL", url, secret)`` or
``POST /_sandbox/publish`` makes every later change of that structure's records post Maximo's
publish message (XML or JSON, static secret header or basic auth) to ``url``.

``--data mxapiwodetail=wo.json --data mxapiasset=assets.json`` (``start_sandbox(data=[...])``) serves
records from files, plain lists or captured Maximo responses, instead of generated ones (`datafile`).
Every record served carries a ``_rowstamp`` string of digits: the file's, or a generated one.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from connectors.kit.manifest import load_manifest
from connectors.kit.sandbox.cli import expand_data
from connectors.maximo.sandbox import datafile
from connectors.maximo.sandbox.data import World, mix
from connectors.maximo.sandbox.datafile import DataArg
from connectors.maximo.sandbox.publish import MaximoControl, PublishChannels
from connectors.maximo.sandbox.server import Faults, Sandbox, make_handler, rows_of

DEFAULT_API_KEY = "maximo-demo-key"
HERE = Path(__file__).resolve().parents[1]
SANDBOX_DATA = HERE / "sandbox_data"  # --data default: a small captured-style data set
# unified entity -> object structure (from manifest.yaml's paths)
STRUCTURES = {
    name: e.path.rsplit("/", 1)[-1].upper()
    for name, e in load_manifest(HERE / "manifest.yaml").entities.items()
}


class MaximoRecords:
    """The control endpoint's view of a running sandbox (unified entity names)."""

    def __init__(self, handle: SandboxHandle) -> None:
        self.handle = handle

    def _os(self, entity: str) -> str:
        if entity in STRUCTURES:
            return STRUCTURES[entity]
        if entity.upper() in STRUCTURES.values():
            return entity.upper()
        raise KeyError(f"maximo sandbox: no entity {entity!r}; known: {', '.join(STRUCTURES)}")

    def add(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        return self.handle.add(self._os(entity), record)

    def change(self, entity: str, key: list[Any], values: dict[str, Any]) -> dict[str, Any]:
        return self.handle.mutate(self._os(entity), key, **values)

    def delete(self, entity: str, key: list[Any]) -> bool:
        return self.handle.delete(self._os(entity), key)


class SandboxHandle:
    """Controls one running sandbox."""

    def __init__(
        self, server: ThreadingHTTPServer, sandbox: Sandbox, change_rate: float = 0
    ) -> None:
        self.server, self.sandbox = server, sandbox
        self.publish = PublishChannels(sandbox._formatter())  # publish channels (none at start)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=server.serve_forever, daemon=True)]
        if change_rate > 0:
            self._threads.append(
                threading.Thread(target=self._churn, args=(change_rate,), daemon=True)
            )
        for t in self._threads:
            t.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def record(self, os: str, key: tuple | list) -> dict[str, Any] | None:
        """The current internal record (dates as epoch seconds), or None."""
        return self.sandbox.table(os).current(tuple(str(k) for k in key))

    def mutate(self, os: str, key: tuple | list, changedate: datetime | None = None,
               **changes: Any) -> dict[str, Any]:  # fmt: skip
        """Change a record: new values, ``changedate`` (default now) and ``_rowstamp``."""
        table = self.sandbox.table(os)
        key = tuple(str(k) for k in key)
        with table.lock:
            rec = table.current(key)
            if rec is None:
                raise KeyError(f"{os}: no record with key {key}")
            changed = self.sandbox.internal(changes)
            new = {k: v for k, v in rec.items() if k.removesuffix("_description") not in changed}
            new.update(changed)  # a stored <attr>_description no longer holds once <attr> changes
            self._stamp(table, new, changedate)
            table.put(new, replaces=key)
        self.publish.publish(os, new, "Replace")
        return new

    def add(
        self, os: str, record: dict[str, Any], changedate: datetime | None = None
    ) -> dict[str, Any]:
        table = self.sandbox.table(os)
        new = self.sandbox.internal(record)
        if table.current(table.key(new)) is not None:
            raise KeyError(f"{os}: a record with key {table.key(new)} exists")
        self._stamp(table, new, changedate, keep_time="changedate" in record)
        table.put(new)
        self.publish.publish(os, new, "Add")
        return new

    def delete(self, os: str, key: tuple | list) -> bool:
        table = self.sandbox.table(os)
        key = tuple(str(k) for k in key)
        rec = table.current(key)
        gone = table.delete(key)
        if gone and rec is not None:
            self.publish.publish(os, rec, "Delete")
        return gone

    def _stamp(self, table: Any, rec: dict, when: datetime | None, keep_time: bool = False) -> None:
        attr = table.os.time_attr
        if attr == "changedate" and not keep_time:
            rec[attr] = int((when or datetime.now(UTC)).timestamp())
        rec["_rowstamp"] = self.sandbox.next_rowstamp()
        for row in rows_of(rec):  # child rows given without one get theirs too
            if row.get("_rowstamp") is None:
                row["_rowstamp"] = self.sandbox.next_rowstamp()

    def _churn(self, rate: float) -> None:
        """Change ``rate`` work orders per second (status and changedate)."""
        table = self.sandbox.table("MXAPIWODETAIL")
        n = 0
        while not self._stop.wait(1.0 / rate):
            if not table.base_count:
                continue
            n += 1
            i = mix(self.sandbox.world.seed, 99, n) % table.base_count
            rec = table.base(i)
            try:
                self.mutate("MXAPIWODETAIL", table.key(rec), status=("INPRG", "COMP")[n % 2])
            except KeyError:
                continue

    def stop(self) -> None:
        self._stop.set()
        self.publish.close()
        self.server.shutdown()
        self.server.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox(
    port: int = 0, host: str = "127.0.0.1", *, seed: int = 1, size: int = 1000,
    data: DataArg = None, apikey: str = DEFAULT_API_KEY,
    fail_429: float = 0.0, retry_after: float = 1.0, fail_500: float = 0.0, slow: float = 0.0,
    slow_seconds: float = 0.5, truncate: float = 0.0, max_page_size: int = 1000,
    timezone: str = "America/New_York", naive_times: bool = False, change_rate: float = 0.0,
    timeout: float = 0.0, timeout_seconds: float = 60.0, faults: Faults | None = None,
) -> tuple[str, SandboxHandle]:  # fmt: skip
    """Start a sandbox in background threads; returns (base URL, handle).

    ``data`` replaces the generated records (every structure not named in it is empty): what
    ``--data`` takes (``"OS=FILE"`` strings, a list of them, or the path of a ``{OS: records}`` file;
    see `datafile`), or a dict ``{OS: records or captured response}``."""
    if faults is None:
        faults = Faults(seed, fail_429, fail_500, slow, truncate, slow_seconds, retry_after,
                        timeout, timeout_seconds)  # fmt: skip
    if faults.rates["rpc"]:
        raise ValueError("maximo sandbox: --rpc-error is for RPC protocols; Maximo has none")
    if isinstance(data, list | tuple):
        data = expand_data(list(data), STRUCTURES, SANDBOX_DATA)
    world = World(seed, size)
    sandbox = Sandbox(
        world, apikey=apikey, timezone=timezone, naive_times=naive_times,
        max_page_size=max_page_size, faults=faults, data=datafile.load(data, world.structures),
    )  # fmt: skip
    server = ThreadingHTTPServer((host, port), make_handler(sandbox))
    server.daemon_threads = True
    handle = SandboxHandle(server, sandbox, change_rate)
    sandbox.control = MaximoControl(
        MaximoRecords(handle), faults, apikey, handle.publish, dict(STRUCTURES)
    )
    return handle.url, handle


__all__ = ["DEFAULT_API_KEY", "MaximoRecords", "SandboxHandle", "start_sandbox"]
