"""Extract -> map -> load as plain functions. The generated DAG's tasks and bench/ call these.

Each step is idempotent and passes a small summary (paths and counts) to the next, never the data:

- `extract` streams the window's pages from the connector into ``pages.jsonl`` (one page a line);
- `map_pages` maps and validates each page into ``mapped.jsonl`` and quarantines what fails;
- `load` upserts ``mapped.jsonl`` in bounded batches and advances the cursor with the last batch.

Staging paths may be `pathlib.Path` or `airflow.sdk.ObjectStoragePath` (anything with ``/``,
``open``, ``mkdir``), so the same code stages to a local disk or to object storage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from pydantic import ValidationError

from connectors.base import Connector, Window
from include.config import ConnectionConfig
from include.keys import make_key
from include.mapping import CompiledMapping, MappedRecord, MappingError
from include.model import CHILD_ENTITIES, list_adapter
from include.store import LoadRow, LoadStats, QuarantineItem, Store, SyncRun
from include.timeutil import format_utc, parse_datetime, utcnow, zone

log = logging.getLogger(__name__)

LOAD_BATCH = 10_000


class StagingPath(Protocol):
    def __truediv__(self, other: str) -> StagingPath: ...
    def open(self, mode: str = ...) -> Any: ...
    def mkdir(self, parents: bool = ..., exist_ok: bool = ...) -> None: ...


class QuarantineThresholdExceeded(RuntimeError):
    """Good records were loaded, but too many were quarantined: the run must end red."""


# ---------------------------------------------------------------- windows


def plan_window(
    store: Store,
    cfg: ConnectionConfig,
    entity: str,
    *,
    incremental: bool,
    run_type: str,
    interval_start: datetime | None,
    interval_end: datetime | None,
    now: datetime | None = None,
) -> Window:
    """The window a run reads for one entity.

    - snapshot entities (no change time at the source): always a full read;
    - backfill: exactly its data interval (the cursor never moves backwards);
    - no cursor yet: a full, unbounded read (it also reconciles deletes);
    - scheduled: ``[min(cursor, interval_start) - overlap, interval_end)``: no gap after a pause/outage;
    - manual (or anything else): ``[cursor - overlap, now)``.
    """
    now = now or utcnow()
    if not incremental:
        return Window()
    if run_type == "backfill" and interval_start is not None:
        return Window(interval_start, interval_end)
    cursor = parse_datetime(store.get_cursor(cfg.id, entity))
    if cursor is None:
        # Unbounded: a full read is followed by reconciliation, which must see every key.
        return Window()
    if run_type == "scheduled" and interval_start is not None:
        return Window(min(cursor, interval_start) - cfg.overlap_delta, interval_end)
    return Window(cursor - cfg.overlap_delta, now)


def window_to_dict(window: Window) -> dict[str, str | None]:
    return {"start": format_utc(window.start), "end": format_utc(window.end)}


def window_from_dict(d: dict[str, str | None]) -> Window:
    return Window(parse_datetime(d.get("start")), parse_datetime(d.get("end")))


# ---------------------------------------------------------------- extract


def extract(connector: Connector, entity: str, window: Window, out_dir: StagingPath) -> dict:
    """Stream pages for ``entity`` in ``window`` to ``out_dir/pages.jsonl``; return a summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "pages.jsonl"
    pages = records = 0
    started = time.monotonic()
    with path.open("wb") as fh:
        for page in connector.read(entity, window):
            fh.write(orjson.dumps(page))
            fh.write(b"\n")
            pages += 1
            records += len(page)
    seconds = time.monotonic() - started
    log.info(
        "extract %s: %d pages, %d records read in %.1fs (window %s)",
        entity, pages, records, seconds, window_to_dict(window),
    )  # fmt: skip
    return {
        "path": str(path),
        "pages": pages,
        "read": records,
        "window": window_to_dict(window),
        "full": window.is_full,
    }


def iter_lines(path: StagingPath) -> Iterator[Any]:
    """Decode a JSON-lines staging file one line at a time (bounded memory)."""
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)


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
class _PageResult:
    rows: list[list[Any]]
    quarantine: list[QuarantineItem]


def _row(entity: str, rec: MappedRecord, raw: Any, parent: str | None) -> list[Any]:
    d = rec.data
    return [
        entity,
        rec.key,
        rec.remote_id,
        rec.version,
        parent,
        d.get("updatedAt"),
        d.get("createdAt"),
        d.get("deletedAt"),
        d,
        raw,
    ]


