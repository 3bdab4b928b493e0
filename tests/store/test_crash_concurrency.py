"""A killed load, concurrent loaders, and SQLite writers waiting on the write lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from include.store import Store

from .helpers import T0, T1, T2, T3, WO, assert_counts_true, row, snapshot

REPO = Path(__file__).resolve().parents[2]

# Loads batch B, then stops inside the transaction after the rows were written (before the counts
# and the cursor) and waits to be killed.
CHILD = """
import sys, time
from include.store import Store, loader
from tests.store.helpers import T3, WO
from tests.store.test_crash_concurrency import batch_b

real = loader.add_counts
def stall(*args, **kwargs):
    print("WROTE", flush=True)
    time.sleep(60)
    real(*args, **kwargs)
loader.add_counts = stall
Store(sys.argv[1]).load_batch("c1", WO, batch_b(), synced_at=T3, cursor=T3)
print("COMMITTED", flush=True)
"""


def batch_a():
    return [row(f"k{i:03d}", T1, n=i) for i in range(100)]


def batch_b():
    changed = [row(f"k{i:03d}", T2, n=-i) for i in range(0, 100, 3)]
    return (
        changed + [row(f"n{i:03d}", T2) for i in range(50)] + [row("k001", T0, n=999)]
    )  # older: ignored


def _child(url: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )


def test_killed_load_leaves_nothing_and_rerun_matches_a_clean_load(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    store.load_batch("c1", WO, batch_a(), synced_at=T1, cursor=T1)
    after_a = snapshot(store, with_synced_at=True)
    child = _child(store_url)
    try:
        line = child.stdout.readline()
        assert line.strip() == "WROTE", f"child did not reach the kill point: {line!r}"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert snapshot(store, with_synced_at=True) == after_a  # neither rows nor cursor moved

    stats = store.load_batch("c1", WO, batch_b(), synced_at=T3, cursor=T3)  # the retry
    assert stats == (50, 34, 1)
    reference = Store(f"sqlite:///{tmp_path / 'reference.db'}")
    reference.migrate()
    reference.load_batch("c1", WO, batch_a(), synced_at=T1, cursor=T1)
    reference.load_batch("c1", WO, batch_b(), synced_at=T2, cursor=T3)
    assert snapshot(store) == snapshot(reference)
    reference.close()
    assert_counts_true(store, "c1", WO)


def test_concurrent_loaders_of_one_entity_keep_exact_counts(store: Store) -> None:
    errors: list[BaseException] = []

    def loader(offset: int) -> None:
        try:
            for b in range(4):
                keys = range(offset + b * 150, offset + b * 150 + 300)  # overlapping batches
                store.load_batch("c1", WO, [row(f"k{i:05d}", T1) for i in keys], synced_at=T1)
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=loader, args=(o,)) for o in (0, 400)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert store.count("c1", WO) == len({*range(0, 750), *range(400, 1150)})
    assert_counts_true(store, "c1", WO)


HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO cursors VALUES ('other', 'assets', 'x', 'x')")
print("LOCKED", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


def test_sqlite_loader_waits_for_another_process_holding_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), "1.5"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "LOCKED"
        started = time.monotonic()
        stats = store.load_batch("c1", WO, [row("a"), row("b")], synced_at=T1, cursor=T1)
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
        holder.stdout.close()
    assert holder.returncode == 0
    assert stats == (2, 0, 0)
    assert waited >= 1.0, f"the load did not wait for the lock ({waited:.2f}s)"
    assert store.get_cursor("other", "assets") == "x"  # the other writer committed too
    store.close()


def test_sqlite_loader_gives_up_after_its_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    Store(f"sqlite:///{path}").migrate()
    impatient = Store(f"sqlite:///{path}", busy_timeout=0.3)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), "3"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "LOCKED"
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            impatient.load_batch("c1", WO, [row("a")], synced_at=T1)
    finally:
        holder.wait(timeout=30)
        holder.stdout.close()
    assert impatient.count("c1", WO) == 0
    impatient.close()
