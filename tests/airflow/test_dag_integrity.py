"""The generated DAGs as Airflow's DagBag sees them: one per connection, failures isolated."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.airflow.conftest import ROOT

pytestmark = pytest.mark.airflow

VAR_ENV = "AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS"


def conn(cid: str, customer: str = "acme", **kw: object) -> dict:
    return {"id": cid, "customer": customer, "system": "maximo",
            "airflow_conn_id": f"mw_{cid}", **kw}  # fmt: skip


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setenv("MILLWRIGHT_HOME", str(tmp_path / "mw"))
    monkeypatch.delenv(VAR_ENV, raising=False)
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", raising=False)
    return monkeypatch


LIFECYCLE = "millwright__lifecycle"


class _Bag:
    """The DagBag of dags/ without the lifecycle DAG (tested on its own below)."""

    def __init__(self, bag) -> None:
        self.import_errors = bag.import_errors
        self.dags = {k: v for k, v in bag.dags.items() if k != LIFECYCLE}
        self.dag_ids = [d for d in bag.dag_ids if d != LIFECYCLE]
        self.all_ids = list(bag.dag_ids)


def dagbag() -> _Bag:
    from airflow.dag_processing.dagbag import DagBag

    return _Bag(DagBag(dag_folder=str(ROOT / "dags")))


def fail_message(dag) -> str:
    """What the placeholder's task logs, in plain words, before it exits failed (SystemExit:
    Airflow logs it as one line, no traceback)."""
    from include.airflow import dag_factory

    [t] = dag.tasks
    assert t.task_id == "config_error" and t.retries == 0
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    dag_factory.log.addHandler(handler)
    try:
        with pytest.raises(SystemExit) as info:
            t.python_callable()
    finally:
        dag_factory.log.removeHandler(handler)
    assert info.value.code == 1
    return " ".join(r.getMessage() for r in records if r.levelno >= logging.ERROR)


def test_one_dag_per_connection_and_a_bad_one_isolated(env: pytest.MonkeyPatch) -> None:
    from airflow.sdk import CronDataIntervalTimetable

    variable = [
        conn("acme-us", schedule="*/15 * * * *", tags=["us"]),
        conn("acme-eu"),
        conn("globex-1", customer="globex", source_timezone="Mars/Base"),
        conn("bad-sys", system="nosuch", schedule="*/20 * * * *"),
    ]
    env.setenv(VAR_ENV, json.dumps(variable))
    bag = dagbag()
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"sync__acme-us", "sync__acme-eu", "sync__globex-1", "sync__bad-sys"}

    us = bag.dags["sync__acme-us"]
    assert set(us.tags) == {"acme", "maximo", "millwright", "us"}
    assert isinstance(us.timetable, CronDataIntervalTimetable)
    assert us.timetable.expression == "*/15 * * * *"
    assert str(us.timetable.timezone) == "UTC"
    assert us.catchup is False and us.max_active_runs == 1
    assert us.start_date.year == 2024 and us.start_date.utcoffset().total_seconds() == 0
    assert "acme-us" in us.doc_md and "mw_acme-us" in us.doc_md
    ids = set(us.task_ids)
    # the default shape: per entity, sync (extract, map and load at once) -> reconcile
    assert {"work-orders.sync", "work-orders.reconcile", "statuses"} <= ids
    assert not {"work-orders.extract", "work-orders.map", "work-orders.load"} & ids
    assert us.get_task("work-orders.sync").retries == 2
    assert us.get_task("work-orders.reconcile").upstream_task_ids == {"work-orders.sync"}

    for dag_id, words in [
        ("sync__globex-1", "source_timezone: unknown time zone 'Mars/Base'"),
        ("sync__bad-sys", "unknown system 'nosuch'"),
    ]:
        dag = bag.dags[dag_id]
        assert "CONFIG ERROR" in dag.description and words in dag.description
        assert words in dag.doc_md
        assert words in fail_message(dag)
        # red where Airflow users look: unpaused, on the connection's schedule (hourly when the
        # entry has none), a past start without catchup: the latest interval runs at once
        assert isinstance(dag.timetable, CronDataIntervalTimetable)
        assert dag.is_paused_upon_creation is False and dag.catchup is False
        assert dag.start_date.year == 2024
    assert bag.dags["sync__bad-sys"].timetable.expression == "*/20 * * * *"
    assert bag.dags["sync__globex-1"].timetable.expression == "0 * * * *"
    assert LIFECYCLE in bag.all_ids


def test_missing_variable_shows_an_error_dag_and_keeps_the_last_good(
    env: pytest.MonkeyPatch,
) -> None:
    bag = dagbag()  # never set, nothing remembered: only the error DAG
    assert bag.import_errors == {}
    assert bag.dag_ids == ["millwright__config_error"]
    assert "'millwright_connections' is not set" in fail_message(bag.dags[bag.dag_ids[0]])

    env.setenv(VAR_ENV, json.dumps([conn("acme-us"), conn("acme-eu")]))
    assert set(dagbag().dag_ids) == {"sync__acme-us", "sync__acme-eu"}

    env.setenv(VAR_ENV, "[{not json")
    bag = dagbag()
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"millwright__config_error", "sync__acme-us", "sync__acme-eu"}
    error = bag.dags["millwright__config_error"]
    assert "is not valid JSON" in error.description
    assert "last valid Variable (2 entries)" in error.description
    assert "is not valid JSON" in fail_message(error)
    assert error.is_paused_upon_creation is False  # its runs fail (red), they do not queue
    assert error.timetable.expression == "0 * * * *"


def test_the_lifecycle_dag(env: pytest.MonkeyPatch) -> None:
    """One task every MILLWRIGHT_LIFECYCLE_INTERVAL, unpaused, no catchup; a bad interval
    is an import error naming the setting."""
    from datetime import timedelta

    from airflow.dag_processing.dagbag import DagBag

    env.setenv(VAR_ENV, json.dumps([conn("acme-us")]))
    env.setenv("MILLWRIGHT_LIFECYCLE_INTERVAL", "15s")
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    dag = bag.dags[LIFECYCLE]
    assert [t.task_id for t in dag.tasks] == ["maintain"]
    assert dag.tasks[0].priority_weight == 1000  # ahead of queued sync tasks
    assert dag.timetable.delta == timedelta(seconds=15)
    assert dag.is_paused_upon_creation is False and dag.catchup is False
    assert dag.max_active_runs == 1
    env.setenv("MILLWRIGHT_LIFECYCLE_INTERVAL", "1s")
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    [error] = bag.import_errors.values()
    assert "MILLWRIGHT_LIFECYCLE_INTERVAL: at least 5s" in error


def test_a_worker_builds_only_its_dag(env: pytest.MonkeyPatch) -> None:
    env.setenv(VAR_ENV, json.dumps([conn("acme-us"), conn("acme-eu")]))
    env.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "sync__acme-eu")
    assert dagbag().dag_ids == ["sync__acme-eu"]


def test_disconnected_connection_has_no_schedule(env: pytest.MonkeyPatch) -> None:
    env.setenv(VAR_ENV, json.dumps([conn("gone", status="disconnected")]))
    dag = dagbag().dags["sync__gone"]
    assert dag.description.startswith("DISCONNECTED")
    assert type(dag.timetable).__name__ == "NullTimetable"
    assert "disconnected" in dag.tags
    # a manual trigger does nothing but say so: one task that skips with the message
    assert [t.task_id for t in dag.tasks] == ["disconnected"]


def test_the_staged_shape_has_three_tasks_per_entity(env: pytest.MonkeyPatch) -> None:
    env.setenv(VAR_ENV, json.dumps([conn("acme-us", pipeline="staged")]))
    bag = dagbag()
    assert bag.import_errors == {}
    us = bag.dags["sync__acme-us"]
    ids = set(us.task_ids)
    assert {"work-orders.extract", "work-orders.map", "work-orders.load"} <= ids
    assert "work-orders.sync" not in ids
    assert us.get_task("work-orders.load").pool == "millwright_store_writer"
    assert us.get_task("work-orders.extract").retries == 2
    # the path extract -> map -> load -> reconcile
    assert us.get_task("work-orders.map").upstream_task_ids == {"work-orders.extract"}
    assert us.get_task("work-orders.load").upstream_task_ids == {"work-orders.map"}
    assert us.get_task("work-orders.reconcile").upstream_task_ids == {"work-orders.load"}


def test_an_unknown_pipeline_shape_is_a_config_error(env: pytest.MonkeyPatch) -> None:
    env.setenv(VAR_ENV, json.dumps([conn("acme-us", pipeline="fast")]))
    bag = dagbag()
    assert bag.import_errors == {}
    assert "pipeline" in fail_message(bag.dags["sync__acme-us"])


def test_too_many_quarantined_records_fail_the_task_without_retries() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from include.airflow import dag_factory
    from include.sync import pipeline

    fail = pytest.raises(AirflowFailException, match="3 of 10 records")
    with fail, dag_factory._fail_on_quarantine():
        raise pipeline.QuarantineThresholdExceeded("work-orders: 3 of 10 records")
    with pytest.raises(ValueError), dag_factory._fail_on_quarantine():  # others stay retryable
        raise ValueError("source down")
