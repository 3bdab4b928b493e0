"""Laravel-style response envelopes (Makini's list shape) and their OpenAPI models."""

from __future__ import annotations

import math
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, create_model

from include.api.query import ListQuery, encode_cursor
from include.api.records import Page
from include.api.settings import ApiSettings


class Links(BaseModel):
    first: str | None = None
    last: str | None = None
    prev: str | None = None
    next: str | None = None


class Meta(BaseModel):
    current_page: int | None = None
    from_: int | None = Field(None, alias="from")
    last_page: int | None = None
    path: str
    per_page: int
    to: int | None = None
    total: int | None = None
    next_cursor: str | None = None

    model_config = ConfigDict(populate_by_name=True)


_MODELS: dict[tuple[str, str], type[BaseModel]] = {}


def list_model(model: type[BaseModel]) -> type[BaseModel]:
    """``{data: [model], links, meta}`` for OpenAPI (responses are built as bytes)."""
    key = ("list", model.__name__)
    if key not in _MODELS:
        _MODELS[key] = create_model(
            f"{model.__name__}List", data=(list[model], ...), links=(Links, ...), meta=(Meta, ...)
        )
    return _MODELS[key]


def _remote_data_optional(schema: dict[str, Any]) -> None:
    """Every record field is always present (required), but ``remoteData`` only on request."""
    required = schema.get("required")
    if required and "remoteData" in required:
        required.remove("remoteData")


def served_model(model: type[BaseModel]) -> type[BaseModel]:
    """``model`` plus ``remoteData`` (present with ``include_remote_data=true``)."""
    key = ("served", model.__name__)
    if key not in _MODELS:
        remote = Field(None, description="the source record as read (include_remote_data=true)")
        served = create_model(f"{model.__name__}Record", __base__=model, remoteData=(Any, remote))
        served.model_config["json_schema_extra"] = _remote_data_optional
        served.model_rebuild(force=True)
        _MODELS[key] = served
    return _MODELS[key]


def item_model(model: type[BaseModel]) -> type[BaseModel]:
    key = ("item", model.__name__)
    if key not in _MODELS:
        _MODELS[key] = create_model(f"{model.__name__}Item", data=(model, ...))
    return _MODELS[key]


def json_response(body: bytes, status: int = 200) -> Response:
    return Response(body, status, media_type="application/json")


def link_base(request: Request) -> str:
    """Scheme and host of links: ``MILLWRIGHT_PUBLIC_URL`` when set; else the request's own
    when its Host is one of ``MILLWRIGHT_TRUSTED_HOSTS``; else none (links start at the path),
    so a forged Host header is never echoed."""
    settings: ApiSettings = request.app.state.settings
    if settings.public_url:
        return settings.public_url
    if settings.host_is_trusted(request.url.hostname):
        return f"{request.url.scheme}://{request.url.netloc}"
    return ""


def _url(request: Request, **params: Any) -> str:
    url = request.url.remove_query_params(list(params))
    kept = {k: str(v) for k, v in params.items() if v is not None}
    if kept:
        url = url.include_query_params(**kept)
    return link_base(request) + url.path + (f"?{url.query}" if url.query else "")


def page_body(request: Request, q: ListQuery, page: Page) -> bytes:
    """The envelope around already-serialised items (JSON text of each record)."""
    path = link_base(request) + request.url.path
    if q.cursor_mode:
        nxt = encode_cursor(*page.next_cursor) if page.next_cursor else None
        links = {
            "first": _url(request, cursor=""),
            "last": None,
            "prev": None,
            "next": _url(request, cursor=nxt) if nxt else None,
        }
        meta: dict[str, Any] = {
            "path": path,
            "per_page": q.per_page,
            "total": page.total,
            "next_cursor": nxt,
        }
    else:
        total = page.total or 0
        last_page = max(1, math.ceil(total / q.per_page))
        offset = (q.page - 1) * q.per_page
        links = {
            "first": _url(request, page=1),
            "last": _url(request, page=last_page),
            "prev": _url(request, page=q.page - 1) if 1 < q.page <= last_page + 1 else None,
            "next": _url(request, page=q.page + 1) if q.page < last_page else None,
        }
        meta = {
            "current_page": q.page,
            "from": offset + 1 if page.items else None,
            "last_page": last_page,
            "path": path,
            "per_page": q.per_page,
            "to": offset + len(page.items) if page.items else None,
            "total": total,
        }
    items = ",".join(page.items).encode()
    return (
        b'{"data":['
        + items
        + b'],"links":'
        + orjson.dumps(links)
        + b',"meta":'
        + orjson.dumps(meta)
        + b"}"
    )


def rows_page(request: Request, q: ListQuery, rows: list[dict]) -> bytes:
    """A page of an in-memory list (statuses, custom fields)."""
    start = (q.page - 1) * q.per_page
    chunk = rows[start : start + q.per_page]
    page = Page([orjson.dumps(r).decode() for r in chunk], len(rows))
    return page_body(request, q, page)
