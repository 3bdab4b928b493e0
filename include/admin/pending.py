"""The typed queue of pending Airflow operations of a connection.

A lifecycle operation changes the store at once and leaves what Airflow must still do (write the
Variable, pause, trigger, delete) as `PendingOp`s on the registry row; `settle` runs them in order
(include/admin/operations/settle.py). The registry keeps them as JSON objects, ``{"op": kind,
...the kind's fields, "waiting": why it cannot run yet}``: `dump` / `load` convert.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class OpKind(StrEnum):
    VARIABLE_STATUS = "variable_status"  # set the Variable entry's ``status``
    VARIABLE_REMOVE = "variable_remove"  # remove the Variable entry
    PAUSE = "pause"
    UNPAUSE = "unpause"
    TRIGGER = "trigger"  # a DAG run with ``conf``
    DELETE_CONNECTION = "delete_connection"  # the Airflow Connection ``conn_id``, if unused
    DELETE_DAG = "delete_dag"  # the DAG's metadata, once Airflow marks it stale
    # the webhook subscriptions ``ids`` at the source (None: those in the Airflow Connection's
    # ``webhook_subscriptions``); only the lifecycle DAG's pass can run it (it opens the
    # Connection's hook, the admin API cannot read the stored secret)
    REMOVE_WEBHOOKS = "remove_webhooks"


@dataclass(frozen=True)
class PendingOp:
    kind: OpKind
    conf: dict[str, Any] | None = None  # TRIGGER
    status: str | None = None  # VARIABLE_STATUS
    conn_id: str | None = None  # DELETE_CONNECTION (None: the connection named none)
    waiting: str | None = None  # why it could not run at the last attempt
    # TRIGGER: the DAG run's id, fixed when the op is queued, so two processes settling the
    # same op at once (the api-server and the lifecycle DAG) start one run: Airflow refuses the
    # second with 409, which counts as done
    run_id: str | None = None
    ids: tuple[str, ...] | None = None  # REMOVE_WEBHOOKS
    attempts: int = 0  # REMOVE_WEBHOOKS: failed attempts so far

    @classmethod
    def trigger(cls, conf: dict[str, Any]) -> PendingOp:
        return cls(OpKind.TRIGGER, conf=conf, run_id=f"manual__millwright_{secrets.token_hex(6)}")

    @classmethod
    def variable_status(cls, status: str) -> PendingOp:
        return cls(OpKind.VARIABLE_STATUS, status=status)

    @classmethod
    def delete_connection(cls, conn_id: str | None) -> PendingOp:
        return cls(OpKind.DELETE_CONNECTION, conn_id=conn_id)

    @classmethod
    def remove_webhooks(cls, ids: tuple[str, ...] | None) -> PendingOp:
        return cls(OpKind.REMOVE_WEBHOOKS, ids=ids)

    def waiting_for(self, reason: str) -> PendingOp:
        return replace(self, waiting=reason[:300])

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.kind.value}
        if self.kind is OpKind.TRIGGER:
            out["conf"] = self.conf
            if self.run_id is not None:
                out["run_id"] = self.run_id
        elif self.kind is OpKind.VARIABLE_STATUS:
            out["status"] = self.status
        elif self.kind is OpKind.DELETE_CONNECTION:
            out["conn_id"] = self.conn_id
        elif self.kind is OpKind.REMOVE_WEBHOOKS:
            out["ids"] = None if self.ids is None else list(self.ids)
            if self.attempts:
                out["attempts"] = self.attempts
        if self.waiting is not None:
            out["waiting"] = self.waiting
        return out

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> PendingOp:
        return cls(
            OpKind(item["op"]),
            conf=item.get("conf"),
            status=item.get("status"),
            conn_id=item.get("conn_id"),
            waiting=item.get("waiting"),
            run_id=item.get("run_id"),
            ids=None if item.get("ids") is None else tuple(str(i) for i in item["ids"]),
            attempts=int(item.get("attempts") or 0),
        )


def load(items: list[dict[str, Any]]) -> list[PendingOp]:
    return [PendingOp.from_json(i) for i in items]


def dump(ops: list[PendingOp]) -> list[dict[str, Any]]:
    return [op.to_json() for op in ops]
