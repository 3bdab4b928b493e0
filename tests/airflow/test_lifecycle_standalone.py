"""A data engineer's day without hidden steps, against real Airflow processes (`airflow
standalone` with the plugin and the lifecycle DAG, the real Maximo sandbox). Nothing here calls
``settle`` or ``reconcile``: create through the admin API and the first full sync finishes;
reconnect and the same, with a readable lineage; a Variable entry added by hand is registered,
charged and given a token by the lifecycle DAG; a broken entry and a broken Variable produce runs
that Airflow's REST API reports as failed, with the reason and no traceback in the task's log.
One Airflow for the module (starting it takes 1-2 minutes on a busy host)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from include.cli import demo
from tests.airflow import standalone as airflow_proc

pytestmark = pytest.mark.airflow

LIFECYCLE_EVERY = 10  # seconds: MILLWRIGHT_LIFECYCLE_INTERVAL
PARSE_EVERY = 5  # seconds: the dag-processor's min_file_process_interval
# A budget for "within about one interval" on a shared 2-core host: an Airflow task takes
# several seconds just to start there, and the runs queue behind each other.
SOON = 120
BASE = {"id": "base-mx", "customer": "acme", "system": "maximo", "airflow_conn_id": "mw_day_mx",
        "entities": ["sites"], "schedule": "0 0 * * *", "start_date": "2099-01-01T00:00:00"}  # fmt: skip


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    from connectors.maximo.sandbox import start_sandbox

    url, handle = start_sandbox(0, seed=11, size=60, apikey="k-day")
    try:
        yield url
    finally:
        handle.stop()


MX_KEY = "mx-day-key"


@pytest.fixture(scope="module")
def maintainx() -> Iterator[tuple[str, Any]]:
    """A MaintainX sandbox: its subscription API is where create registers the receiver."""
    from connectors.maintainx.sandbox import start_sandbox

    url, handle = start_sandbox(size=20, api_key=MX_KEY)
    try:
        yield url, handle
    finally:
        handle.stop()


@pytest.fixture(scope="module")
def airflow(
    tmp_path_factory: pytest.TempPathFactory, sandbox: str, maintainx: tuple[str, Any]
) -> Iterator[tuple[Any, dict]]:
    """`airflow standalone` with `make demo`'s environment (include/cli/demo.py), free ports for
    the api-server and both log servers, and a short lifecycle interval."""
    tmp = tmp_path_factory.mktemp("day")
    home, mw_home = tmp / "airflow", tmp / "mw"
    worker_log = demo.free_port()  # not Airflow's 8793/8794: other test modules run in parallel
    env = demo.airflow_env(
        demo.free_port(), home, mw_home, log_ports=(worker_log, demo.free_port(avoid=worker_log))
    )
    env.update({
        "MILLWRIGHT_LIFECYCLE_INTERVAL": f"{LIFECYCLE_EVERY}s",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": str(PARSE_EVERY),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": str(PARSE_EVERY),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__CORE__PARALLELISM": "3",
        "MILLWRIGHT_WEBHOOK_BASE_URL": "https://mw.example.com/millwright",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AIRFLOW_CONN_MW_DAY_MX": json.dumps(
            {"conn_type": "http", "host": sandbox, "password": "k-day"}),
    })  # fmt: skip
    for key in ("AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS", "_AIRFLOW_PARSING_CONTEXT_DAG_ID"):
        env.pop(key, None)
    demo.airflow(env, "db", "migrate")
    demo.airflow(env, "variables", "set", "millwright_connections", json.dumps([BASE]))
    demo.airflow(env, "pools", "set", "millwright_store_writer", "1", "store writers")
    with airflow_proc.running(env, tmp / "standalone.log", env["MILLWRIGHT_AIRFLOW_URL"], 240):
        yield demo.Api(env["MILLWRIGHT_AIRFLOW_URL"], home), env


class Mw:
    """The plugin's API under /millwright, with the admin token."""

    def __init__(self, api: Any, env: dict) -> None:
        self.base = f"{api.base}/millwright/api"
        self.admin = {"Authorization": f"Bearer {env['MILLWRIGHT_ADMIN_TOKEN']}"}

    def __call__(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else self.admin
        return requests.request(method, f"{self.base}{path}", headers=headers, timeout=120, **kw)


def runs(api: Any, dag_id: str) -> list[dict]:
    try:
        return api.call("GET", f"/dags/{dag_id}/dagRuns?limit=50")["dag_runs"]
    except RuntimeError:  # 404: not parsed yet
        return []


def finished_run(api: Any, dag_id: str, conf: dict | None = None) -> Callable[[], dict | None]:
    def check() -> dict | None:
        for run in runs(api, dag_id):
            if (conf is None or run["conf"] == conf) and run["state"] in ("success", "failed"):
                return run
        return None

    return check


def set_variable(api: Any, entries: Any) -> None:
    value = entries if isinstance(entries, str) else json.dumps(entries)
    api.call("PATCH", "/variables/millwright_connections",
             json={"key": "millwright_connections", "value": value})  # fmt: skip


def variable(api: Any) -> list[dict]:
    return json.loads(api.call("GET", "/variables/millwright_connections")["value"])


def test_create_then_reconnect_sync_with_no_other_command(airflow, sandbox: str) -> None:
    api, env = airflow
    mw = Mw(api, env)
    body = {"id": "day-mx", "customer": "acme", "system": "maximo",
            "credentials": {"host": sandbox, "password": "k-day"},
            "config": {"entities": ["sites"], "schedule": "0 0 * * *"}}  # fmt: skip
    r = mw("POST", "/system/connections", json=body)
    assert r.status_code == 200, r.text
    token = r.json()["data"]["access_token"]
    current = mw("GET", "/integrations/current", token).json()["data"]
    assert current["sync_status"] == "inprogress" and "first full sync is queued" in (
        current["sync_waiting"] or ""), current  # fmt: skip
    started = datetime.fromisoformat(variable(api)[-1]["start_date"]).replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - started) < timedelta(minutes=3)  # fresh, not 2024

    run = airflow_proc.wait_for("the first full sync of day-mx", finished_run(api, "sync__day-mx", {"full": True}),
                   SOON + 240)  # fmt: skip
    assert run["state"] == "success", run
    assert len([x for x in runs(api, "sync__day-mx") if x["conf"] == {"full": True}]) == 1
    current = mw("GET", "/integrations/current", token).json()["data"]
    assert current["sync_status"] == "fulldone" and current["sync_waiting"] is None, current
    assert api.call("GET", "/dags/sync__day-mx")["is_paused"] is False

    # Reconnect: a new id derived from the old one, the lineage both ways, its own first sync.
    assert mw("POST", "/system/connections/day-mx/disconnect").status_code == 200
    r = mw("POST", "/system/connections/day-mx/reconnect")
    assert r.status_code == 200, r.text
    new = r.json()["data"]
    assert new["key"] == "day-mx-2" and new["reconnected_from"] == "day-mx", new
    old = mw("GET", "/system/connections/day-mx").json()["data"]
    assert old["reconnected_to"] == "day-mx-2" and old["status"] == "disconnected"
    entry = {e["id"]: e for e in variable(api)}["day-mx-2"]
    started = datetime.fromisoformat(entry["start_date"]).replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - started) < timedelta(minutes=3)
    run = airflow_proc.wait_for("the reconnected connection's first full sync",
                   finished_run(api, "sync__day-mx-2", {"full": True}), SOON + 240)  # fmt: skip
    assert run["state"] == "success", run
    current = mw("GET", "/integrations/current", new["access_token"]).json()["data"]
    assert current["id"] == "day-mx-2" and current["sync_status"] == "fulldone", current
    r = mw("GET", "/eam/sites?per_page=1", new["access_token"])
    assert r.status_code == 200 and r.json()["meta"]["total"] > 0, r.text


