"""The paging engine from Python (no manifest): `RestReader` over the kit's engine.

Manifest-driven connectors (`connectors.kit`) do not need this module; it serves code that builds a
reader from Python values (`RestSpec`: `AuthSpec`, `PagingSpec`, `WindowSpec`), e.g. a connector
that keeps its own client but reads one JSON REST list. ``RestReader.pages(path, params,
page_size, on_page)`` yields one page of raw records at a time, with the retries of
`connectors.http.HttpClient` and the paginators of `connectors.kit.engine`:

- ``next_link``: follow the URL at ``next_path`` (e.g. ``responseInfo.nextPage.href``) until absent;
  the link is re-based onto the configured host so a key in a header never goes to another host;
- ``cursor``: send ``cursor_param=<value at next_path>`` (e.g. ``nextCursor``) until it is empty;
- ``page``: ``page_param`` = first_page, first_page+1, ... until a short or empty page;
- ``offset``: ``offset_param`` = 0, n, 2n... until a short or empty page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from connectors.base import SourceError
from connectors.http import HttpClient, endpoint_of
from connectors.kit import engine
from connectors.kit import manifest as mf
from connectors.kit.engine import format_time, get_path, rebase

TimeFormat = mf.TimeFormat
__all__ = [
    "AuthSpec", "PagingSpec", "RestReader", "RestSpec", "WindowSpec", "auth_parts", "format_time",
    "get_path", "rebase",
]  # fmt: skip


@dataclass(frozen=True)
class AuthSpec:
    """``kind``: header (``name: <cred>``), query (``?name=<cred>``), bearer, basic or none."""

    kind: Literal["header", "query", "bearer", "basic", "none"] = "none"
    name: str = ""  # header or query parameter name
    credential: str = "apikey"  # key in SourceSettings.credentials
    username: str = "username"  # basic: credential keys
    password: str = "password"

    def as_manifest(self) -> Any:
        if self.kind in ("header", "query"):
            return mf.ApiKeyAuth(kind="api_key", in_=self.kind, name=self.name or "apikey",
                                 credential=self.credential)  # fmt: skip
        if self.kind == "bearer":
            return mf.BearerAuth(kind="bearer", credential=self.credential)
        if self.kind == "basic":
            return mf.BasicAuth(kind="basic", username=self.username, password=self.password)
        if self.kind == "none":
            return mf.NoAuth(kind="none")
        raise ValueError(f"unknown auth kind {self.kind!r}")


@dataclass(frozen=True)
class PagingSpec:
    kind: Literal["next_link", "cursor", "page", "offset"]
    records_path: str = ""  # dotted path of the record list; "" = the body is the list
    next_path: str = ""  # next_link: URL path; cursor: next cursor path
    cursor_param: str = "cursor"
    page_param: str = "page"
    first_page: int = 1
    size_param: str | None = None
    max_size: int = 1000
    require_records: bool = True  # a body without the records path is an error, not "no records"
    offset_param: str = "offset"

    def as_manifest(self) -> Any:
        common = {"size_param": self.size_param, "max_size": self.max_size}
        if self.kind == "next_link":
            return mf.NextLinkPaginator(kind="next_link", next=self.next_path, **common)
        if self.kind == "cursor":
            return mf.CursorPaginator(kind="cursor", param=self.cursor_param, next=self.next_path,
                                      **common)  # fmt: skip
        if self.kind == "page":
            return mf.PageNumberPaginator(kind="page_number", param=self.page_param,
                                          first=self.first_page, **common)  # fmt: skip
        if self.kind == "offset":
            return mf.OffsetPaginator(kind="offset_limit", offset_param=self.offset_param,
                                      **common)  # fmt: skip
        raise ValueError(f"unknown paging kind {self.kind!r}")


@dataclass(frozen=True)
class WindowSpec:
    """Window bounds as query parameters (None: the caller builds its own filter)."""

    start_param: str | None = None
    end_param: str | None = None
    format: TimeFormat = "iso_utc"


@dataclass(frozen=True)
class RestSpec:
    auth: AuthSpec
    paging: PagingSpec
    window: WindowSpec = field(default_factory=WindowSpec)
    base_params: Mapping[str, str] = field(default_factory=dict)


def auth_parts(
    auth: AuthSpec, credentials: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, query params) carrying the credentials; ValueError naming a missing credential."""
    return engine.auth_parts(auth.as_manifest(), credentials)


class RestReader:
    """Reads pages described by a `RestSpec` through an `HttpClient`."""

    def __init__(
        self, http: HttpClient, spec: RestSpec, credentials: Mapping[str, str], tz: Any = UTC
    ) -> None:
        self.http, self.spec, self.tz = http, spec, tz
        headers, self._auth_params = auth_parts(spec.auth, credentials)
        http.session.headers.update(headers)
        self._paging = spec.paging.as_manifest()

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
        size = self.page_size(page_size or p.max_size)
        pag = engine.paginator_class(self._paging)(
            self._paging, size, self.http.base_url, self._auth_params
        )
        query = {**self.spec.base_params, **(params or {}), **self._auth_params}
        req: engine.Request | None = pag.first(engine.Request(path, query))
        while req is not None:
            endpoint = f"GET {endpoint_of(self.http.url(req.url))}"
            response = self.http.request("GET", req.url, decode=True, params=req.params or None)
            body = response.decoded  # type: ignore[attr-defined]
            if on_page:
                on_page(body)
            records = get_path(body, p.records_path)
            if records is None and not p.require_records:
                records = []
            if not isinstance(records, list):
                raise SourceError(self.http.system, endpoint, "invalid body",
                                  f"{p.records_path or 'the body'} is not a list of records")  # fmt: skip
            if records:
                yield records
            pag.response_headers = response.headers
            try:
                req = pag.next(req, body, records)
            except engine.PagingError as exc:
                raise SourceError(self.http.system, endpoint, 200, str(exc)) from None
