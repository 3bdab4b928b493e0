"""Settle: run a connection's pending Airflow operations (include/admin/pending.py) in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from include.admin import variable
from include.admin.airflow_adapter import AirflowError, DagNotFound
from include.admin.base import AdminContext
from include.admin.errors import LifecycleError
from include.admin.operations import webhooks_source
from include.admin.pending import OpKind, PendingOp, dump, load
from include.config import naming, task_group_id
from include.store import registry as db

Row = dict[str, Any]


def settle(ctx: AdminContext, cid: str) -> list[dict[str, Any]]:
    """Run the row's pending Airflow operations in order; stop at the first that cannot run
    yet and keep it (with the reason) and the rest. Returns what is still pending."""
    with ctx.settle_lock:
        with ctx.store.read() as conn:
            row = db.get(conn, cid)
        if row is None:
            return []
        pending = load(row["pending"])
        done = 0
        for op in pending:
            try:
                RUNNERS[op.kind](ctx, row, op)
            except (AirflowError, LifecycleError) as exc:
                msg = exc.message if isinstance(exc, LifecycleError) else str(exc)
                if isinstance(exc, webhooks_source.RemoveFailed):
                    op = replace(op, attempts=op.attempts + 1)
                    if op.attempts >= webhooks_source.MAX_REMOVE_ATTEMPTS:
                        webhooks_source.give_up(ctx, row, op, msg)
                        done += 1
                        continue
                pending[done] = op.waiting_for(msg)
                break
            done += 1
        rest = dump(pending[done:])
        if rest != row["pending"]:
            with ctx.store.write() as conn:
                db.update(conn, cid, pending=rest)
        return rest


def settle_all(ctx: AdminContext) -> dict[str, list[dict[str, Any]]]:
    with ctx.store.read() as conn:
        ids = [r["id"] for r in db.list_all(conn) if r["pending"]]
    return {cid: rest for cid in ids if (rest := settle(ctx, cid))}


def dag_id(row: Row) -> str:
    return naming.dag_id(row["id"])


def _variable_status(ctx: AdminContext, row: Row, op: PendingOp) -> None:
    cid = row["id"]
    variable.mutate(
        ctx,
        lambda es: [{**e, "status": op.status} if variable.is_entry(e, cid) else e for e in es],
    )


def _variable_remove(ctx: AdminContext, row: Row, op: PendingOp) -> None:
    cid = row["id"]
    variable.mutate(ctx, lambda es: [e for e in es if not variable.is_entry(e, cid)])


def _pause(ctx: AdminContext, row: Row, op: PendingOp) -> None:
    try:
        ctx.airflow.set_paused(dag_id(row), op.kind is OpKind.PAUSE)
    except DagNotFound:
        if op.kind is OpKind.PAUSE and row["status"] == "purged":
            return
        raise AirflowError(f"DAG {dag_id(row)} is not parsed yet") from None


def _trigger(ctx: AdminContext, row: Row, op: PendingOp) -> None:
    conf = op.conf or {}
    try:
        _check_parsed(ctx, dag_id(row), conf.get("entities") or [])
        ctx.airflow.trigger(dag_id(row), conf, op.run_id)
    except DagNotFound:
        raise AirflowError(f"DAG {dag_id(row)} is not parsed yet") from None


def _check_parsed(ctx: AdminContext, dag: str, entities: list[str]) -> None:
    """A re-sync of ``entities`` waits until Airflow has parsed the DAG with a task group for
    each: triggered earlier (right after a settings change added an entity), the run would
    have no task for it and would succeed without syncing it."""
    if not entities:
        return
    groups = {t.split(".", 1)[0] for t in ctx.airflow.task_ids(dag)}
    missing = [e for e in entities if task_group_id(e) not in groups]
    if missing:
        raise AirflowError(
            f"waiting for Airflow to re-parse {dag} with tasks for {', '.join(missing)}"
        )


def _delete_connection(ctx: AdminContext, row: Row, op: PendingOp) -> None:
    if op.conn_id and not _conn_in_use(ctx, op.conn_id, row["id"]):
        ctx.airflow.delete_connection(op.conn_id)


def _conn_in_use(ctx: AdminContext, conn_id: str, cid: str) -> bool:
    with ctx.store.read() as conn:
        rows = db.list_all(conn)
    if any(
        r["id"] != cid and r["status"] != "purged" and r["config"].get("airflow_conn_id") == conn_id
        for r in rows
    ):
        return True
    _, entries = variable.read(ctx)
    return any(
        isinstance(e, dict) and e.get("id") != cid and e.get("airflow_conn_id") == conn_id
        for e in entries
    )


def _delete_dag(ctx: AdminContext, row: Row, op: PendingOp) -> None:
    state = ctx.airflow.dag_state(dag_id(row))
    if state is not None:
        if not state.is_stale:
            raise AirflowError(f"waiting for Airflow to re-parse and mark {dag_id(row)} stale")
        ctx.airflow.delete_dag(dag_id(row))


RUNNERS: dict[OpKind, Callable[[AdminContext, Row, PendingOp], None]] = {
    OpKind.VARIABLE_STATUS: _variable_status,
    OpKind.VARIABLE_REMOVE: _variable_remove,
    OpKind.PAUSE: _pause,
    OpKind.UNPAUSE: _pause,
    OpKind.TRIGGER: _trigger,
    OpKind.DELETE_CONNECTION: _delete_connection,
    OpKind.DELETE_DAG: _delete_dag,
    OpKind.REMOVE_WEBHOOKS: webhooks_source.remove,
}
