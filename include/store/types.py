"""Value types passed to and returned by the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class StoreError(RuntimeError):
    """The store refused an operation; the message says why."""


class LoadRow(NamedTuple):
    """One unified record to upsert. ``data`` and ``raw`` are JSON already serialised (orjson).

    ``version`` must compare as text (ISO UTC times, zero-padded numbers); ISO UTC times are
    normalised to microsecond precision by the store so ``...:00Z`` and ``...:00.5Z`` order right.
    """

    key: str
    remote_id: str | None
    version: str | None
    data: bytes | str
    raw: bytes | str | None = None
    parent_key: str | None = None
    updated_at: str | None = None
    created_at: str | None = None
    deleted_at: str | None = None  # a source-side delete


class LoadStats(NamedTuple):
    """What one load did: rows inserted, rows replaced, rows left as they were."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class QuarantineItem(NamedTuple):
    remote_key: str | None
    raw: str  # JSON text of the source record
    reason: str


# the reason stored for a run whose task died without reporting (see Store.run_started)
KILLED = "the task ended without reporting a result (killed, out of memory or lost)"


@dataclass(frozen=True)
class SyncRun:
    connection_id: str
    entity: str
    run_id: str
    started_at: str
    finished_at: str | None = None
    status: str = "running"
    window_start: str | None = None
    window_end: str | None = None
    pages: int = 0
    read: int = 0
    mapped: int = 0
    quarantined: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    error: str | None = None
    failure: str | None = None  # auth | error: see include/sync/run_status.py
    task: str | None = None  # the task that wrote the row last (sync, extract, load...)
    attempt: int | None = None  # its Airflow try number
