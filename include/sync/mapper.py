"""Mapping pages into typed rows (`include.store.LoadRow`, one per record, grouped by entity) and
quarantine items: `map_page`, the unit of a map worker (`map_lines`), and ``mapped.jsonl`` (`write_rows`,
`iter_mapped`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from pydantic import ValidationError

from connectors.base import Connector
from include.config import ConnectionConfig
from include.mapping import CompiledMapping, MappedRecord, MappingError
from include.model import CHILD_ENTITIES, list_adapter, page_checker
from include.model.timeutil import zone
from include.store import LoadStats, QuarantineItem
from include.sync.common import StagingPath

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- map


def compile_mapping(connector_cls: type[Connector], cfg: ConnectionConfig, entity: str):
    spec = connector_cls.entities[entity]
    child_cf = {c: cfg.custom_fields.get(c, {}) for c in spec.mapping.children}
    return CompiledMapping(
        spec.mapping, zone(cfg.source_timezone), cfg.custom_fields.get(entity), child_cf
    )


def _validation_reason(exc: ValidationError) -> str:
    errs = exc.errors()
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errs[:5]]
    return "validation failed: " + "; ".join(parts)


@dataclass
class PageResult:
    """``rows``: ``[entity, key, remote_id, version, parent_key, updatedAt, createdAt, deletedAt,
    data, raw]`` with ``data``/``raw`` as JSON text (str, not orjson's bytes: each of those keeps
    a buffer of ~8 KiB, so a batch of rows would take ten times its size); ``keys``: the natural
    key of every record of the page that has one, quarantined or not (what a full read lists for
    reconciliation)."""

    rows: list[list[Any]]
    quarantine: list[QuarantineItem]
    keys: list[str] = field(default_factory=list)
    statuses: set[str] = field(default_factory=set)


def _dated_by_parent(child: MappedRecord, version: str | None, updated: str | None) -> MappedRecord:
    """A child row with no change time of its own (SAP's PO items, MaintainX's and Maximo's PO
    lines: the source saves them with their document) carries its parent's: ``updatedAt`` and
    version. A line edit moves the document's change time, so the line's row gets a newer version
    and ``updated_at``, and ``modified_after`` on the child entity sees the change."""
    if updated is not None:
        child.data["updatedAt"] = updated
    return replace(child, version=version)


def map_page(entity: str, cm: CompiledMapping, page: list[dict]) -> PageResult:
    """Map and validate one page; records that fail go to the quarantine list with the reason."""
    good: list[tuple[str, str | None, str | None, dict, dict, list | None]] = []
    quarantine: list[QuarantineItem] = []
    keys: list[str] = []
    row_of = cm.row
    kids_specs = [
        (child_entity, get_list, ccm, CHILD_ENTITIES[child_entity])
        for child_entity, (get_list, ccm) in cm.children.items()
    ]
    for raw in page:
        try:
            key, rid, version, data = row_of(raw)
            kids = None
            if kids_specs:
                kids = []
                for child_entity, get_list, ccm, (_, list_field, parent_field) in kids_specs:
                    mapped_children = []
                    for item in get_list(raw) or []:
                        child = ccm(item)
                        child.data.setdefault(parent_field, key)
                        if child.version is None and child.data.get("updatedAt") is None:
                            child = _dated_by_parent(child, version, data.get("updatedAt"))
                        kids.append((child_entity, child, item))
                        mapped_children.append(child.data)
                    data[list_field] = mapped_children
            good.append((key, rid, version, data, raw, kids))
            keys.append(key)
        except MappingError as exc:
            qkey = cm.key_of(raw)
            if qkey:
                keys.append(qkey)
            quarantine.append(QuarantineItem(qkey, orjson.dumps(raw).decode(), str(exc)))
    if good:
        try:  # one call per page; only a failing page is re-checked record by record
            page_checker(entity, cm).validate_python([g[3] for g in good])
        except ValidationError:
            adapter = list_adapter(entity)
            kept = []
            for g in good:
                try:
                    adapter.validate_python([g[3]])
                    kept.append(g)
                except ValidationError as exc:
                    raw_json = orjson.dumps(g[4]).decode()
                    quarantine.append(QuarantineItem(g[0], raw_json, _validation_reason(exc)))
            good = kept
    dumps = orjson.dumps
    rows: list[list[Any]] = []
    statuses: set[str] = set()
    for key, rid, version, d, raw, kids in good:
        rows.append([
            entity, key, rid, version, None, d.get("updatedAt"), d.get("createdAt"),
            d.get("deletedAt"), dumps(d).decode(), dumps(raw).decode(),
        ])  # fmt: skip
        status = d.get("status")
        if status and isinstance(status, str):
            statuses.add(status)
        for child_entity, child, item in kids or ():
            c = child.data
            rows.append([
                child_entity, child.key, child.remote_id, child.version, key, c.get("updatedAt"),
                c.get("createdAt"), c.get("deletedAt"), dumps(c).decode(), dumps(item).decode(),
            ])  # fmt: skip
    return PageResult(rows, quarantine, keys, statuses)


def write_rows(fh: Any, rows: Sequence[list[Any]]) -> None:
    """Append one page of rows to ``mapped.jsonl``: per row ``<JSON of the first 8 fields>\\t
    <data JSON>\\t<raw JSON>\\n`` (orjson never emits a raw tab or newline), then an empty
    line ending the page. ``data``/``raw`` are JSON text already: nothing is re-encoded."""
    dumps = orjson.dumps
    parts = []
    for r in rows:
        parts += (dumps(r[:8]), b"\t", r[8].encode(), b"\t", r[9].encode(), b"\n")
    parts.append(b"\n")
    fh.write(b"".join(parts))


def iter_mapped(path: StagingPath) -> Iterator[list[list[Any]]]:
    """Pages of rows from ``mapped.jsonl`` (see `write_rows`), ``data``/``raw`` as JSON text."""
    loads = orjson.loads
    with path.open("rb") as fh:
        page: list[list[Any]] = []
        for line in fh:
            if line == b"\n":
                yield page
                page = []
                continue
            head, data, raw = line.rstrip(b"\n").split(b"\t", 2)
            row = loads(head)
            row.append(data.decode())
            row.append(raw.decode())
            page.append(row)
        if page:
            yield page


@dataclass
class Chunk:
    """Some pages mapped: each page's rows (see `map_page`), ``keys`` for keys.txt, the rest
    summed."""

    pages: list[list[list[Any]]]
    keys: bytes
    quarantine: list[QuarantineItem]
    statuses: set[str]
    mapped: int
    max_updated: str | None
    # set when a worker loaded the pages itself (then ``pages`` is empty): (parent, children) stats
    loaded: tuple[LoadStats, dict[str, LoadStats]] | None = None


def map_lines(entity: str, cm: CompiledMapping, lines: Sequence[bytes]) -> Chunk:
    """Map pages given as raw ``pages.jsonl`` lines (the unit of work of a map worker)."""
    pages: list[list[list[Any]]] = []
    keys: list[bytes] = []
    quarantine: list[QuarantineItem] = []
    statuses: set[str] = set()
    mapped = 0
    max_updated: str | None = None
    for line in lines:
        result = map_page(entity, cm, orjson.loads(line))
        quarantine += result.quarantine
        if result.rows:
            pages.append(result.rows)
        if result.keys:  # one JSON list of keys per page, for reconciliation
            keys.append(orjson.dumps(result.keys) + b"\n")
        statuses |= result.statuses
        for row in result.rows:
            if row[0] == entity:
                mapped += 1
                if row[5] and (max_updated is None or row[5] > max_updated):
                    max_updated = row[5]
    return Chunk(pages, b"".join(keys), quarantine, statuses, mapped, max_updated)
