"""The DAG's docs (serialized with the DAG and shown in the Airflow UI) never hold a secret put
in a connection's ``options``: the entry is refused and its placeholder DAG says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.airflow.conftest import ROOT

pytestmark = pytest.mark.airflow

SECRET = "sk-live-0123456789"


def test_a_secret_in_options_never_reaches_the_serialized_dag(
    airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    monkeypatch.setenv("MILLWRIGHT_HOME", str(tmp_path / "mw"))
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", raising=False)
    entry = {"customer": "acme", "system": "maximo", "airflow_conn_id": "mw_x"}
    monkeypatch.setenv("AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS", json.dumps([
        {"id": "leaky", **entry, "options": {"naive_times": True, "auth": {"Api_Key": SECRET}}},
        {"id": "clean", **entry, "options": {"naive_times": True}},
    ]))  # fmt: skip
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    leaky, clean = bag.dags["sync__leaky"], bag.dags["sync__clean"]
    assert [t.task_id for t in leaky.tasks] == ["config_error"]  # the placeholder
    assert "options: auth.Api_Key: looks like a secret" in leaky.doc_md
    assert "Airflow Connection named by airflow_conn_id" in leaky.doc_md
    assert '"naive_times": true' in clean.doc_md  # a clean entry's config is shown
    for dag in (leaky, clean):
        serialized = json.dumps(DagSerialization.to_dict(dag), default=str)
        assert SECRET not in serialized and SECRET not in (dag.description or "")