def test_a_hand_added_entry_is_registered_charged_and_tokened(airflow) -> None:
    api, env = airflow
    mw = Mw(api, env)
    hand = {**BASE, "id": "hand-mx", "customer": "globex"}
    set_variable(api, [*variable(api), hand])
    added = time.monotonic()

    def registered() -> dict | None:
        r = mw("GET", "/system/connections/hand-mx")
        return r.json()["data"] if r.status_code == 200 else None

    view = airflow_proc.wait_for("the lifecycle DAG to register hand-mx", registered, SOON, every=1)
    took = time.monotonic() - added
    assert (view["status"], view["source"], view["credits"]) == ("active", "variable", 4), view
    assert view["token_waiting"] is True
    credits = mw("GET", "/system/credits/globex").json()["data"]
    assert credits["used"] == 4
    r = mw("POST", "/system/connections/hand-mx/token/claim")
    assert r.status_code == 200, r.text
    token = r.json()["data"]["token"]
    assert mw("GET", "/integrations/current", token).json()["data"]["id"] == "hand-mx"
    assert mw("POST", "/system/connections/hand-mx/token/claim").status_code == 409
    audit = mw("GET", "/system/connections/hand-mx/audit").json()["data"]
    assert audit[-1]["actor"] == "lifecycle" and audit[-1]["action"] == "reconcile"
    print(f"hand-mx registered {took:.0f}s after the Variable changed")


