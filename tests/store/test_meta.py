"""Quarantine, sync history, statuses, URL resolution and bad URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from include.store import QuarantineItem, Store, StoreError, SyncRun, comparable

from .helpers import T1, T2, T3, WO


def test_quarantine_add_is_idempotent_per_run(store: Store) -> None:
    items = [
        QuarantineItem("wo-1", '{"WONUM": "1", "REPORTDATE": "yesterday"}', "createdAt: bad time"),
        QuarantineItem(None, '{"WONUM": null}', "no key"),
        QuarantineItem(None, '{"WONUM": ""}', "no key"),
    ]
    assert store.quarantine_add("c1", WO, "run-1", items) == 3
    assert store.quarantine_add("c1", WO, "run-1", items) == 0  # retried map task
    listed = store.quarantine_list("c1", WO)
    assert len(listed) == 3
    first = listed[0]
    assert first["remote_key"] == "wo-1" and first["run_id"] == "run-1"
    assert first["raw"] == {"WONUM": "1", "REPORTDATE": "yesterday"}
    assert first["reason"] == "createdAt: bad time" and first["resolved_at"] is None
    assert [r["remote_key"] for r in listed[1:3]] == [None, None]
    # a later run quarantines wo-1 again: a new entry, and the older one is superseded (one
    # open entry per record, with the latest reason)
    again = QuarantineItem("wo-1", '{"WONUM": "1"}', "createdAt: still bad")
    assert store.quarantine_add("c1", WO, "run-2", [again]) == 1
    listed = store.quarantine_list("c1", WO)
    assert [(r["remote_key"], r["run_id"]) for r in listed] == [
        (None, "run-1"), (None, "run-1"), ("wo-1", "run-2")]  # fmt: skip
    assert len(store.quarantine_list("c1", WO, include_resolved=True)) == 4
    assert store.quarantine_counts("c1") == {WO: 3}
    assert store.quarantine_list("c2") == []
    assert len(store.quarantine_list("c1", WO, limit=2, offset=2)) == 1


def test_quarantine_resolve_hides_resolved(store: Store) -> None:
    store.quarantine_add("c1", WO, "r", [QuarantineItem(str(i), "{}", "bad") for i in range(3)])
    ids = [r["id"] for r in store.quarantine_list("c1")]
    assert store.quarantine_resolve(ids[:2], T2) == 2
    assert store.quarantine_resolve(ids[:2], T3) == 0  # already resolved
    assert [r["id"] for r in store.quarantine_list("c1")] == ids[2:]
    everything = store.quarantine_list("c1", include_resolved=True)
    assert [r["resolved_at"] for r in everything] == [T2, T2, None]
    with pytest.raises(StoreError, match="empty reason"):
        store.quarantine_add("c1", WO, "r", [QuarantineItem("x", "{}", "")])


def test_record_run_upserts_and_last_runs_per_entity(store: Store) -> None:
    store.record_run(SyncRun("c1", WO, "r1", started_at=T1, status="running"))
    store.record_run(
        SyncRun("c1", WO, "r1", T1, finished_at=T2, status="success", read=10, inserted=9)
    )
    store.record_run(SyncRun("c1", WO, "r2", T2, status="failed", error="source 503"))
    store.record_run(SyncRun("c1", "assets", "r1", T1, status="success"))
    store.record_run(SyncRun("c2", WO, "r9", T3, status="success"))
    last = store.last_runs("c1")
    assert [(r["entity"], r["run_id"], r["status"]) for r in last] == [
        ("assets", "r1", "success"),
        (WO, "r2", "failed"),
    ]
    assert last[1]["error"] == "source 503"
    two = store.last_runs("c1", per_entity=2)
    r1 = [r for r in two if r["run_id"] == "r1" and r["entity"] == WO][0]
    assert (r1["status"], r1["read"], r1["inserted"], r1["finished_at"]) == ("success", 10, 9, T2)


def test_statuses_upsert(store: Store) -> None:
    store.upsert_statuses("c1", WO, [{"key": "WAPPR", "name": "Waiting"}, {"key": "COMP"}])
    store.upsert_statuses("c1", WO, [{"key": "WAPPR", "name": "Waiting on approval"}])
    assert store.list_statuses("c1", WO) == [
        {"key": "COMP"},
        {"key": "WAPPR", "name": "Waiting on approval"},
    ]
    assert store.list_statuses("c2", WO) == []
    with pytest.raises(StoreError, match="status row 0 of c1/work-orders has no 'key'"):
        store.upsert_statuses("c1", WO, [{"name": "x"}])


def test_from_env_prefers_store_url(monkeypatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x' / 'explicit.db'}"
    monkeypatch.setenv("MILLWRIGHT_STORE_URL", url)
    store = Store.from_env()
    assert store.url == url
    store.migrate()
    assert (tmp_path / "x" / "explicit.db").exists()
    store.close()


def test_from_env_defaults_to_sqlite_under_millwright_home(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MILLWRIGHT_STORE_URL", raising=False)
    monkeypatch.setenv("MILLWRIGHT_HOME", str(tmp_path / "home"))
    store = Store.from_env()
    assert store.url == f"sqlite:///{tmp_path / 'home' / 'store.db'}"
    assert (tmp_path / "home").is_dir()
    monkeypatch.delenv("MILLWRIGHT_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert Store.from_env().url == f"sqlite:///{tmp_path / 'user' / '.millwright' / 'store.db'}"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:secret@h/db", "unsupported store URL mysql://u:\\*\\*\\*@h/db"),
        ("postgresql+psycopg2://u:secret@h/db", "must use psycopg 3.*u:\\*\\*\\*@h"),
        ("not a url", "could not be parsed"),
    ],
)
def test_bad_urls_are_refused_without_leaking_passwords(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as info:
        Store(url)
    assert "secret" not in str(info.value)


def test_comparable_normalises_iso_times_only() -> None:
    assert comparable("2024-01-01T00:00:00Z") == "2024-01-01T00:00:00.000000Z"
    assert comparable("2024-01-01T00:00:00.5Z") == "2024-01-01T00:00:00.500000Z"
    assert comparable("2024-01-01T00:00:00.123456Z") == "2024-01-01T00:00:00.123456Z"
    assert comparable("0000000042") == "0000000042"
    assert comparable("2024-01-01T00:00:00+02:00") == "2024-01-01T00:00:00+02:00"
    assert comparable(None) is None
    times = ["2024-01-01T00:00:01Z", "2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00Z"]
    assert sorted(times, key=comparable) == times[::-1]
    assert sorted(times) != times[::-1]  # why normalising matters


def test_missing_schema_is_a_clear_error(pg_url: str) -> None:
    bad = pg_url.replace("csearch_path%3Dt_", "csearch_path%3Dmissing_")
    with pytest.raises(StoreError, match="no schema of search_path .*missing_.* exists"):
        Store(bad).migrate()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}", busy_timeout=7)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    store.close()