def map_page(entity: str, cm: CompiledMapping, page: list[dict]) -> _PageResult:
    """Map and validate one page; records that fail go to the quarantine list with the reason."""
    good: list[tuple[MappedRecord, dict, list[tuple[str, MappedRecord, dict]]]] = []
    quarantine: list[QuarantineItem] = []
    for raw in page:
        try:
            rec = cm(raw)
            children = []
            for child_entity, (get_list, ccm) in cm.children.items():
                _, list_field, parent_field = CHILD_ENTITIES[child_entity]
                mapped_children = []
                for item in get_list(raw) or []:
                    child = ccm(item)
                    child.data.setdefault(parent_field, rec.key)
                    children.append((child_entity, child, item))
                    mapped_children.append(child.data)
                rec.data[list_field] = mapped_children
            good.append((rec, raw, children))
        except MappingError as exc:
            quarantine.append(QuarantineItem(cm.key_of(raw), orjson.dumps(raw).decode(), str(exc)))
    if good:
        adapter = list_adapter(entity)
        try:
            adapter.validate_python([g[0].data for g in good])
        except ValidationError:
            kept = []
            for g in good:
                try:
                    adapter.validate_python([g[0].data])
                    kept.append(g)
                except ValidationError as exc:
                    raw_json = orjson.dumps(g[1]).decode()
                    quarantine.append(QuarantineItem(g[0].key, raw_json, _validation_reason(exc)))
            good = kept
    rows: list[list[Any]] = []
    for rec, raw, children in good:
        rows.append(_row(entity, rec, raw, None))
        for child_entity, child, item in children:
            rows.append(_row(child_entity, child, item, rec.key))
    return _PageResult(rows, quarantine)


def map_pages(
    connector_cls: type[Connector],
    cfg: ConnectionConfig,
    entity: str,
    extracted: dict,
    out_dir: StagingPath,
    store: Store,
    run_id: str,
    path_factory: Callable[[str], StagingPath] | None = None,
) -> dict:
    """Map ``pages.jsonl`` into ``mapped.jsonl``; quarantine failures; return a summary."""
    cm = compile_mapping(connector_cls, cfg, entity)
    to_path = path_factory or _default_path_factory(out_dir)
    pages_path = to_path(extracted["path"])
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mapped.jsonl"
    mapped = quarantined = 0
    max_updated: str | None = None
    started = time.monotonic()
    with path.open("wb") as fh:
        for page in iter_lines(pages_path):
            result = map_page(entity, cm, page)
            if result.quarantine:
                store.quarantine_add(cfg.id, entity, run_id, result.quarantine)
                quarantined += len(result.quarantine)
            if result.rows:
                fh.write(orjson.dumps(result.rows))
                fh.write(b"\n")
            for row in result.rows:
                if row[0] == entity:
                    mapped += 1
                    if row[5] and (max_updated is None or row[5] > max_updated):
                        max_updated = row[5]
    read = extracted["read"]
    log.info(
        "map %s: %d read, %d mapped, %d quarantined in %.1fs",
        entity, read, mapped, quarantined, time.monotonic() - started,
    )  # fmt: skip
    return {
        **extracted,
        "mapped_path": str(path),
        "mapped": mapped,
        "quarantined": quarantined,
        "max_updated": max_updated,
    }


def _default_path_factory(like: StagingPath) -> Callable[[str], StagingPath]:
    cls = type(like)
    return lambda s: cls(s)  # type: ignore[call-arg]


# ---------------------------------------------------------------- load


def _load_rows(rows: Sequence[list[Any]]) -> list[LoadRow]:
    dumps = orjson.dumps
    return [
        LoadRow(
            key=r[1],
            remote_id=r[2],
            version=r[3],
            parent_key=r[4],
            updated_at=r[5],
            created_at=r[6],
            deleted_at=r[7],
            data=dumps(r[8]).decode(),
            raw=dumps(r[9]).decode(),
        )
        for r in rows
    ]


