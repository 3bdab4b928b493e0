"""A protocol-faithful SAP S/4HANA OData v2 sandbox (SAP Gateway behaviour, generated data).

``python -m connectors.sap_s4hana.sandbox --port PORT`` runs it; `start` runs one in this process and
returns ``(base_url, handle)``. The handle stops the server and changes records over time.

Every value is sent in the JSON form OData v2 gives its EDMX type (`wire`: Edm.Int64 and Edm.Decimal as
strings, Edm.Int32 as numbers, ``/Date(ms)/``, ``/Date(ms+0000)/``, ``PT..H..M..S``, null only where the
property is nullable), so SAP's own client, pyodata, reads every set with SAP's published EDMX.
``--data FILE`` (``{"<EntitySet>": [records]}``) replaces generated sets; its values are checked against
the same types (a number for an Edm.Int64 or Edm.Decimal is converted; what cannot be is refused,
naming the set, record and property).

The kit's control endpoint (`connectors.kit.sandbox.control`, ``X-Sandbox-Key`` = the password)
changes, adds and hard-deletes records of a unified entity while the sandbox runs
(`ControlRecords`: the entity's set, its natural key in the mapping's order; a change stamps the
record, or its document's header, as a user's save would), and reads or sets the fault rates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from connectors.kit.sandbox.control import Control
from connectors.sap_s4hana.metadata import SERVICES, metadata_path
from connectors.sap_s4hana.sandbox.data import DOCUMENT_OF, FAR_END, Dataset, Table
from connectors.sap_s4hana.sandbox.odata import (
    EntitySetInfo,
    load_sets,
    wire_datetime,
    wire_offset,
    wire_time,
)
from connectors.sap_s4hana.sandbox.server import Faults, SapSandbox, serve_in_thread
from connectors.sap_s4hana.sandbox.wire import WireError

__all__ = ["ControlRecords", "SandboxHandle", "all_sets", "build_server", "start"]


def all_sets() -> dict[tuple[str, str], EntitySetInfo]:
    """Every implemented entity set, keyed by (service, set)."""
    out = {}
    for service, names in SERVICES.items():
        sets = load_sets(service, metadata_path(service))
        out.update({(service, n): sets[n] for n in names})
    return out


def build_server(port: int = 0, host: str = "127.0.0.1", *, seed: int = 1, size: int = 1000,
                 data: str | Path | None = None, user: str = "demo", password: str = "demo",
                 timezone: str = "UTC", server_page_size: int = 1000,
                 faults: Faults | None = None) -> SapSandbox:  # fmt: skip
    if server_page_size < 1:
        raise ValueError("server_page_size must be at least 1")
    dataset = Dataset(all_sets(), seed=seed, size=size, tz=ZoneInfo(timezone))
    if data:
        _load_data(dataset, Path(data))
    server = SapSandbox((host, port), dataset, user, password, faults or Faults(), server_page_size)
    server.control = Control(ControlRecords(SandboxHandle(server)), server.faults, password)  # type: ignore[arg-type]
    return server


def _load_data(dataset: Dataset, path: Path) -> None:
    """Replace generated sets by the records in a JSON file ``{"<EntitySet>": [records...]}``.

    Values are read as OData v2 JSON (or as the Python-side equivalents `wire` converts, such as a
    number for an Edm.Int64) and refused with a `ValueError` naming the file, set, record and property
    when they do not fit the EDMX type.
    """
    content = orjson.loads(path.read_bytes())
    if not isinstance(content, dict):
        raise ValueError(f"{path}: must be a JSON object mapping entity set names to record lists")
    by_name = {name: key for key, name in ((k, k[1]) for k in dataset.tables)}
    for name, records in content.items():
        if name not in by_name:
            raise ValueError(f"{path}: unknown entity set {name!r}; known: {', '.join(by_name)}")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError(f"{path}: {name} must be a list of record objects")
        table = dataset.tables[by_name[name]]
        for r in records:
            bad = [p for p in r if p not in table.es.props and p != "__metadata"]
            if bad:
                raise ValueError(f"{path}: {name} has no properties {', '.join(bad)}")
        records = [{k: v for k, v in r.items() if k != "__metadata"} for r in records]
        for i, r in enumerate(records, 1):
            try:
                table.es.codec.record(r)
            except WireError as exc:
                raise ValueError(f"{path}: {name} record {i}: {exc}") from None
        dataset.tables[by_name[name]] = Table.from_records(table.es, records)


@dataclass
class SandboxHandle:
    server: SapSandbox

    @property
    def dataset(self) -> Dataset:
        return self.server.dataset

    @property
    def faults(self) -> Faults:
        return self.server.faults

    def table(self, entity_set: str) -> Table:
        for (_, name), table in self.dataset.tables.items():
            if name == entity_set:
                return table
        raise KeyError(f"unknown entity set {entity_set!r}")

    def get(self, entity_set: str, *key: str) -> dict | None:
        table = self.table(entity_set)
        with self.dataset.lock:
            rid = table.find(key)
            return None if rid is None else table.row(rid)

    def records(self, entity_set: str) -> list[dict]:
        with self.dataset.lock:
            return [r for _, r in self.table(entity_set).rows()]

    def _stamp(self, table: Table, at: datetime) -> dict[str, Any]:
        props = table.es.props
        if props.get("LastChangeDateTime") == "Edm.DateTimeOffset":
            return {"LastChangeDateTime": wire_offset(int(at.timestamp() * 1000))}
        local = at.astimezone(self.dataset.tz)
        stamp: dict[str, Any] = {}
        if "LastChangeDate" in props:
            stamp["LastChangeDate"] = wire_datetime(datetime(local.year, local.month, local.day))
        if "LastChangeTime" in props:
            stamp["LastChangeTime"] = wire_time(
                local.hour * 3600 + local.minute * 60 + local.second
            )
        return stamp

    def update(self, entity_set: str, key: tuple[str, ...], changes: Mapping[str, Any] | None = None,
               at: datetime | None = None) -> dict:  # fmt: skip
        """Change a record as a user would: its change stamp moves to ``at`` (default now); an
        item of a document (`DOCUMENT_OF`) has none, its document's header stamp moves."""
        table = self.table(entity_set)
        at = at or datetime.now(UTC)
        with self.dataset.lock:
            rid = table.find(tuple(key))
            if rid is None:
                raise KeyError(f"{entity_set}{key} not found")
            rec = {**table.row(rid), **(changes or {}), **self._stamp(table, at)}
            table.put(rid, rec)
            self._save_document(entity_set, rec, at)
            return table.row(rid)

    def add(self, entity_set: str, record: Mapping[str, Any], at: datetime | None = None) -> dict:
        """Add a record as stored (no stamp of its own); an item stamps its document's header."""
        table = self.table(entity_set)
        with self.dataset.lock:
            rid = table.put(None, dict(record))
            row = table.row(rid)
            self._save_document(entity_set, row, at or datetime.now(UTC))
            return row

    def delete(self, entity_set: str, key: tuple[str, ...], at: datetime | None = None) -> None:
        """Remove a record; an item's document header is stamped (the document was saved)."""
        table = self.table(entity_set)
        with self.dataset.lock:
            rid = table.find(tuple(key))
            if rid is None:
                raise KeyError(f"{entity_set}{key} not found")
            rec = table.row(rid)
            table.put(rid, None)
            self._save_document(entity_set, rec, at or datetime.now(UTC))

    def _save_document(self, entity_set: str, item: Mapping[str, Any], at: datetime) -> None:
        """SAP saves an item with its document: the header's change time moves to ``at``
        (caller holds the dataset lock)."""
        if entity_set not in DOCUMENT_OF:
            return
        header_set, key_props = DOCUMENT_OF[entity_set]
        header = self.table(header_set)
        hid = header.find(tuple(item[p] for p in key_props))
        if hid is not None:
            header.put(hid, {**header.row(hid), **self._stamp(header, at)})

    def new_equipment_segment(self, equipment: str, valid_from: date,
                              changes: Mapping[str, Any] | None = None,
                              at: datetime | None = None) -> dict:  # fmt: skip
        """Close the current time segment the day before ``valid_from`` and open a new one."""
        table = self.table("Equipment")
        at = at or datetime.now(UTC)
        with self.dataset.lock:
            rid = table.find((equipment, FAR_END))
            if rid is None:
                raise KeyError(f"Equipment {equipment} has no current segment")
            current = table.row(rid)
            end = valid_from - timedelta(days=1)
            table.put(
                rid,
                {
                    **current,
                    "ValidityEndDate": wire_datetime(datetime(end.year, end.month, end.day)),
                },
            )
            new = {**current, **(changes or {}), **self._stamp(table, at),
                   "ValidityStartDate": wire_datetime(datetime(valid_from.year, valid_from.month, valid_from.day))}  # fmt: skip
            return table.row(table.put(None, new))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ControlRecords:
    """The control endpoint's records on the SAP sandbox: a unified entity is its entity set
    (`connectors.sap_s4hana.mapping.ENTITIES`), a key the natural key's values in the mapping's
    order (an equipment's current time segment)."""

    def __init__(self, handle: SandboxHandle) -> None:
        self.handle = handle

    def _spec(self, entity: str) -> tuple[str, tuple[str, ...], bool]:
        from connectors.sap_s4hana.mapping import ENTITIES

        spec = ENTITIES.get(entity)
        if spec is None:
            raise KeyError(f"unknown entity {entity!r}; known: {', '.join(ENTITIES)}")
        opts = spec.options
        return str(opts["set"]), tuple(spec.mapping.key), bool(opts.get("current_segment"))

    @staticmethod
    def _derived(entity: str, rec: dict) -> dict:
        """The record with the field the client derives for ``entity`` (stocks' segment)."""
        from connectors.sap_s4hana.mapping import ENTITIES

        derive = ENTITIES[entity].options.get("derive")
        return {**rec, derive[0]: derive[1](rec)} if derive else rec

    def _odata_key(self, entity: str, key: list[Any]) -> tuple[str, tuple[str, ...]]:
        entity_set, fields, current = self._spec(entity)
        if len(key) != len(fields):
            raise ValueError(f"{entity}: the key has {len(fields)} values ({', '.join(fields)}), "
                             f"got {len(key)}")  # fmt: skip
        wanted = {f: str(v) for f, v in zip(fields, key, strict=True)}
        table = self.handle.table(entity_set)
        with self.handle.dataset.lock:
            for _, row in table.rows():
                rec = self._derived(entity, row)
                if all(str(rec.get(f)) == v for f, v in wanted.items()) and (
                    not current or rec.get("ValidityEndDate") == FAR_END
                ):
                    return entity_set, table.key_of(rec)
        raise KeyError(f"{entity} {key} not found")

    def change(self, entity: str, key: list[Any], values: dict[str, Any]) -> dict[str, Any]:
        entity_set, odata_key = self._odata_key(entity, key)
        table = self.handle.table(entity_set)
        unknown = [p for p in values if p not in table.es.props]
        if unknown:
            raise ValueError(f"{entity_set} has no properties {', '.join(unknown)}")
        try:
            return self.handle.update(entity_set, odata_key, values)
        except WireError as exc:
            raise ValueError(f"{entity_set}: {exc}") from None

    def add(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        entity_set, fields, _ = self._spec(entity)
        table = self.handle.table(entity_set)
        missing = [k for k in table.es.keys if record.get(k) in (None, "")]
        unknown = [p for p in record if p not in table.es.props]
        if missing or unknown:
            raise ValueError(f"{entity_set}: " + "; ".join(
                ([f"the key needs {', '.join(missing)}"] if missing else [])
                + ([f"no properties {', '.join(unknown)}"] if unknown else [])))  # fmt: skip
        with self.handle.dataset.lock:
            if table.find(tuple(table.es.codec.record({**table.template, **record})[k]
                                for k in table.es.keys)) is not None:  # fmt: skip
                raise ValueError(f"{entity_set}: a record with this key exists")
        stamp = self.handle._stamp(table, datetime.now(UTC))
        try:
            return self.handle.add(entity_set, {**table.template, **stamp, **record})
        except WireError as exc:
            raise ValueError(f"{entity_set}: {exc}") from None

    def delete(self, entity: str, key: list[Any]) -> bool:
        try:
            entity_set, odata_key = self._odata_key(entity, key)
        except KeyError:
            return False
        self.handle.delete(entity_set, odata_key)
        return True


def start(port: int = 0, **options: Any) -> tuple[str, SandboxHandle]:
    """Run a sandbox in a background thread; returns (base_url, handle). Call ``handle.stop()``."""
    server = build_server(port, **options)
    serve_in_thread(server)
    host, bound = server.server_address[:2]
    return f"http://{host}:{bound}", SandboxHandle(server)