def _task_log(api: Any, dag_id: str, run_id: str, task_id: str) -> str:
    r = api.session.get(
        f"{api.base}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/1",
        params={"full_content": "true"}, headers={"Accept": "application/json"}, timeout=60,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    content = r.json().get("content")
    if isinstance(content, list):
        return "\n".join(json.dumps(c) if not isinstance(c, str) else c for c in content)
    return str(content)


def test_broken_entry_and_broken_json_fail_red(airflow) -> None:
    api, env = airflow
    mw = Mw(api, env)
    good = variable(api)
    broken = {**BASE, "id": "broken-mx", "schedule": "*/5 * * * *", "source_timezone": "Mars/Base"}
    set_variable(api, [*good, broken])
    run = airflow_proc.wait_for("a failed run of the broken entry's DAG",
                   finished_run(api, "sync__broken-mx"), SOON + 60)  # fmt: skip
    assert run["state"] == "failed", run
    dag = api.call("GET", "/dags/sync__broken-mx")
    assert dag["is_paused"] is False and "CONFIG ERROR" in dag["description"]
    assert dag["timetable_summary"] and "*/5" in dag["timetable_summary"], dag
    text = _task_log(api, "sync__broken-mx", run["dag_run_id"], "config_error")
    assert "unknown time zone 'Mars/Base'" in text and "Traceback" not in text, text[-2000:]
    failed = api.call("GET", "/dags?last_dag_run_state=failed&limit=100")["dags"]
    assert "sync__broken-mx" in {d["dag_id"] for d in failed}  # the home page's failed count
    errors = mw("GET", "/system/config-errors").json()["data"]
    assert [c["id"] for c in errors["connections"]] == ["broken-mx"]

    set_variable(api, "[{not json")
    run = airflow_proc.wait_for("a failed run of the error DAG",
                   finished_run(api, "millwright__config_error"), SOON + 60)  # fmt: skip
    assert run["state"] == "failed", run
    assert api.call("GET", "/dags/millwright__config_error")["is_paused"] is False
    text = _task_log(api, "millwright__config_error", run["dag_run_id"], "config_error")
    assert "is not valid JSON" in text and "Traceback" not in text, text[-2000:]
    assert "is not valid JSON" in mw("GET", "/system/config-errors").json()["data"]["variable"]
    set_variable(api, good)


def test_disconnect_removes_webhook_subscriptions_through_the_lifecycle_dag(
    airflow, maintainx: tuple[str, Any]
) -> None:
    """Create registers the receiver at MaintainX (secrets into the Airflow Connection);
    disconnect leaves the removal to the lifecycle DAG, whose task opens the Connection's hook
    and deletes the subscriptions at the source."""
    from connectors.maintainx.sandbox.data import ORG_ID

    api, env = airflow
    mw = Mw(api, env)
    url, handle = maintainx
    body = {"id": "day-hooks", "customer": "acme", "system": "maintainx",
            "credentials": {"host": url, "password": MX_KEY,
                            "extra": {"organization_id": str(ORG_ID)}},
            "config": {"entities": ["teams"], "schedule": "0 0 * * *", "webhooks": {}}}  # fmt: skip
    r = mw("POST", "/system/connections", json=body)
    assert r.status_code == 200, r.text
    live = [s for s in handle.webhooks.subs.values() if s.url.endswith("/webhooks/day-hooks")]
    assert live and all(s.url.startswith("https://mw.example.com/millwright/") for s in live)
    assert mw("POST", "/system/connections/day-hooks/disconnect").status_code == 200

    def gone() -> bool:
        return not any(s.url.endswith("/webhooks/day-hooks") for s in handle.webhooks.subs.values())

    airflow_proc.wait_for(
        "the lifecycle DAG to remove the subscriptions at MaintainX", gone, SOON + 120
    )
