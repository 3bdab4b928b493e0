"""What every step of a sync shares: the staging path protocol, the load batch size, the
bulk-work garbage-collector setting, reading JSON-lines staging files, and the quarantine error."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import orjson

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


def iter_lines(path: StagingPath) -> Iterator[Any]:
    """Decode a JSON-lines staging file one line at a time (bounded memory)."""
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)
