"""Disconnect (tokens revoked, credits returned, syncs stop; data stays) and reconnect (a NEW
connection with the old one's system, config and credentials)."""

from __future__ import annotations

from typing import Any

from include.admin import tokens, variable
from include.admin.base import (
    AdminContext,
    NewConnection,
    fresh_start_date,
    successor_id,
    validate_config,
)
from include.admin.errors import Conflict
from include.admin.operations import webhooks_source
from include.admin.operations.create import register
from include.admin.operations.reads import view
from include.admin.operations.settle import settle
from include.admin.pending import OpKind, PendingOp, dump, load
from include.store import registry as db

STOP_OPS = (PendingOp.variable_status("disconnected"), PendingOp(OpKind.PAUSE))
CANCELLED_BY_DISCONNECT = (OpKind.UNPAUSE, OpKind.TRIGGER)


def disconnect(ctx: AdminContext, cid: str, actor: str) -> dict[str, Any]:
    """Tokens revoked and credits returned in one transaction; the Variable entry turns
    ``disconnected`` (no schedule) and the DAG is paused (now, or as soon as Airflow can);
    the webhook subscriptions at the source are removed by the next lifecycle pass."""
    with ctx.store.write() as conn:
        row = ctx.row(conn, cid, for_update=True)
        if row["status"] not in ("active", "refused"):
            raise Conflict(f"connection {cid} is already {row['status']}", "id")
        returned = row["credits"] if row["status"] == "active" else 0
        pending = [
            op
            for op in [*load(row["pending"]), *STOP_OPS]
            if op.kind not in CANCELLED_BY_DISCONNECT
        ]
        # after the stops: the api-server cannot run it (only the lifecycle pass can)
        if (removal := webhooks_source.removal_op(conn, row)) is not None:
            pending.append(removal)
        db.update(conn, cid, status="disconnected", disconnected_at=db.now(), pending=dump(pending))
        revoked = tokens.revoke(conn, cid)
        db.add_audit(conn, actor, "disconnect", cid, row["customer"],
                     {"credits_returned": returned, "tokens_revoked": revoked})  # fmt: skip
    settle(ctx, cid)
    return view(ctx, cid)


def reconnect(ctx: AdminContext, cid: str, actor: str) -> tuple[dict[str, Any], str]:
    """A NEW connection (new id and token) with the old one's system, config, credentials."""
    with ctx.store.read() as conn:
        row = ctx.row(conn, cid)
    if row["status"] != "disconnected":
        raise Conflict(
            f"connection {cid} is {row['status']}: only disconnected connections reconnect",
            "id",
        )
    old = validate_config(row["config"])
    if not ctx.conn_exists(old.airflow_conn_id):
        raise Conflict(f"Airflow Connection {old.airflow_conn_id!r} is gone", "credentials")
    new_cid = successor_id(cid, row["predecessor"] is not None, _taken_ids(ctx))
    cfg = validate_config(
        {**row["config"], "id": new_cid, "status": "active", "start_date": fresh_start_date()}
    )
    req = NewConnection(
        customer=old.customer, system=old.system, deployment=old.deployment,
        name=row["name"], email=row["email"], user_metadata=row["user_metadata"],
    )  # fmt: skip
    view_, token = register(ctx, cfg, req, actor, predecessor=cid)
    with ctx.store.write() as conn:
        db.update(conn, cid, successor=new_cid)
    return view_, token


def _taken_ids(ctx: AdminContext) -> set[str]:
    """Connection ids in use: the registry's and the Variable's."""
    with ctx.store.read() as conn:
        ids = {r["id"] for r in db.list_all(conn)}
    _, entries = variable.read(ctx)
    return ids | {e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)}
