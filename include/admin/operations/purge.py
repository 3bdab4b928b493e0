"""Delete data: purge a connection that is not active (stored data and tokens at once; then its
Variable entry, its Airflow Connection when nothing else uses it, and its DAG once stale)."""

from __future__ import annotations

from include.admin.base import AdminContext
from include.admin.errors import Conflict
from include.admin.operations.settle import settle
from include.admin.pending import OpKind, PendingOp, dump, load
from include.store import registry as db
from include.store import registry as queries


def delete_data(ctx: AdminContext, cid: str, actor: str) -> dict[str, int]:
    """Purge a disconnected connection's stored data and tokens; then it leaves the Variable,
    its Airflow Connection (when nothing else uses it) and, once stale, its DAG metadata."""
    with ctx.store.write() as conn:
        row = ctx.row(conn, cid, for_update=True)
        if row["status"] == "active":
            raise Conflict(f"connection {cid} is active: disconnect it first", "id")
        if row["status"] == "purged":
            raise Conflict(f"connection {cid} was already purged", "id")
        counts = queries.purge_connection_data(conn, cid)
        pending = [
            *load(row["pending"]),
            PendingOp(OpKind.VARIABLE_REMOVE),
            PendingOp.delete_connection(row["config"].get("airflow_conn_id")),
            PendingOp(OpKind.DELETE_DAG),
        ]
        db.update(conn, cid, status="purged", purged_at=db.now(), pending=dump(pending))
        db.add_audit(conn, actor, "delete_data", cid, row["customer"], {"purged": counts})
    settle(ctx, cid)
    return counts
