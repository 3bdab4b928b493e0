"""Map worker processes die with their sync task and never commit after it is gone (issue 9,
item 4): a real process running `streaming.sync_entity` against the Maximo sandbox is killed
with SIGKILL while its workers are inside a batch load."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from connectors.maximo.sandbox import start_sandbox
from include.store import LoadRow, Store
from include.sync import pipeline
from tests import sync_child

ROOT = Path(__file__).resolve().parents[1]
HOLD = 3.0  # seconds each batch load waits inside its transaction before it would commit


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(int(entry))) is not None:
            children.setdefault(info[1], []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process; None when it is gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text[text.rindex(")") + 2 :].split()[:2]
    return None if state in ("Z", "X") else (state, int(ppid))


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if _stat(pid) is not None}


def committed(store_url: str) -> int:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT count(*) FROM records").scalar_one()
    finally:
        engine.dispose()


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def source() -> Iterator[str]:
    url, handle = start_sandbox(0, apikey=sync_child.KEY, size=4000, seed=11)
    try:
        yield url
    finally:
        handle.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killed_sync_task_leaves_no_worker_and_commits_nothing_after(
    source: str, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    Store(store_url).migrate()
    signals = tmp_path / "signals"
    signals.mkdir()
    env = {**os.environ, "MW_TEST_SIGNALS": str(signals), "MW_TEST_HOLD": str(HOLD)}
    task = subprocess.Popen(
        [sys.executable, "-m", "tests.sync_child", source, store_url, str(tmp_path / "run1")],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        # both workers inside a batch load (their guard runs in the write transaction)
        wait_for(lambda: len(list(signals.iterdir())) >= 2, 90, "two batch loads to start")
        below = descendants(task.pid)
        loaders = {int(p.name.split("-")[1]) for p in signals.iterdir()}
        assert loaders <= below and len(loaders) >= 2  # the loads run in worker processes
        before = committed(store_url)
        task.send_signal(signal.SIGKILL)
        task.wait(timeout=10)
    finally:
        if task.poll() is None:
            task.kill()
            task.wait()
    survivors = below
    deadline = time.monotonic() + 5
    while (survivors := alive(survivors)) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not survivors, f"processes of the killed task still running: {sorted(survivors)}"
    finally:
        for pid in alive(survivors):
            os.kill(pid, signal.SIGKILL)
    time.sleep(HOLD + 1.5)  # a load that outlived its task would have committed by now
    assert committed(store_url) == before


def test_a_worker_store_never_commits_once_its_parent_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check right before each commit of a loading worker's store (the watchdog's backstop):
    with the recorded parent pid no longer the parent, the worker exits instead of committing."""
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()

    class Exited(BaseException):
        pass

    def fake_exit(status: int) -> None:
        raise Exited(status)

    monkeypatch.setattr(pipeline.os, "_exit", fake_exit)
    sa.event.listen(store.engine, "commit", pipeline._commit_only_with_parent)

    def row(key: str) -> LoadRow:
        return LoadRow(key, None, "2024-01-01T00:00:00Z", orjson.dumps({"key": key}))

    try:
        monkeypatch.setitem(pipeline._WORKER, "ppid", os.getppid())
        store.load_batch("mx", "work-orders", [row("k1")], synced_at="2024-01-02T00:00:00Z")
        assert store.count("mx", "work-orders") == 1  # the parent is there: commits
        monkeypatch.setitem(pipeline._WORKER, "ppid", os.getppid() + 1)  # "re-parented"
        with pytest.raises(Exited) as exited:
            store.load_batch("mx", "work-orders", [row("k2")], synced_at="2024-01-02T00:00:00Z")
        assert exited.value.args == (pipeline.ORPHAN_EXIT,)
    finally:
        sa.event.remove(store.engine, "commit", pipeline._commit_only_with_parent)
    assert store.count("mx", "work-orders") == 1
    assert store.get_record("mx", "work-orders", "k2") is None
    store.close()


def _sleep_as_worker(lifeline: Any) -> None:
    pipeline._watch_parent(lifeline)
    time.sleep(60)


def test_a_worker_ends_when_its_lifeline_closes() -> None:
    """The watchdog alone (the parent stays alive, so neither the parent-pid check nor Linux's
    parent-death signal applies): end-of-file on the pipe ends the worker at once."""
    ctx = multiprocessing.get_context("spawn")
    lifeline, keep = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_sleep_as_worker, args=(lifeline,))
    worker.start()
    lifeline.close()
    time.sleep(1.0)  # started and watching
    assert worker.is_alive()
    keep.close()  # what the kernel does when the task process dies
    worker.join(timeout=5)
    assert worker.exitcode == pipeline.ORPHAN_EXIT