def load(
    store: Store,
    cfg: ConnectionConfig,
    entity: str,
    mapped: dict,
    *,
    run_id: str,
    incremental: bool,
    path_factory: Callable[[str], StagingPath],
    guard: Callable[[Any], None] | None = None,
    batch_size: int = LOAD_BATCH,
) -> dict:
    """Upsert ``mapped.jsonl`` in batches; advance the cursor with the last batch; record the run.

    Raises `QuarantineThresholdExceeded` after loading when too many records were quarantined.
    """
    synced_at = format_utc(utcnow())
    started_at = synced_at
    total = LoadStats(0, 0, 0)
    child_totals: dict[str, LoadStats] = {}
    cursor = mapped.get("max_updated") if incremental else None
    statuses: set[str] = set()
    pending: dict[str, list[list[Any]]] = {}
    pending_count = 0

    def flush(final: bool) -> None:
        nonlocal total, pending, pending_count
        parent_rows = pending.pop(entity, [])
        if parent_rows or final:
            stats = store.load_batch(
                cfg.id, entity, _load_rows(parent_rows), synced_at=synced_at,
                cursor=cursor if final else None, guard=guard,
            )  # fmt: skip
            total = _add(total, stats)
        parent_keys = [r[1] for r in parent_rows]
        for child_entity, rows in pending.items():
            stats = store.load_batch(
                cfg.id, child_entity, _load_rows(rows), synced_at=synced_at, guard=guard
            )
            child_totals[child_entity] = _add(child_totals.get(child_entity), stats)
            store.reconcile(
                cfg.id, child_entity, [[r[1] for r in rows]],
                deleted_at=synced_at, parent_keys=parent_keys,
            )  # fmt: skip
        pending, pending_count = {}, 0

    for page_rows in iter_lines(path_factory(mapped["mapped_path"])):
        for row in page_rows:
            pending.setdefault(row[0], []).append(row)
            if row[0] == entity and row[8].get("status"):
                statuses.add(row[8]["status"])
        pending_count += len(page_rows)
        if pending_count >= batch_size:
            flush(final=False)
    flush(final=True)

    deleted = 0
    if mapped.get("full") and mapped.get("path"):
        deleted = reconcile_from_pages(store, cfg, entity, mapped, path_factory, synced_at)
    if statuses:
        rows = [{"key": make_key([s]), "name": s, "code": s, "isActive": True} for s in statuses]
        store.upsert_statuses(cfg.id, entity, rows)

    summary = {
        "read": mapped.get("read", 0),
        "mapped": mapped.get("mapped", 0),
        "quarantined": mapped.get("quarantined", 0),
        "inserted": total.inserted,
        "updated": total.updated,
        "unchanged": total.unchanged,
        "deleted": deleted,
        "children": {k: v._asdict() for k, v in child_totals.items()},
    }
    window = mapped.get("window") or {}
    quarantine_share = summary["quarantined"] / summary["read"] if summary["read"] else 0.0
    failed = quarantine_share > cfg.quarantine_threshold
    store.record_run(
        SyncRun(
            connection_id=cfg.id, entity=entity, run_id=run_id, started_at=started_at,
            finished_at=format_utc(utcnow()), status="failed" if failed else "success",
            window_start=window.get("start"), window_end=window.get("end"),
            pages=mapped.get("pages", 0), read=summary["read"], mapped=summary["mapped"],
            quarantined=summary["quarantined"], inserted=total.inserted, updated=total.updated,
            deleted=deleted,
            error=f"{quarantine_share:.1%} of records quarantined" if failed else None,
        )
    )  # fmt: skip
    log.info(
        "load %s: %d inserted, %d updated, %d unchanged, %d soft-deleted; cursor %s",
        entity, total.inserted, total.updated, total.unchanged, deleted,
        store.get_cursor(cfg.id, entity),
    )  # fmt: skip
    if failed:
        raise QuarantineThresholdExceeded(
            f"{entity}: {summary['quarantined']} of {summary['read']} records "
            f"({quarantine_share:.1%}) quarantined, above the threshold "
            f"{cfg.quarantine_threshold:.1%}; the good records were loaded"
        )
    return summary


def _add(a: LoadStats | None, b: LoadStats) -> LoadStats:
    if a is None:
        return b
    return LoadStats(a.inserted + b.inserted, a.updated + b.updated, a.unchanged + b.unchanged)


# ---------------------------------------------------------------- reconcile


def reconcile_from_pages(
    store: Store,
    cfg: ConnectionConfig,
    entity: str,
    extracted: dict,
    path_factory: Callable[[str], StagingPath],
    deleted_at: str,
) -> int:
    """After a complete full read: soft-delete stored records whose keys were not in it."""
    from connectors.registry import get_connector

    cm = compile_mapping(get_connector(cfg.system), cfg, entity)

    def batches() -> Iterator[list[str]]:
        for page in iter_lines(path_factory(extracted["path"])):
            yield [k for k in map(cm.key_of, page) if k]

    return store.reconcile(cfg.id, entity, batches(), deleted_at=deleted_at)


def reconcile_from_source(
    store: Store, cfg: ConnectionConfig, connector: Connector, entity: str
) -> int:
    """List every key the source has now and soft-delete stored records that vanished."""
    cm = compile_mapping(type(connector), cfg, entity)

    def batches() -> Iterator[list[str]]:
        for page in connector.read_keys(entity):
            yield [k for k in map(cm.key_of, page) if k]

    deleted = store.reconcile(cfg.id, entity, batches(), deleted_at=format_utc(utcnow()))
    log.info("reconcile %s: %d records soft-deleted (vanished from the source)", entity, deleted)
    return deleted


def refresh_statuses(store: Store, cfg: ConnectionConfig, connector: Connector) -> list[str]:
    """Store the source's own status lists where it has them; return the entities refreshed."""
    done = []
    for entity in ("work-orders", "purchase-orders"):
        if entity in type(connector).entities:
            rows = connector.statuses(entity)
            if rows:
                store.upsert_statuses(cfg.id, entity, rows)
                done.append(entity)
    return done
