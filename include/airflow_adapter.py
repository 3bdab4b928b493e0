"""Old import path: the Airflow REST adapter lives in include/admin/airflow_adapter.py."""

from include.admin.airflow_adapter import (  # noqa: F401
    AirflowAdapter,
    AirflowError,
    Credentials,
    DagNotFound,
    DagState,
    MemoryAirflowAdapter,
    RestAirflowAdapter,
    defined_outside_metastore,
)
