"""The kit's protocol engine: requests as values, auth, paginators, record selection, windows.

Everything here is driven by the manifest (`connectors.kit.manifest`); `ManifestConnector` wires it
to an `HttpClient`. The plug-in points for unusual protocols:

- `Paginator`: subclass it and name it in the manifest (``paginator: {kind: plugin, plugin:
  "connectors.fiix.client:KeysetPages", options: {...}}``), or register a kind with
  `register_paginator`. ``first(request)`` returns the first page's request, ``next(request, body,
  records)`` the next one or None. A request may be a POST with a JSON body (an RPC call).
- `Request`: what a paginator and `ManifestConnector.build_request` pass around; the connector's
  ``prepare`` hook (see `connectors.kit.connector`) may sign the prepared HTTP request.
"""

from __future__ import annotations

import base64
import importlib
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from connectors.base import Window
from connectors.kit import manifest as mf

# --- values ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One HTTP call. ``url`` is a path under the base URL, or absolute (a next link)."""

    url: str
    params: Mapping[str, Any] = field(default_factory=dict)
    method: str = "GET"
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def with_params(self, **params: Any) -> Request:
        return replace(self, params={**self.params, **params})


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted path (``responseInfo.nextPage.href``); None when any step is missing."""
    if not path:
        return data
    cur = data
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def format_time(dt: datetime, fmt: str, tz: Any = UTC) -> str:
    """Render a window bound in a source's dialect (``tz`` for the offset and naive forms)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if fmt == "iso_utc":
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "iso_utc_ms":  # truncated to the millisecond
        u = dt.astimezone(UTC)
        return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"
    if fmt == "iso_offset":
        return dt.astimezone(tz).isoformat(timespec="seconds")
    if fmt == "iso_naive":
        return dt.astimezone(tz).replace(tzinfo=None).isoformat(timespec="seconds")
    if fmt == "epoch_ms":
        return str(int(dt.timestamp() * 1000))
    if fmt == "epoch_s":
        return str(int(dt.timestamp()))
    raise ValueError(f"unknown time format {fmt!r}")


