"""Shim: the steps moved to the `include.sync` package (issue 10), one module per step. Re-exports
the old names (the old private ones too, under their new public names) until every import uses
the new paths; then this module is removed."""

import os  # noqa: F401 - tests patch ``pipeline.os._exit``

from connectors.base import Window
from include.sync.common import (
    LOAD_BATCH,
    QuarantineThresholdExceeded,
    StagingPath,
    bulk_gc,
    iter_lines,
)
from include.sync.extract import extract, prefetch
from include.sync.load import (
    BatchLoader,
    finish_load,
    first_load,
    load,
)
from include.sync.map_step import CHUNK_PAGES, map_pages
from include.sync.mapper import (
    Chunk,
    PageResult,
    compile_mapping,
    iter_mapped,
    map_lines,
    map_page,
    write_rows,
)
from include.sync.reconcile import child_entities, reconcile_from_pages, reconcile_from_source
from include.sync.statuses import refresh_statuses
from include.sync.window import (
    full_read_due,
    plan_window,
    stamps_changes,
    window_from_dict,
    window_to_dict,
)
from include.sync.workers import (
    _WORKER,
    MAP_WORKERS_ENV,
    ORPHAN_EXIT,
    PARALLEL_MAP_BYTES,
    WorkerPool,
    _commit_only_with_parent,
    _watch_parent,
    map_workers,
    worker_map,
    worker_stream,
)

# the old private names
_Chunk, _PageResult, _map_lines, _worker_stream, _worker_map = (
    Chunk, PageResult, map_lines, worker_stream, worker_map,
)  # fmt: skip

__all__ = [
    "CHUNK_PAGES", "LOAD_BATCH", "MAP_WORKERS_ENV", "ORPHAN_EXIT", "PARALLEL_MAP_BYTES",
    "BatchLoader", "Chunk", "Window", "PageResult", "QuarantineThresholdExceeded", "StagingPath",
    "WorkerPool", "_WORKER", "_commit_only_with_parent", "_watch_parent", "bulk_gc",
    "child_entities", "compile_mapping", "extract", "finish_load", "first_load", "full_read_due",
    "iter_lines", "iter_mapped", "load", "map_lines", "map_page", "map_pages", "map_workers",
    "plan_window", "prefetch", "reconcile_from_pages", "reconcile_from_source",
    "refresh_statuses", "stamps_changes", "window_from_dict", "window_to_dict", "worker_map", "worker_stream",
    "write_rows",
]  # fmt: skip
