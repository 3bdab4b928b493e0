"""Applying the inbox to the store against MaintainX's sandbox: re-reads make order irrelevant,
deletes soft-delete, failures keep their reason and are retried, and 10,000 deliveries with 30%
duplicates, shuffled and sent concurrently to the real receiver, leave the store equal to the
source with every event applied once."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest

from connectors.base import Window
from connectors.maintainx.sandbox import start_sandbox
from connectors.maintainx.sandbox.webhooks import sign
from include.api.webhooks import WebhookSource
from include.config import ConnectionConfig
from include.model.timeutil import format_utc, utcnow
from include.store import Store
from include.store.inbox import Inbox, NewEvent, stamp
from include.sync.events import apply_pending
from include.sync.mapper import compile_mapping, map_page
from include.webhooks.schemes import MAINTAINX_HEADER, body_id
from tests.connectors.maintainx.helpers import connector as mx_connector
from tests.webhooks.conftest import SECRET, ThreadServer, receiver_app

CID = "mx"
WO = "work-orders"


def cfg() -> ConnectionConfig:
    return ConnectionConfig(
        id=CID, customer="acme", system="maintainx", airflow_conn_id="mx_conn",
        entities=[WO], webhooks={},
    )  # fmt: skip


@pytest.fixture
def sandbox() -> Iterator[tuple[str, object]]:
    base, handle = start_sandbox(size=1500, seed=7)
    captured: list[bytes] = []
    lock = threading.Lock()

    def capture(event_type: str, payload: dict) -> int:  # what the sandbox would deliver
        with lock:
            captured.append(orjson.dumps(payload))
        return 1

    handle.webhooks.emit = capture
    handle.captured = captured
    yield base, handle
    handle.stop()


def source_state(base: str) -> dict[str, bytes]:
    """The source's work orders, mapped (key -> unified data), read in full."""
    conn = mx_connector(base)
    cm = compile_mapping(type(conn), cfg(), WO)
    out = {}
    for page in conn.read(WO, Window()):
        for row in map_page(WO, cm, page).rows[WO]:
            out[row.key] = orjson.loads(row.data)
    conn.close()
    return out


def store_state(store: Store) -> dict[str, dict]:
    with store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT key, data FROM records WHERE connection_id = 'mx' AND entity = 'work-orders' "
            "AND deleted_at IS NULL"
        ).all()
    return {k: (orjson.loads(d) if isinstance(d, str | bytes) else d) for k, d in rows}


def initial_load(store: Store, base: str) -> None:
    conn = mx_connector(base)
    cm = compile_mapping(type(conn), cfg(), WO)
    now = format_utc(utcnow())
    for page in conn.read(WO, Window()):
        store.load_batch(CID, WO, map_page(WO, cm, page).rows[WO], synced_at=now)
    conn.close()


def apply(store: Store, base: str, **kw):
    with mx_connector(base) as conn:
        return apply_pending(store, cfg(), conn, run_id="t", **kw)


def test_order_does_not_matter_and_deletes_soft_delete(store, sandbox) -> None:
    base, handle = sandbox
    initial_load(store, base)
    wo = handle.world.collections["/workorders"]
    rid = wo.id_of(3)
    inbox = Inbox(store.engine)
    handle.change("/workorders", rid, title="first")
    handle.change("/workorders", rid, title="second")
    first, second = handle.captured[-2:]
    # the newer event arrives first and is applied, then the older one
    inbox.add([NewEvent(CID, body_id(second), second.decode())])
    assert apply(store, base).processed == 1
    inbox.add([NewEvent(CID, body_id(first), first.decode())])
    result = apply(store, base)
    assert result.processed == 1 and result.updated == 0  # re-read: nothing older is written
    assert store.get_record(CID, WO, str(rid))["data"]["title"] == "second"
    # a delete: the source no longer has the record -> soft-deleted, once
    handle.delete("/workorders", rid)
    gone = handle.captured[-1]
    inbox.add([NewEvent(CID, body_id(gone), gone.decode())])
    assert apply(store, base).deleted == 1
    rec = store.get_record(CID, WO, str(rid))
    assert rec["deleted_at"] and rec["data"]["deletedAt"]
    # a late change event of the deleted record re-reads a 404: stays deleted
    inbox.add([NewEvent(CID, body_id(first) + "x", first.decode())])
    assert apply(store, base).deleted == 0
    assert store.get_record(CID, WO, str(rid))["deleted_at"] == rec["deleted_at"]
    assert store_state(store) == source_state(base)


