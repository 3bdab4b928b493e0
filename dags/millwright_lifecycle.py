"""Millwright's lifecycle DAG (include/airflow/lifecycle_dag.py): registers hand-added
connections and drives pending Airflow steps (first syncs, unpause, re-syncs) every interval."""

from airflow.sdk import get_parsing_context

from include.airflow.lifecycle_dag import LIFECYCLE_DAG_ID, build_lifecycle_dag

if get_parsing_context().dag_id in (None, LIFECYCLE_DAG_ID):  # a worker builds only its DAG
    dag = build_lifecycle_dag()
