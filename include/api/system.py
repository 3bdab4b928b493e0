"""Admin API ``/api/system/*``: connections (Makini's shape + ours), tokens, metadata,
disconnect/reconnect/purge, export, credits. Every route needs the admin token (admin_auth.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from connectors.registry import systems
from include.admin.airflow_adapter import Credentials
from include.admin.base import NewConnection
from include.admin.client import client_info
from include.admin.errors import LifecycleError
from include.admin.lifecycle import Lifecycle
from include.admin.webhooks import replay as replay_webhooks
from include.admin.webhooks import webhook_status
from include.api import custom_fields as cf
from include.api.admin_auth import require_admin
from include.api.errors import ApiError, domain_error
from include.config import SLUG
from include.config.coverage import matrix as coverage_matrix

T = TypeVar("T")
Admin = Depends(require_admin)
JsonObject = Body(description="fields to change")
ConnId = Path(pattern=SLUG.pattern, description="connection id (slug)")
CONFIG_KEYS = {
    "schedule", "start_date", "entities", "custom_fields", "overlap", "source_timezone",
    "page_size", "quarantine_threshold", "reconcile_every", "options", "status_categories",
    "webhooks",
}  # fmt: skip


class CredentialsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    host: str = Field(min_length=1, validation_alias=AliasChoices("host", "api"))
    login: str | None = None
    password: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    db_schema: str | None = Field(default=None, validation_alias=AliasChoices("schema"))
    extra: dict[str, str] = Field(default_factory=dict)
    conn_type: str | None = Field(
        default=None, description="Airflow connection type; default millwright_<system>"
    )


class MetaItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=255)
    value: str = Field(max_length=10_000)


class CreateIn(BaseModel):
    """Makini's body (name, email, provider, credentials: {api, login, password}) plus
    Millwright's fields; ``customer`` (the credit pool) defaults to the email, else the name."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str | None = Field(default=None, pattern=SLUG.pattern)
    customer: str | None = Field(default=None, min_length=1, max_length=200)
    system: str = Field(validation_alias=AliasChoices("system", "provider"))
    deployment: Literal["cloud", "on_premise"] = "cloud"
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    credentials: CredentialsIn | None = None
    airflow_conn_id: str | None = Field(default=None, min_length=1, max_length=250)
    config: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    user_metadata: list[MetaItem] = Field(default_factory=list)


class TokenIn(BaseModel):
    """Makini's sample body: ``{"token": "{{TOKEN_GENERATED}}", "expires_in": 300}``. The server
    makes the token (a ``token`` sent is not used); ``expires_in`` (seconds) limits its life."""

    model_config = ConfigDict(extra="forbid")
    token: str | None = Field(
        default=None, max_length=256, description="ignored: the server makes it"
    )
    expires_in: int | None = Field(default=None, ge=1, le=10 * 365 * 86400)


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: str = Field(description="ISO-8601 time: events received at or after it")
    end: str = Field(description="ISO-8601 time: events received before it")


class PoolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pool: int = Field(ge=0, le=1_000_000)


def _lc(request: Request) -> Lifecycle:
    return request.app.state.lifecycle


def _run(fn: Callable[..., T], *args: Any) -> T:
    try:
        return fn(*args)
    except LifecycleError as exc:
        raise domain_error(exc) from None


