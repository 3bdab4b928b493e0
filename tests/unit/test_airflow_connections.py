"""Airflow Connections that its REST API cannot list (environment, secrets backends) still count
as existing for the lifecycle (reconnect checks that its credentials are still there)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from include.admin.airflow_adapter import defined_outside_metastore


def test_an_environment_connection_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_MW_ENV_ONLY", json.dumps({"conn_type": "http", "host": "h"}))
    assert defined_outside_metastore("mw_env_only")
    assert not defined_outside_metastore("mw_nowhere")


def test_a_secrets_backend_connection_exists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "connections.json"
    secrets.write_text(json.dumps({"mw_in_vault": {"conn_type": "http", "host": "h"}}))
    monkeypatch.setenv(
        "AIRFLOW__SECRETS__BACKEND", "airflow.secrets.local_filesystem.LocalFilesystemBackend"
    )
    monkeypatch.setenv(
        "AIRFLOW__SECRETS__BACKEND_KWARGS", json.dumps({"connections_file_path": str(secrets)})
    )
    assert defined_outside_metastore("mw_in_vault")
    assert not defined_outside_metastore("mw_nowhere")
