"""Extract, map and load of one entity at once: what a sync DAG's ``<entity>.sync`` task runs.

`sync_entity` runs the three steps of `include.sync` concurrently over one stream of pages,
so the source, the mapping and the database all work at the same time:

- a reader thread fetches the next page while this thread writes the current one to
  ``pages.jsonl`` (exactly what `extract.extract` writes), one line per page;
- chunks of `CHUNK_RECORDS` records (those lines) go to map worker processes
  (`map_workers`; the pool starts once the stream passes `POOL_AFTER_BYTES`, small runs
  map in this process), which map them exactly as the staged ``map`` step maps ``pages.jsonl``
  and load each as one batch through their own store connection; counts, keys (to ``keys.txt``,
  for reconciliation) and quarantined records come back in stream order;
- what this process maps itself goes to a `BatchLoader` (a writer thread); its last batch,
  after every worker's, commits the cursor.

The workers die with this process and never commit after it is gone (`WorkerPool`);
``out_dir`` is held (`staging.lease`) while the stream runs, and its files are private.

Memory stays bounded: two pages prefetched, one chunk per map worker in flight plus one queued,
one batch being filled and one being written. Semantics are those of the three steps run one after
another: the same quarantine, the same upsert rule (an older version never wins, whichever batch
commits first), the same cursor rule (it moves only after everything is loaded, so a failure
anywhere leaves it where it was). Mapped rows are not staged (the staged shape's ``mapped.jsonl``
would write every raw record a second time). Once the source has been read completely,
``extract.json`` beside ``pages.jsonl`` records it: a retry of that run maps and loads the staged
pages (`map_pages`, `load.load`) without reading the source again; a retry before that
point starts over, and the store's upserts make that safe.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import orjson

from connectors.base import Connector, Window
from include.config import ConnectionConfig, naming
from include.model.timeutil import format_utc, utcnow
from include.store import Store
from include.sync import staging
from include.sync.common import LOAD_BATCH, StagingPath, bulk_gc
from include.sync.extract import prefetch
from include.sync.load import BatchLoader, finish_load, first_load, load
from include.sync.map_step import map_pages
from include.sync.mapper import Chunk, compile_mapping, map_lines
from include.sync.window import window_to_dict
from include.sync.workers import WorkerPool, map_workers, worker_stream

log = logging.getLogger(__name__)

MARKER = naming.EXTRACT_MARKER
# records per chunk a map worker maps and loads as one batch: larger batches cost the database less
# per row (PostgreSQL ~5% fewer CPU seconds at 10,000 than at 4,000), smaller ones less memory
# per worker (each holds about 7 KiB per record of its chunk at its peak)
CHUNK_RECORDS = 5_000
# the stream's bytes after which map worker processes take over: a pool costs a fresh interpreter
# per worker (~1 CPU-s in all), and until it starts this process maps and loads on its own; that
# early phase sets its memory high-water mark (rows in batches, SQLite's page cache), which stays:
# at 32 MiB the task process peaked ~60 MiB higher than at 8 MiB (1M records into SQLite)
POOL_AFTER_BYTES = 8 << 20


@bulk_gc()
def sync_entity(
    connector: Connector,
    cfg: ConnectionConfig,
    entity: str,
    window: Window,
    out_dir: StagingPath,
    store: Store,
    run_id: str,
    *,
    incremental: bool,
    path_factory: Callable[[str], StagingPath],
    guard: Callable[[Any], None] | None = None,
    workers: int | None = None,
    batch_size: int = LOAD_BATCH,
) -> dict:
    """Extract -> map -> load ``entity`` in ``window`` as one stream; return the load summary
    (counts, the window, whether the read was full). Raises
    `QuarantineThresholdExceeded` after loading when too many records were quarantined.
    ``out_dir`` is held while this runs (`staging.lease`: a concurrent clean-up leaves it)."""
    with staging.lease(out_dir):
        return _sync_entity(
            connector, cfg, entity, window, out_dir, store, run_id, incremental=incremental,
            path_factory=path_factory, guard=guard, workers=workers, batch_size=batch_size,
        )  # fmt: skip


def _sync_entity(
    connector: Connector, cfg: ConnectionConfig, entity: str, window: Window,
    out_dir: StagingPath, store: Store, run_id: str, *, incremental: bool,
    path_factory: Callable[[str], StagingPath], guard: Callable[[Any], None] | None,
    workers: int | None, batch_size: int,
) -> dict:  # fmt: skip
    marker = out_dir / MARKER
    if _exists(marker):
        return _resume(
            connector, cfg, entity, marker, out_dir, store, run_id, incremental=incremental,
            path_factory=path_factory, guard=guard, workers=workers, batch_size=batch_size,
        )  # fmt: skip
    started = time.monotonic()
    started_at = synced_at = format_utc(utcnow())
    loader = BatchLoader(
        store, cfg, entity, synced_at=synced_at, guard=guard, batch_size=batch_size,
        assume_new=first_load(store, cfg, entity, {"full": window.is_full}),
    )  # fmt: skip
    mapper = _OrderedMapper(
        type(connector), cfg, entity, workers,
        load={
            "url": store.url, "synced_at": synced_at, "guard": guard,
            "assume_new": loader.assume_new,
        },
    )  # fmt: skip
    tally = _Tally()
    pages_path, keys_path = out_dir / naming.PAGES_FILE, out_dir / naming.KEYS_FILE
    try:
        with staging.create(keys_path) as keys_fh:

            def take(chunk: Chunk) -> None:
                if chunk.quarantine:  # idempotent per item: a re-run adds nothing twice
                    store.quarantine_add(cfg.id, entity, run_id, chunk.quarantine)
                if chunk.loaded is not None:  # a worker loaded it
                    loader.absorb(chunk.loaded)
                for rows in chunk.pages:
                    loader.add(rows)
                keys_fh.write(chunk.keys)
                tally.add(chunk)

            with staging.create(pages_path) as pages_fh:
                for page in prefetch(connector.read(entity, window)):
                    # the page's line of pages.jsonl is also what the mapper gets: one
                    # serialisation per page here, and the workers parse it (staged map does too)
                    line = orjson.dumps(page)
                    pages_fh.write(line)
                    pages_fh.write(b"\n")
                    tally.pages += 1
                    tally.read += len(page)
                    for chunk in mapper.feed(line, len(page)):
                        take(chunk)
            extracted = {
                "path": str(pages_path), "pages": tally.pages, "read": tally.read,
                "window": window_to_dict(window), "full": window.is_full,
            }  # fmt: skip
            with staging.create(marker) as fh:  # the read is complete: a retry never re-reads
                fh.write(orjson.dumps(extracted))
            for chunk in mapper.drain():
                take(chunk)
        mapped = {
            **extracted, "keys_path": str(keys_path), "mapped": tally.mapped,
            "quarantined": tally.quarantined, "max_updated": tally.max_updated,
            "statuses": sorted(tally.statuses),
        }  # fmt: skip
        loader.finish(tally.max_updated if incremental else None)
    except BaseException:
        loader.close()
        raise
    finally:
        mapper.close()
    log.info(
        "sync %s: %d pages, %d records read, %d mapped, %d quarantined in %.1fs "
        "(window %s; %d map process%s)",
        entity, tally.pages, tally.read, tally.mapped, tally.quarantined,
        time.monotonic() - started, mapped["window"], mapper.processes,
        "es" if mapper.processes > 1 else "",
    )  # fmt: skip
    summary = finish_load(
        store, cfg, entity, mapped, loader, run_id=run_id, started_at=started_at,
        path_factory=path_factory,
    )  # fmt: skip
    return {
        **summary, "pages": tally.pages, "full": window.is_full, "window": mapped["window"],
        "map_processes": mapper.processes,
    }  # fmt: skip


def _resume(
    connector: Connector, cfg: ConnectionConfig, entity: str, marker: StagingPath,
    out_dir: StagingPath, store: Store, run_id: str, *, incremental: bool,
    path_factory: Callable[[str], StagingPath], guard: Callable[[Any], None] | None,
    workers: int | None, batch_size: int,
) -> dict:  # fmt: skip
    """A retry after an earlier try read the source completely (``marker``): map and load its
    staged pages as the staged shape does, without reading the source again."""
    with marker.open("rb") as fh:
        extracted = orjson.loads(fh.read())
    log.info(
        "sync %s: an earlier try read the source completely (%d records); mapping and "
        "loading its staged pages again without reading the source", entity, extracted["read"],
    )  # fmt: skip
    mapped = map_pages(
        type(connector), cfg, entity, extracted, out_dir, store, run_id,
        path_factory=path_factory, workers=workers,
    )  # fmt: skip
    summary = load(
        store, cfg, entity, mapped, run_id=run_id, incremental=incremental,
        path_factory=path_factory, guard=guard, batch_size=batch_size,
    )  # fmt: skip
    return {**summary, "full": mapped["full"], "window": mapped["window"]}


class _Tally:
    """Running counts of one stream."""

    def __init__(self) -> None:
        self.pages = self.read = self.mapped = self.quarantined = 0
        self.max_updated: str | None = None
        self.statuses: set[str] = set()

    def add(self, chunk: Chunk) -> None:
        self.mapped += chunk.mapped
        self.quarantined += len(chunk.quarantine)
        self.statuses |= chunk.statuses
        if chunk.max_updated and (self.max_updated is None or chunk.max_updated > self.max_updated):
            self.max_updated = chunk.max_updated


class _OrderedMapper:
    """Maps chunks of pages (each a ``pages.jsonl`` line) and yields the results in stream order:
    in this process until the stream passes `POOL_AFTER_BYTES`, then in worker processes (one
    chunk each in flight, and one queued), which also load what they map when they can."""

    def __init__(
        self, connector_cls: type[Connector], cfg: ConnectionConfig, entity: str,
        workers: int | None, load: dict | None = None,
    ) -> None:  # fmt: skip
        self.connector_cls, self.cfg, self.entity = connector_cls, cfg, entity
        # workers load what they map when they can get the guard (it must pickle)
        self.load = load if load is not None and _picklable(load) else None
        self.max_workers = workers if workers is not None else map_workers(1 << 62)
        self.cm = compile_mapping(connector_cls, cfg, entity)
        self.pool: WorkerPool | None = None
        self.flight: deque[tuple[Future, list[bytes]]] = deque()
        self.lines: list[bytes] = []
        self.records = 0
        self.seen = 0
        self.processes = 1

    def feed(self, line: bytes, records: int) -> Iterator[Chunk]:
        """Add a page (its JSON array of ``records`` records); a chunk of `CHUNK_RECORDS` records
        is mapped (and, in a worker, loaded as one batch) as one unit."""
        self.lines.append(line)
        self.records += records
        self.seen += len(line)
        if self.records >= CHUNK_RECORDS:
            yield from self._submit(self._take())

    def drain(self) -> Iterator[Chunk]:
        if self.lines:
            yield from self._submit(self._take())
        while self.flight:
            yield self._next()

    def _take(self) -> list[bytes]:
        lines, self.lines, self.records = self.lines, [], 0
        return lines

    def _submit(self, lines: list[bytes]) -> Iterator[Chunk]:
        if self.pool is None and self.max_workers > 1 and self.seen >= POOL_AFTER_BYTES:
            self._start_pool()
        if self.pool is None:
            yield map_lines(self.entity, self.cm, lines)
            return
        self.flight.append((self.pool.submit(worker_stream, lines), lines))
        while len(self.flight) > self.max_workers or (self.flight and self.flight[0][0].done()):
            yield self._next()

    def _next(self) -> Chunk:
        future, lines = self.flight.popleft()
        try:
            return future.result()
        except BrokenProcessPool as exc:  # e.g. a __main__ the workers cannot import
            log.warning("map %s: worker processes failed (%r); mapping here", self.entity, exc)
            self.close()
            self.max_workers = 1
            rest = [lines, *(item[1] for item in self.flight)]
            self.flight.clear()
            done = [map_lines(self.entity, self.cm, chunk) for chunk in rest]
            for chunk in done[1:]:
                self.flight.append((_resolved(chunk), []))
            return done[0]

    def _start_pool(self) -> None:
        if multiprocessing.current_process().daemon:  # daemons may not have children
            self.max_workers = 1
            return
        self.pool = WorkerPool(
            self.max_workers, self.connector_cls, self.cfg, self.entity, self.load
        )
        self.processes = self.max_workers

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


def _picklable(value: Any) -> bool:
    try:
        pickle.dumps(value)
    except Exception:  # noqa: BLE001 - e.g. a closure as guard: the workers only map
        return False
    return True


def _resolved(value: Any) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def _exists(path: StagingPath) -> bool:
    try:
        return bool(path.exists())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a store without exists(): never resume
        return False
