"""``millwright validate-config`` checks custom fields against each source's own metadata (read
through the connection's Airflow Connection, here an ``AIRFLOW_CONN_`` variable, and cached in
the store): a misspelt path is refused naming it, its entity and the closest fields."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_millwright import APIKEY, _env, _source_conn, maximo, millwright  # noqa: F401


def _file(tmp_path: Path, custom: dict) -> Path:
    path = tmp_path / "connections.json"
    path.write_text(json.dumps([{"id": "acme-mx", "customer": "acme", "system": "maximo",
                                 "airflow_conn_id": "mw_acme_mx", "custom_fields": custom}]))  # fmt: skip
    return path


def test_validate_config_refuses_a_path_the_source_does_not_have(tmp_path: Path, maximo) -> None:  # noqa: F811
    env = _env(tmp_path, AIRFLOW_CONN_MW_ACME_MX=_source_conn(maximo))
    bad = millwright(
        env, "validate-config", str(_file(tmp_path, {"work-orders": {"crew": "crewidd"}}))
    )
    assert bad.returncode == 1, bad.stderr
    assert ("ERROR connection acme-mx: custom_fields.work-orders.crew: 'crewidd' is not a field "
            "of maximo work-orders; closest: crewid") in bad.stderr  # fmt: skip
    good_file = _file(
        tmp_path, {"work-orders": {"crew": "crewid", "labor": "assignment.laborcode"}}
    )
    good = millwright(env, "validate-config", str(good_file))
    assert good.returncode == 0, good.stderr
    assert "ok    acme-mx: custom_fields checked against the source" in good.stdout
    # offline: the metadata cached by the run above decides
    offline_env = _env(tmp_path)  # no Airflow Connection at all
    again = millwright(offline_env, "validate-config", "--offline",
                       str(_file(tmp_path, {"work-orders": {"crew": "crewidd"}})))  # fmt: skip
    assert again.returncode == 1 and "closest: crewid" in again.stderr
    unknown = millwright(offline_env, "validate-config", "--offline",
                         str(_file(tmp_path, {"assets": {"crit": "cxcriticality"}})))  # fmt: skip
    assert (
        unknown.returncode == 0
        and "WARN  connection acme-mx: custom_fields of assets not checked" in unknown.stderr
    )


def test_connections_patch_refuses_an_unknown_path(tmp_path: Path, monkeypatch) -> None:
    """``millwright connections patch`` (the lifecycle directly, no API): checked the same way."""
    import argparse

    import pytest

    from connectors.maximo.sandbox import start_sandbox
    from include.admin.airflow_adapter import MemoryAirflowAdapter
    from include.admin.base import NewConnection
    from include.admin.errors import LifecycleError
    from include.admin.lifecycle import Lifecycle
    from include.airflow import glue
    from include.cli import connections
    from include.store import Store
    from tests.fields.conftest import factory

    url, handle = start_sandbox(seed=2, size=30, apikey="k-cli")
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    try:
        monkeypatch.setattr(glue, "make_connector", factory(url, {"apikey": "k-cli"}))
        airflow = MemoryAirflowAdapter()
        lc = Lifecycle(store, airflow)
        airflow.state["connections"]["mw_cli"] = {"host": url, "password": "k-cli"}
        monkeypatch.setattr("include.admin.operations.create.check_source", lambda *a: None)
        lc.create(NewConnection(customer="a", system="maximo", id="cli-mx",
                                airflow_conn_id="mw_cli"), "t")  # fmt: skip
        body = tmp_path / "patch.json"
        body.write_text(json.dumps({"custom_fields": {"work-orders": {"crew": "crewidd"}}}))
        args = argparse.Namespace(cmd="patch", id="cli-mx", file=str(body))
        with pytest.raises(LifecycleError, match="'crewidd' is not a field .* closest: crewid"):
            connections.run(args, lc, "t")
        assert lc.view("cli-mx")["config"].get("custom_fields", {}) == {}
        body.write_text(json.dumps({"custom_fields": {"work-orders": {"crew": "crewid"}}}))
        out = connections.run(args, lc, "t")
        assert out["config"]["custom_fields"] == {"work-orders": {"crew": "crewid"}}
    finally:
        store.close()
        handle.stop()
