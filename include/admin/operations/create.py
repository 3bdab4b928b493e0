"""Create: validate, charge credits, store the registry row, the first token and the Airflow
Connection, add the Variable entry; then unpause and trigger a full sync once Airflow parsed the
DAG (pending operations). `register` is shared with reconnect."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from include.admin import tokens, variable
from include.admin.airflow_adapter import AirflowError
from include.admin.base import (
    AdminContext,
    NewConnection,
    fresh_start_date,
    new_id,
    validate_config,
)
from include.admin.errors import AirflowUnavailable, Conflict, LifecycleError
from include.admin.operations import webhooks_source
from include.admin.operations.credits import charge
from include.admin.operations.reads import view
from include.admin.operations.settle import settle
from include.admin.operations.source_check import check_source, typed
from include.admin.pending import OpKind, PendingOp, dump
from include.config import ConnectionConfig
from include.store import registry as db

log = logging.getLogger(__name__)


def first_ops() -> list[PendingOp]:
    """A new connection's Airflow steps: unpause its DAG, then one full sync (its own run id)."""
    return [PendingOp(OpKind.UNPAUSE), PendingOp.trigger({"full": True})]


def create(ctx: AdminContext, req: NewConnection, actor: str) -> tuple[dict[str, Any], str]:
    """Validate, charge, store credentials and config, issue the first token; the DAG is
    unpaused and a full sync triggered once Airflow has parsed it. Returns (view, token)."""
    cid = req.id or new_id(req.system)
    conn_id = req.airflow_conn_id or f"millwright_{cid}"
    entry = {
        "start_date": fresh_start_date(),  # unless the request sets one
        **req.settings,
        "id": cid,
        "customer": req.customer,
        "system": req.system,
        "deployment": req.deployment,
        "airflow_conn_id": conn_id,
        "tags": req.tags,
        **({"name": req.name} if req.name else {}),
    }
    cfg = validate_config(entry)
    if req.credentials is None and not ctx.conn_exists(conn_id):
        raise LifecycleError(
            f"credentials: required (Airflow Connection {conn_id!r} does not exist)",
            "credentials",
        )
    return register(ctx, cfg, req, actor, predecessor=None)


def register(
    ctx: AdminContext,
    cfg: ConnectionConfig,
    req: NewConnection,
    actor: str,
    predecessor: str | None,
) -> tuple[dict[str, Any], str]:
    """The new connection ``cfg`` (a reconnect's successor when ``predecessor`` is set): charged
    and stored in one transaction that also holds the Variable lock while the Airflow Connection
    and the Variable entry are written (a failure there rolls everything back). First of all
    the source must accept the credentials (`source_check.check_source`)."""
    check_source(ctx, cfg, req.credentials)
    if req.credentials is not None:
        req = replace(req, credentials=typed(cfg.system, req.credentials))
    creds, hooks, hooks_note = webhooks_source.subscribe(cfg, req.credentials)
    req = replace(req, credentials=creds)
    # a reconnect brings no credentials: the lifecycle pass registers with the stored ones
    later = None
    if predecessor is not None and req.credentials is None:
        later = webhooks_source.registration_op(cfg)
    try:
        return _store(ctx, cfg, req, actor, predecessor, hooks, hooks_note, later)
    except Exception:
        if hooks is not None:
            webhooks_source.unsubscribe(cfg, req.credentials, hooks)
        raise


def _store(
    ctx: AdminContext, cfg: ConnectionConfig, req: NewConnection, actor: str,
    predecessor: str | None, hooks: Any, hooks_note: str | None, later: PendingOp | None,
) -> tuple[dict[str, Any], str]:  # fmt: skip
    entry = cfg.model_dump(mode="json", exclude_defaults=True)
    entry.update(id=cfg.id, customer=cfg.customer, system=cfg.system)
    entry["deployment"], entry["status"] = cfg.deployment, "active"
    _, entries = variable.read(ctx)
    if any(variable.is_entry(e, cfg.id) for e in entries):
        raise Conflict(f"connection id {cfg.id!r} already exists in the Variable", "id")
    cost = ctx.costs().cost(cfg.system, cfg.deployment)
    at = db.now()
    with ctx.store.write() as conn:
        db.lock_customer(conn, cfg.customer)
        if db.get(conn, cfg.id) is not None:
            raise Conflict(f"connection id {cfg.id!r} already exists", "id")
        charge(ctx, conn, cfg.customer, cost)
        db.insert(conn, {
            "id": cfg.id, "customer": cfg.customer, "system": cfg.system,
            "deployment": cfg.deployment, "credits": cost, "status": "active",
            "source": "api", "name": req.name or cfg.name, "email": req.email,
            "config": entry, "user_metadata": req.user_metadata, "reason": None,
            # the registration after the first steps: only the lifecycle pass can run it
            "pending": dump([*first_ops(), *([later] if later else [])]),
            "predecessor": predecessor, "successor": None, "created_at": at,
            "connected_at": at, "disconnected_at": None, "purged_at": None,
        })  # fmt: skip
        token = tokens.issue(conn, cfg.id)
        details: dict[str, Any] = {"credits": cost, "predecessor": predecessor}
        if hooks is not None:
            details["webhooks"] = {"subscriptions": list(hooks.ids)}
        elif later is not None:
            details["webhooks"] = {"pending": "registered at the source by the lifecycle pass"}
        elif hooks_note:
            details["webhooks"] = {"not_registered": hooks_note}
        db.add_audit(conn, actor, "reconnect" if predecessor else "create", cfg.id,
                     cfg.customer, details)  # fmt: skip
        _write_airflow(ctx, cfg, req, entry, conn)
    settle(ctx, cfg.id)
    return view(ctx, cfg.id), token


def _write_airflow(
    ctx: AdminContext, cfg: ConnectionConfig, req: NewConnection, entry: dict, conn: Any
) -> None:
    """The Airflow Connection (when credentials came) and the Variable entry; a Connection this
    created is removed again when the Variable cannot be written."""
    created_conn = False
    try:
        if req.credentials is not None:
            created_conn = not ctx.conn_exists(cfg.airflow_conn_id)
            ctx.airflow.set_connection(cfg.airflow_conn_id, req.credentials)
        variable.mutate(ctx, lambda es: [*es, entry], conn)
    except (AirflowError, LifecycleError) as exc:
        if created_conn:
            _quietly(ctx.airflow.delete_connection, cfg.airflow_conn_id)
        if isinstance(exc, LifecycleError):
            raise
        raise AirflowUnavailable(str(exc)) from None


def _quietly(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except AirflowError as exc:
        log.warning("compensation failed: %s", exc)
