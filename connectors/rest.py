"""A declarative paging engine for JSON REST sources.

A connector describes its protocol as data (`RestSpec`): how to authenticate (`AuthSpec`), where the
records sit in a page and how to reach the next page (`PagingSpec`), and how a time window becomes
query parameters (`WindowSpec`). `RestReader.pages(path, params, window)` then yields one page of raw
records at a time (bounded memory), with retries from `connectors.http.HttpClient`.

Paging kinds:
- ``next_link``: follow the URL at ``next_path`` (e.g. ``responseInfo.nextPage.href``) until absent;
  the link is re-based onto the configured host so a key in a header never goes to another host;
- ``cursor``: send ``cursor_param=<value at next_path>`` (e.g. ``nextCursor``) until it is empty;
- ``page``: ``page_param`` = first_page, first_page+1, ... until a short or empty page.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from connectors.base import SourceError
from connectors.http import HttpClient, endpoint_of

TimeFormat = Literal["iso_utc", "iso_offset", "iso_naive", "epoch_ms", "epoch_s"]


@dataclass(frozen=True)
class AuthSpec:
    """``kind``: header (``name: <cred>``), query (``?name=<cred>``), bearer, basic or none."""

    kind: Literal["header", "query", "bearer", "basic", "none"] = "none"
    name: str = ""  # header or query parameter name
    credential: str = "apikey"  # key in SourceSettings.credentials
    username: str = "username"  # basic: credential keys
    password: str = "password"


@dataclass(frozen=True)
class PagingSpec:
    kind: Literal["next_link", "cursor", "page"]
    records_path: str = ""  # dotted path of the record list; "" = the body is the list
    next_path: str = ""  # next_link: URL path; cursor: next cursor path
    cursor_param: str = "cursor"
    page_param: str = "page"
    first_page: int = 1
    size_param: str | None = None
    max_size: int = 1000
    require_records: bool = True  # a body without the records path is an error, not "no records"


@dataclass(frozen=True)
class WindowSpec:
    """Window bounds as query parameters (None: the connector builds its own filter)."""

    start_param: str | None = None
    end_param: str | None = None
    format: TimeFormat = "iso_utc"


@dataclass(frozen=True)
class RestSpec:
    auth: AuthSpec
    paging: PagingSpec
    window: WindowSpec = field(default_factory=WindowSpec)
    base_params: Mapping[str, str] = field(default_factory=dict)


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


def format_time(dt: datetime, fmt: TimeFormat, tz: Any = UTC) -> str:
    """Render a window bound in a source's dialect (``tz`` for the offset and naive forms)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if fmt == "iso_utc":
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "iso_offset":
        return dt.astimezone(tz).isoformat(timespec="seconds")
    if fmt == "iso_naive":
        return dt.astimezone(tz).replace(tzinfo=None).isoformat(timespec="seconds")
    if fmt == "epoch_ms":
        return str(int(dt.timestamp() * 1000))
    if fmt == "epoch_s":
        return str(int(dt.timestamp()))
    raise ValueError(f"unknown time format {fmt!r}")


def auth_parts(
    auth: AuthSpec, credentials: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, query params) carrying the credentials; ValueError naming a missing credential."""

    def cred(name: str) -> str:
        value = credentials.get(name)
        if not value:
            raise ValueError(f"credentials: {name!r} is missing")
        return value

    if auth.kind == "none":
        return {}, {}
    if auth.kind == "header":
        return {auth.name: cred(auth.credential)}, {}
    if auth.kind == "query":
        return {}, {auth.name: cred(auth.credential)}
    if auth.kind == "bearer":
        return {"Authorization": f"Bearer {cred(auth.credential)}"}, {}
    if auth.kind == "basic":
        pair = f"{cred(auth.username)}:{cred(auth.password)}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}, {}
    raise ValueError(f"unknown auth kind {auth.kind!r}")


def rebase(link: str, base_url: str) -> str:
    """Path and query of ``link`` on ``base_url``'s scheme and host (servers behind proxies
    often answer with internal host names)."""
    parts = urlsplit(link)
    base = urlsplit(base_url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{base.scheme}://{base.netloc}{parts.path}{query}"


class RestReader:
    """Reads pages described by a `RestSpec` through an `HttpClient`."""

    def __init__(
        self, http: HttpClient, spec: RestSpec, credentials: Mapping[str, str], tz: Any = UTC
    ) -> None:
        self.http, self.spec, self.tz = http, spec, tz
        headers, self._auth_params = auth_parts(spec.auth, credentials)
        http.session.headers.update(headers)

    def page_size(self, requested: int) -> int:
        """``requested`` clamped to 1..max_size."""
        return max(1, min(int(requested), self.spec.paging.max_size))

    def window_params(self, start: datetime | None, end: datetime | None) -> dict[str, str]:
        w = self.spec.window
        out = {}
        if start is not None and w.start_param:
            out[w.start_param] = format_time(start, w.format, self.tz)
        if end is not None and w.end_param:
            out[w.end_param] = format_time(end, w.format, self.tz)
        return out

    def pages(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        page_size: int | None = None,
        on_page: Callable[[Any], None] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield each page's records; ``on_page(body)`` sees every decoded body (for counters)."""
        p = self.spec.paging
        query: dict[str, Any] = {**self.spec.base_params, **(params or {}), **self._auth_params}
        if p.size_param:
            query[p.size_param] = str(self.page_size(page_size or p.max_size))
        if p.kind == "page":
            query[p.page_param] = p.first_page
        url: str | None = path
        send: dict[str, Any] | None = query
        while url is not None:
            body = self.http.get_json(url, params=send)
            if on_page:
                on_page(body)
            records = get_path(body, p.records_path)
            if records is None and not p.require_records:
                records = []
            if not isinstance(records, list):
                raise SourceError(
                    self.http.system, f"GET {endpoint_of(self.http.url(url))}", "invalid body",
                    f"{p.records_path or 'the body'} is not a list of records",
                )  # fmt: skip
            if records:
                yield records
            url, send = self._next(body, path, query, records)

    def _next(
        self, body: Any, path: str, query: dict[str, Any], records: list
    ) -> tuple[str | None, dict[str, Any] | None]:
        p = self.spec.paging
        if p.kind == "next_link":
            link = get_path(body, p.next_path)
            if not link:
                return None, None
            # the link carries the query; auth params are re-sent only if the link lacks them
            extra = {k: v for k, v in self._auth_params.items() if f"{k}=" not in link}
            return rebase(str(link), self.http.base_url), extra or None
        if p.kind == "cursor":
            cursor = get_path(body, p.next_path)
            if not cursor:
                return None, None
            query[p.cursor_param] = cursor
            return path, query
        if p.kind == "page":
            size = int(query.get(p.size_param, 0)) if p.size_param else 0
            if not records or (size and len(records) < size):
                return None, None
            query[p.page_param] = int(query[p.page_param]) + 1
            return path, query
        raise ValueError(f"unknown paging kind {p.kind!r}")
