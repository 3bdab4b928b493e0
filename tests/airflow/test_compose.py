"""docker-compose.yaml cannot run here (no Docker): check its shape so it does not rot silently."""

from __future__ import annotations

import yaml

from tests.airflow.conftest import ROOT


def test_compose_file_parses_and_has_the_production_services() -> None:
    doc = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    services = doc["services"]
    expected = {"postgres", "redis", "airflow-apiserver", "airflow-scheduler",
                "airflow-dag-processor", "airflow-triggerer", "airflow-worker", "airflow-init"}  # fmt: skip
    assert expected <= set(services)
    worker = services["airflow-worker"]
    assert "apache/airflow:3.3.2" in worker["build"]["dockerfile_inline"]
    env = worker["environment"]
    assert env["PYTHONPATH"] == "/opt/airflow"
    assert env["MILLWRIGHT_STORE_URL"].startswith("postgresql+psycopg://")
    # the lifecycle DAG's task runs on the worker and calls Airflow's REST API
    assert env["MILLWRIGHT_AIRFLOW_URL"] == "http://airflow-apiserver:8080"
    assert {"MILLWRIGHT_AIRFLOW_USER", "MILLWRIGHT_AIRFLOW_PASSWORD"} <= set(env)
    mounts = {v.rsplit(":", 1)[1] for v in worker["volumes"]}
    for folder in ("dags", "plugins", "include", "connectors"):
        assert f"/opt/airflow/{folder}" in mounts
    assert "millwright_store_writer" in services["millwright-init"]["command"][1]
    assert "millwright-init" in worker["depends_on"]
