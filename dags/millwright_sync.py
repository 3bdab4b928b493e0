"""Millwright: one Airflow DAG per connection of the `millwright_connections` Variable.

Thin on purpose: reads the Variable once per parse and builds the DAGs in include/airflow/dag_factory.py.
"""

from include.airflow.dag_factory import build_dags

globals().update(build_dags())
