"""Extract -> map -> load as plain functions. The generated DAG's tasks and bench/ call these.

Each step is idempotent and passes a small summary (paths and counts) to the next, never the data:

- `extract` streams the window's pages from the connector into ``pages.jsonl`` (one page a line);
- `map_pages` maps and validates each page into ``mapped.jsonl`` and quarantines what fails;
- `load` upserts ``mapped.jsonl`` in bounded batches and advances the cursor with the last batch.

Hot-path choices (see docs/BENCHMARKS.md): extract fetches the next page in a background thread
while it writes the current one; ``mapped.jsonl`` holds each record's ``data`` and ``raw`` already
serialised, so load never decodes or re-encodes them; pages are validated with a validator that
builds no model instances; load prepares the next batch while a writer thread runs the current
one in the database.

Staging paths may be `pathlib.Path` or `airflow.sdk.ObjectStoragePath` (anything with ``/``,
``open``, ``mkdir``), so the same code stages to a local disk or to object storage. Each step holds
its run directory while it works in it, and creates it and its files private
(`include.staging`). Map worker processes die with the process that started them
(`_watch_parent`) and never commit once it is gone.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from multiprocessing.connection import Connection as Pipe
from typing import Any, NoReturn, Protocol

import orjson
import sqlalchemy as sa
from pydantic import ValidationError

from connectors.base import Connector, Window
from include import staging
from include.config import ConnectionConfig
from include.keys import make_key
from include.mapping import CompiledMapping, MappedRecord, MappingError
from include.model import CHILD_ENTITIES, list_adapter, page_checker
from include.store import LoadRow, LoadStats, QuarantineItem, Store, SyncRun
from include.timeutil import format_utc, parse_datetime, utcnow, zone

log = logging.getLogger(__name__)

LOAD_BATCH = 10_000


class StagingPath(Protocol):
    def __truediv__(self, other: str) -> StagingPath: ...
    def open(self, mode: str = ...) -> Any: ...
    def mkdir(self, parents: bool = ..., exist_ok: bool = ...) -> None: ...


@contextmanager
def bulk_gc(young: int = 50_000) -> Iterator[None]:
    """Bulk work allocates millions of short-lived containers (decoded pages, mapped rows) and
    keeps few, so the cyclic collector's passes are nearly all waste, and its full passes scan
    everything the process imported (an Airflow task's heap is large). Inside: what exists now is
    frozen out of the collector's sight and the young generation is collected ``young``/700 times
    less often; the settings are restored after."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(young, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


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
    - manual (or anything else): ``[cursor - overlap, now)``;
    - but a scheduled run of an entity that serves fields the source cannot date
      (``EntitySpec.changed_when.untracked``) reads in full when its last successful full read
      started ``full_read_every`` ago or more.
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
    if run_type == "scheduled" and full_read_due(store, cfg, entity, now):
        return Window()
    if run_type == "scheduled" and interval_start is not None:
        return Window(min(cursor, interval_start) - cfg.overlap_delta, interval_end)
    return Window(cursor - cfg.overlap_delta, now)


def full_read_due(store: Store, cfg: ConnectionConfig, entity: str, now: datetime) -> bool:
    """The entity has untracked fields and no successful full read within ``full_read_every``."""
    from connectors.registry import get_connector

    spec = get_connector(cfg.system).entities.get(entity)
    if spec is None or not spec.changed_when.untracked:
        return False
    last = parse_datetime(store.last_full_read(cfg.id, entity))
    due = last is None or now - last >= cfg.full_read_delta
    if due:
        log.info(
            "%s: full read: %s cannot be dated at the source, last full read %s (every %s)",
            entity, ", ".join(spec.changed_when.untracked), format_utc(last) or "never",
            cfg.full_read_every,
        )  # fmt: skip
    return due


def stamps_changes(cfg: ConnectionConfig, entity: str) -> bool:
    """The entity serves fields its source cannot date (``ChangedWhen.untracked``): its loads
    let the store date a change of served values (`Store.load_batch(stamp_changes=...)`)."""
    from connectors.registry import get_connector

    spec = get_connector(cfg.system).entities.get(entity)
    return spec is not None and bool(spec.changed_when.untracked)


def window_to_dict(window: Window) -> dict[str, str | None]:
    return {"start": format_utc(window.start), "end": format_utc(window.end)}


def window_from_dict(d: dict[str, str | None]) -> Window:
    return Window(parse_datetime(d.get("start")), parse_datetime(d.get("end")))


# ---------------------------------------------------------------- extract


@bulk_gc()
def extract(connector: Connector, entity: str, window: Window, out_dir: StagingPath) -> dict:
    """Stream pages for ``entity`` in ``window`` to ``out_dir/pages.jsonl``; return a summary."""
    path = out_dir / "pages.jsonl"
    pages = records = 0
    started = time.monotonic()
    with staging.lease(out_dir), staging.create(path) as fh:
        for page in prefetch(connector.read(entity, window)):
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


_DONE = object()


def prefetch(pages: Iterable[Any], depth: int = 2) -> Iterator[Any]:
    """Iterate ``pages`` in a background thread, at most ``depth`` pages ahead (bounded memory):
    the next request is in flight while the caller writes the current page. Exceptions are
    re-raised in the caller; stopping early (an error, ``close()``) stops the thread."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for page in pages:
                if not put((page, None)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put((_DONE, exc))
            return
        put((_DONE, None))

    worker = threading.Thread(target=run, name="mw-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = q.get()
            if item is _DONE:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        worker.join()


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


def map_page(entity: str, cm: CompiledMapping, page: list[dict]) -> _PageResult:
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
    return _PageResult(rows, quarantine, keys, statuses)


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
class _Chunk:
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


def _map_lines(entity: str, cm: CompiledMapping, lines: Sequence[bytes]) -> _Chunk:
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
    return _Chunk(pages, b"".join(keys), quarantine, statuses, mapped, max_updated)


_WORKER: dict[str, Any] = {}
ORPHAN_EXIT = 70  # a map worker's exit status when the process that started it is gone
_PR_SET_PDEATHSIG = 1


class WorkerPool:
    """Map worker processes (fresh interpreters: never fork a threaded task process) that die
    with this process: each holds the read end of a pipe whose only write end stays here, so
    its watchdog thread sees end-of-file when this process ends, ``kill -9`` included
    (`_watch_parent`), and it never commits after that (`_commit_only_with_parent`)."""

    def __init__(
        self, workers: int, connector_cls: type[Connector], cfg: ConnectionConfig, entity: str,
        load: dict | None = None,
    ) -> None:  # fmt: skip
        ctx = multiprocessing.get_context("spawn")
        # the read end goes to each worker as it starts (workers start on demand); the write end
        # never leaves this process (pipes are not inherited by other children)
        self._lifeline, self._keep = ctx.Pipe(duplex=False)
        self.executor = ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_worker_init,
            initargs=(connector_cls, cfg, entity, load, self._lifeline),
        )  # fmt: skip

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self.executor.submit(fn, *args)

    def shutdown(self, *, cancel_futures: bool = False) -> None:
        try:
            self.executor.shutdown(wait=True, cancel_futures=cancel_futures)
        finally:
            self._lifeline.close()
            self._keep.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(cancel_futures=exc[0] is not None)


def _worker_init(
    connector_cls: type[Connector], cfg: ConnectionConfig, entity: str, load: dict | None = None,
    lifeline: Pipe | None = None,
) -> None:  # fmt: skip
    """A map worker; with ``load`` (store URL, sync time, guard, assume_new) it also loads what
    it maps (`_worker_stream`), through its own connection to the store, whose every commit first
    checks that the process that started this one is still there."""
    _watch_parent(lifeline)
    _WORKER["job"] = (entity, compile_mapping(connector_cls, cfg, entity))
    if load is not None:
        store = Store(load["url"], cache_mib=16)
        sa.event.listen(store.engine, "commit", _commit_only_with_parent)
        _WORKER["loader"] = BatchLoader(
            store, cfg, entity, synced_at=load["synced_at"], guard=load["guard"],
            assume_new=load["assume_new"],
        )  # fmt: skip
    gc.freeze()  # a worker does only bulk work: see `bulk_gc`
    gc.set_threshold(50_000, *gc.get_threshold()[1:])


def _watch_parent(lifeline: Pipe | None) -> None:
    """End this worker when the process that started it ends: a watchdog thread waits for
    end-of-file on ``lifeline`` (and checks the parent's pid every second); on Linux the kernel
    also sends SIGKILL when the starting thread ends (``PR_SET_PDEATHSIG``)."""
    ppid = _WORKER["ppid"] = os.getppid()
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):  # no prctl: the watchdog alone
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != ppid:  # the parent ended before the signal was set
        _orphaned("its parent ended before it started")
    watchdog = threading.Thread(
        target=_watchdog, args=(lifeline, ppid), name="mw-parent-watch", daemon=True
    )
    watchdog.start()


def _watchdog(lifeline: Pipe | None, ppid: int) -> None:
    while True:
        if lifeline is None:
            time.sleep(1.0)
        else:
            try:
                if lifeline.poll(1.0):  # nothing is ever sent: readable means end-of-file
                    lifeline.recv_bytes()
            except (EOFError, OSError):
                _orphaned("its parent ended")
        if os.getppid() != ppid:
            _orphaned("its parent ended")


def _commit_only_with_parent(_conn: sa.Connection) -> None:
    """A loading worker's store calls this right before each commit: a worker whose parent is
    gone exits instead (the transaction is never committed; the database drops it)."""
    if os.getppid() != _WORKER["ppid"]:
        _orphaned("its parent ended before a commit")


def _orphaned(why: str) -> NoReturn:
    with suppress(OSError):  # nobody reads our stderr any more
        os.write(2, f"map worker {os.getpid()}: {why}; exiting, nothing committed\n".encode())
    os._exit(ORPHAN_EXIT)


def _worker_map(lines: list[bytes]) -> _Chunk:
    entity, cm = _WORKER["job"]
    return _map_lines(entity, cm, lines)


def _worker_stream(lines: list[bytes]) -> _Chunk:
    """Map a chunk of ``pages.jsonl`` lines (`_map_lines`); when the worker loads (see
    `_worker_init`), load it as one batch (no cursor) and send back only counts, not rows."""
    entity, cm = _WORKER["job"]
    chunk = _map_lines(entity, cm, lines)
    loader: BatchLoader | None = _WORKER.get("loader")
    if loader is None:
        return chunk
    grouped: dict[str, list[list[Any]]] = {}
    for rows in chunk.pages:
        for row in rows:
            grouped.setdefault(row[0], []).append(row)
    loader.total, loader.children = LoadStats(0, 0, 0), {}
    loader.load_now(grouped)
    chunk.pages = []
    chunk.loaded = (loader.total, loader.children)
    return chunk


MAP_WORKERS_ENV = "MILLWRIGHT_MAP_WORKERS"
PARALLEL_MAP_BYTES = 32 << 20  # below this a pool's start-up (a fresh interpreter) costs more
CHUNK_PAGES = 4


def map_workers(size: int | None) -> int:
    """Processes for mapping a ``pages.jsonl`` of ``size`` bytes: ``MILLWRIGHT_MAP_WORKERS`` when
    set (1 = in this process), else one per CPU (at most 4) for large files, else 1."""
    env = os.environ.get(MAP_WORKERS_ENV, "").strip()
    if env:
        return max(1, int(env))
    if size is None or size < PARALLEL_MAP_BYTES:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _chunks(path: StagingPath) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                chunk.append(line)
                if len(chunk) >= CHUNK_PAGES:
                    yield chunk
                    chunk = []
    if chunk:
        yield chunk


def _map_parallel(
    connector_cls: type[Connector], cfg: ConnectionConfig, entity: str, path: StagingPath,
    workers: int,
) -> Iterator[_Chunk]:  # fmt: skip
    """Map chunks of pages in ``workers`` fresh processes, yielded in file order; at most two
    chunks per worker are in flight (bounded memory)."""
    with WorkerPool(workers, connector_cls, cfg, entity) as pool:
        flight: deque[Future] = deque()
        for chunk in _chunks(path):
            flight.append(pool.submit(_worker_map, chunk))
            if len(flight) >= 2 * workers:
                yield flight.popleft().result()
        while flight:
            yield flight.popleft().result()


def _size(path: StagingPath) -> int | None:
    try:
        return int(path.stat().st_size)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - object storage without stat: map in-process
        return None


@bulk_gc()
def map_pages(
    connector_cls: type[Connector],
    cfg: ConnectionConfig,
    entity: str,
    extracted: dict,
    out_dir: StagingPath,
    store: Store,
    run_id: str,
    path_factory: Callable[[str], StagingPath] | None = None,
    workers: int | None = None,
) -> dict:
    """Map ``pages.jsonl`` into ``mapped.jsonl``; quarantine failures; return a summary.

    Large files are mapped by a pool of processes (`map_workers`; the output is the same, in the
    same order); quarantined records are stored from this process, page by page.
    """
    with staging.lease(out_dir):
        return _map_pages(connector_cls, cfg, entity, extracted, out_dir, store, run_id,
                          path_factory, workers)  # fmt: skip


def _map_pages(
    connector_cls: type[Connector], cfg: ConnectionConfig, entity: str, extracted: dict,
    out_dir: StagingPath, store: Store, run_id: str,
    path_factory: Callable[[str], StagingPath] | None, workers: int | None,
) -> dict:  # fmt: skip
    to_path = path_factory or _default_path_factory(out_dir)
    pages_path = to_path(extracted["path"])
    path = out_dir / "mapped.jsonl"
    keys_path = out_dir / "keys.txt"
    started = time.monotonic()
    n_workers = workers if workers is not None else map_workers(_size(pages_path))

    def run(chunks: Iterator[_Chunk]) -> tuple[int, int, str | None, set[str]]:
        mapped = quarantined = 0
        max_updated: str | None = None
        statuses: set[str] = set()
        with staging.create(path) as fh, staging.create(keys_path) as kfh:
            for chunk in chunks:
                if chunk.quarantine:  # idempotent per item: a re-run adds nothing twice
                    store.quarantine_add(cfg.id, entity, run_id, chunk.quarantine)
                    quarantined += len(chunk.quarantine)
                for rows in chunk.pages:
                    write_rows(fh, rows)
                kfh.write(chunk.keys)
                statuses |= chunk.statuses
                mapped += chunk.mapped
                if chunk.max_updated and (max_updated is None or chunk.max_updated > max_updated):
                    max_updated = chunk.max_updated
        return mapped, quarantined, max_updated, statuses

    def in_process() -> Iterator[_Chunk]:
        cm = compile_mapping(connector_cls, cfg, entity)
        return (_map_lines(entity, cm, lines) for lines in _chunks(pages_path))

    if n_workers > 1:
        try:
            totals = run(_map_parallel(connector_cls, cfg, entity, pages_path, n_workers))
        except (BrokenProcessPool, OSError, AssertionError) as exc:
            # e.g. a daemonic parent, or a __main__ that cannot be re-imported: map here instead
            log.warning("map %s: worker processes failed (%r); mapping in-process", entity, exc)
            n_workers = 1
            totals = run(in_process())
    else:
        totals = run(in_process())
    mapped, quarantined, max_updated, statuses = totals
    read = extracted["read"]
    log.info(
        "map %s: %d read, %d mapped, %d quarantined in %.1fs (%d process%s)",
        entity, read, mapped, quarantined, time.monotonic() - started, n_workers,
        "es" if n_workers > 1 else "",
    )  # fmt: skip
    return {
        **extracted,
        "mapped_path": str(path),
        "keys_path": str(keys_path),
        "mapped": mapped,
        "quarantined": quarantined,
        "max_updated": max_updated,
        "statuses": sorted(statuses),
    }


def _default_path_factory(like: StagingPath) -> Callable[[str], StagingPath]:
    cls = type(like)
    return lambda s: cls(s)  # type: ignore[call-arg]


# ---------------------------------------------------------------- load


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return value.decode()
    return orjson.dumps(value).decode()


def _load_rows(rows: Sequence[list[Any]]) -> list[LoadRow]:
    """Rows of `map_page` / `iter_mapped` as `LoadRow`-ordered tuples (``data``/``raw`` as JSON
    text; the store checks them)."""
    if all(r[8].__class__ is str and (r[9] is None or r[9].__class__ is str) for r in rows):
        return [(r[1], r[2], r[3], r[8], r[9], r[4], r[5], r[6], r[7]) for r in rows]  # type: ignore[misc]
    text = _json_text
    return [LoadRow(r[1], r[2], r[3], text(r[8]), text(r[9]), r[4], r[5], r[6], r[7]) for r in rows]


class BatchLoader:
    """Upserts mapped rows in batches of ``batch_size`` on one writer thread (one batch in flight,
    one being filled: bounded memory) while the caller produces the next; the database releases
    the GIL while it works. `finish` writes the last batch together with the cursor."""

    def __init__(
        self, store: Store, cfg: ConnectionConfig, entity: str, *, synced_at: str,
        guard: Callable[[Any], None] | None = None, batch_size: int = LOAD_BATCH,
        assume_new: bool = False,
    ) -> None:  # fmt: skip
        self.store, self.cfg, self.entity = store, cfg, entity
        # the entity's first full load: insert batches straight away until a key turns out to
        # exist (`Store.load_batch(assume_new=...)`)
        self.assume_new = self.started_empty = assume_new
        self.synced_at, self.guard, self.batch_size = synced_at, guard, batch_size
        self.stamp_changes = stamps_changes(cfg, entity)
        self.total = LoadStats(0, 0, 0)
        self.children: dict[str, LoadStats] = {}
        self._pending: dict[str, list[list[Any]]] = {}
        self._count = 0
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="mw-load")
        self._in_flight: Future | None = None

    def add(self, rows: Iterable[list[Any]]) -> None:
        """Queue rows (`map_page` / `iter_mapped` format); a full batch goes to the writer."""
        pending = self._pending
        n = 0
        for row in rows:
            pending.setdefault(row[0], []).append(row)
            n += 1
        self._count += n
        if self._count >= self.batch_size:
            self._submit(final=False, cursor=None)

    def _submit(self, *, final: bool, cursor: str | None) -> None:
        if self._in_flight is not None:
            self._in_flight.result()  # re-raises the writer's error here
            self._in_flight = None
        batch, self._pending, self._count = self._pending, {}, 0
        self._in_flight = self._writer.submit(self._flush, batch, final, cursor)

    def finish(self, cursor: str | None) -> None:
        """Write what is left, with the cursor (when given), and wait for the writer."""
        try:
            self._submit(final=True, cursor=cursor)
            assert self._in_flight is not None
            self._in_flight.result()
        finally:
            self._in_flight = None
            self._writer.shutdown(wait=True)

    def close(self) -> None:
        """Stop after an error elsewhere: wait for the batch in flight, drop the rest."""
        try:
            if self._in_flight is not None:
                self._in_flight.exception()
        finally:
            self._writer.shutdown(wait=True, cancel_futures=True)

    def absorb(self, loaded: tuple[LoadStats, dict[str, LoadStats]]) -> None:
        """Count a batch another process loaded (`_worker_stream`)."""
        stats, children = loaded
        self.total = _add(self.total, stats)
        for child, c in children.items():
            self.children[child] = _add(self.children.get(child), c)

    def load_now(self, batch: dict[str, list[list[Any]]]) -> None:
        """Load one batch (rows by entity) in this thread, without the cursor."""
        self._flush(batch, False, None)

    def _flush(self, batch: dict[str, list[list[Any]]], final: bool, cursor: str | None) -> None:
        store, cid, entity = self.store, self.cfg.id, self.entity
        parent_rows = batch.pop(entity, [])
        if parent_rows or final:
            stats = store.load_batch(
                cid, entity, _load_rows(parent_rows), synced_at=self.synced_at,
                cursor=cursor if final else None, guard=self.guard,
                assume_new=self.assume_new and bool(parent_rows),
                stamp_changes=self.stamp_changes,
            )  # fmt: skip
            if stats.inserted < len(parent_rows):
                self.assume_new = False
            self.total = _add(self.total, stats)
        parent_keys = [r[1] for r in parent_rows]
        kids = child_entities(entity)
        gone = [r[1] for r in parent_rows if r[7] is not None]  # deleted at the source
        for child_entity in dict.fromkeys((*kids, *batch)):
            rows = batch.get(child_entity, [])
            if not rows and not parent_keys:
                continue
            if rows:
                stats = store.load_batch(
                    cid, child_entity, _load_rows(rows), synced_at=self.synced_at,
                    guard=self.guard,
                )  # fmt: skip
                self.children[child_entity] = _add(self.children.get(child_entity), stats)
            # a parent read now that lists no children at all has lost them all
            store.reconcile(
                cid, child_entity, [[r[1] for r in rows]],
                deleted_at=self.synced_at, parent_keys=parent_keys,
            )  # fmt: skip
        if gone and kids:  # their children follow (those the batch listed were stored live)
            store.soft_delete_children(
                cid, entity, kids, deleted_at=self.synced_at, parent_keys=gone
            )  # fmt: skip


@bulk_gc()
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
    mapped_path = path_factory(mapped["mapped_path"])
    with staging.lease(mapped_path.parent):  # type: ignore[attr-defined]
        started_at = synced_at = format_utc(utcnow())
        loader = BatchLoader(
            store, cfg, entity, synced_at=synced_at, guard=guard, batch_size=batch_size,
            assume_new=first_load(store, cfg, entity, mapped),
        )  # fmt: skip
        try:
            for page_rows in iter_mapped(mapped_path):
                loader.add(page_rows)
            loader.finish(mapped.get("max_updated") if incremental else None)
        except BaseException:
            loader.close()
            raise
        return finish_load(
            store, cfg, entity, mapped, loader, run_id=run_id, started_at=started_at,
            path_factory=path_factory,
        )  # fmt: skip


def first_load(store: Store, cfg: ConnectionConfig, entity: str, extracted: dict) -> bool:
    """A full read into an entity that has no records yet: its keys are all expected to be new."""
    return bool(extracted.get("full")) and store.count(cfg.id, entity, include_deleted=True) == 0


def finish_load(
    store: Store,
    cfg: ConnectionConfig,
    entity: str,
    mapped: dict,
    loader: BatchLoader,
    *,
    run_id: str,
    started_at: str,
    path_factory: Callable[[str], StagingPath],
) -> dict:
    """After the last batch: reconcile a full read, store the statuses seen, record the run, log
    the numbers, and raise `QuarantineThresholdExceeded` when too much was quarantined."""
    synced_at, total = loader.synced_at, loader.total
    deleted = 0
    if mapped.get("full") and mapped.get("path"):
        if _all_from_this_read(store, cfg, entity, loader):
            log.info("reconcile %s: nothing to do, every stored record came from this read", entity)
        else:
            deleted = reconcile_from_pages(store, cfg, entity, mapped, path_factory, synced_at)
    statuses = sorted(set(mapped.get("statuses") or ()))
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
        "children": {k: v._asdict() for k, v in loader.children.items()},
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
            failure="error" if failed else None,
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


def _all_from_this_read(
    store: Store, cfg: ConnectionConfig, entity: str, loader: BatchLoader
) -> bool:
    """The entity held no records when this full read began, and holds only those it inserted:
    none can have vanished from the source, so reconciling (a pass over every key) is skipped.
    A record another run stored meanwhile makes the counts differ, and reconciliation runs."""
    return loader.started_empty and (
        store.count(cfg.id, entity, include_deleted=True) == loader.total.inserted
    )


def _add(a: LoadStats | None, b: LoadStats) -> LoadStats:
    if a is None:
        return b
    return LoadStats(a.inserted + b.inserted, a.updated + b.updated, a.unchanged + b.unchanged)


# ---------------------------------------------------------------- reconcile


def child_entities(entity: str) -> tuple[str, ...]:
    """The child entities whose rows follow ``entity``'s records (soft-deleted with them)."""
    return tuple(c for c, (parent, _, _) in CHILD_ENTITIES.items() if parent == entity)


def reconcile_from_pages(
    store: Store,
    cfg: ConnectionConfig,
    entity: str,
    extracted: dict,
    path_factory: Callable[[str], StagingPath],
    deleted_at: str,
) -> int:
    """After a complete full read: soft-delete stored records whose keys were not in it."""
    if extracted.get("keys_path"):  # written by map_pages: no second decode of every page

        def batches() -> Iterator[list[str]]:
            yield from iter_lines(path_factory(extracted["keys_path"]))

        return store.reconcile(
            cfg.id, entity, batches(), deleted_at=deleted_at, children=child_entities(entity)
        )

    from connectors.registry import get_connector

    cm = compile_mapping(get_connector(cfg.system), cfg, entity)

    def batches() -> Iterator[list[str]]:
        for page in iter_lines(path_factory(extracted["path"])):
            yield [k for k in map(cm.key_of, page) if k]

    return store.reconcile(
        cfg.id, entity, batches(), deleted_at=deleted_at, children=child_entities(entity)
    )


def reconcile_from_source(
    store: Store, cfg: ConnectionConfig, connector: Connector, entity: str
) -> int:
    """List every key the source has now and soft-delete stored records that vanished."""
    cm = compile_mapping(type(connector), cfg, entity)

    def batches() -> Iterator[list[str]]:
        for page in connector.read_keys(entity):
            yield [k for k in map(cm.key_of, page) if k]

    deleted = store.reconcile(
        cfg.id, entity, batches(), deleted_at=format_utc(utcnow()),
        children=child_entities(entity),
    )  # fmt: skip
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
