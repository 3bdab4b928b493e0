"""Domain errors reach clients with the status the API's one table gives their type (the admin
layer itself knows no HTTP): through the admin API and in the CLI's message."""

from __future__ import annotations

from pathlib import Path

import pytest

from include.admin.airflow_adapter import AirflowError
from include.cli import connections as cli_connections
from tests.lifecycle.conftest import HEADERS, new_body, snapshot


def test_airflow_down_is_503_and_changes_nothing(client, store, airflow, monkeypatch):
    def down(key: str) -> str:
        raise AirflowError("Airflow GET /api/v2/variables: ConnectError")

    before = snapshot(store, airflow)
    monkeypatch.setattr(airflow, "get_variable", down)
    r = client.post("/api/system/connections", json=new_body(), headers=HEADERS)
    assert r.status_code == 503, r.text
    assert "ConnectError" in r.json()["message"] and r.json()["errors"]
    assert client.get("/api/system/platforms", headers=HEADERS).status_code == 503
    assert snapshot(store, airflow) == before


def test_unknown_connection_is_404_naming_it(client):
    r = client.post("/api/system/connections/acme-nope/disconnect", headers=HEADERS)
    assert r.status_code == 404
    assert r.json() == {
        "message": "connection 'acme-nope' not found",
        "errors": {"id": ["connection 'acme-nope' not found"]},
    }


def test_cli_names_the_status_of_a_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MILLWRIGHT_STORE_URL", f"sqlite:///{tmp_path / 's.db'}")
    rc = cli_connections.main(["--offline", str(tmp_path / "af.json"), "show", "acme-nope"])
    assert rc == 2
    assert capsys.readouterr().err.strip() == "error (404): connection 'acme-nope' not found"