def rebase(link: str, base_url: str) -> str:
    """Path and query of ``link`` on ``base_url``'s scheme and host (servers behind proxies
    often answer with internal host names)."""
    parts = urlsplit(link)
    base = urlsplit(base_url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{base.scheme}://{base.netloc}{parts.path}{query}"


def import_object(path: str) -> Any:
    """``package.module:Name`` -> the object; ValueError naming what is missing."""
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot import {path!r}: {exc}") from None


# --- auth ------------------------------------------------------------------------------------------


def _cred(credentials: Mapping[str, str], name: str) -> str:
    value = credentials.get(name)
    if not value:
        raise ValueError(f"credentials: {name!r} is missing")
    return str(value)


def auth_parts(auth: Any, credentials: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, query params) carrying static credentials; ValueError naming a missing one.
    OAuth2 client credentials are fetched by `OAuth2Token`, not here."""
    if isinstance(auth, mf.ApiKeyAuth):
        value = _cred(credentials, auth.credential)
        return ({auth.name: value}, {}) if auth.in_ == "header" else ({}, {auth.name: value})
    if isinstance(auth, mf.BearerAuth):
        return {"Authorization": f"Bearer {_cred(credentials, auth.credential)}"}, {}
    if isinstance(auth, mf.BasicAuth):
        pair = f"{_cred(credentials, auth.username)}:{_cred(credentials, auth.password)}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}, {}
    if isinstance(auth, mf.OAuth2ClientCredentials):
        _cred(credentials, auth.client_id), _cred(credentials, auth.client_secret)
        return {}, {}
    return {}, {}


class OAuth2Token:
    """A client-credentials token: fetched on first use, again 30 s before ``expires_in`` runs
    out, and after a 401 (`invalidate`)."""

    def __init__(self, auth: mf.OAuth2ClientCredentials, credentials: Mapping[str, str],
                 post: Callable[..., Any]) -> None:  # fmt: skip
        self.auth, self._post = auth, post
        self._id = _cred(credentials, auth.client_id)
        self._secret = _cred(credentials, auth.client_secret)
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def header(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                self._fetch()
            return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self) -> None:
        a = self.auth
        data = {"grant_type": "client_credentials"}
        if a.scope:
            data["scope"] = a.scope
        headers = {}
        if a.client_auth == "basic":
            pair = base64.b64encode(f"{self._id}:{self._secret}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        else:
            data.update(client_id=self._id, client_secret=self._secret)
        body = self._post(a.token_url, data, headers)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise ValueError(f"OAuth2 token endpoint {urlsplit(a.token_url).path}: no access_token")
        self._token = str(token)
        expires = body.get("expires_in")
        ttl = float(expires) if isinstance(expires, int | float) else 3600.0
        self._expires = time.monotonic() + max(0.0, ttl - 30.0)


# --- paginators ------------------------------------------------------------------------------------


class PagingError(Exception):
    """A paginator found the source's paging broken (a cursor that loops)."""


class Paginator:
    """Walks the pages of one read. ``config`` is the manifest's paginator section, ``size`` the
    page size (already clamped to ``max_size``), ``base_url`` the connection's base URL."""

    def __init__(
        self, config: Any, size: int, base_url: str = "", auth_params: Mapping[str, str] = ()
    ):  # noqa: E501
        self.config, self.size, self.base_url = config, size, base_url
        self.auth_params = dict(auth_params)
        self.response_headers: Mapping[str, str] = {}  # the last response's, set before next()

    def first(self, request: Request) -> Request:
        size_param = getattr(self.config, "size_param", None)
        return request.with_params(**{size_param: str(self.size)}) if size_param else request

    def next(self, request: Request, body: Any, records: list) -> Request | None:
        raise NotImplementedError


class PageNumberPages(Paginator):
    def first(self, request: Request) -> Request:
        return super().first(request).with_params(**{self.config.param: self.config.first})

    def next(self, request: Request, body: Any, records: list) -> Request | None:
        c = self.config
        page = int(request.params[c.param])
        if c.total_pages:
            total = get_path(body, c.total_pages)
            if isinstance(total, int) and page - c.first + 1 >= total:
                return None
        if not records or (c.size_param and len(records) < self.size):
            return None
        return request.with_params(**{c.param: page + 1})


class OffsetPages(Paginator):
    def first(self, request: Request) -> Request:
        return super().first(request).with_params(**{self.config.offset_param: 0})

    def next(self, request: Request, body: Any, records: list) -> Request | None:
        c = self.config
        offset = int(request.params[c.offset_param]) + len(records)
        if c.total:
            total = get_path(body, c.total)
            if isinstance(total, int) and offset >= total:
                return None
        if not records or len(records) < self.size:
            return None
        return request.with_params(**{c.offset_param: offset})


class CursorPages(Paginator):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen: set[str] = set()

    def next(self, request: Request, body: Any, records: list) -> Request | None:
        cursor = get_path(body, self.config.next)
        if not cursor:
            return None
        cursor = str(cursor)
        if cursor in self._seen:
            raise PagingError(f"the same {self.config.next} came back twice")
        self._seen.add(cursor)
        return request.with_params(**{self.config.param: cursor})


_LINK_NEXT = re.compile(r'<([^>]+)>\s*;[^,]*rel="?next"?')


class NextLinkPages(Paginator):
    def next(self, request: Request, body: Any, records: list) -> Request | None:
        nxt = self.config.next
        if nxt.startswith("header:"):
            m = _LINK_NEXT.search(self.response_headers.get(nxt.removeprefix("header:"), ""))
            link = m.group(1) if m else None
        else:
            link = get_path(body, nxt)
        if not link:
            return None
        link = str(link)
        # the link carries the query; auth params are re-sent only if the link lacks them
        extra = {k: v for k, v in self.auth_params.items() if f"{k}=" not in link}
        return Request(rebase(link, self.base_url), extra, request.method, None, request.headers)


PAGINATORS: dict[str, type[Paginator]] = {
    "page_number": PageNumberPages,
    "offset_limit": OffsetPages,
    "cursor": CursorPages,
    "next_link": NextLinkPages,
}


def register_paginator(kind: str) -> Callable[[type[Paginator]], type[Paginator]]:
    """Class decorator: a paginator kind usable as ``paginator: {kind: plugin, plugin: ...}``
    or looked up by name from Python."""

    def add(cls: type[Paginator]) -> type[Paginator]:
        PAGINATORS[kind] = cls
        return cls

    return add


def paginator_class(config: Any) -> type[Paginator]:
    if isinstance(config, mf.PluginPaginator):
        cls = import_object(config.plugin)
        if not (isinstance(cls, type) and issubclass(cls, Paginator)):
            raise ValueError(f"paginator plugin {config.plugin!r} is not a Paginator subclass")
        return cls
    return PAGINATORS[config.kind]


# --- windows ---------------------------------------------------------------------------------------


def round_up(dt: datetime) -> datetime:
    """To the next whole second (unchanged when already whole)."""
    return dt.replace(microsecond=0) + timedelta(seconds=1) if dt.microsecond else dt


def window_params(inc: mf.Incremental, field_name: str, window: Window, fmt: str,
                  tz: Any) -> dict[str, str]:  # fmt: skip
    """The request parameters selecting ``window`` on ``field_name`` ({} for a full read)."""
    if window.is_full and window.end is None:
        return {}
    start = window.start
    end = window.end
    if end is not None and inc.round_end_up:
        end = round_up(end)
    if inc.mode == "params":
        out = {}
        if start is not None and inc.start_param:
            out[inc.start_param] = format_time(start, fmt, tz)
        if end is not None and inc.end_param:
            out[inc.end_param] = format_time(end, fmt, tz)
        return out
    if inc.mode == "expression":
        expr = window_expression(inc, field_name, window, fmt, tz)
        return {inc.expression.param: expr} if expr and inc.expression else {}
    return {}


def window_expression(inc: mf.Incremental, field_name: str, window: Window, fmt: str,
                      tz: Any) -> str | None:  # fmt: skip
    """The filter expression for ``window`` (None for a full read)."""
    ex = inc.expression
    if ex is None or window.is_full:
        return None
    parts = [ex.start.format(field=field_name, value=format_time(window.start, fmt, tz))]  # type: ignore[arg-type]
    if window.end is not None:
        end = round_up(window.end) if inc.round_end_up else window.end
        parts.append(ex.end.format(field=field_name, value=format_time(end, fmt, tz)))
    return ex.join.join(parts)
