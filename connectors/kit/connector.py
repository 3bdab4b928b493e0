"""`ManifestConnector`: the `connectors.base.Connector` a manifest describes.

A system's folder holds ``manifest.yaml`` (the protocol), ``mapping.py`` (the mapping table:
``MAPPINGS = {entity: EntityMapping}``, optional ``CHANGED_WHEN``) and sandbox data; its
``__init__.py`` says ``CONNECTOR = manifest_connector(__name__)``. Python is needed only where the
protocol is truly unusual: subclass `ManifestConnector` and override one of the documented hooks:

- ``base_path()``, ``path(entity)``: where an entity lives (options that move it);
- ``extra_headers()``: headers from connection options (validated there);
- ``build_request(entity, window, keys_only)``: the first request of a read (filters, RPC bodies);
- ``prepare(prepared)``: sign each HTTP request right before it is sent (every retry too);
- ``classify(response, body)``: protocol errors inside a successful answer (an RPC's error object
  in an HTTP 200): a `connectors.http.Verdict` (retry after the source's advised wait, auth,
  permanent) or None;
- ``select_records(entity, body, request)``: records of a body the record selector cannot reach;
- a method named by an entity's ``transform``: ``(entity, rows) -> rows`` after every page
  (derive child rows, add fields), in key listings too;
- ``statuses(entity)``: status lists the manifest cannot list statically;
- a `connectors.kit.engine.Paginator` plug-in for paging (the manifest names it).
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from connectors.base import ChangedWhen, Connector, EntitySpec, SourceError, SourceSettings, Window
from connectors.http import HttpClient, RateLimitHeaders, RetryPolicy, Verdict, endpoint_of
from connectors.kit import engine
from connectors.kit.manifest import Entity, Manifest, ManifestError, load_manifest, requested_fields
from include.mapping import EntityMapping
from include.model.timeutil import parse_datetime

Records = list[dict[str, Any]]


def entity_specs(manifest: Manifest, mappings: Mapping[str, EntityMapping],
                 changed_when: Mapping[str, ChangedWhen] | None = None) -> dict[str, EntitySpec]:  # fmt: skip
    """`EntitySpec`s from the manifest's entities and the mapping table; `ManifestError` when
    they disagree (an entity in one only, a different key)."""
    changed_when = changed_when or {}
    only_m, only_t = set(manifest.entities) - set(mappings), set(mappings) - set(manifest.entities)
    if only_m or only_t:
        raise ManifestError(
            f"{manifest.system}: manifest entities without a mapping: {sorted(only_m)}; "
            f"mappings without a manifest entity: {sorted(only_t)}"
        )
    specs = {}
    for name, e in manifest.entities.items():
        mapping = mappings[name]
        if tuple(e.key) != tuple(mapping.key):
            raise ManifestError(
                f"{manifest.system}: entities.{name}.key {e.key} differs from the mapping's "
                f"key {list(mapping.key)}"
            )
        specs[name] = EntitySpec(
            name, mapping, incremental=e.is_incremental, reconcile=e.reconcile,
            changed_when=changed_when.get(name, ChangedWhen()),
        )  # fmt: skip
    return specs


def _error_value(body: Any, path: str) -> str | None:
    """``errors[].error`` joins a list's items' values with ``; ``."""
    if "[]." in path:
        head, _, rest = path.partition("[].")
        items = engine.get_path(body, head)
        if not isinstance(items, list):
            return None
        vals = [str(engine.get_path(i, rest)) for i in items if isinstance(i, dict)]
        return "; ".join(vals) or None
    value = engine.get_path(body, path)
    return None if value is None or isinstance(value, dict | list) else str(value)


class ManifestConnector(Connector):
    """Reads the entities a manifest describes (see the module docstring for the hooks)."""

    manifest: ClassVar[Manifest]

    def __init__(self, settings: SourceSettings, sleep: Callable[[float], None] = time.sleep):
        super().__init__(settings)
        m = self.manifest
        opts = settings.options
        self.max_page_size = int(opts.get("max_page_size", m.paginator.max_size))
        self.time_format = m.incremental.format if m.incremental else "iso_utc"
        headers, self._auth_params = engine.auth_parts(m.auth, settings.credentials)
        rl = m.rate_limit
        self.http = HttpClient(
            m.system, self._base_url(), {**m.headers, **headers, **self.extra_headers()},
            settings.timeout,
            RetryPolicy(
                max_retries=settings.max_retries,
                base_delay=float(opts.get("retry_base_delay", m.retry.base_delay)),
                max_sleep=float(opts.get("retry_max_sleep", m.retry.max_sleep)),
            ),
            self.error_detail, sleep,
            RateLimitHeaders(rl.remaining, rl.reset, rl.reset_kind) if rl else None,
            self.prepare if type(self).prepare is not ManifestConnector.prepare else None,
            self.classify if type(self).classify is not ManifestConnector.classify else None,
        )  # fmt: skip
        self._oauth = None
        if m.auth.kind == "oauth2_client_credentials":
            self._oauth = engine.OAuth2Token(m.auth, settings.credentials, self._post_form)

    # --- hooks (override in a subclass for unusual protocols) ----------------------------------
    def base_path(self) -> str:
        return self.manifest.base_path

    def path(self, entity: str) -> str:
        return self.manifest.entity(entity).path

    def extra_headers(self) -> dict[str, str]:
        return {}

    def prepare(self, prepared: requests.PreparedRequest) -> None:
        """Sign ``prepared`` (headers, body) before it is sent. Default: nothing."""

    def classify(self, response: requests.Response, body: Any) -> Verdict | None:
        """What an answer means when its HTTP status does not say it all (``body``: its decoded
        JSON, or None): a `Verdict` (``retry`` with ``retry_after`` = the source's advised wait,
        ``auth``, ``permanent``) or None (the answer is what its status says). Called for every
        success and every retried status (429, 5xx). Default: None (never called)."""
        return None

    def extra_fields(self, entity: str) -> tuple[str, ...]:
        """Fields to request beyond the manifest's: the connection's custom fields' source paths
        (`Connector.requested`) and the connection option ``requested_fields: {entity: [source
        paths]}``."""
        listed = tuple((self.settings.options.get("requested_fields") or {}).get(entity, ()))
        return tuple(dict.fromkeys([*listed, *self.requested(entity)]))

    def requested_fields(self, entity: str) -> list[str]:
        """What a read of ``entity`` asks the source for (`connectors.kit.requested_fields`)."""
        return requested_fields(self.manifest, entity, self.extra_fields(entity))

    def build_request(self, entity: str, window: Window, keys_only: bool = False) -> engine.Request:
        """The first request of a read: parameters, requested fields, order, window."""
        m, e = self.manifest, self.manifest.entity(entity)
        params: dict[str, Any] = {**m.params, **e.params}
        if not keys_only:
            params.update(e.record_params)
        fields = list(e.key) if keys_only else self.requested_fields(entity)
        if m.requested_fields and fields:
            params[m.requested_fields.param] = m.requested_fields.join.join(fields)
        if m.order:
            o = m.order
            time_part = [e.change_time] if e.change_time else []
            if keys_only:
                attrs = list(e.key) if o.keys else time_part
            else:
                attrs = time_part + (list(e.key) if o.keys else [])
            if attrs:
                params[o.param] = o.join.join(o.item.format(field=a) for a in attrs)
        if e.is_incremental and m.incremental and not keys_only:
            params.update(
                engine.window_params(
                    m.incremental,
                    e.change_time or "",
                    window,
                    self.time_format,
                    self.settings.timezone,
                )  # fmt: skip
            )
        return engine.Request(self.path(entity), params)

    def select_records(self, entity: Entity, body: Any, request: engine.Request) -> Records:
        path = entity.records if entity.records is not None else self.manifest.records
        records = engine.get_path(body, path)
        if records is None and not self.manifest.require_records:
            return []
        if not isinstance(records, list):
            raise SourceError(
                self.system, f"{request.method} {endpoint_of(self.http.url(request.url))}",
                "invalid body", f"{path or 'the body'} is not a list of records",
            )  # fmt: skip
        return records

    def error_detail(self, response: requests.Response) -> str:
        """The source's error code and message (manifest ``errors``), else the body's start."""
        errs = self.manifest.errors
        try:
            body = response.json()
        except ValueError:
            return response.text[:300]
        code = next((v for p in errs.code if (v := _error_value(body, p))), None)
        message = next((v for p in errs.message if (v := _error_value(body, p))), None)
        if not (code or message):
            return response.text[:300]
        if code and message and message.startswith(code):
            return message[:300]
        return (f"{code}: {message}" if code and message else str(code or message))[:300]

    # --- the engine ----------------------------------------------------------------------------
    def _base_url(self) -> str:
        host, base = self.settings.host.rstrip("/"), self.base_path().rstrip("/")
        return host if not base or host.endswith(base) else host + base

    def _post_form(self, url: str, data: dict, headers: dict) -> Any:
        if not url.startswith(("http://", "https://")):  # a path on the connection's host
            host = urlsplit(self.settings.host)
            url = f"{host.scheme}://{host.netloc}{url}"
        return self.http.request("POST", url, decode=True, data=data, headers=headers).decoded

    def page_size(self, requested: int | None = None) -> int:
        """``requested`` (default: the connection's page size) clamped to 1..max page size."""
        return max(1, min(int(requested or self.settings.page_size), self.max_page_size))

    def send(self, request: engine.Request) -> requests.Response:
        """One request with retries (and a fresh OAuth2 token after a 401, once)."""
        kwargs: dict[str, Any] = {"params": request.params or None}
        if request.json is not None:
            kwargs["json"] = request.json
        headers = dict(request.headers)
        if self._oauth is not None:
            headers.update(self._oauth.header())
        if headers:
            kwargs["headers"] = headers
        try:
            return self.http.request(request.method, request.url, decode=True, **kwargs)
        except SourceError as exc:
            if self._oauth is None or exc.status != 401:
                raise
            self._oauth.invalidate()
            kwargs["headers"] = {**headers, **self._oauth.header()}
            return self.http.request(request.method, request.url, decode=True, **kwargs)

    def pages(self, entity: str, request: engine.Request, page_size: int | None = None,
              paginator: Any = None, records: str | None = None) -> Iterator[Records]:  # fmt: skip
        """Every page's records for ``request``, following the entity's paginator."""
        e = self.manifest.entity(entity)
        cfg = paginator or e.paginator or self.manifest.paginator
        size = max(1, min(int(page_size or self.settings.page_size), cfg.max_size,
                          self.max_page_size))  # fmt: skip
        pag = engine.paginator_class(cfg)(cfg, size, self.http.base_url, self._auth_params)
        req: engine.Request | None = pag.first(request.with_params(**self._auth_params))
        if records is not None:
            e = e.model_copy(update={"records": records})
        while req is not None:
            response = self.send(req)
            body = response.decoded  # type: ignore[attr-defined]
            rows = self.select_records(e, body, req)
            yield rows
            pag.response_headers = response.headers
            try:
                req = pag.next(req, body, rows)
            except engine.PagingError as exc:
                detail = str(exc)
                raise SourceError(self.system, f"{req.method} {endpoint_of(self.http.url(req.url))}",
                                  200, detail) from None  # fmt: skip

    def _window_filter(self, e: Entity, window: Window) -> Callable[[dict], bool] | None:
        inc = self.manifest.incremental
        if not (e.is_incremental and inc and e.change_time):
            return None
        if not (inc.client_filter or inc.end_inclusive or inc.mode == "client"):
            return None
        start, end, attr = window.start, window.end, e.change_time
        if start is None and end is None:
            return None

        def keep(rec: dict) -> bool:  # [start, end): a record at end belongs to the next window
            ts = parse_datetime(rec.get(attr), self.settings.timezone)
            return ts is not None and not (start and ts < start) and not (end and ts >= end)

        return keep

    def _read(self, entity: str, window: Window, keys_only: bool) -> Iterator[Records]:
        e = self.manifest.entity(entity)
        request = self.build_request(entity, window, keys_only)
        keep = self._window_filter(e, window) if not keys_only else None
        transform = getattr(self, e.transform) if e.transform else None
        seen: set[Any] | None = set() if e.dedupe else None
        one_key = e.record_id or (e.key[0] if len(e.key) == 1 else None)
        size = self.max_page_size if keys_only else None
        for page in self.pages(entity, request, size):
            rows = page
            if keep is not None:
                rows = [r for r in rows if keep(r)]
            if seen is not None:
                fresh = []
                for r in rows:
                    k = r.get(one_key) if one_key else tuple(r.get(f) for f in e.key)
                    if k not in seen:  # moved to a later page by a concurrent update
                        seen.add(k)
                        fresh.append(r)
                rows = fresh
            if not keys_only and e.detail is not None:
                rows = [self._detail(e, r) for r in rows]
            if not keys_only:
                for name, sub in e.sub_resources.items():
                    for r in rows:
                        r[name] = self._sub(entity, sub, r)
            if transform is not None:
                rows = transform(entity, rows)
            if rows:
                yield rows

    def _detail(self, e: Entity, rec: dict) -> dict:
        d = e.detail
        assert d is not None
        rid = rec[e.record_id or e.key[0]]
        body = self.send(engine.Request(d.path.format(id=rid))).decoded  # type: ignore[attr-defined]
        full = engine.get_path(body, d.records)
        if not isinstance(full, dict):
            raise SourceError(self.system, f"GET {self.base_path()}{d.path}", 200,
                              f"no {d.records!r} object")  # fmt: skip
        return full

    def _sub(self, entity: str, sub: Any, rec: dict) -> Records:
        e = self.manifest.entity(entity)
        key = e.record_id or e.key[0]
        req = engine.Request(sub.path.format(id=rec[key]))
        out: Records = []
        for page in self.pages(entity, req, self.max_page_size, records=sub.records):
            out.extend(page)
        return out

    # --- the Connector contract ----------------------------------------------------------------
    def read(self, entity: str, window: Window) -> Iterator[Records]:
        """Pages of raw records changed in ``[window.start, window.end)`` (all for snapshots)."""
        self.manifest.entity(entity)
        yield from self._read(entity, window, keys_only=False)

    def read_keys(self, entity: str) -> Iterator[Records]:
        """Every existing record with its key fields (no details, no expansions)."""
        yield from self._read(entity, Window(), keys_only=True)

    def statuses(self, entity: str) -> list[dict[str, Any]] | None:
        listed = self.manifest.statuses.get(entity)
        if listed is None:
            return None
        return [{"key": v, "name": v.replace("_", " ").title(), "code": v} for v in listed.values]

    def check(self) -> None:
        """Connection test: one record of ``check_entity`` (default: the first entity), keys
        only; raises `SourceError` (401/403: credentials refused) or `ValueError`."""
        entity = self.manifest.check_entity or next(iter(self.manifest.entities))
        pages = self.pages(entity, self.build_request(entity, Window(), keys_only=True), 1)
        try:
            next(pages, None)
        finally:
            pages.close()

    def close(self) -> None:
        self.http.close()

    # --- re-read by id (the webhooks' apply step) ----------------------------------------------
    def id_field(self, entity: str) -> str:
        """The field an id of `read_records` matches: ``by_id.field``, else the mapping's
        ``remote_id``, else the entity's one key field."""
        e = self.manifest.entity(entity)
        by = e.by_id or self.manifest.by_id
        spec = self.entities.get(entity)
        field = (by.field if by else None) or (spec.mapping.remote_id if spec else None)
        field = field or e.record_id or (e.key[0] if len(e.key) == 1 else None)
        if not field:
            raise ManifestError(f"{self.system}: entities.{entity}: no id field for by_id")
        return field

    def id_request(self, entity: str, ids: list[str]) -> engine.Request:
        """The entity's usual request (no window) listing just ``ids`` (manifest ``by_id``)."""
        e = self.manifest.entity(entity)
        by = e.by_id or self.manifest.by_id
        if by is None:
            raise NotImplementedError(
                f"{self.system} cannot re-read {entity} records by id (no by_id in its manifest)"
            )
        for rid in ids:
            ok = _QUOTABLE.fullmatch(rid) if by.quote else _NUMBER.fullmatch(rid)
            if not ok or by.join in rid:
                raise ValueError(
                    f"{self.system}: {entity} id {rid[:80]!r} is not "
                    + ("a plain id" if by.quote else "an integer")
                )
        values = [f'"{i}"' if by.quote else i for i in ids]
        req = self.build_request(entity, Window())
        params = dict(req.params)
        if by.param in params:  # never drop a filter the entity's reads always send
            raise ManifestError(
                f"{self.system}: entities.{entity}: by_id.param {by.param!r} is also a parameter "
                "of its reads"
            )
        params[by.param] = by.format.format(ids=by.join.join(values), field=self.id_field(entity))
        return engine.Request(req.url, params, req.method, req.json, req.headers)

    def read_records(self, entity: str, remote_ids: list[str]) -> Iterator[Records]:
        """The current records with these ids, in pages of ``by_id.batch`` ids: the entity's
        request filtered by id (manifest ``by_id``, e.g. Maximo ``oslc.where=workorderid in
        [..]``, Limble ``tasks=1,2``), with its details, sub-resources and transform as in
        `read`. An id the source no longer has is absent. Rows of other ids are dropped."""
        e = self.manifest.entity(entity)
        by = e.by_id or self.manifest.by_id
        if by is None:
            raise NotImplementedError(
                f"{self.system} cannot re-read {entity} records by id (no by_id in its manifest)"
            )
        ids = list(dict.fromkeys(str(i).strip() for i in remote_ids))
        if not ids:
            return
        field = self.id_field(entity)
        transform = getattr(self, e.transform) if e.transform else None
        step = by.batch
        for n in range(0, len(ids), step):
            chunk = ids[n : n + step]
            wanted = set(chunk)
            req = self.id_request(entity, chunk)
            for page in self.pages(entity, req, len(chunk)):
                rows = [r for r in page if str(r.get(field)) in wanted]
                if e.detail is not None:
                    rows = [self._detail(e, r) for r in rows]
                for name, sub in e.sub_resources.items():
                    for r in rows:
                        r[name] = self._sub(entity, sub, r)
                if transform is not None:
                    rows = transform(entity, rows)
                if rows:
                    yield rows


_NUMBER = re.compile(r"-?[0-9]{1,30}")
_QUOTABLE = re.compile(r"[^\"\\\x00-\x1f]{1,200}")


def manifest_connector(package: str, base: type[ManifestConnector] = ManifestConnector,
                       folder: str | Path | None = None) -> type[ManifestConnector]:  # fmt: skip
    """The connector class of ``connectors.<system>``: its ``manifest.yaml`` and the mapping
    table ``<package>.mapping`` (``MAPPINGS``, optional ``CHANGED_WHEN``, ``STATUS_CATEGORIES``
    ``NO_CONCEPT`` and ``NOT_YET``: the unified status and the coverage matrix), on ``base``."""
    mapping = importlib.import_module(f"{package}.mapping")
    here = Path(folder) if folder else Path(importlib.import_module(package).__file__).parent  # type: ignore[arg-type]
    manifest = load_manifest(here / "manifest.yaml")
    specs = entity_specs(manifest, mapping.MAPPINGS, getattr(mapping, "CHANGED_WHEN", None))
    name = "".join(p.title() for p in manifest.system.split("_")) + "Connector"
    extra = {attr: getattr(mapping, const) for attr, const in (
        ("status_categories", "STATUS_CATEGORIES"), ("no_concept", "NO_CONCEPT"),
        ("not_yet", "NOT_YET"))
        if hasattr(mapping, const)}  # fmt: skip
    return type(name, (base,), {"manifest": manifest, "system": manifest.system, "entities": specs,
                                "__module__": package, **extra})  # fmt: skip
