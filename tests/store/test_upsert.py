"""Upsert semantics of Store.load_batch, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from include.store import LoadStats, Store, StoreError
from include.store import loader as loader_mod

from .helpers import T0, T1, T2, T3, WO, assert_counts_true, row, snapshot


def test_migrate_is_idempotent_and_versioned_in_own_table(store: Store) -> None:
    import sqlalchemy as sa
    from alembic.script import ScriptDirectory

    from include.store.migrate import alembic_config, current_revision

    store.migrate()  # second call: a no-op
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(store.engine) == head

    names = set(sa.inspect(store.engine).get_table_names())
    assert {"records", "cursors", "entity_counts", "quarantine", "sync_runs", "statuses"} <= names
    assert "store_alembic_version" in names and "alembic_version" not in names


def test_insert_then_same_rows_are_unchanged_and_not_rewritten(store: Store) -> None:
    rows = [row(f"k{i}") for i in range(50)]
    assert store.load_batch("c1", WO, rows, synced_at=T1) == LoadStats(50, 0, 0)
    assert store.load_batch("c1", WO, rows, synced_at=T2) == LoadStats(0, 0, 50)
    rec = store.get_record("c1", WO, "k7")
    assert rec["synced_at"] == T1  # untouched by the no-op load
    assert rec["data"] == {"key": "k7", "title": "t-k7"}
    assert rec["raw"] == {"ID": "K7"}
    assert rec["remote_id"] == "K7" and rec["created_at"] == T0
    assert store.count("c1", WO) == 50
    assert_counts_true(store, "c1", WO)


def test_older_version_never_overwrites_newer(store: Store) -> None:
    store.load_batch("c1", WO, [row("a", T2, status="new")], synced_at=T2)
    stats = store.load_batch("c1", WO, [row("a", T1, status="old")], synced_at=T3)
    assert stats == LoadStats(0, 0, 1)
    rec = store.get_record("c1", WO, "a")
    assert rec["data"]["status"] == "new" and rec["synced_at"] == T2
    stats = store.load_batch("c1", WO, [row("a", T3, status="newer")], synced_at=T3)
    assert stats == LoadStats(0, 1, 0)
    assert store.get_record("c1", WO, "a")["data"]["status"] == "newer"


def test_same_version_with_different_data_replaces(store: Store) -> None:
    store.load_batch("c1", WO, [row("a", T1, status="x")], synced_at=T1)
    assert store.load_batch("c1", WO, [row("a", T1, status="y")], synced_at=T2) == (0, 1, 0)
    rec = store.get_record("c1", WO, "a")
    assert rec["data"]["status"] == "y" and rec["synced_at"] == T2


def test_null_version_replaces_only_when_data_differs(store: Store) -> None:
    store.load_batch("c1", WO, [row("a", None, status="x")], synced_at=T1)
    assert store.load_batch("c1", WO, [row("a", None, status="x")], synced_at=T2) == (0, 0, 1)
    assert store.load_batch("c1", WO, [row("a", None, status="y")], synced_at=T2) == (0, 1, 0)
    assert store.get_record("c1", WO, "a")["data"]["status"] == "y"


def test_mixed_batch_counts_exactly(store: Store) -> None:
    store.load_batch("c1", WO, [row(f"k{i}", T2) for i in range(6)], synced_at=T1)
    batch = [
        row("k0", T2),  # unchanged
        row("k1", T3),  # newer -> updated
        row("k2", T1, status="stale"),  # older -> unchanged
        row("k3", T2, status="edited"),  # same version, new data -> updated
        row("k4", T3, deletedAt=T3),  # a source-side delete -> updated
        row("n1", T2),  # new
        row("n2", T2, deletedAt=T2),  # new, already deleted at the source
    ]
    assert store.load_batch("c1", WO, batch, synced_at=T3) == LoadStats(2, 3, 2)
    assert store.count("c1", WO) == 6  # k0..k5 + n1 - k4
    assert store.count("c1", WO, include_deleted=True) == 8
    assert store.get_record("c1", WO, "k4")["deleted_by"] == "source"
    assert store.get_record("c1", WO, "k2")["data"].get("status") is None
    assert_counts_true(store, "c1", WO)


def test_repeated_key_in_one_batch_keeps_newest(store: Store) -> None:
    batch = [row("a", T2, s=2), row("a", T1, s=1), row("b", T1, s=1), row("b", T1, s=9)]
    assert store.load_batch("c1", WO, batch, synced_at=T1) == LoadStats(2, 0, 0)
    assert store.get_record("c1", WO, "a")["data"]["s"] == 2
    assert store.get_record("c1", WO, "b")["data"]["s"] == 9  # same version: the later row wins


def test_iso_versions_of_different_precision_compare_as_times(store: Store) -> None:
    store.load_batch("c1", WO, [row("a", "2024-01-01T00:00:00.5Z", s=1)], synced_at=T1)
    # As raw text "…00Z" > "…00.5Z"; as times it is older and must not win.
    assert store.load_batch("c1", WO, [row("a", "2024-01-01T00:00:00Z", s=0)], synced_at=T2) == (
        0,
        0,
        1,
    )
    assert store.load_batch("c1", WO, [row("a", "2024-01-01T00:00:01Z", s=2)], synced_at=T2) == (
        0,
        1,
        0,
    )
    assert store.get_record("c1", WO, "a")["data"]["s"] == 2


def test_cursor_advances_with_the_batch_and_never_backwards(store: Store) -> None:
    store.load_batch("c1", WO, [row("a")], synced_at=T1, cursor=T2)
    assert store.get_cursor("c1", WO) == "2024-01-03T00:00:00.000000Z"
    store.load_batch("c1", WO, [row("b")], synced_at=T1, cursor=T1)
    assert store.get_cursor("c1", WO) == "2024-01-03T00:00:00.000000Z"
    assert store.advance_cursor("c1", WO, T0) == "2024-01-03T00:00:00.000000Z"
    assert store.advance_cursor("c1", WO, T3) == "2024-01-04T00:00:00.000000Z"
    assert store.advance_cursor("c1", WO, "2024-01-04T00:00:00.25Z") == (
        "2024-01-04T00:00:00.250000Z"
    )
    # an empty final batch still advances the cursor
    assert store.load_batch("c1", WO, [], synced_at=T3, cursor="2025-01-01T00:00:00Z") == (0, 0, 0)
    assert store.get_cursor("c1", WO) == "2025-01-01T00:00:00.000000Z"
    assert store.get_cursor("c1", "assets") is None


def test_guard_that_raises_writes_nothing(store: Store) -> None:
    store.load_batch("c1", WO, [row("a", T1)], synced_at=T1, cursor=T1)
    before = snapshot(store, with_synced_at=True)
    seen = []

    def refuse(conn) -> None:
        seen.append(conn.in_transaction())
        raise PermissionError("connection c1 is disconnected")

    with pytest.raises(PermissionError, match="disconnected"):
        store.load_batch("c1", WO, [row("a", T3), row("b")], synced_at=T3, cursor=T3, guard=refuse)
    assert seen == [True]  # called inside the transaction
    assert snapshot(store, with_synced_at=True) == before


def test_failed_transaction_changes_neither_rows_nor_cursor(store: Store, monkeypatch) -> None:
    store.load_batch("c1", WO, [row("a", T1)], synced_at=T1, cursor=T1)
    before = snapshot(store, with_synced_at=True)

    def boom(*args, **kwargs):  # fault injection after the rows were written in the transaction
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader_mod, "advance_cursor", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        store.load_batch("c1", WO, [row("a", T3), row("b")], synced_at=T3, cursor=T3)
    assert snapshot(store, with_synced_at=True) == before


def test_reloading_the_same_rows_leaves_the_store_identical(store: Store) -> None:
    rows = [row(f"k{i}", T1, n=i) for i in range(200)]
    store.load_batch("c1", WO, rows, synced_at=T1, cursor=T1)
    first = snapshot(store)
    store.load_batch("c1", WO, rows, synced_at=T2, cursor=T1)
    assert snapshot(store) == first


def test_connections_never_see_each_other(store: Store) -> None:
    store.load_batch("c1", WO, [row("a", T1, who="c1"), row("b")], synced_at=T1, cursor=T1)
    store.load_batch("c2", WO, [row("a", T1, who="c2")], synced_at=T1, cursor=T2)
    assert store.get_record("c1", WO, "a")["data"]["who"] == "c1"
    assert store.get_record("c2", WO, "a")["data"]["who"] == "c2"
    assert store.get_record("c2", WO, "b") is None
    assert (store.count("c1", WO), store.count("c2", WO)) == (2, 1)
    assert store.get_cursor("c1", WO) != store.get_cursor("c2", WO)
    assert store.reconcile("c2", WO, [["zzz"]], deleted_at=T3) == 1
    assert store.count("c1", WO) == 2
    assert store.get_record("c1", WO, "a")["deleted_at"] is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (row("a")._replace(key=None), "record 0 has no key"),
        (row("a")._replace(key=""), "record 0 has no key"),
        (row("a")._replace(data=None), "'a' has no data"),
        (row("a")._replace(data={"x": 1}), "data of record 'a' must be JSON bytes or str"),
    ],
)
def test_bad_rows_are_refused_with_a_clear_error(store: Store, bad, message) -> None:
    with pytest.raises(StoreError, match=message):
        store.load_batch("c1", WO, [bad], synced_at=T1)
    assert store.count("c1", WO, include_deleted=True) == 0


def test_bad_synced_at_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="synced_at must be an ISO-8601 UTC time"):
        store.load_batch("c1", WO, [row("a")], synced_at="2024-01-01 00:00")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (row("b")._replace(data=b'{"key": "b", '), r"data of record 'b' is not valid JSON"),
        (row("b")._replace(raw="{'ID': 'B'}"), r"raw of record 'b' is not valid JSON"),
        (
            row("b")._replace(data='{"key": "b", "t": "\\u0000"}'),
            r"a record's data or raw is JSON PostgreSQL refuses \(unsupported Unicode.*u0000",
        ),
    ],
)
def test_bad_json_fails_the_batch_and_leaves_stored_rows_untouched(
    pg_url: str, bad, message
) -> None:
    """PostgreSQL stages JSON as text and parses it in the merge: bad JSON (or a \\u0000 that
    jsonb refuses) must still fail the whole batch with a StoreError naming the problem."""
    store = Store(pg_url)
    store.migrate()
    try:
        store.load_batch("c1", WO, [row("a", T1), row("b", T1)], synced_at=T1, cursor=T1)
        before = snapshot(store, with_synced_at=True)
        batch = [row("a", T2, status="new"), bad._replace(version=T2), row("c", T2)]
        with pytest.raises(StoreError, match=f"load of c1/{WO}: {message}"):
            store.load_batch("c1", WO, batch, synced_at=T2, cursor=T2)
        assert snapshot(store, with_synced_at=True) == before
        assert store.get_cursor("c1", WO) == before["cursors"][0][2]
        assert store.load_batch("c1", WO, [row("c", T2)], synced_at=T2) == LoadStats(1, 0, 0)
    finally:
        store.close()


@pytest.mark.parametrize("version", [T0, T1], ids=["older", "same"])
def test_bad_json_fails_the_batch_even_when_its_row_would_not_be_written(
    pg_url: str, version: str
) -> None:
    store = Store(pg_url)
    store.migrate()
    try:
        store.load_batch("c1", WO, [row("a", T1)], synced_at=T1)
        before = snapshot(store, with_synced_at=True)
        bad = row("a", version)._replace(raw=b'{"ID": ')
        with pytest.raises(StoreError, match="raw of record 'a' is not valid JSON"):
            store.load_batch("c1", WO, [bad, row("n", T2)], synced_at=T2)
        assert snapshot(store, with_synced_at=True) == before
    finally:
        store.close()


def test_bulk_loads_analyze_the_key_columns_but_not_the_json(pg_url: str) -> None:
    import sqlalchemy as sa

    store = Store(pg_url)
    store.migrate()
    try:
        store.load_batch("c1", WO, [row(f"k{i:05}") for i in range(1500)], synced_at=T1)
        with store.engine.connect() as conn:
            reltuples = conn.execute(
                sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('records')")
            ).scalar_one()
            analyzed = set(
                conn.execute(
                    sa.text(
                        "SELECT attname FROM pg_stats "
                        "WHERE schemaname = current_schema() AND tablename = 'records'"
                    )
                ).scalars()
            )
        assert reltuples == 1500  # the next ANALYZE waits until the entity doubles
        assert {"connection_id", "entity", "key", "updated_at", "deleted_at"} <= analyzed
        assert not analyzed & {"data", "raw"}
    finally:
        store.close()


def test_assume_new_inserts_directly_with_the_merges_result(store: Store) -> None:
    """An entity's first full load inserts straight into records; rows and counts are what the
    merge gives (compared with a merge of the same rows under another connection id)."""
    rows = [row(f"k{i}") for i in range(30)] + [row("gone", deletedAt=T1)]
    stats = store.load_batch("c1", WO, rows, synced_at=T1, cursor=T1, assume_new=True)
    assert stats == LoadStats(31, 0, 0)
    assert store.load_batch("c2", WO, rows, synced_at=T1, cursor=T1) == stats
    assert_counts_true(store, "c1", WO)
    assert store.count("c1", WO) == 30 == store.count("c2", WO)
    assert store.get_cursor("c1", WO) == store.get_cursor("c2", WO)
    records = snapshot(store)["records"]
    by_conn = {
        c: [{**r, "connection_id": "-"} for r in records if r["connection_id"] == c]
        for c in ("c1", "c2")
    }
    assert by_conn["c1"] == by_conn["c2"] and len(by_conn["c1"]) == 31


def test_assume_new_with_an_existing_key_merges_and_an_older_version_still_loses(
    store: Store,
) -> None:
    store.load_batch("c1", WO, [row("a", T3, status="newest")], synced_at=T1)
    batch = [row("a", T1, status="stale"), row("b", T1)]
    stats = store.load_batch("c1", WO, batch, synced_at=T2, assume_new=True)
    assert stats == LoadStats(1, 0, 1)  # b inserted; a stored is newer: unchanged
    assert store.get_record("c1", WO, "a")["data"]["status"] == "newest"
    assert_counts_true(store, "c1", WO)
    assert store.count("c1", WO) == 2


def test_assume_new_with_bad_json_fails_like_the_merge(pg_url: str) -> None:
    store = Store(pg_url)
    store.migrate()
    try:
        bad = row("b")._replace(data=b'{"key": "b", ')
        with pytest.raises(StoreError, match=r"data of record 'b' is not valid JSON"):
            store.load_batch("c1", WO, [row("a"), bad], synced_at=T1, assume_new=True)
        assert store.count("c1", WO, include_deleted=True) == 0
        assert snapshot(store)["records"] == []
    finally:
        store.close()
