"""Change an active connection: its settings (re-syncing, in full, the entities the change
affects), its metadata, another token."""

from __future__ import annotations

from typing import Any

from include.admin import tokens, variable
from include.admin.base import AdminContext, validate_config
from include.admin.errors import Conflict, LifecycleError
from include.admin.operations.reads import view
from include.admin.operations.settle import settle
from include.admin.pending import PendingOp, dump, load
from include.config import ConnectionConfig
from include.store import registry as db

PATCHABLE = (
    "entities", "custom_fields", "schedule", "name", "tags", "options", "page_size", "overlap",
    "source_timezone", "reconcile_every", "quarantine_threshold", "status_categories",
)  # fmt: skip
RESYNC_ALL = ("options", "source_timezone")


def patch(ctx: AdminContext, cid: str, changes: dict[str, Any], actor: str) -> dict[str, Any]:
    """Change settings; re-sync (full) the entities the change affects."""
    unknown = sorted(set(changes) - set(PATCHABLE))
    if unknown:
        raise LifecycleError(f"{unknown[0]}: cannot be changed here", unknown[0])
    with ctx.store.read() as conn:
        row = ctx.row(conn, cid)
    if row["status"] != "active":
        raise Conflict(f"connection {cid} is {row['status']}: only active ones change", "id")
    old = validate_config(row["config"])
    new = validate_config({**row["config"], **changes})
    entry = {**row["config"], **changes}
    affected = affected_entities(old, new)

    def replace(es: list[Any]) -> list[Any]:
        if not any(variable.is_entry(e, cid) for e in es):
            raise Conflict(f"connection {cid} is not in the Variable any more", "id")
        return [entry if variable.is_entry(e, cid) else e for e in es]

    variable.mutate(ctx, replace)
    with ctx.store.write() as conn:
        pending = load(row["pending"])
        if affected:
            pending.append(PendingOp.trigger({"entities": affected, "full": True}))
        db.update(conn, cid, config=entry, name=new.name or row["name"], pending=dump(pending))
        db.add_audit(conn, actor, "patch", cid, row["customer"],
                     {"changed": sorted(changes), "resync": affected})  # fmt: skip
    settle(ctx, cid)
    return view(ctx, cid)


def affected_entities(old: ConnectionConfig, new: ConnectionConfig) -> list[str]:
    """The entities a change from ``old`` to ``new`` must re-read in full."""
    if any(getattr(old, f) != getattr(new, f) for f in RESYNC_ALL):
        return new.selected_entities()
    before = set(old.selected_entities())
    out = {e for e in new.selected_entities() if e not in before}
    for e in set(old.custom_fields) | set(new.custom_fields):
        if old.custom_fields.get(e) != new.custom_fields.get(e):
            out.add(e.split(".")[0])
    for e in set(old.status_categories) | set(new.status_categories):  # re-map every record
        if old.status_categories.get(e) != new.status_categories.get(e):
            out.add(e)
    return sorted(e for e in out if e in new.selected_entities())


def new_token(ctx: AdminContext, cid: str, actor: str, expires_in: int | None = None) -> str:
    """Another token of an active connection; with ``expires_in`` (seconds) it expires."""
    with ctx.store.write() as conn:
        row = ctx.row(conn, cid, for_update=True)
        if row["status"] != "active":
            raise Conflict(f"connection {cid} is {row['status']}: no tokens", "id")
        db.add_audit(conn, actor, "token", cid, row["customer"], {"expires_in": expires_in})
        return tokens.issue(conn, cid, expires_in)


def claim_token(ctx: AdminContext, cid: str, actor: str) -> str:
    """The first token of a connection registered from a hand-added Variable entry, once. It is
    minted here (stored hashed like every token) and the waiting flag cleared in the same
    transaction, so no token is ever kept in clear and a second claim is refused (another token:
    `new_token`)."""
    with ctx.store.write() as conn:
        row = ctx.row(conn, cid, for_update=True)
        if row["status"] != "active":
            raise Conflict(f"connection {cid} is {row['status']}: no tokens", "id")
        if not row.get("token_waiting"):
            raise Conflict(
                f"connection {cid} has no token waiting to be shown (already shown, or it was "
                "created with one); issue another with POST .../token",
                "id",
            )
        db.update(conn, cid, token_waiting=False)
        db.add_audit(conn, actor, "token_shown", cid, row["customer"], {})
        return tokens.issue(conn, cid)


def set_metadata(
    ctx: AdminContext, cid: str, items: list[dict[str, str]], actor: str
) -> list[dict]:
    """Add or replace items by key."""
    with ctx.store.write() as conn:
        row = ctx.row(conn, cid, for_update=True)
        merged = {m["key"]: m for m in row["user_metadata"]}
        merged.update({m["key"]: {"key": m["key"], "value": m["value"]} for m in items})
        out = list(merged.values())
        db.update(conn, cid, user_metadata=out)
        db.add_audit(conn, actor, "metadata", cid, row["customer"], {"keys": len(items)})
    return out
