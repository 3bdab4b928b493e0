"""Run history in ``sync_runs``: what the sync DAG's tasks write (running, retrying/failed with
a typed failure, success) and migration 0005 (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from include.store import Store, SyncRun
from include.store.engine import write_txn
from include.store.migrate import current_revision, upgrade

C, WO = "c1", "work-orders"


def one(store: Store, run_id: str, entity: str = WO) -> dict:
    return next(
        r
        for r in store.last_runs(C, per_entity=10)
        if (r["run_id"], r["entity"]) == (run_id, entity)
    )


def test_attempts_of_one_run(store: Store) -> None:
    store.run_started(C, WO, "r1", task="extract", attempt=1, window_start="2024-01-01T00:00:00Z")
    first = one(store, "r1")
    assert (first["status"], first["task"], first["attempt"]) == ("running", "extract", 1)
    store.run_failed(C, WO, "r1", task="extract", attempt=1, failure="error",
                     reason="timeout", retrying=True)  # fmt: skip
    assert (one(store, "r1")["status"], one(store, "r1")["failure"]) == ("retrying", "error")
    # the retry runs: the failure stays on the row until the run succeeds
    store.run_started(C, WO, "r1", task="extract", attempt=2)
    row = one(store, "r1")
    assert (row["status"], row["failure"], row["error"], row["attempt"]) == (
        "running", "error", "timeout", 2)  # fmt: skip
    assert row["started_at"] == first["started_at"]  # the run began with its first attempt
    store.run_started(C, WO, "r1", task="load", attempt=1)
    store.record_run(SyncRun(C, WO, "r1", started_at="2030-01-01T00:00:00Z", status="success",
                             finished_at="2030-01-01T00:00:01Z", inserted=7))  # fmt: skip
    row = one(store, "r1")
    assert (row["status"], row["failure"], row["error"], row["inserted"]) == (
        "success",
        None,
        None,
        7,
    )
    assert row["started_at"] == first["started_at"] and (row["task"], row["attempt"]) == ("load", 1)
    # reconcile afterwards: counts kept, its deletions added
    store.run_started(C, WO, "r1", task="reconcile", attempt=1)
    store.run_succeeded(C, WO, "r1", task="reconcile", attempt=1, deleted=3)
    row = one(store, "r1")
    assert (row["status"], row["inserted"], row["deleted"], row["task"]) == (
        "success",
        7,
        3,
        "reconcile",
    )


def test_a_failure_keeps_the_counts_a_load_recorded(store: Store) -> None:
    store.record_run(SyncRun(C, WO, "r1", started_at="2024-01-01T00:00:00Z", status="failed",
                             inserted=5, error="40.0% of records quarantined", failure="error"))  # fmt: skip
    store.run_failed(C, WO, "r1", task="load", attempt=1, failure="error",
                     reason="40.0% quarantined, above the threshold", retrying=False)  # fmt: skip
    row = one(store, "r1")
    assert (row["inserted"], row["status"], row["error"]) == (
        5, "failed", "40.0% quarantined, above the threshold")  # fmt: skip


def test_a_failure_before_any_start_still_gets_a_row(store: Store) -> None:
    store.run_failed(C, "statuses", "r9", task="statuses", attempt=1, failure="auth",
                     reason="Airflow Connection 'x' not found", retrying=False)  # fmt: skip
    row = one(store, "r9", "statuses")
    assert (row["status"], row["failure"], row["finished_at"] is not None) == (
        "failed",
        "auth",
        True,
    )


def test_stale_running_rows_are_closed_at_the_next_start(store: Store) -> None:
    store.run_started(C, WO, "dead", task="sync", attempt=1)
    store.run_started(C, "assets", "dead", task="sync", attempt=1)
    assert store.run_started(C, WO, "r2", task="sync", attempt=1) == 1
    dead = one(store, "dead")
    assert (dead["status"], dead["failure"]) == ("failed", "error")
    assert "without reporting a result" in dead["error"] and dead["finished_at"]
    assert one(store, "dead", "assets")["status"] == "running"  # another entity: its own start
    # the same task's earlier attempt died (no callback reached the store): closed by the retry
    assert store.run_started(C, WO, "r2", task="sync", attempt=2) == 1
    row = one(store, "r2")
    assert (row["status"], row["failure"], row["attempt"]) == ("running", "error", 2)
    assert row["error"].startswith("attempt 1: the task ended without reporting")


def test_last_runs_finished_skips_running_rows(store: Store) -> None:
    store.run_started(C, WO, "r1", task="sync", attempt=1)
    store.run_failed(C, WO, "r1", task="sync", attempt=1, failure="auth", reason="401",
                     retrying=False)  # fmt: skip
    store.run_started(C, WO, "r2", task="sync", attempt=1)
    assert [r["run_id"] for r in store.last_runs(C)] == ["r2"]
    assert [r["run_id"] for r in store.last_runs(C, finished=True)] == ["r1"]


def test_migration_0005_types_earlier_failures(store_url: str) -> None:
    store = Store(store_url)
    try:
        upgrade(store.engine, "0004")
        with store.engine.connect() as conn, write_txn(conn):
            for run_id, status in (("a", "failed"), ("b", "success")):
                conn.execute(sa.text(
                    "INSERT INTO sync_runs (connection_id, entity, run_id, started_at, status, "
                    "pages, read, mapped, quarantined, inserted, updated, deleted, error) VALUES "
                    f"('c1', 'work-orders', '{run_id}', '2024-01-01T00:00:00Z', '{status}', "
                    "0, 0, 0, 0, 0, 0, 0, NULL)"
                ))  # fmt: skip
        upgrade(store.engine, "0005")  # this revision's effect (later ones chain after it)
        assert current_revision(store.engine) == "0005"
        assert {r["run_id"]: r["failure"] for r in store.last_runs(C, per_entity=5)} == {
            "a": "error", "b": None}  # fmt: skip
    finally:
        store.close()
