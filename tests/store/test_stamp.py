"""``load_batch(stamp_changes=True)``, for entities serving values their source cannot date
(``ChangedWhen.untracked``, e.g. a stock quantity): a change of served data that the source
did not date is dated by the store's write, so ``modified_after`` and cursor paging see it; a
re-read with nothing new rewrites nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import orjson
import pytest
import sqlalchemy as sa

from include.model.timeutil import format_utc, utcnow
from include.store import LoadRow, LoadStats, Store, StoreError

from .helpers import T0, T1, T2, T3, snapshot

STOCKS = "stocks"
LATER = "2999-01-01T00:00:00Z"  # a source time after any stamp of this test


def stock(key: str, version: str = T1, quantity: float = 1.0, **data) -> LoadRow:
    """A row whose data carries the source's ``updatedAt``, as the pipeline maps it."""
    body = {"key": key, "updatedAt": version, "quantity": quantity, **data}
    return LoadRow(
        key=key, remote_id=key, version=version, data=orjson.dumps(body).decode(),
        raw=orjson.dumps({"id": key, "qty": quantity}).decode(), updated_at=version,
        created_at=T0, deleted_at=data.get("deletedAt"),
    )  # fmt: skip


def load(store: Store, rows: list[LoadRow], synced_at: str = T2, **kw) -> LoadStats:
    return store.load_batch("c1", STOCKS, rows, synced_at=synced_at, stamp_changes=True, **kw)


def modified_after(store: Store, since: str) -> set[str]:
    """The keys the API's ``modified_after`` selects (its ``updated_at > :since``)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT key FROM records WHERE entity = :e AND updated_at > :t"),
            {"e": STOCKS, "t": since},
        ).all()
    return {k for (k,) in rows}


def assert_dated(rec: dict, before: str, after: str) -> None:
    """Its updatedAt is the time of the write (between ``before`` and ``after``), in the column
    and in the served data alike."""
    assert before <= rec["updated_at"] <= after
    assert rec["data"]["updatedAt"] == rec["updated_at"]


def test_an_undated_change_is_dated_by_the_write_and_equal_data_is_left_alone(
    store: Store,
) -> None:
    assert load(store, [stock("a"), stock("b", quantity=2)], synced_at=T1) == (2, 0, 0)
    assert load(store, [stock("a"), stock("b", quantity=2)], cursor=T1) == (0, 0, 2)
    assert modified_after(store, T1) == set()

    # the quantity moved at the source, its time did not (a full re-read finds it)
    before = format_utc(utcnow())
    stats = load(store, [stock("a", quantity=5), stock("b", quantity=2)], cursor=T1)
    after = format_utc(utcnow())
    assert stats == LoadStats(0, 1, 1)
    rec = store.get_record("c1", STOCKS, "a")
    assert rec["data"]["quantity"] == 5 and rec["version"] == "2024-01-02T00:00:00.000000Z"
    assert_dated(rec, before, after)
    assert rec["synced_at"] == T2
    assert store.get_record("c1", STOCKS, "b")["synced_at"] == T1  # not rewritten
    assert modified_after(store, T1) == {"a"}
    assert store.get_cursor("c1", STOCKS) == "2024-01-02T00:00:00.000000Z"  # the source's time

    # the next re-read brings the same values with the source's (older) time: nothing to do
    held = snapshot(store, with_synced_at=True)
    assert load(store, [stock("a", quantity=5), stock("b", quantity=2)], synced_at=T3) == (
        0, 0, 2,
    )  # fmt: skip
    assert snapshot(store, with_synced_at=True) == held
    assert modified_after(store, rec["updated_at"]) == set()


def test_without_stamp_changes_the_source_time_stays(store: Store) -> None:
    """The default (entities whose every change the source dates): data compared whole, the
    source's time kept. An undated change is written but invisible to ``modified_after``."""
    store.load_batch("c1", STOCKS, [stock("a")], synced_at=T1)
    assert store.load_batch("c1", STOCKS, [stock("a", quantity=5)], synced_at=T2) == (0, 1, 0)
    rec = store.get_record("c1", STOCKS, "a")
    assert rec["data"] == {"key": "a", "updatedAt": T1, "quantity": 5}
    assert rec["updated_at"] == T1 and modified_after(store, T1) == set()


def test_versions_still_rule_and_the_date_never_moves_back(store: Store) -> None:
    load(store, [stock("a")], synced_at=T1)
    before = format_utc(utcnow())
    load(store, [stock("a", quantity=5)])
    stamped = store.get_record("c1", STOCKS, "a")
    assert_dated(stamped, before, format_utc(utcnow()))

    # an older source version never wins, whatever its data
    assert load(store, [stock("a", T0, quantity=9)]) == (0, 0, 1)
    assert store.get_record("c1", STOCKS, "a")["data"]["quantity"] == 5

    # a newer version with no served change: version and raw are taken, the date stays
    newer = stock("a", T3, quantity=5)._replace(raw='{"id": "a", "qty": 5, "bin": "B2"}')
    assert load(store, [newer]) == (0, 1, 0)
    rec = store.get_record("c1", STOCKS, "a")
    assert rec["version"] == "2024-01-04T00:00:00.000000Z" and rec["raw"]["bin"] == "B2"
    assert rec["updated_at"] == stamped["updated_at"] == rec["data"]["updatedAt"]

    # a source time later than the stamp wins (changed or not)
    assert load(store, [stock("a", LATER, quantity=6)]) == (0, 1, 0)
    rec = store.get_record("c1", STOCKS, "a")
    assert rec["updated_at"] == LATER == rec["data"]["updatedAt"] and rec["data"]["quantity"] == 6
    assert load(store, [stock("a", LATER, quantity=7)]) == (0, 1, 0)
    assert store.get_record("c1", STOCKS, "a")["updated_at"] == LATER  # never back to now


def test_a_record_reappearing_after_reconciliation_is_dated_by_the_write(store: Store) -> None:
    load(store, [stock("a"), stock("b")], synced_at=T1)
    assert store.reconcile("c1", STOCKS, [["b"]], deleted_at=T2) == 1
    before = format_utc(utcnow())
    assert load(store, [stock("a")], synced_at=T3) == (0, 1, 0)
    rec = store.get_record("c1", STOCKS, "a")
    assert rec["deleted_at"] is None and "deletedAt" not in rec["data"]
    assert_dated(rec, before, format_utc(utcnow()))


def test_assume_new_falling_back_to_the_merge_stamps_too(store: Store) -> None:
    load(store, [stock("a")], synced_at=T1)
    before = format_utc(utcnow())
    stats = load(store, [stock("a", quantity=3), stock("n")], assume_new=True)
    assert stats == LoadStats(1, 1, 0)
    assert_dated(store.get_record("c1", STOCKS, "a"), before, format_utc(utcnow()))
    assert store.get_record("c1", STOCKS, "n")["updated_at"] == T1  # new: the source's time


def test_bad_json_is_refused_naming_the_record(store: Store) -> None:
    load(store, [stock("a")], synced_at=T1)
    bad = stock("a")._replace(data='{"key": "a", "quantity": ')
    with pytest.raises(StoreError, match="data of record 'a' is not valid JSON"):
        load(store, [bad])
    assert store.get_record("c1", STOCKS, "a")["data"]["quantity"] == 1
