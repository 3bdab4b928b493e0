"""The Airflow layer: the DAG factory (one DAG per connection), the tasks' shared runner, and the
glue that reads Airflow Variables and Connections and names staging. Imports every layer below;
nothing below imports it (the import-linter contract in pyproject.toml)."""
