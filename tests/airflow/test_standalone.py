"""Real Airflow processes (`airflow standalone`: scheduler, dag-processor, api-server, triggerer,
LocalExecutor workers) against the real Maximo sandbox: trigger through the REST API, a backfill,
and a broken Variable that must not take the running connection's DAG down."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from include import demo
from tests.airflow.conftest import ROOT

pytestmark = pytest.mark.airflow

CID = "live-mx"
DAG_ID = f"sync__{CID}"
ENTITIES = ["work-orders", "assets"]


@pytest.fixture
def sandbox() -> Iterator[tuple[str, object]]:
    from connectors.maximo.sandbox import start_sandbox

    url, handle = start_sandbox(0, seed=7, size=240, apikey="k-live")
    try:
        yield url, handle
    finally:
        handle.stop()


@pytest.fixture
def standalone(tmp_path: Path, sandbox: tuple[str, object]) -> Iterator[tuple[demo.Api, dict]]:
    home, mw_home = tmp_path / "airflow", tmp_path / "mw"
    port = demo.free_port()
    env = demo.airflow_env(port, home, mw_home)
    env.update({
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__STALE_DAG_THRESHOLD": "10",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AIRFLOW_CONN_MW_LIVE_MX": json.dumps(
            {"conn_type": "http", "host": sandbox[0], "password": "k-live"}
        ),
    })  # fmt: skip
    for key in ("AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS", "_AIRFLOW_PARSING_CONTEXT_DAG_ID"):
        env.pop(key, None)
    variable = [{"id": CID, "customer": "acme", "system": "maximo", "airflow_conn_id": "mw_live_mx",
                 "entities": ENTITIES, "schedule": "0 0 * * *",
                 "start_date": "2024-01-01T00:00:00"}]  # fmt: skip
    demo.airflow(env, "db", "migrate")
    demo.airflow(env, "variables", "set", "millwright_connections", json.dumps(variable))
    demo.airflow(env, "pools", "set", "millwright_store_writer", "1", "store writers")
    log = open(tmp_path / "standalone.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(["airflow", "standalone"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        base = f"http://localhost:{port}"
        demo.wait_healthy(base, 180, proc)
        yield demo.Api(base, home), env
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()


def wait_for(what: str, check, timeout: float, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def test_trigger_backfill_and_broken_variable(
    standalone: tuple[demo.Api, dict], sandbox: tuple[str, object], tmp_path: Path
) -> None:
    from include.store import Store

    api, env = standalone
    demo.wait_dags(api, [DAG_ID], 120)
    api.call("PATCH", f"/dags/{DAG_ID}?update_mask=is_paused", json={"is_paused": False})
    run = api.call("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
    states = demo.wait_runs(api, {DAG_ID: run["dag_run_id"]}, 240)
    assert states[DAG_ID] == "success"

    store = Store(f"sqlite:///{tmp_path / 'mw' / 'store.db'}")
    try:
        table = sandbox[1].sandbox.table("MXAPIWODETAIL")
        assert store.count(CID, "work-orders") == table.base_count
        cursor = store.get_cursor(CID, "work-orders")
        assert cursor is not None

        # A backfill re-reads exactly its intervals and leaves the cursor where it was.
        api.call("POST", "/backfills", json={
            "dag_id": DAG_ID, "from_date": "2024-03-01T00:00:00Z",
            "to_date": "2024-03-02T00:00:00Z", "reprocess_behavior": "completed",
        })  # fmt: skip

        def backfill_done():
            runs = api.call("GET", f"/dags/{DAG_ID}/dagRuns?run_type=backfill")["dag_runs"]
            return runs if runs and all(r["state"] in ("success", "failed") for r in runs) else None

        runs = wait_for("the backfill runs", backfill_done, 240)
        assert [r["state"] for r in runs] == ["success"] * len(runs) and len(runs) == 2
        windows = {
            (r["window_start"], r["window_end"])
            for r in store.last_runs(CID, per_entity=10)
            if r["entity"] == "work-orders" and r["run_id"].startswith("backfill")
        }
        assert windows == {
            ("2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
            ("2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z"),
        }
        assert store.get_cursor(CID, "work-orders") == cursor
    finally:
        store.close()

    # A broken Variable: the error DAG appears, the connection's DAG stays active.
    demo.airflow(env, "variables", "set", "millwright_connections", "[{not json")
    wait_for("the error DAG", lambda: _dag(api, "millwright__config_error"), 90)
    time.sleep(15)  # past the stale threshold (10 s) and two more parses
    dag = _dag(api, DAG_ID)
    assert dag is not None and dag["is_stale"] is False
    assert api.call("GET", "/importErrors")["total_entries"] == 0
    assert dag["is_paused"] is False  # still scheduled: neither stale nor paused


def _dag(api: demo.Api, dag_id: str) -> dict | None:
    try:
        return api.call("GET", f"/dags/{dag_id}")
    except RuntimeError:
        return None
