"""The lifecycle without a person (issue: no hidden steps), offline Airflow adapter, real store:
one `maintain` pass (what the DAG millwright__lifecycle runs) registers hand-added entries with a
token shown once, and runs pending Airflow steps once the DAG is parsed; a trigger queued once
starts one run even when two processes settle it; reconnects keep a readable lineage with a fresh
start date; configuration errors and quarantine counts reach the admin API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from include.admin.operations.settle import settle
from include.admin.pending import PendingOp, dump
from include.store import QuarantineItem
from include.store import registry as db
from include.store.tokens import list_tokens
from tests.lifecycle.conftest import HEADERS, parse, variable
from tests.lifecycle.test_lifecycle import create, read_api

HAND = {"id": "hand-1", "customer": "beta", "system": "tryton", "airflow_conn_id": "x"}


def test_a_pass_registers_a_hand_added_entry_with_a_token_shown_once(
    client, lifecycle, airflow, store
):
    airflow.set_variable_if("millwright_connections", None, json.dumps([HAND]))
    out = lifecycle.maintain()
    assert out["registered"] == ["hand-1"] and out["waiting"] == {}
    view = client.get("/api/system/connections/hand-1", headers=HEADERS).json()["data"]
    assert (view["status"], view["credits"], view["source"]) == ("active", 2, "variable")
    assert view["token_waiting"] is True
    # Nothing to steal at rest: no token exists until it is shown (then only its hash).
    assert list_tokens(store.engine, "hand-1") == []
    credits = client.get("/api/system/credits/beta", headers=HEADERS).json()["data"]
    assert credits["used"] == 2
    r = client.post("/api/system/connections/hand-1/token/claim", headers=HEADERS)
    assert r.status_code == 200, r.text
    token = r.json()["data"]["token"]
    assert read_api(client, token).status_code == 200
    assert [t["prefix"] for t in list_tokens(store.engine, "hand-1")] == [token[:10]]
    again = client.post("/api/system/connections/hand-1/token/claim", headers=HEADERS)
    assert again.status_code == 409 and "no token waiting" in again.json()["message"]
    view = client.get("/api/system/connections/hand-1", headers=HEADERS).json()["data"]
    assert view["token_waiting"] is False
    actions = [a["action"] for a in lifecycle.audit("hand-1")]
    assert actions == ["token_shown", "reconcile"]
    assert lifecycle.maintain()["registered"] == []  # once


def test_a_pass_starts_the_first_sync_once_the_dag_is_parsed(client, lifecycle, airflow):
    c = create(client)
    cid = c["key"]
    out = lifecycle.maintain()  # not parsed yet: waits, saying why
    [first, _] = out["waiting"][cid]
    assert first["op"] == "unpause" and "not parsed yet" in first["waiting"]
    assert airflow.state["runs"] == []
    parse(airflow)
    assert lifecycle.maintain()["waiting"] == {}
    assert airflow.dag_state(f"sync__{cid}").is_paused is False
    assert [r["conf"] for r in airflow.state["runs"]] == [{"full": True}]
    lifecycle.maintain()
    assert len(airflow.state["runs"]) == 1


def test_a_trigger_settled_by_two_processes_starts_one_run(client, lifecycle, airflow, store):
    """The api-server and the lifecycle DAG may settle the same op at once: both trigger with
    the op's run id, Airflow refuses the second (409), which counts as done."""
    c = create(client)
    parse(airflow)
    with store.read() as conn:
        pending = db.get(conn, c["key"])["pending"]
    settle(lifecycle.ctx, c["key"])
    with store.write() as conn:  # the other process read the row before this one settled it
        db.update(conn, c["key"], pending=pending)
    settle(lifecycle.ctx, c["key"])
    assert len(airflow.state["runs"]) == 1
    ops = [PendingOp.trigger({}), PendingOp.trigger({})]
    assert ops[0].run_id != ops[1].run_id and dump(ops)[0]["run_id"] == ops[0].run_id


