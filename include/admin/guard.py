"""What the Airflow glue needs of the lifecycle, without its weight (no Airflow adapter, no
HTTP client): the load guard that refuses writes of a connection that is no longer active, and
what the DAG of a disconnected connection shows."""

from __future__ import annotations

import functools
from collections.abc import Callable

from include.admin.errors import ConnectionNotActive
from include.store.engine import Conn
from include.store.registry import registry_status


def write_guard(connection_id: str) -> Callable[[Conn], None]:
    """For ``Store.load_batch(guard=...)``: inside the load's write transaction, raise
    `ConnectionNotActive` unless the registry says the connection is active. Connections not in
    the registry yet (added by hand, not reconciled) may load. On PostgreSQL the row is read
    ``FOR SHARE`` so a concurrent disconnect waits for the load or the load sees it."""

    return functools.partial(_active_or_refuse, connection_id)  # picklable: map workers load too


def _active_or_refuse(connection_id: str, conn: Conn) -> None:
    status = registry_status(conn, connection_id)
    if status is not None and status != "active":
        raise ConnectionNotActive(f"connection {connection_id} is {status}: load refused")


def disconnected_dag_spec(connection_id: str, customer: str, system: str) -> dict[str, str]:
    """What the DAG of a disconnected connection shows (for include/airflow/dag_factory.py): no schedule,
    one task that only logs/skips with ``message``."""
    message = (
        f"connection {connection_id} ({customer} / {system}) is disconnected: nothing to sync. "
        "Reconnect it (POST /api/system/connections/{id}/reconnect) to sync again."
    )
    return {
        "description": f"DISCONNECTED: {customer} / {system} ({connection_id})",
        "doc_md": f"### Millwright connection `{connection_id}` is disconnected\n\n{message}\n",
        "task_id": "disconnected",
        "message": message,
    }
