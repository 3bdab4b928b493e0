"""The ``millwright_connections`` Airflow Variable as the lifecycle reads and changes it: read
(must be a JSON array), and change by compare-and-swap under the store's Variable lock."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from include.admin.airflow_adapter import AirflowError
from include.admin.base import AdminContext
from include.admin.errors import AirflowUnavailable, Conflict
from include.config import VARIABLE_NAME
from include.store import registry as db
from include.store.engine import Conn

CAS_ATTEMPTS = 8
Entries = list[Any]


def read(ctx: AdminContext) -> tuple[str | None, Entries]:
    """The Variable's text (None when it is not set) and its entries."""
    try:
        text = ctx.airflow.get_variable(VARIABLE_NAME)
    except AirflowError as exc:
        raise AirflowUnavailable(str(exc)) from None
    if text is None:
        return None, []
    try:
        entries = json.loads(text)
    except json.JSONDecodeError:
        entries = None
    if not isinstance(entries, list):
        raise Conflict(
            f"Airflow Variable {VARIABLE_NAME!r} is not a JSON array; fix it before changing "
            "connections",
            "variable",
        )
    return text, entries


def mutate(ctx: AdminContext, fn: Callable[[Entries], Entries], conn: Conn | None = None) -> None:
    """Read, change and write the Variable under the store's Variable lock (other Millwright
    processes wait: `lifecycle_db.lock_variable`), and compare-and-swap against writers that
    do not take it (a person in the Airflow UI): re-read and retry when it changed in between.
    ``conn``: the caller's open write transaction, which then holds the lock until it ends."""
    if conn is None:
        with ctx.store.write() as own:
            return mutate(ctx, fn, own)
    db.lock_variable(conn)
    for _ in range(CAS_ATTEMPTS):
        text, entries = read(ctx)
        new = fn(entries)
        try:
            if ctx.airflow.set_variable_if(VARIABLE_NAME, text, json.dumps(new, indent=2)):
                return
        except AirflowError as exc:
            raise AirflowUnavailable(str(exc)) from None
    raise Conflict(f"Airflow Variable {VARIABLE_NAME!r} keeps changing; try again", "variable")


def is_entry(e: Any, cid: str) -> bool:
    return isinstance(e, dict) and e.get("id") == cid
