"""Extract: stream the window's pages from the connector into ``pages.jsonl`` (one page a
line), the next page fetched in a background thread (`prefetch`) while the current one is
written."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from connectors.base import Connector, Window
from include.config import naming
from include.sync import staging
from include.sync.common import StagingPath, bulk_gc
from include.sync.window import window_to_dict

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- extract


@bulk_gc()
def extract(connector: Connector, entity: str, window: Window, out_dir: StagingPath) -> dict:
    """Stream pages for ``entity`` in ``window`` to ``out_dir/pages.jsonl``; return a summary."""
    path = out_dir / naming.PAGES_FILE
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
