"""Reconcile: register Variable entries a data engineer added by hand (charging credits and
issuing a first token kept until shown once, or refusing with a recorded reason), and disconnect
entries set ``disconnected`` by hand. The lifecycle DAG runs it every interval
(include/admin/operations/maintain.py); ``POST /api/system/reconcile`` runs it at once."""

from __future__ import annotations

from include.admin import variable
from include.admin.base import AdminContext
from include.admin.errors import Conflict, OutOfCredits
from include.admin.operations.credits import charge
from include.admin.operations.disconnect import disconnect
from include.admin.operations.settle import settle
from include.admin.pending import PendingOp, dump
from include.config import ConnectionConfig, VariableError, parse_connections
from include.store import registry as db


def reconcile(ctx: AdminContext, actor: str) -> dict[str, list[str]]:
    """Register Variable entries not in the registry: charge credits, or refuse with a
    recorded reason (the entry is then set ``disconnected``). An entry a data engineer set
    ``disconnected`` by hand is disconnected here too (tokens revoked, credits returned)."""
    text, _ = variable.read(ctx)
    try:
        entries = parse_connections(text if text is not None else "[]")
    except VariableError as exc:
        raise Conflict(str(exc), "variable") from None
    out: dict[str, list[str]] = {"registered": [], "refused": [], "disconnected": []}
    for cfg in entries:
        if not isinstance(cfg, ConnectionConfig):
            continue
        with ctx.store.read() as conn:
            row = db.get(conn, cfg.id)
        if row is not None:
            if row["status"] == "active" and cfg.status == "disconnected":
                disconnect(ctx, cfg.id, actor)
                out["disconnected"].append(cfg.id)
            continue
        status = _register(ctx, cfg, actor)
        out["refused" if status == "refused" else "registered"].append(cfg.id)
        settle(ctx, cfg.id)
    return out


def _register(ctx: AdminContext, cfg: ConnectionConfig, actor: str) -> str:
    """Insert the registry row of a hand-made entry; returns its status (``refused`` when the
    customer's pool cannot pay)."""
    status, reason, pending = cfg.status, None, []
    cost = ctx.costs().cost(cfg.system, cfg.deployment)
    with ctx.store.write() as conn:
        db.lock_customer(conn, cfg.customer)
        if status == "active":
            try:
                charge(ctx, conn, cfg.customer, cost)
            except OutOfCredits as exc:
                status, reason = "refused", exc.message
                pending = [PendingOp.variable_status("disconnected")]
        at = db.now()
        db.insert(conn, {
            "id": cfg.id, "customer": cfg.customer, "system": cfg.system,
            "deployment": cfg.deployment, "credits": cost, "status": status,
            "source": "variable", "name": cfg.name, "email": None,
            "config": cfg.model_dump(mode="json", exclude_defaults=True)
            | {"id": cfg.id, "customer": cfg.customer, "system": cfg.system,
               "airflow_conn_id": cfg.airflow_conn_id},
            "user_metadata": [], "reason": reason, "pending": dump(pending),
            "predecessor": None, "successor": None, "created_at": at,
            "connected_at": at if status == "active" else None,
            "disconnected_at": None if status == "active" else at, "purged_at": None,
        })  # fmt: skip
        if status == "active":  # shown once by the dashboard / `connections claim-token`
            db.update(conn, cfg.id, token_waiting=True)
        db.add_audit(conn, actor, "reconcile", cfg.id, cfg.customer,
                     {"status": status, "reason": reason, "credits": cost})  # fmt: skip
    return status