def test_failures_keep_their_reason_and_are_retried(store, sandbox) -> None:
    base, handle = sandbox
    inbox = Inbox(store.engine)
    rid = handle.world.collections["/workorders"].id_of(1)
    handle.change("/workorders", rid, title="x")
    good = handle.captured[-1]
    inbox.add([
        NewEvent(CID, "good", good.decode()),
        NewEvent(CID, "nothing", '{"orgId": 1}'),
        NewEvent(CID, "list", "[1, 2]"),
    ])  # fmt: skip
    # the source is down: the re-read fails, the event goes back to pending with the reason
    with mx_connector("http://127.0.0.1:9", retries=0) as down:
        result = apply_pending(store, cfg(), down, run_id="t")
    assert result.failed == 3 and result.processed == 0
    rows = {r["event_id"]: r for r in inbox.events(CID)}
    assert rows["good"]["status"] == "pending" and "work-orders" in rows["good"]["error"]
    assert rows["nothing"]["status"] == "failed" and "names no record" in rows["nothing"]["error"]
    assert rows["list"]["status"] == "failed" and "not a JSON object" in rows["list"]["error"]
    # the source is back: the next run applies it
    result = apply(store, base)
    assert result.processed == 1 and result.inserted == 1
    rows = {r["event_id"]: r for r in inbox.events(CID)}
    assert rows["good"]["status"] == "processed" and rows["good"]["error"] is None
    assert rows["good"]["attempts"] == 2


def test_a_crashed_claim_is_picked_up_after_the_timeout(store, sandbox) -> None:
    base, handle = sandbox
    inbox = Inbox(store.engine)
    rid = handle.world.collections["/workorders"].id_of(2)
    handle.change("/workorders", rid, title="claimed by a dead run")
    body = handle.captured[-1].decode()
    inbox.add([NewEvent(CID, "e", body)])
    dead = inbox.claim(CID, claim_timeout=60)  # this run dies without marking anything
    assert len(dead.events) == 1
    assert apply(store, base, claim_timeout=60).claimed == 0  # still held
    time.sleep(1.2)
    result = apply(store, base, claim_timeout=1)
    assert result.processed == 1
    assert store.get_record(CID, WO, str(rid))["data"]["title"] == "claimed by a dead run"


