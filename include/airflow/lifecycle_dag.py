"""The DAG ``millwright__lifecycle``: the lifecycle completes without a person.

Every ``MILLWRIGHT_LIFECYCLE_INTERVAL`` (default ``30s``, Airflow's default parse interval) one
task runs a pass of `include.admin.operations.maintain`: Variable entries added by hand are
registered (charged, a first token issued, shown once by the dashboard or ``millwright
connections claim-token``), and every connection's pending Airflow steps run as soon as Airflow
can take them: a new or reconnected connection's DAG is unpaused and its first full sync
triggered once the dag-processor has parsed it, a patch's re-sync once the re-parsed DAG has the
tasks, a disconnected connection's webhook subscriptions removed at the source (only this task
can: it opens the connection's hook, include/airflow/hooks.py, for the stored credentials), a
purged connection's DAG deleted once stale.

It reaches Airflow's REST API as the plugin's admin API does (`RestAirflowAdapter.from_env`:
``MILLWRIGHT_AIRFLOW_URL`` and ``MILLWRIGHT_AIRFLOW_TOKEN`` or ``_USER``/``_PASSWORD``, which the
workers need in their environment too) and the store as the sync tasks do. Without them its runs
fail, red, saying what is missing. Why a DAG: it runs where Airflow runs work, its runs show what
each pass did, and a failure is visible where Airflow users look.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG, task

from include.model.timeutil import parse_duration

log = logging.getLogger(__name__)

LIFECYCLE_DAG_ID = "millwright__lifecycle"
INTERVAL_ENV = "MILLWRIGHT_LIFECYCLE_INTERVAL"
DEFAULT_INTERVAL = "30s"
MIN_INTERVAL = timedelta(seconds=5)


def lifecycle_interval() -> timedelta:
    """``MILLWRIGHT_LIFECYCLE_INTERVAL`` (``30s``, ``1m``...), at least 5 s."""
    text = os.environ.get(INTERVAL_ENV, "").strip() or DEFAULT_INTERVAL
    try:
        every = parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"{INTERVAL_ENV}: {exc}") from None
    if every < MIN_INTERVAL:
        raise ValueError(f"{INTERVAL_ENV}: at least 5s, got {text!r}")
    return every


def build_lifecycle_dag() -> DAG:
    every = lifecycle_interval()
    with DAG(
        dag_id=LIFECYCLE_DAG_ID,
        description=(
            "Millwright lifecycle: registers hand-added connections, unpauses new DAGs and "
            "starts their first full sync, runs pending Airflow steps"
        ),
        doc_md=__doc__,
        schedule=every,
        start_date=datetime(2024, 1, 1, tzinfo=UTC),
        catchup=False,
        max_active_runs=1,
        is_paused_upon_creation=False,
        dagrun_timeout=max(every * 10, timedelta(minutes=10)),
        tags=["millwright", "maintenance"],
        # one retry: at Airflow's start the first run's task may find the api-server not up yet
        default_args={"owner": "millwright", "retries": 1, "retry_delay": timedelta(seconds=10)},
    ) as dag:
        # first in line for a free worker slot: behind long syncs it would lag by their length
        @task(
            task_id="maintain",
            execution_timeout=timedelta(minutes=10),
            priority_weight=1000,
            weight_rule="absolute",
        )
        def maintain() -> dict:
            from include.admin.airflow_adapter import RestAirflowAdapter
            from include.admin.lifecycle import Lifecycle
            from include.airflow import glue
            from include.airflow.hooks import HookSourceAccess

            store = glue.open_store()
            try:
                # the hooks open the stored Connections: e.g. a disconnected connection's
                # webhook subscriptions are removed at the source here
                lifecycle = Lifecycle(
                    store, RestAirflowAdapter.from_env(), source=HookSourceAccess()
                )
                out = lifecycle.maintain()
            finally:
                store.close()
            for key in ("registered", "refused", "disconnected"):
                if out.get(key):
                    log.info("%s: %s", key, ", ".join(out[key]))
            for cid, rest in out["waiting"].items():
                reasons = "; ".join(str(op.get("waiting") or op["op"]) for op in rest)
                log.info("%s still waits: %s", cid, reasons)
            return {k: v for k, v in out.items() if v}

        maintain()
    return dag
