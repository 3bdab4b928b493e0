"""The webhook inbox on SQLite and PostgreSQL: stored once per id, claims, crashed claims picked up
again, failures keep their reason, replay, retention, monitoring counts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from include.store import Store, StoreError
from include.store.inbox import Inbox, NewEvent, stamp
from include.store.schema import webhook_inbox


def ev(eid: str, cid: str = "c1", body: str = '{"workOrderId": 1}') -> NewEvent:
    return NewEvent(cid, eid, body, sent_at=1_700_000_000)


def test_add_stores_once_and_counts_duplicates(store: Store) -> None:
    inbox = Inbox(store.engine)
    assert inbox.add([ev("a"), ev("b"), ev("a")]) == [True, True, False]
    assert inbox.add([ev("a"), ev("c"), ev("a", cid="c2")]) == [False, True, True]
    rows = inbox.events("c1")
    assert sorted(r["event_id"] for r in rows) == ["a", "b", "c"]
    assert {r["event_id"]: r["duplicates"] for r in rows} == {"a": 2, "b": 0, "c": 0}
    stats = inbox.stats("c1", datetime.now(UTC) - timedelta(hours=1))
    assert (stats["received"], stats["duplicates"], stats["pending"]) == (3, 2, 3)


def test_concurrent_adds_of_the_same_ids_store_each_once(store: Store) -> None:
    inbox = Inbox(store.engine)
    results: list[bool] = []
    lock = threading.Lock()

    def send(offset: int) -> None:
        for i in range(50):
            out = inbox.add([ev(f"e{(i + offset) % 50}")])
            with lock:
                results.extend(out)

    threads = [threading.Thread(target=send, args=(k * 7,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 50  # each id new exactly once
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(webhook_inbox)).scalar() == 50


def test_claim_done_fail_and_crashed_claims(store: Store) -> None:
    inbox = Inbox(store.engine)
    inbox.add([ev(f"e{i}") for i in range(5)])
    first = inbox.claim("c1", limit=3, claim_timeout=60)
    assert [e.event_id for e in first.events] == ["e0", "e1", "e2"]
    second = inbox.claim("c1", limit=10, claim_timeout=60)
    assert [e.event_id for e in second.events] == ["e3", "e4"]  # claimed ones are not handed out
    assert inbox.claim("c1", claim_timeout=60).events == []
    assert inbox.claimable(claim_timeout=60) == {}
    # the first claimer crashed: once its claim is older than the timeout, another run takes them
    with store.write() as conn:
        old = stamp(datetime.now(UTC) - timedelta(minutes=5))
        conn.execute(
            sa.update(webhook_inbox).where(webhook_inbox.c.claim_token == first.token)
            .values(claimed_at=old)
        )  # fmt: skip
    assert inbox.claimable(claim_timeout=60) == {"c1": (3, first.events[-1].id)}
    again = inbox.claim("c1", claim_timeout=60)
    assert [e.event_id for e in again.events] == ["e0", "e1", "e2"]
    assert all(e.attempts == 2 for e in again.events)
    assert inbox.done(first.token, [e.id for e in first.events]) == 0  # its claim is gone
    assert inbox.done(again.token, [e.id for e in again.events[:2]]) == 2
    assert inbox.done(second.token, [e.id for e in second.events]) == 2
    assert inbox.fail(again.token, {again.events[2].id: "source said 500"}) == 1
    rows = {r["event_id"]: r for r in inbox.events("c1")}
    assert rows["e0"]["status"] == "processed" and rows["e0"]["processed_at"]
    assert rows["e2"]["status"] == "pending" and rows["e2"]["error"] == "source said 500"
    # a failure after the last attempt is final, reason kept
    for _ in range(5):
        c = inbox.claim("c1", claim_timeout=60)
        inbox.fail(c.token, {e.id: "still 500" for e in c.events if e.event_id == "e2"})
        inbox.done(c.token, [e.id for e in c.events if e.event_id != "e2"])
    rows = {r["event_id"]: r for r in inbox.events("c1")}
    assert rows["e2"]["status"] == "failed" and rows["e2"]["error"] == "still 500"
    stats = inbox.stats("c1", datetime.now(UTC) - timedelta(hours=1))
    assert (stats["processed"], stats["failed"], stats["pending"]) == (4, 1, 0)
    assert stats["lag_s"]["p50"] is not None and stats["lag_s"]["p50"] >= 0


def test_replay_and_retention(store: Store) -> None:
    inbox = Inbox(store.engine)
    inbox.add([ev("old"), ev("new")])
    old = stamp(datetime.now(UTC) - timedelta(hours=80))
    with store.write() as conn:
        conn.execute(
            sa.update(webhook_inbox).where(webhook_inbox.c.event_id == "old")
            .values(received_at=old)
        )  # fmt: skip
    c = inbox.claim("c1")
    inbox.done(c.token, [e.id for e in c.events])
    start = stamp(datetime.now(UTC) - timedelta(hours=1))
    assert inbox.replay("c1", start, stamp(datetime.now(UTC) + timedelta(seconds=1))) == 1
    assert [e.event_id for e in inbox.claim("c1").events] == ["new"]
    with pytest.raises(StoreError, match="72 hours"):
        inbox.prune("c1", timedelta(hours=24))
    assert inbox.prune("c1", timedelta(hours=72)) == 1  # "old", processed, 80 h ago
    assert [r["event_id"] for r in inbox.events("c1")] == ["new"]
    # an id kept is still a duplicate after a day and a half
    assert inbox.add([ev("new")]) == [False]


def test_rejections_are_counted(store: Store) -> None:
    inbox = Inbox(store.engine)
    inbox.reject("c1", 401, "webhook-signature does not match")
    inbox.reject("c1", 400, "malformed")
    inbox.reject("c2", 401, "x")
    assert inbox.stats("c1", datetime.now(UTC) - timedelta(minutes=1))["rejected"] == 2
