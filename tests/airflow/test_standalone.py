"""Real Airflow processes (`airflow standalone`: scheduler, dag-processor, api-server, triggerer,
LocalExecutor workers) against the real Maximo sandbox: trigger through the REST API, a backfill,
and a broken Variable that must not take the running connection's DAG down; and the unified API
served by this project's plugin under /millwright, whose admin side drives Airflow through its REST
API (RestAirflowAdapter). One Airflow instance for the module (starting it takes 1-2 minutes)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from include.cli import demo
from tests.airflow import standalone as airflow_proc

pytestmark = pytest.mark.airflow

CID = "live-mx"
DAG_ID = f"sync__{CID}"
ENTITIES = ["work-orders", "assets"]
# A second connection for the plugin test (it gets disconnected). Its start date is in the future,
# so unpausing it schedules no run.
API_CID = "live-api"
VARIABLE = [
    {"id": CID, "customer": "acme", "system": "maximo", "airflow_conn_id": "mw_live_mx",
     "entities": ENTITIES, "schedule": "0 0 * * *", "start_date": "2024-01-01T00:00:00"},
    {"id": API_CID, "customer": "acme", "system": "maximo", "airflow_conn_id": "mw_live_mx",
     "entities": ["sites"], "schedule": "0 0 * * *", "start_date": "2099-01-01T00:00:00"},
]  # fmt: skip


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, object]]:
    from connectors.maximo.sandbox import start_sandbox

    url, handle = start_sandbox(0, seed=7, size=240, apikey="k-live")
    try:
        yield url, handle
    finally:
        handle.stop()


@pytest.fixture(scope="module")
def standalone(
    tmp_path_factory: pytest.TempPathFactory, sandbox: tuple[str, object]
) -> Iterator[tuple[demo.Api, dict]]:
    """`airflow standalone` with the environment `make demo` gives it (include/cli/demo.py): the
    plugin's admin token, how it reaches Airflow's REST API, and a pre-seeded admin password."""
    tmp_path = tmp_path_factory.mktemp("standalone")
    home, mw_home = tmp_path / "airflow", tmp_path / "mw"
    port = demo.free_port()
    worker_log = demo.free_port()  # not Airflow's 8793/8794: other test modules run in parallel
    env = demo.airflow_env(
        port, home, mw_home, log_ports=(worker_log, demo.free_port(avoid=worker_log))
    )
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
    demo.airflow(env, "db", "migrate")
    demo.airflow(env, "variables", "set", "millwright_connections", json.dumps(VARIABLE))
    demo.airflow(env, "pools", "set", "millwright_store_writer", "1", "store writers")
    base = env["MILLWRIGHT_AIRFLOW_URL"]
    with airflow_proc.running(env, tmp_path / "standalone.log", base, 180):
        yield demo.Api(base, home), env


def test_plugin_api_drives_airflow(
    standalone: tuple[demo.Api, dict], sandbox: tuple[str, object]
) -> None:
    """The plugin-mounted app against the real api-server: admin auth, reconcile of hand-made
    Variable entries, a token that reads, a disconnect that kills the token, pauses the DAG (as
    Airflow's own REST API reports it) and marks the Variable entry disconnected; then create,
    patch and reconnect through Airflow's REST API, each ending in a successful sync."""
    api, env = standalone
    # Order-independent: the other test of this module ends with a broken Variable.
    api.call("PATCH", "/variables/millwright_connections",
             json={"key": "millwright_connections", "value": json.dumps(VARIABLE)})  # fmt: skip
    mw = f"{api.base}/millwright/api"
    admin = {"Authorization": f"Bearer {env['MILLWRIGHT_ADMIN_TOKEN']}"}

    def call(method: str, path: str, headers: dict | None = None) -> requests.Response:
        return requests.request(method, f"{mw}{path}", headers=headers, timeout=120)

    def read(token: dict, entity: str) -> int:
        """How many records of ``entity`` the token's connection serves."""
        r = call("GET", f"/eam/{entity}?per_page=1", token)
        assert r.status_code == 200, r.text
        return int(r.json()["meta"]["total"])

    r = call("GET", "/system/connections")  # the first request builds the app
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert call("GET", "/system/connections", {"Authorization": "Bearer wrong"}).status_code == 401
    r = call("GET", "/system/connections", admin)
    assert r.status_code == 200, r.text
    # Inside Airflow, Airflow's own login works too: its JWT as a bearer, or the UI's cookie.
    login = requests.post(f"{api.base}/auth/token", timeout=60, json={
        "username": "admin", "password": env["MILLWRIGHT_AIRFLOW_PASSWORD"]})  # fmt: skip
    jwt = login.json()["access_token"]
    assert call("GET", "/system/connections", {"Authorization": f"Bearer {jwt}"}).status_code == 200
    r = requests.get(f"{mw}/system/connections", cookies={"_token": jwt}, timeout=120)
    assert r.status_code == 200, r.text

    # Reconcile registers the hand-made entries (the DAGs need not be parsed for that), unless
    # the lifecycle DAG has already (tests/lifecycle/test_autonomous_airflow.py times that).
    r = call("POST", "/system/reconcile", admin)
    assert r.status_code == 200, r.text
    listed = {c["key"] for c in call("GET", "/system/connections", admin).json()["data"]}
    assert listed == {CID, API_CID}
    r = call("GET", f"/system/connections/{API_CID}", admin)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "active" and r.json()["data"]["credits"] == 4

    r = call("POST", f"/system/connections/{API_CID}/token", admin)
    assert r.status_code == 200, r.text
    app_token = {"Authorization": f"Bearer {r.json()['data']['token']}"}
    r = call("GET", "/integrations/current", app_token)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["id"] == API_CID
    assert call("GET", "/integrations/current").status_code == 401

    # Active DAGs are created unpaused (include/airflow/dag_factory.py); made sure, so the pause below is
    # the disconnect's doing. The future start date means no scheduled run.
    dag_id = f"sync__{API_CID}"
    demo.wait_dags(api, [dag_id], 120)
    api.call("PATCH", f"/dags/{dag_id}?update_mask=is_paused", json={"is_paused": False})
    assert api.call("GET", f"/dags/{dag_id}")["is_paused"] is False

    r = call("POST", f"/system/connections/{API_CID}/disconnect", admin)
    assert r.status_code == 200, r.text
    view = r.json()["data"]
    assert view["status"] == "disconnected" and view["pending"] == [], view
    assert call("GET", "/integrations/current", app_token).status_code == 401
    assert api.call("GET", f"/dags/{dag_id}")["is_paused"] is True
    entries = json.loads(api.call("GET", "/variables/millwright_connections")["value"])
    status = {e["id"]: e.get("status", "active") for e in entries}
    assert status == {CID: "active", API_CID: "disconnected"}
    credits = call("GET", "/system/credits/acme", admin).json()["data"]
    assert credits["used"] == 4  # live-mx only: the disconnect returned live-api's credits

    # Create through the API: the Airflow Connection and the Variable entry are written through
    # Airflow's REST API; once the DAG is parsed, settling unpauses it and triggers a full sync.
    new_cid = "live-new"
    body = {
        "id": new_cid, "customer": "acme", "system": "maximo",
        "credentials": {"host": sandbox[0], "password": "k-live"},
        "config": {"entities": ["sites"], "schedule": "0 0 * * *",
                   "start_date": "2099-01-01T00:00:00"},
    }  # fmt: skip
    wrong = {**body, "credentials": {"host": sandbox[0], "password": "not-k-live"}}
    r = requests.post(f"{mw}/system/connections", json=wrong, headers=admin, timeout=120)
    assert r.status_code == 422, r.text  # the source is tested first; nothing is written
    assert "maximo refused the credentials (HTTP 401)" in r.json()["message"]
    gone = api.session.get(f"{api.base}/api/v2/connections/millwright_{new_cid}", timeout=60)
    assert gone.status_code == 404
    r = requests.post(f"{mw}/system/connections", json=body, headers=admin, timeout=120)
    assert r.status_code == 200, r.text
    new_token = {"Authorization": f"Bearer {r.json()['data']['access_token']}"}
    conn = api.call("GET", f"/connections/millwright_{new_cid}")
    assert (conn["conn_type"], conn["host"]) == ("millwright_maximo", sandbox[0])
    entries = json.loads(api.call("GET", "/variables/millwright_connections")["value"])
    assert [e["id"] for e in entries] == [CID, API_CID, new_cid]

    def settled(cid: str) -> Callable[[], bool]:
        def check() -> bool:
            r = call("POST", "/system/settle", admin)
            assert r.status_code == 200, r.text
            return cid not in r.json()["data"]

        return check

    def one_run(cid: str, conf: dict) -> None:
        """Exactly one run of the connection's DAG with ``conf``, and it succeeds."""
        runs = api.call("GET", f"/dags/sync__{cid}/dagRuns")["dag_runs"]
        matching = [run for run in runs if run["conf"] == conf]
        assert len(matching) == 1, [run["conf"] for run in runs]
        states = demo.wait_runs(api, {f"sync__{cid}": matching[0]["dag_run_id"]}, 240)
        assert states == {f"sync__{cid}": "success"}

    airflow_proc.wait_for(
        "the new DAG's unpause and first full sync", settled(new_cid), 120, every=3
    )
    one_run(new_cid, {"full": True})
    current = call("GET", "/integrations/current", new_token).json()["data"]
    assert current["id"] == new_cid and current["sync_status"] == "fulldone", current
    assert api.call("GET", f"/dags/sync__{new_cid}")["is_paused"] is False

    # Patch through the API: the entry changes at once; the re-sync of the added entity waits
    # until Airflow has re-parsed the DAG with a task for it (a run triggered before that would
    # have none and succeed without syncing it), then syncs it in full.
    assert read(new_token, "teams") == 0
    r = requests.patch(f"{mw}/system/connections/{new_cid}", headers=admin, timeout=120,
                       json={"entities": ["sites", "teams"]})  # fmt: skip
    assert r.status_code == 200, r.text
    entries = json.loads(api.call("GET", "/variables/millwright_connections")["value"])
    assert next(e for e in entries if e["id"] == new_cid)["entities"] == ["sites", "teams"]
    airflow_proc.wait_for("the patched DAG's re-parse and re-sync", settled(new_cid), 180, every=3)
    one_run(new_cid, {"entities": ["teams"], "full": True})
    assert read(new_token, "teams") > 0

    # Reconnect the disconnected one through the API: a new id and token, the same Airflow
    # Connection (defined by an environment variable, which Airflow's REST API does not list),
    # a new DAG that gets its first full sync. It needs credits: the pool grows first.
    r = call("POST", f"/system/connections/{API_CID}/reconnect", admin)
    assert r.status_code == 402 and "needs 4 credits" in r.json()["message"], r.text
    r = requests.put(f"{mw}/system/credits/acme", json={"pool": 12}, headers=admin, timeout=120)
    assert r.status_code == 200 and r.json()["data"]["available"] == 4, r.text
    r = call("POST", f"/system/connections/{API_CID}/reconnect", admin)
    assert r.status_code == 200, r.text
    succ = r.json()["data"]
    assert succ["predecessor"] == API_CID and succ["status"] == "active", succ
    succ_token = {"Authorization": f"Bearer {succ['access_token']}"}
    assert call("GET", "/integrations/current", succ_token).json()["data"]["id"] == succ["key"]
    entries = json.loads(api.call("GET", "/variables/millwright_connections")["value"])
    assert [e["id"] for e in entries] == [CID, API_CID, new_cid, succ["key"]]
    assert entries[-1]["airflow_conn_id"] == "mw_live_mx"
    airflow_proc.wait_for(
        "the reconnected DAG's first full sync", settled(succ["key"]), 180, every=3
    )
    one_run(succ["key"], {"full": True})
    assert read(succ_token, "sites") > 0

    # Delete data of the disconnected one: its entry leaves the Variable, its Airflow Connection
    # stays (live-mx uses it), its DAG's metadata is deleted once Airflow marks the DAG stale.
    r = call("DELETE", f"/system/connections/{API_CID}/data", admin)
    assert r.status_code == 200, r.text
    # the one issued above: its first token waited unclaimed, and a token is minted only when shown
    assert r.json()["data"]["purged"]["tokens"] == 1
    entries = json.loads(api.call("GET", "/variables/millwright_connections")["value"])
    assert [e["id"] for e in entries] == [CID, new_cid, succ["key"]]

    def purged() -> bool:
        r = call("POST", "/system/settle", admin)
        assert r.status_code == 200, r.text
        return API_CID not in r.json()["data"]

    airflow_proc.wait_for("the purged DAG's deletion", purged, 120, every=3)
    assert _dag(api, dag_id) is None


def test_trigger_backfill_and_broken_variable(
    standalone: tuple[demo.Api, dict], sandbox: tuple[str, object]
) -> None:
    from include.store import Store

    api, env = standalone
    tmp_path = Path(env["MILLWRIGHT_HOME"]).parent
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

        runs = airflow_proc.wait_for("the backfill runs", backfill_done, 240)
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
    airflow_proc.wait_for("the error DAG", lambda: _dag(api, "millwright__config_error"), 90)
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
