"""IBM Maximo Manage connector: the JSON API (``/maximo/api/os/<object structure>``).

Reads with ``apikey`` header auth, ``lean=1``, ``oslc.select``, an ``oslc.where`` window on the change
time (``changedate>="<start>" and changedate<"<end>"`` in the connection's zone with its offset, or
naive local time with ``options["naive_times"]``), ``oslc.orderBy=+changedate,+<key>...`` (the ``+``
URL-encoded), ``oslc.pageSize`` and ``stablepaging=1`` (a frozen result set: rows changed while we page
neither shift offsets nor get skipped), following ``responseInfo.nextPage.href`` until it is absent.

Options: ``naive_times`` (bool), ``object_structures`` ({entity: OS name} overrides), ``max_page_size``
(the server's ``mxe.oslc.maxpagesize``, default 1000), ``api_root`` (default ``/maximo/api``),
``retry_base_delay`` / ``retry_max_sleep`` (seconds, for the shared retry client).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests

from connectors.base import Connector, EntitySpec, SourceSettings, Window
from connectors.http import HttpClient, RetryPolicy
from connectors.maximo.mapping import ENTITIES
from connectors.rest import AuthSpec, PagingSpec, RestReader, RestSpec, format_time
from include.model.keys import make_key

SYSTEM = "maximo"
STATUS_DOMAINS = {"work-orders": "WOSTATUS", "purchase-orders": "POSTATUS"}


def error_detail(response: requests.Response) -> str:
    """Maximo's ``{"Error":{"reasonCode","message","statusCode"}}`` as ``CODE: message``."""
    try:
        err = response.json().get("Error") or {}
    except (ValueError, AttributeError):
        return response.text[:300]
    code, message = err.get("reasonCode"), err.get("message")
    if not (code or message):
        return response.text[:300]
    if code and message and str(message).startswith(str(code)):
        return str(message)  # Maximo's message already leads with the code
    return f"{code}: {message}" if code else str(message)


def spec_for(max_page_size: int) -> RestSpec:
    return RestSpec(
        auth=AuthSpec("header", name="apikey", credential="apikey"),
        paging=PagingSpec(
            "next_link",
            records_path="member",
            next_path="responseInfo.nextPage.href",
            size_param="oslc.pageSize",
            max_size=max_page_size,
        ),  # fmt: skip
        base_params={"lean": "1"},
    )


def quote_where(params: dict[str, str]) -> str:
    """A query string with ``+`` (and every reserved character) percent-encoded."""
    return "&".join(f"{quote(k, safe='.')}={quote(str(v), safe='*,')}" for k, v in params.items())


class MaximoConnector(Connector):
    """Reads Maximo object structures as pages of lean JSON records."""

    system = SYSTEM
    entities = ENTITIES

    def __init__(self, settings: SourceSettings) -> None:
        super().__init__(settings)
        opts = settings.options
        self.naive = bool(opts.get("naive_times", False))
        self.max_page_size = int(opts.get("max_page_size", 1000))
        self.api_root = str(opts.get("api_root", "/maximo/api")).rstrip("/")
        self.os_names: dict[str, str] = {
            **{e: s.options["os"] for e, s in ENTITIES.items()},
            **dict(opts.get("object_structures", {})),
        }
        self.http = HttpClient(
            SYSTEM, settings.host, headers={"Accept": "application/json"},
            timeout=settings.timeout, policy=RetryPolicy(
                max_retries=settings.max_retries,
                base_delay=float(opts.get("retry_base_delay", 0.5)),
                max_sleep=float(opts.get("retry_max_sleep", 30.0)),
            ),
            error_detail=error_detail,
        )  # fmt: skip
        self.reader = RestReader(
            self.http, spec_for(self.max_page_size), settings.credentials, settings.timezone
        )

    # --- helpers -------------------------------------------------------------------------------
    def spec(self, entity: str) -> EntitySpec:
        try:
            return self.entities[entity]
        except KeyError:
            known = ", ".join(sorted(self.entities))
            raise KeyError(f"maximo: unknown entity {entity!r}; supported: {known}") from None

    def path(self, entity: str) -> str:
        return f"{self.api_root}/os/{self.os_names[entity].lower()}"

    def render_time(self, dt: datetime, up: bool = False) -> str:
        """A window bound in the source's zone, to the second (rounded up for an end bound)."""
        if up and dt.microsecond:
            dt = dt.replace(microsecond=0) + timedelta(seconds=1)
        return format_time(dt, "iso_naive" if self.naive else "iso_offset", self.settings.timezone)

    def where(self, entity: str, window: Window) -> str | None:
        attr = self.spec(entity).options.get("time_attr")
        if not attr or window.is_full:
            return None
        parts = [f'{attr}>="{self.render_time(window.start)}"']  # type: ignore[arg-type]
        if window.end is not None:
            parts.append(f'{attr}<"{self.render_time(window.end, up=True)}"')
        return " and ".join(parts)

    def _pages(self, entity: str, params: dict[str, str], size: int) -> Iterator[list[dict]]:
        url = f"{self.path(entity)}?{quote_where(params)}"
        yield from self.reader.pages(url, page_size=size)

    # --- contract ------------------------------------------------------------------------------
    def read(self, entity: str, window: Window) -> Iterator[list[dict[str, Any]]]:
        spec = self.spec(entity)
        attr = spec.options.get("time_attr")
        key = list(spec.mapping.key)
        order = ([attr] if attr else []) + key
        params = {
            "oslc.select": spec.options["select"],
            "oslc.orderBy": ",".join(f"+{a}" for a in order),
            "stablepaging": "1",
        }
        where = self.where(entity, window) if spec.incremental else None
        if where:
            params["oslc.where"] = where
        yield from self._pages(entity, params, self.settings.page_size)

    def read_keys(self, entity: str) -> Iterator[list[dict[str, Any]]]:
        spec = self.spec(entity)
        key = list(spec.mapping.key)
        params = {
            "oslc.select": ",".join(key),
            "oslc.orderBy": ",".join(f"+{a}" for a in key),
            "stablepaging": "1",
        }
        yield from self._pages(entity, params, self.max_page_size)

    def statuses(self, entity: str) -> list[dict[str, Any]] | None:
        domain = STATUS_DOMAINS.get(entity)
        if domain is None:
            return None
        params = {
            "oslc.select": "domainid,synonymdomain{value,maxvalue,description,defaults}",
            "oslc.where": f'domainid="{domain}"',
        }
        url = f"{self.api_root}/os/{self.os_names.get('domains', 'mxapidomain').lower()}"
        rows: list[dict[str, Any]] = []
        for page in self.reader.pages(f"{url}?{quote_where(params)}", page_size=10):
            for dom in page:
                for v in dom.get("synonymdomain") or []:
                    key = make_key([v.get("value")])
                    if key:
                        rows.append({
                            "key": key, "name": v.get("description"), "code": v.get("value"),
                            "subCode": v.get("maxvalue"), "scope": domain, "isActive": True,
                        })  # fmt: skip
        return rows or None

    def check(self) -> None:
        """One cheap authenticated call: the work orders' ``count=1``."""
        self.count("work-orders")

    def count(self, entity: str) -> int:
        """How many records the entity has now (``count=1``)."""
        body = self.http.get_json(f"{self.path(entity)}?count=1&lean=1")
        total = body.get("totalCount")
        if not isinstance(total, int) or total < 0:
            raise ValueError(f"maximo: {self.path(entity)} answered no totalCount")
        return total

    def close(self) -> None:
        self.http.close()