@pytest.mark.integration
def test_10000_events_30pct_duplicates_shuffled_concurrent(store, sandbox) -> None:
    base, handle = sandbox
    initial_load(store, base)
    wo = handle.world.collections["/workorders"]
    rng = random.Random(16)
    ids = [wo.id_of(i) for i in range(wo.size)]
    deleted: set[int] = set()
    # 7,000 changes at the source (changes, creations, deletions), each one delivery
    while len(handle.captured) < 7000:
        roll = rng.random()
        if roll < 0.05:
            rec = handle.create("/workorders", title=f"new {len(handle.captured)}")
            ids.append(rec["id"])
        elif roll < 0.08 and len(deleted) < 150:
            rid = rng.choice([i for i in ids[:300] if i not in deleted])
            handle.delete("/workorders", rid)
            deleted.add(rid)
        else:
            rid = rng.choice([i for i in ids if i not in deleted])
            handle.change("/workorders", rid, priority=rng.choice(["LOW", "MEDIUM", "HIGH"]),
                          title=f"t{rng.random()}")  # fmt: skip
    bodies = handle.captured[:7000]
    unique = {body_id(b) for b in bodies}
    deliveries = bodies + [rng.choice(bodies) for _ in range(3000)]  # 30% redeliveries
    rng.shuffle(deliveries)
    sources = {CID: WebhookSource(CID, "active", "maintainx", (SECRET,))}
    acked = []
    with ThreadServer(receiver_app(store, sources)) as server:
        url = f"{server.url}/webhooks/{CID}"

        def send(chunk: list[bytes]) -> list[int]:
            out = []
            with httpx.Client(timeout=30) as c:
                for body in chunk:
                    h = {MAINTAINX_HEADER: sign(SECRET, int(time.time()), body),
                         "content-type": "application/json"}  # fmt: skip
                    out.append(c.post(url, content=body, headers=h).status_code)
            return out

        chunks = [deliveries[i::32] for i in range(32)]
        with ThreadPoolExecutor(32) as pool:
            for statuses in pool.map(send, chunks):
                acked += statuses
    assert acked.count(200) == 10_000
    inbox = Inbox(store.engine)
    stats = inbox.stats(CID, datetime.now(UTC) - timedelta(hours=1))
    assert stats["received"] == len(unique) and stats["duplicates"] == 10_000 - len(unique)
    # two apply runs at once (a scheduled and a webhook run): claims never overlap
    results = []
    threads = [threading.Thread(target=lambda: results.append(apply(store, base, batch=300)))
               for _ in range(2)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.processed for r in results) == len(unique)
    rows = inbox.events(CID, limit=20_000)
    assert len(rows) == len(unique)
    assert all(r["status"] == "processed" and r["attempts"] == 1 for r in rows)  # applied once
    assert store_state(store) == source_state(base)
    for rid in deleted:
        assert store.get_record(CID, WO, str(rid))["deleted_at"]
    # nothing left, and a replay of the last hour re-applies idempotently
    assert apply(store, base).claimed == 0
    n = inbox.replay(CID, stamp(datetime.now(UTC) - timedelta(hours=1)),
                     stamp(datetime.now(UTC) + timedelta(seconds=1)))  # fmt: skip
    assert n == len(unique)
    again = apply(store, base, batch=1000)
    assert again.processed == len(unique) and again.inserted == 0 and again.updated == 0
    assert store_state(store) == source_state(base)


@pytest.mark.integration
def test_kill_9_of_the_receiver_mid_load_loses_no_acked_event(store, sandbox) -> None:
    """Every delivery that got a 200 before the receiver process was killed with SIGKILL is in
    the inbox, and the next apply run applies it."""
    import os
    import signal
    import subprocess
    import sys

    from tests.webhooks.conftest import free_port

    base, handle = sandbox
    initial_load(store, base)
    wo = handle.world.collections["/workorders"]
    rng = random.Random(9)
    while len(handle.captured) < 4000:
        handle.change("/workorders", wo.id_of(rng.randrange(wo.size)), title=f"k{rng.random()}")
    bodies = list(handle.captured)
    port = free_port()
    url = store.engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.webhooks.receiver_child", url, str(port), SECRET],
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise AssertionError("the receiver child did not start") from None
                time.sleep(0.2)
        acked: list[bytes] = []
        lock = threading.Lock()

        def send(chunk: list[bytes]) -> None:
            with httpx.Client(timeout=10) as c:
                for body in chunk:
                    h = {MAINTAINX_HEADER: sign(SECRET, int(time.time()), body)}
                    try:
                        r = c.post(f"http://127.0.0.1:{port}/webhooks/{CID}", content=body,
                                   headers=h)  # fmt: skip
                    except httpx.HTTPError:
                        return  # the receiver is gone
                    if r.status_code == 200:
                        with lock:
                            acked.append(body)

        threads = [threading.Thread(target=send, args=(bodies[i::32],)) for i in range(32)]
        for t in threads:
            t.start()
        while len(acked) < 500:  # mid-load
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
        for t in threads:
            t.join()
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
    assert 500 <= len(acked) < len(bodies)  # killed mid-load
    stored = {r["event_id"] for r in Inbox(store.engine).events(CID, limit=10_000)}
    missing = {body_id(b) for b in acked} - stored
    assert not missing, f"{len(missing)} acknowledged events are not in the inbox"
    result = apply(store, base, batch=1000)
    assert result.failed == 0
    rows = {r["event_id"]: r for r in Inbox(store.engine).events(CID, limit=10_000)}
    assert all(rows[body_id(b)]["status"] == "processed" for b in acked)
    changed = {orjson.loads(b)["workOrderId"] for b in acked}
    src = source_state(base)
    for rid in changed:
        assert store.get_record(CID, WO, str(rid))["data"] == src[str(rid)]