def test_reconnect_keeps_a_readable_lineage_and_a_fresh_start(client, airflow):
    c = create(client, id="acme-mx", config={"start_date": "2024-02-01T00:00:00"})
    old = c["key"]
    assert variable(airflow)[0]["start_date"] == "2024-02-01T00:00:00"
    client.post(f"/api/system/connections/{old}/disconnect", headers=HEADERS)
    r = client.post(f"/api/system/connections/{old}/reconnect", headers=HEADERS)
    assert r.status_code == 200, r.text
    new = r.json()["data"]
    assert new["key"] == "acme-mx-2" and new["reconnected_from"] == old
    assert new["reconnected_to"] is None
    old_view = client.get(f"/api/system/connections/{old}", headers=HEADERS).json()["data"]
    assert old_view["reconnected_to"] == "acme-mx-2" and old_view["reconnected_from"] is None
    entry = {e["id"]: e for e in variable(airflow)}["acme-mx-2"]
    started = datetime.fromisoformat(entry["start_date"]).replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - started) < timedelta(minutes=2)  # fresh, not 2024-02-01
    assert [p["op"] for p in new["pending"]] == ["unpause", "trigger"]
    # the next generation counts on; an id already taken is skipped
    client.post("/api/system/connections/acme-mx-2/disconnect", headers=HEADERS)
    create(client, id="acme-mx-3", customer="other")
    r = client.post("/api/system/connections/acme-mx-2/reconnect", headers=HEADERS)
    assert r.status_code == 200 and r.json()["data"]["key"] == "acme-mx-4", r.text


def test_create_without_a_start_date_starts_now(client, airflow):
    create(client)
    started = datetime.fromisoformat(variable(airflow)[0]["start_date"]).replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - started) < timedelta(minutes=2)


@pytest.mark.parametrize(
    ("text", "variable_error", "bad"),
    [
        ("[{not json", "is not valid JSON", []),
        (json.dumps([HAND, {**HAND, "id": "bad-1", "schedule": "every day"}]), None, ["bad-1"]),
    ],
)
def test_config_errors_reach_the_admin_api(client, airflow, text, variable_error, bad):
    airflow.set_variable_if("millwright_connections", None, text)
    r = client.get("/api/system/config-errors", headers=HEADERS)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["variable"] is None) == (variable_error is None)
    if variable_error:
        assert variable_error in data["variable"]
    assert [c["id"] for c in data["connections"]] == bad
    if bad:
        assert data["connections"][0]["dag_id"] == "sync__bad-1"
        assert "not a valid cron expression" in data["connections"][0]["message"]


def test_quarantine_counts_per_entity_in_the_admin_api(client, store):
    cid = create(client)["key"]
    store.quarantine_add(cid, "assets", "r1", [QuarantineItem("A1", '{"id": "A1"}', "bad date")])
    store.quarantine_add(cid, "work-orders", "r1", [
        QuarantineItem("W1", '{"id": "W1"}', "bad"), QuarantineItem("W2", '{"id": "W2"}', "bad")])  # fmt: skip
    view = client.get(f"/api/system/connections/{cid}", headers=HEADERS).json()["data"]
    assert view["quarantined"] == {"assets": 1, "work-orders": 2}


def test_the_cli_claims_and_maintains(tmp_path):
    """``millwright connections maintain`` and ``claim-token`` (offline state file)."""
    import os
    import subprocess
    import sys

    state = tmp_path / "af.json"
    state.write_text(json.dumps({
        "variables": {"millwright_connections": json.dumps([HAND])},
        "connections": {}, "dags": {}, "runs": []}))  # fmt: skip
    env = {**os.environ, "MILLWRIGHT_STORE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    mw = [sys.executable, "-c", "from include.cli.main import main; main()"]

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*mw, "connections", "--offline", str(state), *args],
                              capture_output=True, text=True, env=env, timeout=120)  # fmt: skip

    r = cli("maintain")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["registered"] == ["hand-1"]
    r = cli("claim-token", "hand-1")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["token"].startswith("mw_")
    r = cli("claim-token", "hand-1")
    assert r.returncode == 1 and "no token waiting" in r.stderr


def test_integrations_current_says_what_the_first_sync_waits_for(client, lifecycle, airflow):
    c = create(client)
    data = read_api(client, c["access_token"]).json()["data"]
    assert data["sync_status"] == "inprogress"  # Makini's value; the reason says why
    assert data["sync_waiting"].startswith("the first full sync is queued: DAG sync__")
    assert "not parsed yet" in data["sync_waiting"]
    parse(airflow)
    lifecycle.maintain()
    data = read_api(client, c["access_token"]).json()["data"]
    assert data["sync_waiting"] == "no run has started yet"  # triggered, not started
