"""Store.reconcile: soft-delete what vanished from the source's key listing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from include.store import LoadStats, Store, StoreError

from .helpers import T1, T2, T3, WO, assert_counts_true, row

LINES = "purchase-orders.line-items"


def test_reconcile_streams_batches_and_soft_deletes_the_rest(store: Store) -> None:
    store.load_batch("c1", WO, [row(f"k{i}") for i in range(10)], synced_at=T1)
    pulled = []

    def batches() -> Iterator[list[str]]:
        for chunk in (["k0", "k1", "k2"], ["k3", "k4", "k5", "k6"], ["k0", "gone-elsewhere"]):
            pulled.append(len(chunk))
            yield chunk

    assert store.reconcile("c1", WO, batches(), deleted_at=T2) == 3
    assert pulled == [3, 4, 2]
    rec = store.get_record("c1", WO, "k8")
    assert rec["deleted_at"] == T2 and rec["deleted_by"] == "reconcile"
    assert rec["data"]["deletedAt"] == T2  # served records say so too
    assert store.get_record("c1", WO, "k6")["deleted_at"] is None
    assert store.count("c1", WO) == 7
    assert store.count("c1", WO, include_deleted=True) == 10
    assert_counts_true(store, "c1", WO)
    # already deleted rows are not deleted again
    assert store.reconcile("c1", WO, [["k0"]], deleted_at=T3) == 6
    assert store.get_record("c1", WO, "k8")["deleted_at"] == T2
    assert_counts_true(store, "c1", WO)


def test_reappeared_record_is_restored_by_the_next_load(store: Store) -> None:
    store.load_batch("c1", WO, [row("a", T1), row("b", T1)], synced_at=T1)
    assert store.reconcile("c1", WO, [["b"]], deleted_at=T2) == 1
    # the same version and data come back: the record is live again
    assert store.load_batch("c1", WO, [row("a", T1)], synced_at=T3) == LoadStats(0, 1, 0)
    rec = store.get_record("c1", WO, "a")
    assert rec["deleted_at"] is None and rec["deleted_by"] is None
    assert "deletedAt" not in rec["data"]
    assert store.count("c1", WO) == 2
    assert_counts_true(store, "c1", WO)


def test_reconcile_within_parent_keys_only(store: Store) -> None:
    lines = [row(f"p1-{i}", parentKey="p1") for i in range(3)]
    lines += [row(f"p2-{i}", parentKey="p2") for i in range(3)]
    store.load_batch("c1", LINES, lines, synced_at=T1)
    # PO p1 was re-synced and now has lines 0 and 2; p2 was not re-synced
    n = store.reconcile("c1", LINES, [["p1-0", "p1-2"]], deleted_at=T2, parent_keys=["p1"])
    assert n == 1
    assert store.get_record("c1", LINES, "p1-1")["deleted_at"] == T2
    assert all(store.get_record("c1", LINES, f"p2-{i}")["deleted_at"] is None for i in range(3))
    # a re-synced PO without lines loses all of them (an empty listing is fine with parent_keys)
    assert store.reconcile("c1", LINES, [], deleted_at=T3, parent_keys=["p2"]) == 3
    assert store.count("c1", LINES) == 2
    assert_counts_true(store, "c1", LINES)


def test_empty_listing_is_refused_unless_allowed(store: Store) -> None:
    store.load_batch("c1", WO, [row("a"), row("b")], synced_at=T1)
    with pytest.raises(StoreError, match="listed no keys; refusing to soft-delete all 2"):
        store.reconcile("c1", WO, [[], []], deleted_at=T2)
    assert store.count("c1", WO) == 2
    assert store.reconcile("c1", WO, [], deleted_at=T2, allow_empty=True) == 2
    assert store.count("c1", WO) == 0
    assert store.reconcile("c1", "assets", [], deleted_at=T2) == 0  # nothing stored: fine


def test_reconcile_with_many_keys_in_bounded_batches(store: Store) -> None:
    n = 30_000
    for start in range(0, n, 10_000):
        rows = [row(f"k{i:06d}") for i in range(start, start + 10_000)]
        store.load_batch("c1", WO, rows, synced_at=T1)
    keep = (f"k{i:06d}" for i in range(n) if i % 10)
    batches = iter(lambda: [k for _, k in zip(range(5000), keep, strict=False)], [])
    assert store.reconcile("c1", WO, batches, deleted_at=T2) == n // 10
    assert store.count("c1", WO) == n - n // 10
    assert_counts_true(store, "c1", WO)


PO = "purchase-orders"


def _po_with_lines(store: Store, po: str, n: int = 2, version: str = T1) -> None:
    store.load_batch("c1", PO, [row(po, version)], synced_at=T1)
    lines = [row(f"{po}-{i}", version, parentKey=po) for i in range(n)]
    store.load_batch("c1", LINES, lines, synced_at=T1)


def test_reconcile_soft_deletes_the_children_of_a_deleted_parent(store: Store) -> None:
    _po_with_lines(store, "p1")
    _po_with_lines(store, "p2")
    # p1 vanished from the source: its lines go with it, in the same call
    assert store.reconcile("c1", PO, [["p2"]], deleted_at=T2, children=[LINES]) == 1
    for key in ("p1-0", "p1-1"):
        rec = store.get_record("c1", LINES, key)
        assert rec["deleted_at"] == T2 and rec["deleted_by"] == "parent"
        assert rec["data"]["deletedAt"] == T2
        # modified_after / cursor paging read updated_at: the deletion is a change
        assert rec["updated_at"] == T2 and rec["data"]["updatedAt"] == T2
    assert store.get_record("c1", PO, "p1")["updated_at"] == T2
    assert all(store.get_record("c1", LINES, f"p2-{i}")["deleted_at"] is None for i in range(2))
    assert store.count("c1", LINES) == 2
    assert_counts_true(store, "c1", LINES)
    assert_counts_true(store, "c1", PO)


def test_reconcile_without_children_leaves_child_rows_alone(store: Store) -> None:
    """The behaviour before children were passed: what the cascade fixes."""
    _po_with_lines(store, "p1")
    _po_with_lines(store, "p2")
    assert store.reconcile("c1", PO, [["p2"]], deleted_at=T2) == 1
    assert store.get_record("c1", LINES, "p1-0")["deleted_at"] is None


def test_children_of_parents_deleted_earlier_are_caught_up(store: Store) -> None:
    """Lines left live by an older reconciliation are soft-deleted by the next one."""
    _po_with_lines(store, "p1")
    _po_with_lines(store, "p2")
    store.reconcile("c1", PO, [["p2"]], deleted_at=T2)  # no children: lines left live
    assert store.reconcile("c1", PO, [["p2"]], deleted_at=T3, children=[LINES]) == 0
    assert store.get_record("c1", LINES, "p1-1")["deleted_at"] == T3
    assert_counts_true(store, "c1", LINES)


def test_source_deleted_parents_take_their_children(store: Store) -> None:
    _po_with_lines(store, "p1")
    _po_with_lines(store, "p2")
    store.load_batch("c1", PO, [row("p1", T2, deletedAt=T2)], synced_at=T2)
    done = store.soft_delete_children("c1", PO, [LINES], deleted_at=T3, parent_keys=["p1"])
    assert done == {LINES: 2}
    assert store.get_record("c1", LINES, "p1-0")["deleted_by"] == "parent"
    assert store.get_record("c1", LINES, "p2-0")["deleted_at"] is None
    # a listed parent that is live keeps its children
    assert store.soft_delete_children("c1", PO, [LINES], deleted_at=T3, parent_keys=["p2"]) == {
        LINES: 0
    }
    assert_counts_true(store, "c1", LINES)


def test_children_deleted_with_their_parent_come_back_with_it(store: Store) -> None:
    _po_with_lines(store, "p1")
    store.reconcile("c1", PO, [[]], deleted_at=T2, children=[LINES], allow_empty=True)
    assert store.count("c1", LINES) == 0
    # the PO reappears unchanged (same versions): parent and lines are live again
    _po_with_lines(store, "p1")
    assert store.count("c1", PO) == 1 and store.count("c1", LINES) == 2
    rec = store.get_record("c1", LINES, "p1-0")
    assert rec["deleted_at"] is None and rec["deleted_by"] is None
    assert_counts_true(store, "c1", LINES)