def _page(request: Request, rows: list[dict], page: int, per_page: int) -> dict[str, Any]:
    last = max(1, -(-len(rows) // per_page))
    start = (page - 1) * per_page
    chunk = rows[start : start + per_page]
    base = str(request.url.remove_query_params(["page"]))
    sep = "&" if "?" in base else "?"
    return {
        "data": chunk,
        "links": {
            "first": f"{base}{sep}page=1",
            "last": f"{base}{sep}page={last}",
            "prev": f"{base}{sep}page={page - 1}" if page > 1 else None,
            "next": f"{base}{sep}page={page + 1}" if page < last else None,
        },
        "meta": {
            "current_page": page,
            "from": start + 1 if chunk else None,
            "last_page": last,
            "path": str(request.url.replace(query="")),
            "per_page": per_page,
            "to": start + len(chunk) if chunk else None,
            "total": len(rows),
        },
    }


# Makini's ConnectionMetadata: the connection object's fields, user_metadata included
METADATA_FIELDS = (
    "key", "name", "email", "status", "integration_name", "redirect", "scopes",
    "user_metadata", "client_id", "updated_at", "created_at", "connected_at",
)  # fmt: skip


def _metadata_view(view: dict[str, Any]) -> dict[str, Any]:
    return {k: view.get(k) for k in METADATA_FIELDS}


def _token_answer(token: str, expires_in: int | None) -> dict[str, Any]:
    """Makini's ConnectionStore: the bearer token; no refresh tokens here (a token lives until
    revoked, or ``expires_in`` seconds when it was asked for)."""
    return {"access_token": token, "refresh_token": None, "expires_in": expires_in}


def system_router() -> APIRouter:
    """The admin API's routes (long: one short handler per route, each calling the lifecycle)."""
    r = APIRouter(prefix="/api/system", tags=["System"], dependencies=[Admin])

    @r.get("/connections", summary="List connections")
    def list_connections(
        request: Request,
        customer: str | None = Query(default=None, min_length=1),
        page: int = Query(default=1, ge=1),
        per_page: int = Query(default=50, ge=1, le=500),
    ) -> dict:
        lc = _lc(request)
        lc.settle_all()
        return _page(request, lc.list(customer), page, per_page)

    @r.post("/connections", summary="Create a connection (returns its token)")
    def create(request: Request, body: CreateIn, actor: str = Admin) -> dict:
        bad = sorted(set(body.config) - CONFIG_KEYS)
        if bad:
            msg = f"config.{bad[0]}: unknown or not settable here (allowed: {sorted(CONFIG_KEYS)})"
            raise ApiError(400, msg, {f"config.{bad[0]}": [msg]})
        if body.system not in systems():
            msg = f"system: unknown system {body.system!r} (available: {', '.join(systems())})"
            raise ApiError(400, msg, {"system": [msg]})
        customer = body.customer or body.email or body.name
        if not customer:
            msg = "customer: give customer (the credit pool), or an email or a name to use as it"
            raise ApiError(400, msg, {"customer": [msg]})
        c = body.credentials
        cf.check_create(request, body.system, body.id, body.config, c, body.airflow_conn_id)
        req = NewConnection(
            id=body.id, customer=customer, system=body.system, deployment=body.deployment,
            credentials=Credentials(
                host=c.host, login=c.login, password=c.password, port=c.port,
                schema=c.db_schema, extra=c.extra, conn_type=c.conn_type,
            ) if c else None,
            airflow_conn_id=body.airflow_conn_id, settings=body.config, name=body.name,
            email=body.email, tags=body.tags,
            user_metadata=[m.model_dump() for m in body.user_metadata],
        )  # fmt: skip
        view, token = _run(_lc(request).create, req, actor)
        return {"data": {**view, **_token_answer(token, None)}}

    @r.get("/connections/{cid}", summary="One connection")
    def get_one(request: Request, cid: str = ConnId) -> dict:
        return {"data": _run(_lc(request).view, cid)}

    @r.patch("/connections/{cid}", summary="Change settings; re-syncs what the change affects")
    def patch(
        request: Request, cid: str = ConnId, body: dict[str, Any] = JsonObject, actor: str = Admin
    ) -> dict:
        cf.check_patch(request, cid, body)
        return {"data": _run(_lc(request).patch, cid, body, actor)}

    @r.delete("/connections/{cid}", summary="Disconnect (Makini's 'Delete a Connection')")
    def delete(request: Request, cid: str = ConnId, actor: str = Admin) -> dict:
        return {"data": _run(_lc(request).disconnect, cid, actor)}

    @r.post("/connections/{cid}/disconnect", summary="Disconnect")
    def disconnect(request: Request, cid: str = ConnId, actor: str = Admin) -> dict:
        return {"data": _run(_lc(request).disconnect, cid, actor)}

    @r.post("/connections/{cid}/reconnect", summary="New connection, same system")
    def reconnect(request: Request, cid: str = ConnId, actor: str = Admin) -> dict:
        view, token = _run(_lc(request).reconnect, cid, actor)
        return {"data": {**view, **_token_answer(token, None)}}

    @r.post("/connections/{cid}/token", summary="Issue another token")
    def token(
        request: Request, cid: str = ConnId, body: TokenIn | None = None, actor: str = Admin
    ) -> dict:
        expires_in = body.expires_in if body is not None else None
        issued = _run(_lc(request).new_token, cid, actor, expires_in)
        return {"data": {"token": issued, **_token_answer(issued, expires_in)}}

    @r.get("/connections/{cid}/fields", summary="What the source offers for an entity")
    def source_fields(
        request: Request,
        cid: str = ConnId,
        entity: str = Query(
            min_length=1, max_length=100, description="e.g. work-orders", examples=["work-orders"]
        ),
    ) -> dict:
        return {"data": cf.discovery(request, cid, entity)}

    @r.post("/connections/{cid}/preview", summary="First records mapped with candidate fields")
    def preview(request: Request, body: cf.PreviewIn, cid: str = ConnId) -> dict:
        return {"data": cf.preview(request, cid, body)}

    @r.post("/connections/{cid}/token/claim", summary="The waiting first token, shown once")
    def claim_token(request: Request, cid: str = ConnId, actor: str = Admin) -> dict:
        return {"data": {"token": _run(_lc(request).claim_token, cid, actor), "expires_in": None}}

    @r.get(
        "/connections/{cid}/metadata",
        summary="List ConnectionMetadatas (Makini's shape: the connection with its metadata)",
    )
    def get_metadata(
        request: Request,
        cid: str = ConnId,
        page: int = Query(default=1, ge=1),
        per_page: int = Query(default=50, ge=1, le=500),
    ) -> dict:
        view = _run(_lc(request).view, cid)
        return _page(request, [_metadata_view(view)], page, per_page)

    @r.post(
        "/connections/{cid}/metadata",
        summary="Add or replace metadata by key; answers the connection with its metadata",
    )
    def set_metadata(
        request: Request, body: list[MetaItem], cid: str = ConnId, actor: str = Admin
    ) -> dict:
        items = [m.model_dump() for m in body]
        _run(_lc(request).set_metadata, cid, items, actor)
        return {"data": _metadata_view(_run(_lc(request).view, cid))}

    @r.get("/client", summary="The client (this installation) the connections belong to")
    def client(request: Request) -> dict:
        return {"data": _run(client_info)}

    @r.get("/connections/{cid}/export", summary="Stored records as NDJSON (admin read)")
    def export(
        request: Request,
        cid: str = ConnId,
        entity: str | None = Query(default=None),
        include_deleted: bool = Query(default=False),
    ) -> StreamingResponse:
        lines = _run(_lc(request).export, cid, entity, include_deleted)
        return StreamingResponse(lines, media_type="application/x-ndjson")

    @r.delete("/connections/{cid}/data", summary="Purge a disconnected connection's data")
    def delete_data(request: Request, cid: str = ConnId, actor: str = Admin) -> dict:
        return {"data": {"purged": _run(_lc(request).delete_data, cid, actor)}}

    @r.get("/connections/{cid}/audit", summary="Audit trail of one connection")
    def audit(request: Request, cid: str = ConnId) -> dict:
        return {"data": _run(_lc(request).audit, cid)}

    @r.get("/connections/{cid}/webhooks", summary="Webhook counts, lag and recent failures")
    def webhooks(
        request: Request, cid: str = ConnId,
        hours: float = Query(default=24, gt=0, le=24 * 30, description="window in hours"),
    ) -> dict:  # fmt: skip
        since = datetime.now(UTC) - timedelta(hours=hours)
        return {"data": webhook_status(request.app.state.store, cid, since)}

    @r.post("/connections/{cid}/webhooks/replay", summary="Re-apply the events of a time range")
    def webhooks_replay(
        request: Request, body: ReplayIn, cid: str = ConnId, actor: str = Admin
    ) -> dict:
        store = request.app.state.store
        return {"data": _run(replay_webhooks, store, cid, body.start, body.end, actor)}

    @r.post("/reconcile", summary="Register connections added to the Variable by hand")
    def reconcile(request: Request, actor: str = Admin) -> dict:
        return {"data": _run(_lc(request).reconcile, actor)}

    @r.get("/config-errors", summary="What the Variable millwright_connections gets wrong")
    def config_errors(request: Request) -> dict:
        return {"data": _run(_lc(request).config_errors)}

    @r.post("/settle", summary="Retry pending Airflow operations")
    def settle(request: Request) -> dict:
        return {"data": _lc(request).settle_all()}

    @r.get("/credits", summary="Pools of every customer")
    def credits(request: Request) -> dict:
        return {"data": _run(_lc(request).credits)}

    @r.get("/credits/{customer}", summary="A customer's pool, used, available")
    def credits_one(request: Request, customer: str) -> dict:
        return {"data": _run(_lc(request).credits, customer)[0]}

    @r.put("/credits/{customer}", summary="Set a customer's pool size")
    def set_pool(request: Request, customer: str, body: PoolIn, actor: str = Admin) -> dict:
        return {"data": _run(_lc(request).set_pool, customer, body.pool, actor)}

    @r.get(
        "/platforms",
        summary="Systems, their credit cost and what they cover",
        description="`coverage` (beyond Makini): per resource of Makini's EAM document, `mapped`, "
        "`no_concept` (the system has no such thing; `reason` says why) or `not_yet` (`reason`, when "
        "set, says why it is not mapped).",
    )
    def platforms(request: Request) -> dict:
        costs = _run(_lc(request).costs)
        cover = coverage_matrix()
        return {
            "data": [
                {
                    "name": s,
                    "credits": {d: costs.cost(s, d) for d in ("cloud", "on_premise")},
                    "coverage": cover[s],
                }
                for s in systems()
            ]
        }

    return r
