"""Connection lifecycle: create, change, disconnect, reconnect, purge; credits; audit. No HTTP.

The store's registry (include/store/registry.py) is the source of truth for status and credits; the
``millwright_connections`` Variable and Airflow follow it through an `AirflowAdapter`. Airflow
steps that cannot happen yet (a DAG not parsed yet, Airflow briefly down) are kept as typed
pending operations (include/admin/pending.py) on the registry row and retried by `settle`: after
every change, and by the lifecycle DAG's pass (`maintain`, which also registers hand-added
Variable entries) about every parse interval, so nobody has to. See docs/LIFECYCLE.md.

Each operation is a function in include/admin/operations/; `Lifecycle` binds them to one
`AdminContext` for the API and the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from include.admin.airflow_adapter import AirflowAdapter
from include.admin.base import AdminContext, NewConnection, SourceAccess
from include.admin.credits import CostTable
from include.admin.operations import change, create, credits, disconnect, maintain, purge, reads
from include.admin.operations import reconcile as reconcile_op
from include.admin.operations import settle as settle_op
from include.store import Store
from include.store.engine import Conn

View = dict[str, Any]


class Lifecycle:
    """The lifecycle operations over one store and one Airflow."""

    def __init__(
        self,
        store: Store,
        airflow: AirflowAdapter,
        costs: CostTable | None = None,
        source: SourceAccess | None = None,
    ) -> None:
        self.ctx = AdminContext(store, airflow, costs, source=source)
        self.store, self.airflow = store, airflow

    def costs(self) -> CostTable:
        return self.ctx.costs()

    def credit_state(self, conn: Conn, customer: str) -> dict[str, Any]:
        return credits.credit_state(self.ctx, conn, customer)

    def create(self, req: NewConnection, actor: str) -> tuple[View, str]:
        return create.create(self.ctx, req, actor)

    def patch(self, cid: str, changes: dict[str, Any], actor: str) -> View:
        return change.patch(self.ctx, cid, changes, actor)

    def new_token(self, cid: str, actor: str, expires_in: int | None = None) -> str:
        return change.new_token(self.ctx, cid, actor, expires_in)

    def claim_token(self, cid: str, actor: str) -> str:
        return change.claim_token(self.ctx, cid, actor)

    def maintain(self, actor: str = "lifecycle") -> dict[str, Any]:
        return maintain.maintain(self.ctx, actor)

    def config_errors(self) -> dict[str, Any]:
        return reads.config_errors(self.ctx)

    def metadata(self, cid: str) -> list[dict[str, str]]:
        return reads.metadata(self.ctx, cid)

    def set_metadata(self, cid: str, items: list[dict[str, str]], actor: str) -> list[dict]:
        return change.set_metadata(self.ctx, cid, items, actor)

    def disconnect(self, cid: str, actor: str) -> View:
        return disconnect.disconnect(self.ctx, cid, actor)

    def reconnect(self, cid: str, actor: str) -> tuple[View, str]:
        return disconnect.reconnect(self.ctx, cid, actor)

    def delete_data(self, cid: str, actor: str) -> dict[str, int]:
        return purge.delete_data(self.ctx, cid, actor)

    def set_pool(self, customer: str, size: int, actor: str) -> dict[str, Any]:
        return credits.set_pool(self.ctx, customer, size, actor)

    def credits(self, customer: str | None = None) -> list[dict[str, Any]]:
        return credits.credits(self.ctx, customer)

    def reconcile(self, actor: str) -> dict[str, list[str]]:
        return reconcile_op.reconcile(self.ctx, actor)

    def settle(self, cid: str) -> list[dict[str, Any]]:
        return settle_op.settle(self.ctx, cid)

    def settle_all(self) -> dict[str, list[dict[str, Any]]]:
        return settle_op.settle_all(self.ctx)

    def view(self, cid: str) -> View:
        return reads.view(self.ctx, cid)

    def list(self, customer: str | None = None) -> list[View]:
        return reads.listing(self.ctx, customer)

    def audit(self, cid: str | None = None) -> list[dict[str, Any]]:
        return reads.audit(self.ctx, cid)

    def export(self, cid: str, entity: str | None, include_deleted: bool) -> Iterator[bytes]:
        return reads.export(self.ctx, cid, entity, include_deleted)
