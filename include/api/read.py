"""Read routers: ``/api/eam/*``, ``/api/erp/*`` (Makini-compatible) and ``/api/integrations``.

Every handler takes the connection id from the bearer token (`current_connection`) and passes
it to every query: a token only ever sees its own connection's rows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from include.admin.errors import LifecycleError
from include.admin.status import integration_status
from include.api import records as rec
from include.api.auth import current_connection
from include.api.envelope import (
    item_model,
    json_response,
    list_model,
    page_body,
    rows_page,
    served_model,
)
from include.api.errors import ApiError, bad_request, domain_error
from include.api.query import (
    MAX_PAGE,
    MAX_PER_PAGE,
    OPERATORS,
    Filter,
    model_fields,
    parse_detail,
    parse_list,
    sort_rows,
)
from include.api.query import matches as row_matches
from include.model import (
    EAM_ENTITIES,
    ENTITIES,
    ERP_ENTITIES,
    MATERIAL_ITEM_ENTITIES,
    Status,
)

EAM_STATUSES = ("work-orders", "purchase-orders", "service-requests", "return-orders")
ERP_STATUSES = ("purchase-orders", "production-orders")
SMALL_LIST_PARAMS = frozenset({"page", "per_page", "filterMatch"})
# every field of a status row, as Makini declares them (a source lists only some)
STATUS_EMPTY = {n: f.get_default() for n, f in Status.model_fields.items() if n != "key"}

_FILTER_DOC = (
    "Filters: `filter[field]=v` (equals), `filter[field:op]=v` with op in "
    f"{', '.join(OPERATORS)} (`lted` = `lteq`); `filterMatch=all|any`; `sort[field]=0|1` "
    "(1 = DESC); fields are the record's camelCase names or `customFields.<name>`."
)
DEEP_PARAMS = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "style": "deepObject",
        "explode": True,
        "schema": {"type": "object", "additionalProperties": {"type": "string"}},
        "description": doc,
    }
    for name, doc in (
        ("filter", "filter[field]=value or filter[field:op]=value"),
        ("sort", "sort[field]=0 (ascending) or 1 (descending)"),
    )
]
Connection = Depends(current_connection)
PageParam = Query(None, ge=1, le=MAX_PAGE, description="page number (offset paging)")
PerPage = Query(None, ge=1, le=MAX_PER_PAGE, description=f"default 25, at most {MAX_PER_PAGE}")
Match = Query(None, description="all (AND, default) or any (OR)")
Remote = Query(None, description="add remoteData: the source record as read")
Deleted = Query(None, description="also return soft-deleted records")
Cursor = Query(
    None,
    description="keyset paging in (updatedAt, key) order: empty for the first page, then "
    "meta.next_cursor; cost does not grow with depth",
)
ModifiedAfter = Query(None, description="only records with updatedAt after this ISO time")


def _op_id(router: APIRouter, what: str) -> str:
    return f"{router.prefix.strip('/').replace('/', '_')}_{what}"


def _owned_list_route(router: APIRouter, entity: str, path: str, summary: str) -> None:
    """``GET path`` (``/assets/{key}/materials``...): the records of ``entity`` whose owner
    field (`MATERIAL_ITEM_ENTITIES`) is the path's key, with every list parameter; the owner
    condition holds whatever ``filterMatch`` says."""
    model = ENTITIES[entity]
    fields = model_fields(model)
    owner_field = fields[MATERIAL_ITEM_ENTITIES[entity][1]]

    def list_owned(
        request: Request,
        key: str = Path(..., min_length=1, max_length=512),
        connection_id: str = Connection,
        page: int | None = PageParam,
        per_page: int | None = PerPage,
        filterMatch: Literal["all", "any"] | None = Match,  # noqa: N803 (Makini's name)
        include_remote_data: bool | None = Remote,
        include_deleted: bool | None = Deleted,
        cursor: str | None = Cursor,
        modified_after: str | None = ModifiedAfter,
    ) -> Response:
        q = parse_list(request.query_params.multi_items(), fields)
        q.scope.append(Filter("key", owner_field, "eq", key))
        timeout = request.app.state.settings.statement_timeout
        page_ = rec.list_page(request.app.state.store, connection_id, entity, q, timeout=timeout)
        return json_response(page_body(request, q, page_))

    router.add_api_route(
        path,
        list_owned,
        methods=["GET"],
        summary=summary,
        description=_FILTER_DOC,
        response_model=list_model(served_model(model)),
        openapi_extra={"parameters": DEEP_PARAMS},
        operation_id=_op_id(router, f"list_{entity}_of_owner"),
    )


def _list_route(
    router: APIRouter, entity: str, path: str | None = None, *, detail: bool = True
) -> None:
    model = ENTITIES[entity]
    fields = model_fields(model)
    path = path or f"/{entity}"

    def list_records(
        request: Request,
        connection_id: str = Connection,
        page: int | None = PageParam,
        per_page: int | None = PerPage,
        filterMatch: Literal["all", "any"] | None = Match,  # noqa: N803 (Makini's name)
        include_remote_data: bool | None = Remote,
        include_deleted: bool | None = Deleted,
        cursor: str | None = Cursor,
        modified_after: str | None = ModifiedAfter,
    ) -> Response:
        q = parse_list(request.query_params.multi_items(), fields)
        timeout = request.app.state.settings.statement_timeout
        page_ = rec.list_page(request.app.state.store, connection_id, entity, q, timeout=timeout)
        return json_response(page_body(request, q, page_))

    def get_record(
        request: Request,
        key: str = Path(..., min_length=1, max_length=512),
        connection_id: str = Connection,
        include_remote_data: bool | None = Remote,
        include_deleted: bool | None = Deleted,
    ) -> Response:
        remote, deleted = parse_detail(request.query_params.multi_items())
        store, settings = request.app.state.store, request.app.state.settings
        body = rec.get_one(
            store,
            connection_id,
            entity,
            key,
            remote=remote,
            deleted=deleted,
            timeout=settings.statement_timeout,
        )
        if body is None:
            raise ApiError(404, f"{entity} {key!r} not found", {"key": ["not found"]})
        return json_response(b'{"data":' + body.encode() + b"}")

    name, served = model.__name__, served_model(model)
    router.add_api_route(
        path,
        list_records,
        methods=["GET"],
        summary=f"List {name}",
        description=_FILTER_DOC,
        response_model=list_model(served),
        openapi_extra={"parameters": DEEP_PARAMS},
        operation_id=_op_id(router, f"list_{entity}"),
    )
    if not detail:
        return
    router.add_api_route(
        f"/{entity}/{{key}}",
        get_record,
        methods=["GET"],
        summary=f"Get a {name}",
        response_model=item_model(served),
        responses={404: {"description": "no such record for this connection"}},
        operation_id=_op_id(router, f"get_{entity}"),
    )


def _small_list(
    request: Request, model: type[BaseModel], rows: list[dict], exclude: Sequence[str] = ()
) -> Response:
    fields = {k: v for k, v in model_fields(model).items() if k not in exclude}
    q = parse_list(request.query_params.multi_items(), fields, allowed=SMALL_LIST_PARAMS)
    kept = sort_rows([r for r in rows if row_matches(r, q)], q)
    return json_response(rows_page(request, q, kept))


def _status_route(router: APIRouter, entity: str) -> None:
    def list_statuses(
        request: Request,
        connection_id: str = Connection,
        page: int | None = PageParam,
        per_page: int | None = PerPage,
        filterMatch: Literal["all", "any"] | None = Match,  # noqa: N803
    ) -> Response:
        rows = request.app.state.store.list_statuses(connection_id, entity)
        cfg = request.app.state.config_provider(connection_id)
        table = cfg.status_category_table(entity) if cfg is not None else None
        rows = [
            {**STATUS_EMPTY, **r, "statusCategory": (table or {}).get(r.get("code") or "")}
            for r in rows
        ]
        return _small_list(request, Status, rows)

    router.add_api_route(
        f"/statuses/{entity}",
        list_statuses,
        methods=["GET"],
        summary=f"List statuses of {entity}",
        description="Each raw status the source has for the resource, with its `statusCategory` "
        "(the connection's category table: the system's defaults and the config's overrides).",
        response_model=list_model(Status),
        openapi_extra={"parameters": DEEP_PARAMS},
        operation_id=f"{router.prefix.strip('/').replace('/', '_')}_statuses_{entity}",
    )


class CustomField(BaseModel):
    name: str


def work_order_custom_fields(request: Request, connection_id: str) -> list[str]:
    cfg = request.app.state.config_provider(connection_id)
    if cfg is not None:
        return sorted(cfg.custom_fields.get("work-orders", {}))
    store, timeout = request.app.state.store, request.app.state.settings.statement_timeout
    return rec.custom_field_names(store, connection_id, "work-orders", timeout=timeout)


def _custom_fields_route(router: APIRouter) -> None:
    def list_custom_fields(
        request: Request,
        connection_id: str = Connection,
        page: int | None = PageParam,
        per_page: int | None = PerPage,
        filterMatch: Literal["all", "any"] | None = Match,  # noqa: N803
    ) -> Response:
        names = work_order_custom_fields(request, connection_id)
        return _small_list(request, CustomField, [{"name": n} for n in names])

    router.add_api_route(
        "/work-orders/custom-fields",
        list_custom_fields,
        methods=["GET"],
        summary="List the custom fields configured for work orders",
        response_model=list_model(CustomField),
        openapi_extra={"parameters": DEEP_PARAMS},
        operation_id="api_eam_work_orders_custom_fields",
    )


def namespace_router(ns: str, entities: Sequence[str], statuses: Sequence[str]) -> APIRouter:
    """The read router of one Makini namespace (``eam`` or ``erp``)."""
    router = APIRouter(prefix=f"/api/{ns}", tags=[ns.upper()])
    if "work-orders" in entities:
        _custom_fields_route(router)  # before /work-orders/{key}
        if ns == "eam":  # Makini's EAM document only
            _list_route(router, "work-orders.materials", "/work-orders/materials", detail=False)
    for entity in entities:
        _list_route(router, entity)
    if ns == "eam":
        for item_entity, (owner, _) in MATERIAL_ITEM_ENTITIES.items():
            if owner not in entities:
                continue
            sub = "children" if owner == "materials" else "materials"
            summary = (
                "List the materials an assembly is made of"
                if owner == "materials"
                else f"List the materials of one of {owner}"
            )
            _owned_list_route(router, item_entity, f"/{owner}/{{key}}/{sub}", summary)
    for entity in statuses:
        _status_route(router, entity)
    return router


def _no_params(request: Request) -> None:
    for name, _ in request.query_params.multi_items():
        raise bad_request(name, "unknown query parameter; this endpoint takes none")


def integrations_router() -> APIRouter:
    router = APIRouter(prefix="/api/integrations", tags=["Integration"])

    @router.get("/current", summary="The connection's sync status in Makini's terms")
    def current(request: Request, connection_id: str = Connection) -> dict:
        _no_params(request)
        cfg = request.app.state.config_provider(connection_id)
        return {"data": integration_status(request.app.state.store, connection_id, cfg)}

    @router.delete(
        "/current",
        summary="Disconnect this connection with its own token",
        responses={405: {"description": "connection management is not enabled on this server"}},
    )
    def disconnect_current(request: Request, connection_id: str = Connection) -> dict:
        """Makini's verb: the token revokes itself; syncs stop; data stays until purged."""
        lifecycle = getattr(request.app.state, "lifecycle", None)
        if lifecycle is None:
            raise ApiError(405, "connection management is not enabled on this server", {})
        try:
            lifecycle.disconnect(connection_id, f"token:{connection_id}")
        except LifecycleError as exc:
            raise domain_error(exc) from None
        return {"data": {"id": connection_id, "status": "disconnected"}}

    return router


@functools.cache
def read_routers() -> tuple[APIRouter, ...]:
    """Built once per process (route construction costs ~1 s); apps share the route objects."""
    return (
        namespace_router("eam", EAM_ENTITIES, EAM_STATUSES),
        namespace_router("erp", ERP_ENTITIES, ERP_STATUSES),
        integrations_router(),
    )
