"""Airflow test environment: a fresh AIRFLOW_HOME per session, set before Airflow is imported."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_HOME = Path(tempfile.mkdtemp(prefix="mw-airflow-home-"))

if "airflow" in sys.modules:  # its configuration is read once, at import
    raise RuntimeError("tests/airflow: airflow was imported before the test AIRFLOW_HOME was set")

AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(_HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
}
os.environ.update(AIRFLOW_ENV)


@pytest.fixture(scope="session")
def airflow_home() -> Iterator[Path]:
    """The session's AIRFLOW_HOME with a migrated metadata DB (dag.test() needs one)."""
    from airflow.utils.db import upgradedb

    upgradedb()
    yield _HOME
