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
from include.store import LoadRow, LoadStats, QuarantineItem
from include.sync.common import StagingPath

log = logging.getLogger(__name__)

# one page's (or batch's) rows by entity: the typed row travels from the mapping to the store
Rows = dict[str, list[LoadRow]]

# ---------------------------------------------------------------- map


def compile_mapping(connector_cls: type[Connector], cfg: ConnectionConfig, entity: str):
    spec = connector_cls.entities[entity]

    def custom(e: str) -> dict[str, str]:  # source paths -> where they are in the raw records
        return {n: connector_cls.raw_path(e, p) for n, p in cfg.custom_fields.get(e, {}).items()}

    child_cf = {c: custom(c) for c in spec.mapping.children}
    return CompiledMapping(
        spec.mapping,
        zone(cfg.source_timezone),
        custom(entity),
        child_cf,
        entity=entity,
        status_categories=cfg.status_category_table(entity),
    )


def _validation_reason(exc: ValidationError) -> str:
    errs = exc.errors()
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errs[:5]]
    return "validation failed: " + "; ".join(parts)


@dataclass
class PageResult:
    r"""``rows``: the page's `LoadRow`\ s by entity (the page's entity first, then its children's),
    ``data``/``raw`` as JSON text (str, not orjson's bytes: each of those keeps a buffer of ~8 KiB,
    so a batch of rows would take ten times its size), empty when no record passed; ``keys``: the
    natural key of every record of the page that has one, quarantined or not (what a full read
    lists for reconciliation)."""

    rows: Rows
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
                        if child.data.get(parent_field) is None:  # present, None by default
                            child.data[parent_field] = key
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
            page_checker(entity, cm).validate_python([data for _, _, _, data, _, _ in good])
        except ValidationError:
            adapter = list_adapter(entity)
            kept = []
            for g in good:
                key, _, _, data, raw, _ = g
                try:
                    adapter.validate_python([data])
                    kept.append(g)
                except ValidationError as exc:
                    raw_json = orjson.dumps(raw).decode()
                    quarantine.append(QuarantineItem(key, raw_json, _validation_reason(exc)))
            good = kept
    rows, statuses = _rows(entity, good)
    return PageResult(rows, quarantine, keys, statuses)


def _rows(entity: str, good: list[tuple]) -> tuple[Rows, set[str]]:
    r"""The `LoadRow`\ s of the records that passed, by entity, and the statuses they hold. The
    rows are built with ``tuple.__new__`` from their values in `LoadRow`'s field order (key,
    remote_id, version, data, raw, parent_key, updated_at, created_at, deleted_at): twice as fast
    as calling the NamedTuple's ``__new__``, and this runs once per record."""
    dumps, new = orjson.dumps, tuple.__new__
    parents: list[LoadRow] = []
    rows: Rows = {entity: parents}
    statuses: set[str] = set()
    for key, rid, version, d, raw, kids in good:
        parents.append(new(LoadRow, (
            key, rid, version, dumps(d).decode(), dumps(raw).decode(), None,
            d.get("updatedAt"), d.get("createdAt"), d.get("deletedAt"),
        )))  # fmt: skip
        status = d.get("status")
        if status and isinstance(status, str):
            statuses.add(status)
        for child_entity, child, item in kids or ():
            c = child.data
            rows.setdefault(child_entity, []).append(LoadRow(
                key=child.key, remote_id=child.remote_id, version=child.version,
                data=dumps(c).decode(), raw=dumps(item).decode(), parent_key=key,
                updated_at=c.get("updatedAt"), created_at=c.get("createdAt"),
                deleted_at=c.get("deletedAt"),
            ))  # fmt: skip
    return (rows if parents else {}), statuses


def write_rows(fh: Any, rows: Rows) -> None:
    """Append one page of rows to ``mapped.jsonl``: per row ``<JSON [entity, key, remote_id,
    version, parent_key, updated_at, created_at, deleted_at]>\\t<data JSON>\\t<raw JSON>\\n``
    (orjson never emits a raw tab or newline), then an empty line ending the page. ``data``/``raw``
    are JSON text already: nothing is re-encoded."""
    dumps = orjson.dumps
    parts = []
    for entity, entity_rows in rows.items():
        for r in entity_rows:
            head = (
                entity, r.key, r.remote_id, r.version, r.parent_key, r.updated_at, r.created_at,
                r.deleted_at,
            )  # fmt: skip
            parts += (dumps(head), b"\t", r.data.encode(), b"\t", (r.raw or "null").encode(), b"\n")
    parts.append(b"\n")
    fh.write(b"".join(parts))


def iter_mapped(path: StagingPath) -> Iterator[Rows]:
    """Pages of rows from ``mapped.jsonl`` (see `write_rows`), ``data``/``raw`` as JSON text."""
    loads, new = orjson.loads, tuple.__new__
    with path.open("rb") as fh:
        page: Rows = {}
        for line in fh:
            if line == b"\n":
                yield page
                page = {}
                continue
            head, data, raw = line.rstrip(b"\n").split(b"\t", 2)
            entity, key, rid, version, parent, updated, created, deleted = loads(head)
            row = (
                key,
                rid,
                version,
                data.decode(),
                raw.decode(),
                parent,
                updated,
                created,
                deleted,
            )
            page.setdefault(entity, []).append(new(LoadRow, row))  # LoadRow's field order
        if page:
            yield page


@dataclass
class Chunk:
    """Some pages mapped: each page's rows (see `map_page`), ``keys`` for keys.txt, the rest
    summed."""

    pages: list[Rows]
    keys: bytes
    quarantine: list[QuarantineItem]
    statuses: set[str]
    mapped: int
    max_updated: str | None
    # set when a worker loaded the pages itself (then ``pages`` is empty): (parent, children) stats
    loaded: tuple[LoadStats, dict[str, LoadStats]] | None = None


def map_lines(entity: str, cm: CompiledMapping, lines: Sequence[bytes]) -> Chunk:
    """Map pages given as raw ``pages.jsonl`` lines (the unit of work of a map worker)."""
    pages: list[Rows] = []
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
        parents = result.rows.get(entity, ())
        mapped += len(parents)
        for row in parents:
            updated = row.updated_at
            if updated and (max_updated is None or updated > max_updated):
                max_updated = updated
    return Chunk(pages, b"".join(keys), quarantine, statuses, mapped, max_updated)
