"""Issue 9's promise, end to end through Airflow: "After kill -9 of a sync task, no process of it
remains and its staging is gone after the next run." The sync task of a generated DAG runs in
another process (``dag.test()``) against the Maximo sandbox with map workers at work; it is
killed with SIGKILL; the DAG's next run succeeds and leaves no staging behind."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.airflow.conftest import ROOT
from tests.test_worker_lifetime import alive, descendants, wait_for

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

CID = "kill-mx"
N = 4000


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_after_kill_9_of_a_sync_task_no_process_remains_and_its_staging_is_gone_after_the_next_run(
    airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from connectors.maximo.sandbox import start_sandbox
    from include.store import Store

    url, handle = start_sandbox(0, seed=5, size=N, apikey="k-kill", slow=1.0, slow_seconds=0.2)
    mw_home = tmp_path / "mw"
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    env = {
        "MILLWRIGHT_HOME": str(mw_home),
        "MILLWRIGHT_STORE_URL": store_url,
        "MILLWRIGHT_MAP_WORKERS": "2",
        "AIRFLOW_CONN_MW_KILL": json.dumps({"conn_type": "http", "host": url, "password": "k-kill"}),
        "AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS": json.dumps([
            {"id": CID, "customer": "acme", "system": "maximo", "airflow_conn_id": "mw_kill",
             "entities": ["work-orders"], "page_size": 100}
        ]),
    }  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    entity_staging = mw_home / "staging" / CID / "work-orders"
    log = (tmp_path / "runner.log").open("wb")
    runner = subprocess.Popen(
        [sys.executable, "-m", "tests.airflow.dag_child", f"sync__{CID}"],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        # the sync task is the process whose map workers are running (two of them, at work)
        def task_with_workers() -> int | None:
            parents = [
                int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                for pid in descendants(runner.pid)
                if "spawn_main" in _cmdline(pid)
            ]
            two = [p for p in set(parents) if parents.count(p) >= 2]
            return two[0] if two else None

        try:
            task = wait_for(task_with_workers, 120, "the sync task's map workers")
        except AssertionError:
            tail = (tmp_path / "runner.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"no map workers; the run's log ends:\n{tail}") from None
        time.sleep(1.0)  # they map and load
        [killed_run] = list(entity_staging.iterdir())
        assert (killed_run / "pages.jsonl").exists()
        its_processes = descendants(task)
        assert len(its_processes) >= 2
        os.kill(task, signal.SIGKILL)
        if runner.pid != task:  # the runner would go on (retries): it is not under test
            runner.kill()
        runner.wait(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    survivors = its_processes
    deadline = time.monotonic() + 5
    while (survivors := alive(survivors)) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not survivors, f"processes of the killed sync task remain: {sorted(survivors)}"
    finally:
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
    assert killed_run.exists()  # nothing has removed it yet; private meanwhile (file:// staging)
    assert stat.S_IMODE(killed_run.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in killed_run.iterdir()} == {
        ".lock": 0o600,
        "pages.jsonl": 0o600,
        "keys.txt": 0o600,
    }

    # the next run of the DAG (a new run: the killed one is not retried here)
    handle.sandbox.faults.rates["slow"] = 0.0
    try:
        bag = DagBag(dag_folder=str(ROOT / "dags"))
        assert bag.import_errors == {}
        run = bag.dags[f"sync__{CID}"].test()
    finally:
        handle.stop()
    assert run.state == "success"
    assert not killed_run.exists()
    assert [p for p in (mw_home / "staging").rglob("*") if not p.is_dir()] == []
    for path in (mw_home / "staging", mw_home / "staging" / CID, entity_staging):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    store = Store(store_url)
    try:
        assert store.count(CID, "work-orders") == N
    finally:
        store.close()
    assert not alive(its_processes)
