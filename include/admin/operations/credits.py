"""Credit pools: a customer's state, the charge check of a new connection, setting a pool."""

from __future__ import annotations

from typing import Any

from include.admin.base import AdminContext
from include.admin.errors import LifecycleError, OutOfCredits
from include.store import registry as db
from include.store.engine import Conn


def credit_state(ctx: AdminContext, conn: Conn, customer: str) -> dict[str, Any]:
    size = db.pool_size(conn, customer)
    pool = size if size is not None else ctx.costs().default_pool
    used = db.used(conn, customer)
    return {
        "customer": customer,
        "pool": pool,
        "pool_is_default": size is None,
        "used": used,
        "available": max(pool - used, 0),
    }


def charge(ctx: AdminContext, conn: Conn, customer: str, cost: int) -> None:
    """`OutOfCredits` unless the customer's pool has ``cost`` credits free (inside the caller's
    transaction, after `lifecycle_db.lock_customer`)."""
    state = credit_state(ctx, conn, customer)
    if state["used"] + cost > state["pool"]:
        raise OutOfCredits(
            f"customer {customer!r} needs {cost} credits but has {state['available']} "
            f"available ({state['used']} of {state['pool']} in use)",
            "credits",
        )


def set_pool(ctx: AdminContext, customer: str, size: int, actor: str) -> dict[str, Any]:
    if not isinstance(customer, str) or not customer.strip():
        raise LifecycleError("customer: must be a non-empty string", "customer")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise LifecycleError("pool: must be an integer >= 0", "pool")
    with ctx.store.write() as conn:
        db.lock_customer(conn, customer)
        db.set_pool(conn, customer, size)
        db.add_audit(conn, actor, "pool_set", None, customer, {"pool": size})
        return credit_state(ctx, conn, customer)


def credits(ctx: AdminContext, customer: str | None = None) -> list[dict[str, Any]]:
    with ctx.store.read() as conn:
        names = [customer] if customer else db.customers(conn)
        return [credit_state(ctx, conn, c) for c in names]
