"""The map worker pool: fresh processes that map (and load) chunks of pages and die with the
process that started them."""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import suppress
from multiprocessing.connection import Connection as Pipe
from typing import Any, NoReturn

from connectors.base import Connector
from include.config import ConnectionConfig
from include.store import LoadStats, Store
from include.sync.load import BatchLoader
from include.sync.mapper import Chunk, Rows, compile_mapping, map_lines

log = logging.getLogger(__name__)


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
    it maps (`worker_stream`), through its own connection to the store, whose every commit first
    checks that the process that started this one is still there."""
    _watch_parent(lifeline)
    _WORKER["job"] = (entity, compile_mapping(connector_cls, cfg, entity))
    if load is not None:
        store = Store(load["url"], cache_mib=16)
        store.before_commit(_commit_only_with_parent)
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


def _commit_only_with_parent(_conn: object = None) -> None:
    """A loading worker's store calls this right before each commit: a worker whose parent is
    gone exits instead (the transaction is never committed; the database drops it)."""
    if os.getppid() != _WORKER["ppid"]:
        _orphaned("its parent ended before a commit")


def _orphaned(why: str) -> NoReturn:
    with suppress(OSError):  # nobody reads our stderr any more
        os.write(2, f"map worker {os.getpid()}: {why}; exiting, nothing committed\n".encode())
    os._exit(ORPHAN_EXIT)


def worker_map(lines: list[bytes]) -> Chunk:
    entity, cm = _WORKER["job"]
    return map_lines(entity, cm, lines)


def worker_stream(lines: list[bytes]) -> Chunk:
    """Map a chunk of ``pages.jsonl`` lines (`map_lines`); when the worker loads (see
    `_worker_init`), load it as one batch (no cursor) and send back only counts, not rows."""
    entity, cm = _WORKER["job"]
    chunk = map_lines(entity, cm, lines)
    loader: BatchLoader | None = _WORKER.get("loader")
    if loader is None:
        return chunk
    grouped: Rows = {}
    for rows in chunk.pages:
        for entity_of_rows, entity_rows in rows.items():
            grouped.setdefault(entity_of_rows, []).extend(entity_rows)
    loader.total, loader.children = LoadStats(0, 0, 0), {}
    loader.load_now(grouped)
    chunk.pages = []
    chunk.loaded = (loader.total, loader.children)
    return chunk


MAP_WORKERS_ENV = "MILLWRIGHT_MAP_WORKERS"
PARALLEL_MAP_BYTES = 32 << 20  # below this a pool's start-up (a fresh interpreter) costs more


def map_workers(size: int | None) -> int:
    """Processes for mapping a ``pages.jsonl`` of ``size`` bytes: ``MILLWRIGHT_MAP_WORKERS`` when
    set (1 = in this process), else one per CPU (at most 4) for large files, else 1."""
    env = os.environ.get(MAP_WORKERS_ENV, "").strip()
    if env:
        return max(1, int(env))
    if size is None or size < PARALLEL_MAP_BYTES:
        return 1
    return max(1, min(4, os.cpu_count() or 1))
