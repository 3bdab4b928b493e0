"""The staged ``map`` step: ``pages.jsonl`` -> ``mapped.jsonl`` (+ ``keys.txt``), in worker
processes for large files."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

from connectors.base import Connector
from include.config import ConnectionConfig, naming
from include.store import Store
from include.sync import staging
from include.sync.common import StagingPath, bulk_gc
from include.sync.mapper import Chunk, compile_mapping, map_lines, write_rows
from include.sync.workers import WorkerPool, map_workers, worker_map

log = logging.getLogger(__name__)

CHUNK_PAGES = 4  # pages per chunk a map worker maps


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
) -> Iterator[Chunk]:  # fmt: skip
    """Map chunks of pages in ``workers`` fresh processes, yielded in file order; at most two
    chunks per worker are in flight (bounded memory)."""
    with WorkerPool(workers, connector_cls, cfg, entity) as pool:
        flight: deque[Future] = deque()
        for chunk in _chunks(path):
            flight.append(pool.submit(worker_map, chunk))
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
    path = out_dir / naming.MAPPED_FILE
    keys_path = out_dir / naming.KEYS_FILE
    started = time.monotonic()
    n_workers = workers if workers is not None else map_workers(_size(pages_path))

    def run(chunks: Iterator[Chunk]) -> tuple[int, int, str | None, set[str]]:
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

    def in_process() -> Iterator[Chunk]:
        cm = compile_mapping(connector_cls, cfg, entity)
        return (map_lines(entity, cm, lines) for lines in _chunks(pages_path))

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
