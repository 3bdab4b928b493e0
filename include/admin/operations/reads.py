"""Reads: a connection's view (Makini's connection object plus Millwright's fields), listings,
the audit trail and the NDJSON export of its stored records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from include.admin.airflow_adapter import AirflowError
from include.admin.base import AdminContext
from include.admin.client import client_info
from include.admin.errors import AirflowUnavailable, Conflict, LifecycleError
from include.admin.operations.settle import dag_id
from include.admin.status import sync_summary
from include.config import VARIABLE_NAME, ConfigError, VariableError, naming, parse_connections
from include.model import ENTITIES
from include.store import registry as db
from include.store import registry as queries
from include.store.engine import Conn


def view(ctx: AdminContext, cid: str) -> dict[str, Any]:
    with ctx.store.read() as conn:
        return _view(conn, ctx.row(conn, cid))


def listing(ctx: AdminContext, customer: str | None = None) -> list[dict[str, Any]]:
    with ctx.store.read() as conn:
        return [_view(conn, r) for r in db.list_all(conn, customer)]


def audit(ctx: AdminContext, cid: str | None = None) -> list[dict[str, Any]]:
    with ctx.store.read() as conn:
        if cid is not None:
            ctx.row(conn, cid)
        return db.audit_entries(conn, cid)


def config_errors(ctx: AdminContext) -> dict[str, Any]:
    """What the Airflow Variable gets wrong, as the DAG factory sees it: ``variable`` (the whole
    Variable is unusable: the ``millwright__config_error`` DAG fails) and ``connections`` (each
    bad entry, whose placeholder DAG fails with ``message``)."""
    try:
        text = ctx.airflow.get_variable(VARIABLE_NAME)
    except AirflowError as exc:
        raise AirflowUnavailable(str(exc)) from None
    try:
        entries = parse_connections(text)
    except VariableError as exc:
        return {"variable": str(exc), "connections": []}
    bad = [e for e in entries if isinstance(e, ConfigError)]
    return {
        "variable": None,
        "connections": [
            {"id": e.connection_id, "dag_id": naming.dag_id(e.connection_id), "message": str(e)}
            for e in bad
        ],
    }


def metadata(ctx: AdminContext, cid: str) -> list[dict[str, str]]:
    with ctx.store.read() as conn:
        return ctx.row(conn, cid)["user_metadata"]


def export(
    ctx: AdminContext, cid: str, entity: str | None, include_deleted: bool
) -> Iterator[bytes]:
    """Stored records as NDJSON (the unified JSON of each), by entity then key. Checks run
    before the first byte."""
    if entity is not None and entity not in ENTITIES:
        raise LifecycleError(f"entity: unknown entity {entity!r}", "entity")
    with ctx.store.read() as conn:
        row = ctx.row(conn, cid)
    if row["status"] == "purged":
        raise Conflict(f"connection {cid} was purged: no data left", "id")
    return queries.export_lines(ctx.store.engine, cid, entity, include_deleted)


def _view(conn: Conn, row: dict[str, Any]) -> dict[str, Any]:
    """Makini's connection object plus Millwright's fields."""
    cid, cfg = row["id"], row["config"]
    client = client_info()
    return {
        "key": cid,
        "name": row["name"] or cid,
        "email": row["email"],
        "status": row["status"],
        "integration_name": row["system"],
        "redirect": client["default_redirect"],
        "scopes": ",".join(cfg.get("entities") or ["*"]),
        "tags": cfg.get("tags", []),
        "user_metadata": row["user_metadata"],
        "client_id": client["id"],
        "updated_at": row.get("updated_at") or row["created_at"],
        "created_at": row["created_at"],
        "connected_at": row["connected_at"],
        "disconnected_at": row["disconnected_at"],
        "purged_at": row["purged_at"],
        "customer": row["customer"],
        "system": row["system"],
        "deployment": row["deployment"],
        "credits": row["credits"],
        "source": row["source"],
        "reason": row["reason"],
        "pending": [{k: v for k, v in p.items() if k != "conf"} for p in row["pending"]],
        "predecessor": row["predecessor"],
        "successor": row["successor"],
        "reconnected_from": row["predecessor"],  # the lineage of reconnects, both ways
        "reconnected_to": row["successor"],
        "token_waiting": bool(row.get("token_waiting")),  # shown once: POST .../token/claim
        "dag_id": dag_id(row),
        "config": cfg,
        "last_sync": queries.last_success(conn, cid),
        **sync_summary(conn, cid, None),  # sync_status, sync_error (include/admin/status.py)
        "counts": queries.live_counts(conn, cid),
        "quarantined": queries.quarantine_counts(conn, cid),
    }
